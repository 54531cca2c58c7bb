"""Keep a wait's task token with its case (the target of every .waitForTaskToken step)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_CASE, Observed
from odr_adapter.settings import StepSettings
from odr_adapter.wiring import services
from odr_adapter.workflow.steps import register_wait

obs = Observed(StepSettings)


@obs.handler(BY_CASE, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    register_wait(event["complaint_id"], event["phase"], event["task_token"], services(obs.settings))
    obs.logger.info("waiting", extra={"phase": event["phase"]})
    return {"waiting": event["phase"]}
