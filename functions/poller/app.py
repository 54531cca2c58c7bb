"""Poll the 12315 feed on a schedule and queue every record for intake."""

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.clock import Clock
from odr_adapter.data_access.feed_state import FeedCursor
from odr_adapter.data_access.queues import Queue
from odr_adapter.feed_client import FeedClient
from odr_adapter.polling import poll_once
from odr_adapter.settings import Settings

logger = Logger(service="poller")
tracer = Tracer(service="poller")
metrics = Metrics(namespace="OdrAdapter", service="poller")
settings = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = str(parameters.get_secret(settings.feed_token_secret, max_age=300))
    feed = FeedClient(settings.feed_base_url, token)
    start = Clock.from_env().now() - timedelta(days=1)
    result = poll_once(feed, Queue(settings.intake_queue_url), FeedCursor(settings.cases_table), start)
    metrics.add_metric(name="RecordsSeen", unit=MetricUnit.Count, value=result["seen"])
    logger.info("polled", extra=result)
    return result
