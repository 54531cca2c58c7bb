"""Keep the statistics counters as cases move (the case table's stream); a redelivered batch counts nothing twice.

Records are counted in order and any failure fails the whole batch: Lambda delivers it again and the changes
already counted are recognised by their markers.
"""

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.clock import Clock
from odr_adapter.data_access.stats import stats_store
from odr_adapter.stats.counters import STATUSES, CaseChange, count_changes
from odr_adapter.stats.figures import lifetime

logger = Logger(service="counters")
tracer = Tracer(service="counters")


def _changes(event: DynamoDBStreamEvent) -> Iterator[CaseChange]:
    """The batch's case changes, read one at a time: a record that cannot be read fails the batch there."""
    for record in event.records:
        if record.event_name == DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
            continue
        change = CaseChange.from_items(record.dynamodb.old_image or None, record.dynamodb.new_image or None)
        if change is not None:
            yield change


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = count_changes(_changes(DynamoDBStreamEvent(event)), stats_store(), Clock().now())
    if result.applied:
        now = lifetime(stats_store())
        for status in STATUSES:
            with single_metric(
                name="CasesInStatus",
                unit=MetricUnit.Count,
                value=now.count(f"status_{status}"),
                namespace="OdrAdapter",
                default_dimensions={"service": "counters", "status": status},
            ):
                pass
    logger.info("counted", extra=asdict(result))
    return asdict(result)
