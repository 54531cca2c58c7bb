"""Keep the statistics counters as cases move (the case table's stream); a redelivered batch counts nothing twice.

Records are counted in order and any failure fails the whole batch: Lambda delivers it again and the changes
already counted are recognised by their markers.
"""

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.clock import Clock
from odr_adapter.data_access.case_items import case_change
from odr_adapter.models.counters import CaseChange
from odr_adapter.observability import Observed
from odr_adapter.settings import CountersSettings
from odr_adapter.stats.counting import count_batch
from odr_adapter.wiring import stats_store

obs = Observed(CountersSettings)


def _changes(event: DynamoDBStreamEvent) -> Iterator[CaseChange]:
    """The batch's case changes, read one at a time: a record that cannot be read fails the batch there."""
    for record in event.records:
        if record.event_name == DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
            continue
        change = case_change(record.dynamodb.old_image or None, record.dynamodb.new_image or None)
        if change is not None:
            yield change


@obs.handler(None, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result, in_status = count_batch(_changes(DynamoDBStreamEvent(event)), stats_store(obs.settings), Clock().now())
    for status, count in in_status.items():
        obs.measure("CasesInStatus", count, status=status)
    obs.logger.info("counted", extra=asdict(result))
    return asdict(result)
