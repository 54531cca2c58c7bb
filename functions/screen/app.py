"""Screen and route a case (state machine step ScreenAndRoute)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.wiring import services
from odr_adapter.workflow.steps import screen_and_route

logger = Logger(service="screen")
tracer = Tracer(service="screen")
metrics = Metrics(namespace="OdrAdapter", service="screen")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = screen_and_route(event["complaint_id"], services())
    if result.get("calendar_fallback"):
        # A deadline counted on the fallback calendar (a year chinese-calendar lacks, no operator table).
        metrics.add_metric(name="CalendarFallbackUsed", unit=MetricUnit.Count, value=1)
    logger.info("screened", extra={"complaint_id": event["complaint_id"], **result})
    return result
