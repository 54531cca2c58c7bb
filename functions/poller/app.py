"""Poll the 12315 feed on a schedule and queue every record intake does not hold yet (see odr_adapter.feed.polling)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.clock import Clock
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.feed_state import FeedState
from odr_adapter.data_access.queues import Queue
from odr_adapter.data_access.secrets import secret
from odr_adapter.feed.client import FeedClient
from odr_adapter.feed.polling import poll
from odr_adapter.observability import Observed
from odr_adapter.settings import PollerSettings

obs = Observed(PollerSettings)
settings = obs.settings
SAFETY_SECONDS = 20  # stop fetching pages this long before the Lambda timeout


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = secret(settings.feed_token_secret)
    feed = FeedClient(settings.feed_base_url, token)
    budget = context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    report = poll(
        feed,
        Queue(settings.intake_queue_url),
        FeedState(settings.cases_table),
        Clock(),
        owner=context.aws_request_id,
        budget_seconds=max(1.0, budget),
        held=CaseStore(settings.cases_table),
    )
    if report.held_elsewhere:  # not RecordsSeen: its alarm is about runs that poll
        obs.metrics.add_metric(name="PollsSkipped", unit=MetricUnit.Count, value=1)
        obs.logger.info("another poller run holds the lease; skipped")
        return report.as_log()
    obs.metrics.add_metric(name="RecordsSeen", unit=MetricUnit.Count, value=report.seen)
    obs.metrics.add_metric(name="RecordsNew", unit=MetricUnit.Count, value=report.new)
    obs.metrics.add_metric(name="RecordsDuplicate", unit=MetricUnit.Count, value=report.duplicate)
    obs.metrics.add_metric(name="RecordsHeld", unit=MetricUnit.Count, value=report.held)
    obs.metrics.add_metric(name="FeedLagSeconds", unit=MetricUnit.Seconds, value=report.lag_seconds)
    obs.logger.info("polled", extra={**report.as_log(), "retries": feed.retries})
    return report.as_log()
