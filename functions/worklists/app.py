"""The worklists (``/w/...``): sign-in by a single-use login link, a station's or an enterprise's list of its
cases, and each case's page with the actions a message's link would offer, authorised by the session."""

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.models.limits import RequestRejected
from odr_adapter.observability import BY_REQUEST, Observed
from odr_adapter.people.enterprise_api import request_text
from odr_adapter.people.pages import Page, notice
from odr_adapter.people.worklist_pages import (
    Desk,
    Request,
    ask_for_login,
    case_page,
    log_in,
    log_out,
    login_page,
    sign_in_page,
    submit_case,
    worklist_page,
)
from odr_adapter.settings import WorklistsSettings
from odr_adapter.wiring import case_pages, cursor_key, delivery, services, sessions

obs = Observed(WorklistsSettings)
app = APIGatewayRestResolver()
MAX_FORM_FIELDS = 30


def _desk() -> Desk:
    s = obs.settings
    return Desk(services(s), delivery(s), sessions(s), case_pages(s), lambda: cursor_key(s))


def _request() -> Request:
    event = app.current_event
    form: dict[str, str] = {}
    if event.http_method == "POST":
        text = request_text(event.body, bool(event.is_base64_encoded))
        try:
            form = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
        except ValueError:  # more fields than any form of ours has
            raise RequestRejected(400, f"a form has at most {MAX_FORM_FIELDS} fields") from None
    return Request(event.headers, event.query_string_parameters or {}, form)


def _html(page: Page) -> Response[str]:
    return Response(page.status, "text/html; charset=utf-8", page.html, headers=page.headers)


@app.get("/w/signin")
def sign_in_form() -> Response[str]:
    return _html(sign_in_page(_desk()))


@app.post("/w/signin")
def ask_for_link() -> Response[str]:
    return _html(ask_for_login(_desk(), _request()))


@app.get("/w/login/<token>")
def open_login(token: str) -> Response[str]:
    return _html(login_page(_desk(), token))


@app.post("/w/login/<token>")
def use_login(token: str) -> Response[str]:
    return _html(log_in(_desk(), token, _request()))


@app.post("/w/signout")
def sign_out() -> Response[str]:
    return _html(log_out(_desk(), _request()))


@app.get("/w/cases")
def list_cases() -> Response[str]:
    return _html(worklist_page(_desk(), _request()))


@app.get("/w/cases/<complaint_id>")
def open_case(complaint_id: str) -> Response[str]:
    return _html(case_page(_desk(), complaint_id, _request()))


@app.post("/w/cases/<complaint_id>")
def act_on_case(complaint_id: str) -> Response[str]:
    return _html(submit_case(_desk(), complaint_id, _request()))


@app.exception_handler(RequestRejected)
def rejected(exc: RequestRejected) -> Response[str]:
    return _html(notice(exc.status, "无法处理", "提交的内容无法读取,请返回上一页重新填写。", tone="error"))


@obs.handler(BY_REQUEST, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
