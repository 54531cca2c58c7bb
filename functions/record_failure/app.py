"""Keep an unexpected workflow fault on its case for the operators (state machine step)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.wiring import services
from odr_adapter.workflow.steps import record_failure

logger = Logger(service="record_failure")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    record_failure(event["complaint_id"], event.get("error") or {}, services())
    # Only the error's name is logged: its cause may quote a record (the case keeps it, as data).
    logger.error(
        "workflow failed",
        extra={"complaint_id": event["complaint_id"], "error": (event.get("error") or {}).get("Error")},
    )
    return {"recorded": True}
