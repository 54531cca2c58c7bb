"""Send the reminders that are due before a deadline, each once (scheduled sweep over the due-date index)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.outbox import case_index, outbox
from odr_adapter.people.reminders import send_reminders
from odr_adapter.wiring import services

logger = Logger(service="reminders")
tracer = Tracer(service="reminders")
metrics = Metrics(namespace="OdrAdapter", service="reminders")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = send_reminders(services(), case_index(), outbox())
    metrics.add_metric(name="NotificationSent", unit=MetricUnit.Count, value=result["reminded"])
    metrics.add_metric(name="NotificationFailed", unit=MetricUnit.Count, value=result["failed"])
    if result["reminded"]:
        logger.info("reminded", extra=result)
    return result
