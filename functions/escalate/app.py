"""A missed deadline: mark the case overdue, or take the answer it recorded in time (state machine step)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import StepSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.steps import OVERDUE, escalate

obs = Observed(StepSettings)


@obs.handler(BY_CASE)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer = escalate(event["complaint_id"], event["phase"], services(obs.settings))
    if answer["action"] == OVERDUE:
        obs.metrics.add_metric(name="CasesOverdue", unit=MetricUnit.Count, value=1)
        obs.logger.warning("overdue", extra={"phase": event["phase"]})
    else:  # the callback was lost or late: the workflow goes on with the answer the case recorded in time
        obs.metrics.add_metric(name="AnswersTakenAtDeadline", unit=MetricUnit.Count, value=1)
        obs.logger.warning("answer taken at the deadline", extra={"phase": event["phase"], **answer})
    return answer
