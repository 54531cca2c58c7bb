"""Mark a case overdue after a missed deadline (state machine step)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import StepSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.steps import escalate

obs = Observed(StepSettings)


@obs.handler(BY_CASE)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    escalate(event["complaint_id"], event["phase"], services(obs.settings))
    obs.metrics.add_metric(name="CasesOverdue", unit=MetricUnit.Count, value=1)
    obs.logger.warning("overdue", extra={"phase": event["phase"]})
    return {"overdue": event["phase"]}
