"""Close a case (办结) with its outcome and queue the report to the 12315 platform (state machine step)."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.wiring import services
from odr_adapter.workflow.steps import close

logger = Logger(service="close")
tracer = Tracer(service="close")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = close(event["complaint_id"], event["outcome"], services())
    with single_metric(
        name="CasesClosed",
        unit=MetricUnit.Count,
        value=1,
        namespace="OdrAdapter",
        default_dimensions={"outcome": str(result["outcome"])},
    ):
        pass
    logger.info("closed", extra={"complaint_id": event["complaint_id"], **result})
    return result
