"""Send the messages of one workflow notification and say how long the next wait may last (state machine step);
as a callback task, register the wait it announces first (the task token kept on the case)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.messages.sending import notify
from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import MessagingSettings
from odr_adapter.wiring import delivery, services

obs = Observed(MessagingSettings)


@obs.handler(BY_CASE)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    wait = event.get("wait")  # a callback task that announces its wait: {"phase", "task_token"}
    announced = (wait["phase"], wait["task_token"]) if wait else None
    result = notify(event["complaint_id"], event["kind"], services(obs.settings), delivery(obs.settings), announced)
    obs.metrics.add_metric(name="NotificationSent", unit=MetricUnit.Count, value=result["sent"])
    obs.metrics.add_metric(name="NotificationFailed", unit=MetricUnit.Count, value=result["failed"])
    obs.logger.info("notified", extra={"kind": event["kind"], **result})
    return result
