"""Mark a case overdue after a missed deadline (state machine step)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.wiring import services
from odr_adapter.workflow.steps import escalate

logger = Logger(service="escalate")
tracer = Tracer(service="escalate")
metrics = Metrics(namespace="OdrAdapter", service="escalate")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    escalate(event["complaint_id"], event["phase"], services())
    metrics.add_metric(name="CasesOverdue", unit=MetricUnit.Count, value=1)
    logger.warning("overdue", extra={"complaint_id": event["complaint_id"], "phase": event["phase"]})
    return {"overdue": event["phase"]}
