"""Find the progress stages each case change reached (the case table's stream) and queue them for 12315.

Nothing here waits on the platform: the stages go to a FIFO queue (one group per case) and ReportProgressFunction
posts them. A batch that cannot be queued fails whole; the stream mapping delivers it again, and the
deduplication ids keep what was already queued from being queued twice.
"""

from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.case_items import case_change
from odr_adapter.data_access.queues import OrderedQueue
from odr_adapter.feed.progress import queue_progress
from odr_adapter.models.case import Case
from odr_adapter.observability import Observed
from odr_adapter.settings import ProgressSettings
from odr_adapter.wiring import directory

obs = Observed(ProgressSettings)


def _changes(event: DynamoDBStreamEvent) -> Iterator[tuple[Case | None, Case]]:
    for record in event.records:
        if record.event_name == DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
            continue
        change = case_change(record.dynamodb.old_image or None, record.dynamodb.new_image or None)
        if change is not None:
            yield change.old, change.new


@obs.handler(None, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    queued = queue_progress(
        list(_changes(DynamoDBStreamEvent(event))),
        directory(obs.settings),
        OrderedQueue(obs.settings.progress_queue_url),
    )
    obs.measure("ProgressStagesQueued", len(queued))
    return {"queued": len(queued)}
