"""Keep a wait's task token with its case (the target of every .waitForTaskToken step)."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.wiring import services
from odr_adapter.workflow.steps import register_wait

logger = Logger(service="await_action")
tracer = Tracer(service="await_action")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    register_wait(event["complaint_id"], event["phase"], event["task_token"], services())
    logger.info("waiting", extra={"complaint_id": event["complaint_id"], "phase": event["phase"]})
    return {"waiting": event["phase"]}
