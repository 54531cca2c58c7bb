"""Report each queued progress stage to the 12315 platform, in order per case; failures retry via SQS, then land
in its DLQ. A stage after the outcome is superseded (the platform's 422) and dropped."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.secrets import secret
from odr_adapter.feed.client import FeedClient
from odr_adapter.feed.progress import Posted, send_progress
from odr_adapter.observability import Observed
from odr_adapter.settings import ReportProgressSettings

obs = Observed(ReportProgressSettings)
# A failed stage holds back only its own case's later stages (its message group), never other cases'.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def record_handler(record: SQSRecord) -> Posted:
    message = json.loads(record.body)
    obs.about(message["complaint_id"])
    token = secret(obs.settings.feed_token_secret)
    try:
        posted = send_progress(message, FeedClient(obs.settings.feed_base_url, token, attempts=2))
    except Exception:
        obs.measure("ProgressReportFailed", 1)
        obs.logger.warning("progress not accepted; the queue will redeliver", extra={"stage": message["body"]["stage"]})
        raise
    obs.measure("ProgressReported", 1, outcome=posted)
    obs.logger.info("progress reported", extra={"stage": message["body"]["stage"], "posted": posted})
    return posted


@obs.handler(None, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
