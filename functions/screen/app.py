"""Screen and route a case (state machine step ScreenAndRoute)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import StepSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.screening import screen_and_route

obs = Observed(StepSettings)


@obs.handler(BY_CASE, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = screen_and_route(event["complaint_id"], services(obs.settings))
    if result.get("calendar_fallback"):
        # A deadline counted on the fallback calendar (a year chinese-calendar lacks, no operator table).
        obs.measure("CalendarFallbackUsed", 1)
    obs.logger.info("screened", extra=result)
    return result
