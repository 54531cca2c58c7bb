"""Report each closed case's outcome to the 12315 platform; failures retry via SQS, then land in its DLQ."""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.secrets import secret
from odr_adapter.feed.client import FeedClient
from odr_adapter.feed.report_back import send_report
from odr_adapter.observability import Observed
from odr_adapter.settings import ReportBackSettings

obs = Observed(ReportBackSettings)
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> int:
    report = json.loads(record.body)
    obs.about(report["complaint_id"])
    try:
        token = secret(obs.settings.feed_token_secret)
        status = send_report(report, FeedClient(obs.settings.feed_base_url, token, attempts=2))
    except Exception:
        obs.metrics.add_metric(name="ReportBackFailed", unit=MetricUnit.Count, value=1)
        obs.logger.warning("report not accepted; the queue will redeliver")
        raise
    obs.metrics.add_metric(name="OutcomesReported", unit=MetricUnit.Count, value=1)  # a repeat (200) included
    obs.logger.info("reported", extra={"status": status})
    return status


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
