"""Close a case (办结) with its outcome and queue the report to the 12315 platform (state machine step)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.wiring import services
from odr_adapter.steps import close

logger = Logger(service="close")
tracer = Tracer(service="close")
metrics = Metrics(namespace="OdrAdapter", service="close")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = close(event["complaint_id"], event["outcome"], services())
    metrics.add_dimension(name="outcome", value=str(result["outcome"]))
    metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
    logger.info("closed", extra={"complaint_id": event["complaint_id"], **result})
    return result
