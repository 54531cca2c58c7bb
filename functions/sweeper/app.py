"""Heal cases whose state and execution disagree: owed callbacks, withdrawals, confirmations, workflows that
never reached their first step (scheduled sweep over ByOwed, the sparse index of the cases that owe something)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import Observed
from odr_adapter.people.healing import heal
from odr_adapter.settings import SweeperSettings
from odr_adapter.wiring import case_index, delivery, services

obs = Observed(SweeperSettings)


@obs.handler(None)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    s = obs.settings
    result = heal(services(s), case_index(s), delivery(s))
    obs.metrics.add_metric(name="CasesHealed", unit=MetricUnit.Count, value=result.healed)
    obs.metrics.add_metric(name="HealingFailing", unit=MetricUnit.Count, value=result.failing + len(result.stuck))
    summary = {**vars(result), "healed": result.healed}
    if result.candidates:
        obs.logger.warning("healed cases whose state and execution disagreed", extra=summary)
    return summary
