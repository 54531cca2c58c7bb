"""Send the reminders that are due before a deadline, each once (scheduled sweep over the due-date index)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import Observed
from odr_adapter.people.reminders import send_reminders
from odr_adapter.settings import MessagingSettings
from odr_adapter.wiring import case_index, delivery, services

obs = Observed(MessagingSettings)


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    s = obs.settings
    result = send_reminders(services(s), case_index(s), delivery(s))
    obs.metrics.add_metric(name="NotificationSent", unit=MetricUnit.Count, value=result["reminded"])
    obs.metrics.add_metric(name="NotificationFailed", unit=MetricUnit.Count, value=result["failed"])
    if result["reminded"]:
        obs.logger.info("reminded", extra=result)
    return result
