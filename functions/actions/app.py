"""HTTP API for the people acting on a case: the enterprise's specialist and the station's reviewer."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from odr_adapter.actions import ActionName, DeadlinePassed, NotYetWaiting, perform
from odr_adapter.case import InvalidAction
from odr_adapter.data_access.wiring import services
from odr_adapter.views import case_view

logger = Logger(service="actions")
tracer = Tracer(service="actions")
app = APIGatewayRestResolver()


def _actor(complaint_id: str, role: str) -> str:
    case = services().cases.get(complaint_id)
    if case is None:
        raise NotFoundError(f"no case {complaint_id}")
    if role == "enterprise":
        return f"enterprise:{case.enterprise.uscc if case.enterprise else 'unknown'}"
    return f"station:{case.station_code}"


def _act(complaint_id: str, action: ActionName, role: str) -> dict[str, Any]:
    payload = app.current_event.json_body or {}
    updated = perform(complaint_id, action, _actor(complaint_id, role), payload, services())
    return case_view(updated)


@app.get("/cases/<complaint_id>")
def get_case(complaint_id: str) -> dict[str, Any]:
    case = services().cases.get(complaint_id)
    if case is None:
        raise NotFoundError(f"no case {complaint_id}")
    return case_view(case)


@app.post("/cases/<complaint_id>/accept")
def accept(complaint_id: str) -> dict[str, Any]:
    return _act(complaint_id, "accept", "enterprise")


@app.post("/cases/<complaint_id>/decline")
def decline(complaint_id: str) -> dict[str, Any]:
    return _act(complaint_id, "decline", "enterprise")


@app.post("/cases/<complaint_id>/result")
def report(complaint_id: str) -> dict[str, Any]:
    return _act(complaint_id, "report", "enterprise")


@app.post("/cases/<complaint_id>/approve")
def approve(complaint_id: str) -> dict[str, Any]:
    return _act(complaint_id, "approve", "station")


@app.post("/cases/<complaint_id>/send-back")
def send_back(complaint_id: str) -> dict[str, Any]:
    return _act(complaint_id, "send_back", "station")


def _error(status: int, message: str, **extra: Any) -> Response:
    return Response(status, content_types.APPLICATION_JSON, {"error": message, **extra})


@app.exception_handler(ValidationError)
def invalid_body(exc: ValidationError) -> Response:
    problems = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in exc.errors()]
    return _error(400, "invalid request body", problems=problems)


@app.exception_handler(NotYetWaiting)
def not_yet(exc: NotYetWaiting) -> Response:
    response = _error(409, str(exc))
    response.headers["Retry-After"] = "2"
    return response


@app.exception_handler(DeadlinePassed)
def too_late(exc: DeadlinePassed) -> Response:
    return _error(409, f"{exc}; 案件已退回监管部门常规处理", code="deadline_passed")


@app.exception_handler(InvalidAction)
def not_allowed(exc: InvalidAction) -> Response:
    return _error(409, str(exc), code="not_allowed")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
