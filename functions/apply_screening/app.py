"""Settle a case its station screened by hand: the station's decision, or the automatic one when its deadline
passed (state machine step ApplyScreening)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.wiring import services
from odr_adapter.workflow.steps import apply_screening

logger = Logger(service="apply_screening")
tracer = Tracer(service="apply_screening")
# Screening's metrics, whichever step settles it: CalendarFallbackAlarm watches the service "screen".
metrics = Metrics(namespace="OdrAdapter", service="screen")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = apply_screening(event["complaint_id"], services())
    if result.get("calendar_fallback"):
        # A deadline counted on the fallback calendar (a year chinese-calendar lacks, no operator table).
        metrics.add_metric(name="CalendarFallbackUsed", unit=MetricUnit.Count, value=1)
    logger.info("screening applied", extra={"complaint_id": event["complaint_id"], **result})
    return result
