"""How every handler is observed: one object per function, one decorator, one order.

``Observed(SettingsClass)`` is made at import, that is at cold start: it first loads and validates the
function's settings (env), then gives the function a logger, metrics and a tracer of its own. Its
:meth:`Observed.handler` decorator wraps a handler always in the same order, outermost first:

1. context: the Lambda context on every log line, the correlation id (the complaint id for a workflow step,
   the request id behind API Gateway), state cleared between invocations so no key leaks into the next;
2. metrics: flushed once per invocation, only for functions that emit any;
3. tracer: the handler's segment.

Before any of these, the ``{"doctor": true}`` event of ``odr doctor`` is answered (:func:`doctor_answer`): the
function has started (its settings loaded at import, or the invocation fails with the error that names the
variable), reads each secret it needs once past the cache, and says what it read. No metric, no trace, no
batch or route parsing, no write: only Secrets Manager reads, made with the function's own role, so a secret
the role may not read fails here as it would at work.

Log lines about a case carry ``complaint_id`` (:meth:`Observed.about`), never personal data: the service
name comes from ``POWERTOOLS_SERVICE_NAME``, which template.yaml sets per function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from odr_adapter.settings import (
    ActionsSettings,
    CursorKey,
    FeedAccess,
    FunctionSettings,
    Messaging,
    SweeperSettings,
    WebhookSecret,
)

S = TypeVar("S", bound=FunctionSettings)
H = TypeVar("H", bound=Callable[..., Any])

BY_CASE = "complaint_id"  # a workflow step's event names its case
BY_REQUEST = correlation_paths.API_GATEWAY_REST  # API Gateway's request id
TRACED_MODULES = ("botocore",)  # X-Ray subsegments for every AWS call (boto3 goes through botocore)
DOCTOR_EVENT = {"doctor": True}  # odr doctor's question: does this function start, can it read its secrets?
# Functions with the messaging settings that send nothing themselves: what they owe goes through the confirmation
# queue, and SendConfirmationFunction sends it. Their roles may not read the relay's login or the gateway's token.
QUEUE_THEIR_MESSAGES = (ActionsSettings, SweeperSettings)


class Observed(Generic[S]):
    def __init__(self, settings: type[S]) -> None:
        self.settings: S = settings.load()  # env first: a missing variable stops the cold start, by name
        self.logger = Logger()
        self.metrics = Metrics()  # made at import: the local stack gives each function's module fresh ones
        # AWS calls are the only library calls traced: patch_all would also import and patch sqlite3 and look
        # for a dozen database and HTTP libraries the layer does not hold, at every cold start (~5 ms of CPU)
        self.tracer = Tracer(patch_modules=TRACED_MODULES)

    def handler(self, correlation: str | None, *, emits_metrics: bool = True) -> Callable[[H], H]:
        """The handler decorator: context → metrics → tracer (see the module's docstring)."""

        def wrap(fn: H) -> H:
            inner: Any = self.tracer.capture_lambda_handler(fn)
            if emits_metrics:
                inner = self.metrics.log_metrics(inner)
            if correlation == BY_CASE:
                inner = self._about_step(inner)
            inner = self._answering_doctor(inner)
            return self.logger.inject_lambda_context(correlation_id_path=correlation, clear_state=True)(inner)

        return wrap

    def measure(self, name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
        """One metric with dimensions of its own (a gauge per status, a count per outcome), flushed at once."""
        with single_metric(name=name, unit=unit, value=value, namespace=self.metrics.namespace) as metric:
            for key, dimension in {"service": self.logger.service, **dimensions}.items():
                metric.add_dimension(name=key, value=dimension)

    def about(self, complaint_id: str) -> None:
        """Name the case on every following log line of this invocation (a batch names each record's)."""
        self.logger.append_keys(complaint_id=complaint_id)

    def _answering_doctor(self, fn: H) -> H:
        def answered(event: Any, context: Any) -> Any:
            if event == DOCTOR_EVENT:
                answer = doctor_answer(self.settings, getattr(context, "function_name", ""))
                self.logger.info("doctor", extra={"secrets": answer["secrets"]})  # names and ARNs, no value
                return answer
            return fn(event, context)

        return answered  # type: ignore[return-value]

    def _about_step(self, fn: H) -> H:
        def named(event: dict[str, Any], context: Any) -> Any:
            if isinstance(event, dict) and isinstance(event.get(BY_CASE), str):
                self.about(event[BY_CASE])
            return fn(event, context)

        return named  # type: ignore[return-value]


def secrets_needed(settings: FunctionSettings) -> dict[str, str]:
    """The secrets a function reads at work, by the variable naming each: a sender reads the relay's login only when
    e-mail goes by SMTP and the SMS gateway's token only when a gateway is set (as :mod:`odr_adapter.wiring` wires
    them); exactly those its role may read (tests/e2e/test_doctor_smtp.py holds them to template.yaml)."""
    needed: dict[str, str] = {}
    if isinstance(settings, FeedAccess):
        needed["FEED_TOKEN_SECRET"] = settings.feed_token_secret
    if isinstance(settings, WebhookSecret):
        needed["WEBHOOK_SECRET"] = settings.webhook_secret
    if isinstance(settings, CursorKey):
        needed["CURSOR_SECRET"] = settings.cursor_secret
    if isinstance(settings, Messaging) and not isinstance(settings, QUEUE_THEIR_MESSAGES):
        if settings.email_channel == "smtp":
            needed["SMTP_SECRET"] = settings.smtp_secret
        if settings.sms_gateway_url:
            needed["SMS_GATEWAY_TOKEN_SECRET"] = settings.sms_gateway_token_secret
    return needed


def doctor_answer(settings: FunctionSettings, function: str) -> dict[str, Any]:
    """``{"doctor": "ok", "function", "settings": [variables read], "secrets": {variable: {"secret", "read" |
    "error"}}}``: each secret read once as stored now; an error is the reason the read failed, never a value."""
    from odr_adapter.data_access.secrets import read_now  # Powertools Parameters: not every cold start's cost

    secrets: dict[str, dict[str, Any]] = {}
    for variable, secret_id in secrets_needed(settings).items():
        try:
            read = bool(read_now(secret_id))
            secrets[variable] = {"secret": secret_id, "read": read} | ({} if read else {"error": "the secret is empty"})
        except Exception as exc:  # any failure is the answer: missing, denied, marked for deletion, unreachable
            secrets[variable] = {"secret": secret_id, "read": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "doctor": "ok",
        "function": function,
        "settings": sorted(v.name for v in type(settings).variables().values()),
        "secrets": secrets,
    }
