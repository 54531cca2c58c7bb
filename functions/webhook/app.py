"""Receive signed pushes of 12315 records (POST /feed/complaints) and queue them for intake."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.clock import Clock
from odr_adapter.data_access.queues import Queue
from odr_adapter.data_access.secrets import secret
from odr_adapter.feed.webhook import NotQueued, PushRejected, accept_push, raw_body
from odr_adapter.observability import BY_REQUEST, Observed
from odr_adapter.settings import WebhookSettings

obs = Observed(WebhookSettings)
app = APIGatewayRestResolver()
settings = obs.settings


@app.post("/feed/complaints")
def receive() -> Response:
    event = app.current_event
    body = raw_body(event.body, bool(event.is_base64_encoded))
    accepted = accept_push(
        event.headers, body, secret(settings.webhook_secret), Queue(settings.intake_queue_url), Clock()
    )
    obs.logger.info("push queued", extra={"accepted": accepted})
    return Response(202, content_types.APPLICATION_JSON, {"accepted": accepted})


@app.exception_handler(PushRejected)
def rejected(exc: PushRejected) -> Response:
    obs.logger.warning("push rejected", extra={"status": exc.status, "reason": exc.message, "problems": exc.problems})
    body: dict[str, Any] = {"error": exc.message}
    if exc.problems:
        body["problems"] = exc.problems
    return Response(exc.status, content_types.APPLICATION_JSON, body)


@app.exception_handler(NotQueued)
def not_queued(exc: NotQueued) -> Response:
    obs.logger.error("push not queued; the platform will send it again", exc_info=exc)
    return Response(503, content_types.APPLICATION_JSON, {"error": str(exc)}, headers={"Retry-After": "5"})


@obs.handler(BY_REQUEST, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
