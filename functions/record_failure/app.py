"""Keep an unexpected workflow fault on its case for the operators (state machine step)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import StepSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.steps import record_failure

obs = Observed(StepSettings)


@obs.handler(BY_CASE, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    error = event.get("error") or {}
    record_failure(event["complaint_id"], error, services(obs.settings))
    # Only the error's name is logged: its cause may quote a record (the case keeps it, as data).
    obs.logger.error("workflow failed", extra={"error": error.get("Error")})
    return {"recorded": True}
