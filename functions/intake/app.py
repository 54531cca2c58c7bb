"""Consume the intake queue: each feed record becomes or updates exactly one case (partial batch failures)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.feed.intake import ingest, parse_message
from odr_adapter.observability import Observed
from odr_adapter.settings import IntakeSettings
from odr_adapter.wiring import services

obs = Observed(IntakeSettings)
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
    outcome = ingest(message.get("record"), services(obs.settings))
    obs.metrics.add_metric(name=METRIC[outcome], unit=MetricUnit.Count, value=1)
    obs.logger.info("ingested", extra={"outcome": outcome, "source": message.get("source")})
    return outcome


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
