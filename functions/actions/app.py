"""The people's side of a case: action pages behind secure links, and the enterprise JSON API (API keys).

``GET /l/{link_id}`` shows the case and its forms; ``POST /l/{link_id}`` submits one. ``/api/v1/...`` is for
large enterprises, authenticated per enterprise with ``Authorization: Bearer <API key>``. Run this module to
print the OpenAPI document kept in docs/openapi.json.

Every request passes the gate before any field is validated: the API key first (401 whatever the body), then the
body's size, encoding and JSON limits (413/400, see :mod:`odr_adapter.models.limits`); only then Powertools'
validation (422 with the fields at fault).
"""

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Form, Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from odr_adapter.models.case import StaleCase
from odr_adapter.models.cursors import BadCursor
from odr_adapter.models.limits import RequestRejected
from odr_adapter.models.links import ActionName
from odr_adapter.observability import BY_REQUEST, Observed
from odr_adapter.people.actions import AmountAboveCeiling, ResultReport
from odr_adapter.people.enterprise_api import (
    CaseNotFound,
    Unauthorised,
    api_answer,
    authenticate,
    case_list,
    enterprise_act,
    enterprise_note,
    is_api,
    note_answer,
    own_case,
    request_json,
    request_text,
)
from odr_adapter.people.link_requests import open_link, submit_link
from odr_adapter.people.notes import NoteIn, NoteInvalid, NoteRefused
from odr_adapter.people.pages import Page, notice
from odr_adapter.people.views import case_view
from odr_adapter.people.worklists import MAX_PAGE_SIZE, PAGE_SIZE, Filters, PhaseFilter
from odr_adapter.settings import ActionsSettings
from odr_adapter.wiring import api_keys, case_pages, cursor_key, delivery, services

obs = Observed(ActionsSettings)
app = APIGatewayRestResolver(json_body_deserializer=request_json)
PAGES = ["Action pages"]
API = ["Enterprise API"]
SECURED: list[dict[str, list[str]]] = [{"apiKey": []}]
HTML: OpenAPIResponse = {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}


