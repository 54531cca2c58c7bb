"""Consume the intake queue: each feed record becomes or updates exactly one case (partial batch failures)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.feed.intake import ingest, parse_message
from odr_adapter.wiring import services

logger = Logger(service="intake")
tracer = Tracer(service="intake")
metrics = Metrics(namespace="OdrAdapter", service="intake")
processor = BatchProcessor(event_type=EventType.SQS)
METRIC = {
    "created": "CasesCreated",
    "revised": "RevisionsApplied",
    "withdrawn": "RevisionsApplied",
    "duplicate": "IntakeDuplicates",
    "stale": "IntakeSuperseded",
    "quarantined": "RecordsQuarantined",
}


def record_handler(record: SQSRecord) -> str:
    message = parse_message(record.body)
    outcome = ingest(message.get("record"), services())
    metrics.add_metric(name=METRIC[outcome], unit=MetricUnit.Count, value=1)
    logger.info("ingested", extra={"outcome": outcome, "source": message.get("source")})
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
