"""Send each enterprise active last month its scorecard: its figures against its class's, 红榜 and exit-review flags
(scheduled on the 1st of every month; ``{"month": "YYYY-MM"}`` sends that month's, for an operator's re-run: only
what was not delivered goes out)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.messages.monthly_scorecards import send_monthly_scorecards
from odr_adapter.observability import Observed
from odr_adapter.settings import ScorecardSettings
from odr_adapter.wiring import delivery, services, stats_store

obs = Observed(ScorecardSettings)


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    s = obs.settings
    month = event.get("month") if isinstance(event, dict) and isinstance(event.get("month"), str) else None
    result = send_monthly_scorecards(month, services(s), stats_store(s), delivery(s))
    obs.metrics.add_metric(name="ScorecardsSent", unit=MetricUnit.Count, value=result["sent"])
    obs.metrics.add_metric(name="ScorecardsFailed", unit=MetricUnit.Count, value=result["failed"])
    obs.logger.info("monthly scorecards", extra=result)
    return result