def _error(description: str, problems: bool = False) -> OpenAPIResponse:
    properties: dict[str, Any] = {"error": {"type": "string"}}
    if problems:
        item = {"type": "object", "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}
        properties["problems"] = {"type": "array", "items": item}
    schema = {"type": "object", "properties": properties, "required": ["error"]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


API_ERRORS: dict[int, OpenAPIResponse] = {
    200: {"description": "Successful Response"},
    400: _error("The body is not UTF-8 JSON, or is nested too deep, or holds a number too long, NaN or Infinity"),
    401: _error("No API key, or an unknown or revoked one (checked before the body is read)"),
    404: _error("No such case for this enterprise"),
    413: _error("The body is over 64 KiB"),
    422: _error(
        "A field is invalid: booleans are JSON true/false only; money is a decimal string with at most two "
        "decimals (no number, exponent, NaN, Infinity or sign), at most the complaint's claimed amount",
        problems=True,
    ),
}


def gate(router: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Before validation: who calls the API (401), then whether the body can be read at all (413/400)."""
    event = router.current_event
    if is_api(event.path):
        router.append_context(uscc=authenticate(event.headers.get("Authorization"), api_keys(obs.settings)))
    request_text(event.body, bool(event.is_base64_encoded))
    return next_middleware(router)


# Validation runs after the gate: registered here in order, not by enable_validation (which runs it first).
app.use([gate, OpenAPIRequestValidationMiddleware(), OpenAPIResponseValidationMiddleware(None, False)])


def _html(page: Page) -> Response[str]:
    return Response(page.status, "text/html; charset=utf-8", page.html, headers=page.headers)


@app.get("/l/<link_id>", tags=PAGES, summary="Open an action link", responses={200: HTML, 404: HTML, 410: HTML})
def open_page(link_id: str) -> Response[str]:
    return _html(open_link(link_id, services(obs.settings), delivery(obs.settings)))


@app.post("/l/<link_id>", tags=PAGES, summary="Submit an action page's form", responses={200: HTML, 409: HTML})
def submit_page(
    link_id: str,
    action: Annotated[str, Form(description="accept, decline, report, approve, send_back or confirm_screening")] = "",
    settled: Annotated[str, Form(description="report: yes or no")] = "",
    recovered_amount: Annotated[str, Form(description="report: yuan recovered, e.g. 199.00")] = "",
    not_settled_reason: Annotated[str, Form(description="report: why it was not settled")] = "",
    summary: Annotated[str, Form(description="report: what was done (处理经过)")] = "",
    comment: Annotated[str, Form(description="approve / send_back: the station's comment")] = "",
    decision: Annotated[str, Form(description="confirm_screening: accept, regular or refuse")] = "",
    refusal_reason: Annotated[str, Form(description="confirm_screening: the refusal ground's code")] = "",
    reason: Annotated[str, Form(description="confirm_screening: the station's reason")] = "",
    note: Annotated[str, Form(description="note: the text of a note to the other side (at most 500 characters)")] = "",
    note_key: Annotated[str, Form(description="note: the page's idempotency key (one note per key)")] = "",
) -> Response[str]:
    form = {
        "action": action,
        "settled": settled,
        "recovered_amount": recovered_amount,
        "not_settled_reason": not_settled_reason,
        "summary": summary,
        "comment": comment,
        "decision": decision,
        "refusal_reason": refusal_reason,
        "reason": reason,
        "note": note,
        "note_key": note_key,
    }
    return _html(submit_link(link_id, form, services(obs.settings), delivery(obs.settings)))


def _enterprise() -> str:
    return str(app.context["uscc"])  # the gate authenticated the caller


@app.get(
    "/api/v1/cases",
    tags=API,
    summary="The enterprise's cases, open ones first (oldest first), then closed ones (newest first), a page at a time",
    security=SECURED,
    responses={**API_ERRORS, 400: _error("A cursor not issued for this enterprise and these filters")},
)
def list_cases(
    phase: Annotated[
        PhaseFilter, Query(description="open, closed, or one phase: screening, acceptance, resolution, review")
    ] = "",
    date_from: Annotated[date | None, Query(alias="from", description="registered on or after (Beijing date)")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="registered on or before (Beijing date)")] = None,
    q: Annotated[str, Query(max_length=64, description="one complaint id: that case, closed ones included")] = "",
    cursor: Annotated[str, Query(max_length=1024, description="next_cursor of the previous page")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="cases per page")] = PAGE_SIZE,
) -> dict[str, Any]:
    query = {"phase": phase, "from": date_from, "to": date_to, "q": q, "cursor": cursor, "limit": limit}
    try:
        filters = Filters.model_validate(query)
    except ValidationError as exc:  # what the parameters' own checks cannot see: q's characters, the period's order
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    s = obs.settings
    return case_list(_enterprise(), filters, case_pages(s), services(s), cursor_key(s))


@app.get(
    "/api/v1/cases/<complaint_id>",
    tags=API,
    summary="One of the enterprise's cases",
    security=SECURED,
    responses=API_ERRORS,
)
def get_case(complaint_id: str) -> dict[str, Any]:
    return case_view(own_case(complaint_id, _enterprise(), services(obs.settings)))


def _act(complaint_id: str, action: ActionName, payload: dict[str, Any]) -> Response[dict[str, Any]]:
    outcome = enterprise_act(
        _enterprise(), complaint_id, action, payload, services(obs.settings), delivery(obs.settings)
    )
    status, body, headers = api_answer(outcome)
    return Response(status, content_types.APPLICATION_JSON, body, headers=headers)


@app.post(
    "/api/v1/cases/<complaint_id>/accept",
    tags=API,
    summary="Accept the case (受理)",
    security=SECURED,
    responses=API_ERRORS,
)
def accept(complaint_id: str) -> Response[dict[str, Any]]:
    return _act(complaint_id, "accept", {})


@app.post(
    "/api/v1/cases/<complaint_id>/decline",
    tags=API,
    summary="Decline ODR handling",
    security=SECURED,
    responses=API_ERRORS,
)
def decline(complaint_id: str) -> Response[dict[str, Any]]:
    return _act(complaint_id, "decline", {})


@app.post(
    "/api/v1/cases/<complaint_id>/result", tags=API, summary="Report the result", security=SECURED, responses=API_ERRORS
)
def report(complaint_id: str, result: ResultReport) -> Response[dict[str, Any]]:
    return _act(complaint_id, "report", result.model_dump(mode="json"))


@app.post(
    "/api/v1/cases/<complaint_id>/notes",
    tags=API,
    summary="Ask the station a question on the case (a note; changes no deadline)",
    security=SECURED,
    responses={
        **API_ERRORS,
        200: {"description": "A repeat of the same Idempotency-Key: the note already kept, nothing sent again"},
        201: {"description": "The note was kept on the case; its message to the station goes out after this answer"},
        409: _error("The case takes no note now: closed, not yet dispatched (code says which), or busy (retry)"),
    },
)
def add_note(
    complaint_id: str,
    note: NoteIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="8 to 64 of A-Z a-z 0-9 _ -: one note per key. Without it, one note per text.",
        ),
    ] = None,
) -> Response[dict[str, Any]]:
    try:
        outcome = enterprise_note(
            _enterprise(), complaint_id, note.text, idempotency_key, services(obs.settings), delivery(obs.settings)
        )
    except StaleCase:
        body = {"error": "the case is being changed by other requests; retry shortly", "code": "busy"}
        return Response(409, content_types.APPLICATION_JSON, body, headers={"Retry-After": "2"})
    status, body = note_answer(outcome)
    return Response(status, content_types.APPLICATION_JSON, body)


@app.exception_handler(NoteInvalid)
def invalid_note(exc: NoteInvalid) -> Response[dict[str, Any]]:
    field = "Idempotency-Key" if exc.code == "bad_key" else "text"
    body = {"error": "invalid request", "problems": [{"field": field, "reason": str(exc)}]}
    return Response(422, content_types.APPLICATION_JSON, body)


@app.exception_handler(NoteRefused)
def refused_note(exc: NoteRefused) -> Response[dict[str, Any]]:
    return Response(409, content_types.APPLICATION_JSON, {"error": str(exc), "code": exc.code})


@app.exception_handler(BadCursor)
def bad_cursor(exc: BadCursor) -> Response[dict[str, str]]:
    return Response(400, content_types.APPLICATION_JSON, {"error": "the cursor is not one of this listing's"})


@app.exception_handler(RequestValidationError)
def invalid(exc: RequestValidationError) -> Response[dict[str, Any]]:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "reason": e.get("msg", e["type"])}
        for e in exc.errors()
    ]
    return Response(422, content_types.APPLICATION_JSON, {"error": "invalid request", "problems": problems})


@app.exception_handler(RequestRejected)
def rejected(exc: RequestRejected) -> Response[Any]:
    if is_api(app.current_event.path):
        return Response(exc.status, content_types.APPLICATION_JSON, {"error": exc.message})
    return _html(notice(exc.status, "无法处理", "提交的内容无法读取,请返回上一页重新填写。", tone="error"))


@app.exception_handler(AmountAboveCeiling)
def above_ceiling(exc: AmountAboveCeiling) -> Response[Any]:
    if is_api(app.current_event.path):
        body = {"error": "invalid request", "problems": [{"field": "recovered_amount", "reason": str(exc)}]}
        return Response(422, content_types.APPLICATION_JSON, body)
    bound = "消费者的诉求金额" if exc.claimed else "无诉求金额案件的上限"
    message = f"挽回金额 {exc.amount:.2f} 元超过{bound}({exc.ceiling:.2f} 元),请返回上一页核对后重新提交。"
    return _html(notice(400, "无法提交", message, tone="error"))


@app.exception_handler(Unauthorised)
def unauthorised(exc: Unauthorised) -> Response[dict[str, str]]:
    return Response(401, content_types.APPLICATION_JSON, {"error": str(exc)}, headers={"WWW-Authenticate": "Bearer"})


@app.exception_handler(CaseNotFound)
def not_found(exc: CaseNotFound) -> Response[dict[str, str]]:
    return Response(404, content_types.APPLICATION_JSON, {"error": str(exc)})


def openapi_json() -> str:
    # Imported here, not at cold start: the OpenAPI document's models are the costliest import of the function
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return app.get_openapi_json_schema(
        title="odr-adapter: action pages and enterprise API",
        version="1.0.0",
        description="Secure action links for ODR specialists and station reviewers; a JSON API for enterprises.",
        security_schemes={"apiKey": HTTPBearer(description="Per-enterprise API key: Authorization: Bearer odr_...")},
    )


@obs.handler(BY_REQUEST, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


if __name__ == "__main__":
    print(openapi_json())
