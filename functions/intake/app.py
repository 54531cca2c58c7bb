"""Consume the intake queue: each feed record becomes or updates exactly one case (partial batch failures)."""

from collections import Counter
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


ingested: Counter[tuple[str, str]] = Counter()  # this invocation's (outcome, source) counts


def record_handler(record: SQSRecord) -> str:
    message = parse_message(record.body)
    outcome = ingest(message.get("record"), services(obs.settings))
    ingested[outcome, str(message.get("source"))] += 1
    return outcome


def _report() -> None:
    """The batch's outcomes: one value per metric (a sum, as the dashboard reads them) and one log line, not one
    of each per record. IntakeRetried counts the records left for the queue to deliver again (a fault of AWS),
    0 as well: a batch of them alone would otherwise publish no metric at all."""
    by_metric: Counter[str] = Counter({"IntakeRetried": len(processor.fail_messages)})
    for (outcome, _), count in ingested.items():
        by_metric[METRIC[outcome]] += count
    for name, count in by_metric.items():
        obs.metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    if ingested:
        outcomes: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        for (outcome, source), count in ingested.items():
            outcomes[outcome] += count
            sources[source] += count
        obs.logger.info("ingested", extra={"outcomes": dict(outcomes), "sources": dict(sources)})


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    ingested.clear()
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        _report()
