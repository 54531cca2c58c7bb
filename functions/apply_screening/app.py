"""Settle a case its station screened by hand: the station's decision, or the automatic one when its deadline
passed (state machine step ApplyScreening)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import StepSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.screening import apply_screening

obs = Observed(StepSettings)


@obs.handler(BY_CASE, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = apply_screening(event["complaint_id"], services(obs.settings))
    if result.get("calendar_fallback"):
        # Screening's metric, whichever step settles it: CalendarFallbackAlarm watches the service "screen".
        obs.measure("CalendarFallbackUsed", 1, service="screen")
    obs.logger.info("screening applied", extra=result)
    return result
