"""Send the messages of one workflow notification and say how long the next wait may last (state machine step)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.outbox import outbox
from odr_adapter.messages.sending import notify
from odr_adapter.wiring import services

logger = Logger(service="notify")
tracer = Tracer(service="notify")
metrics = Metrics(namespace="OdrAdapter", service="notify")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = notify(event["complaint_id"], event["kind"], services(), outbox())
    metrics.add_metric(name="NotificationSent", unit=MetricUnit.Count, value=result["sent"])
    metrics.add_metric(name="NotificationFailed", unit=MetricUnit.Count, value=result["failed"])
    logger.info("notified", extra={"complaint_id": event["complaint_id"], "kind": event["kind"], **result})
    return result
