"""Send the messages cases owe (an acceptance's confirmation, a note's message), each once, after the person was
answered (SQS; failures retry, then the DLQ; what stays owed the sweeper queues again)."""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import Observed
from odr_adapter.people.confirmations import send_owed
from odr_adapter.settings import ConfirmationSettings
from odr_adapter.wiring import delivery, services

obs = Observed(ConfirmationSettings)
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> bool:
    owed = json.loads(record.body)
    obs.about(owed["complaint_id"])
    sent = send_owed(owed["complaint_id"], services(obs.settings), delivery(obs.settings), owed["key"])
    if sent is not None and not sent.duplicate:
        name = "NotificationSent" if sent.delivered else "NotificationFailed"
        obs.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    kind = str(owed["key"]).split(":", 1)[0]  # accepted, note: the key's rest names no person
    obs.logger.info(
        "owed message", extra={"kind": kind, "sent": sent is not None, "delivered": bool(sent and sent.delivered)}
    )
    return sent is not None


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:  # the messages left for the queue to deliver again, 0 included: every invocation publishes a metric
        obs.metrics.add_metric(name="ConfirmationsRetried", unit=MetricUnit.Count, value=len(processor.fail_messages))
