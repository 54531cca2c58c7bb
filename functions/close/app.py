"""Close a case (办结) with its outcome and queue the report to the 12315 platform (state machine step)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import CloseSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.steps import close

obs = Observed(CloseSettings)


@obs.handler(BY_CASE, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = close(event["complaint_id"], event["outcome"], services(obs.settings))
    obs.measure("CasesClosed", 1, outcome=str(result["outcome"]))
    obs.logger.info("closed", extra=result)
    return result
