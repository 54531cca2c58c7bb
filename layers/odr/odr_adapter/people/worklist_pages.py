"""The worklist pages (``/w/...``): sign-in by login link, a holder's list of cases, and its cases' pages.

Mobile-first, Chinese, server-rendered like the action pages, with their security headers. A case opened from
the list is the action page a message's link shows, with the same forms, answered by the same code
(:func:`~odr_adapter.people.submissions.act`); the session stands where the link stood: it acts only on its
holder's cases, in the phase that waits for its holder, as ``station:<code>`` or ``enterprise:<USCC>``. Every
POST of a signed-in page carries the session's CSRF token and must come from our own origin; the cookie is
SameSite=Strict besides. A case that is not the holder's answers as one that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from odr_adapter.messages.sending import Delivery
from odr_adapter.models.case import Case, StaleCase
from odr_adapter.models.cursors import BadCursor
from odr_adapter.models.links import PHASE_ACTIONS, PHASE_ROLE, ActionLink, ActionName, LinkPhase, Role
from odr_adapter.models.sessions import SESSION_HOURS, cleared_cookie, cookie_token, session_cookie
from odr_adapter.people.link_requests import (
    NOTE_ERRORS,
    NOTE_REFUSALS,
    answer_page,
    busy_page,
    expired_page,
    form_payload,
)
from odr_adapter.people.notes import Author, NoteInvalid, NoteRefused, add_note, may_take_notes
from odr_adapter.people.pages import SECURITY_HEADERS, Page, action_page, notice
from odr_adapter.people.sessions import (
    Session,
    contact_of,
    csrf_ok,
    current_session,
    holder_name,
    pending_login,
    request_login,
    same_origin,
    sign_in,
    sign_out,
)
from odr_adapter.people.submissions import act, note
from odr_adapter.people.worklists import (
    PHASE_FILTER_NAMES,
    Filters,
    listing,
    owns,
    row,
    waits_for,
)
from odr_adapter.ports import CasePages, Services, SessionRepository

RETRY_AFTER_SECONDS = 3
_ENV = Environment(
    loader=PackageLoader("odr_adapter.people", "templates"),
    autoescape=select_autoescape(["html.j2"], default_for_string=True),
    undefined=StrictUndefined,
)
ROLE_ACTIONS: dict[Role, tuple[ActionName, ...]] = {
    role: tuple(a for phase, actions in PHASE_ACTIONS.items() if PHASE_ROLE[phase] == role for a in actions)
    for role in ("station", "enterprise")
}
"""What a session's holder may ever ask for: the actions of the phases its role acts in (a station never
accepts, an enterprise never approves); :func:`~odr_adapter.people.submissions.act` decides the rest."""


@dataclass(frozen=True)
class Desk:
    """What the worklist pages use (the handler builds it from the wiring)."""

    svc: Services
    delivery: Delivery
    sessions: SessionRepository
    pages: CasePages
    cursor_key: Callable[[], bytes]  # read when a listing needs it (a secret, cached by the adapter)

    def url(self, path: str) -> str:
        return f"{self.delivery.base_url.rstrip('/')}{path}"

    @property
    def list_url(self) -> str:
        """Where every worklist page but the list itself links back to."""
        return self.url("/w/cases")


@dataclass(frozen=True)
class Request:
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)


def _render(template: str, title: str, status: int = 200, **values: object) -> Page:
    return Page(status, _ENV.get_template(template).render(title=title, **values))


def _redirect(location: str, cookie: str | None = None) -> Page:
    headers = {**SECURITY_HEADERS, "Location": location}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Page(303, "", headers)


def _to_sign_in(desk: Desk, request: Request) -> Page:
    """No live session: back to the sign-in page (and forget a cookie that named an ended one)."""
    stale = cookie_token(request.headers.get("Cookie")) is not None
    return _redirect(desk.url("/w/signin"), cleared_cookie() if stale else None)


def _forbidden(desk: Desk) -> Page:
    message = "页面已过期或来源不明,本次提交未生效。请返回案件列表重新打开本案。"
    return notice(403, "无法处理", message, tone="error", back_url=desk.list_url)


# --- sign-in ------------------------------------------------------------------------------------------------------


def sign_in_page(desk: Desk, sent: bool = False, error: str = "", status: int = 200) -> Page:
    return _render(
        "worklist_signin.html.j2",
        "登录工作台",
        status,
        district=desk.svc.directory.district().name,
        sent=sent,
        error=error,
        hours=SESSION_HOURS,
    )


def ask_for_login(desk: Desk, request: Request) -> Page:
    """Send login links to whoever registered the contact given; answered the same whoever that is."""
    if not same_origin(request.headers, desk.delivery.base_url):
        return _forbidden(desk)
    typed = request.form.get("contact", "")
    if contact_of(typed) is None:
        return sign_in_page(desk, error="请填写登记的电子邮箱或手机号码。", status=400)
    request_login(typed, desk.svc, desk.sessions, desk.delivery.base_url, desk.delivery.retry)
    return sign_in_page(desk, sent=True)


def login_page(desk: Desk, token: str) -> Page:
    """Opening a login link only shows a button (mail scanners open links): pressing it signs in."""
    record = pending_login(token, desk.svc, desk.sessions)
    if record is None:
        return _link_gone(desk)
    district = desk.svc.directory.district()
    return _render(
        "worklist_login.html.j2",
        "确认登录",
        district=district.name,
        name=holder_name(record.holder, district),
        role=record.role,
        hours=SESSION_HOURS,
    )


def log_in(desk: Desk, token: str, request: Request) -> Page:
    if not same_origin(request.headers, desk.delivery.base_url):
        return _forbidden(desk)
    session = sign_in(token, desk.svc, desk.sessions)
    if session is None:
        return _link_gone(desk)
    cookie = session_cookie(session.token, session.record.expires_at, desk.svc.clock.now())
    return _redirect(desk.url("/w/cases"), cookie)


def _link_gone(desk: Desk) -> Page:
    return notice(
        410,
        "链接无效",
        "登录链接无效、已使用或已过期。请重新获取登录链接。",
        tone="error",
        next_url=desk.url("/w/signin"),
        next_label="重新获取登录链接",
        next_id="sign-in-again",
    )


def log_out(desk: Desk, request: Request) -> Page:
    session = current_session(request.headers.get("Cookie"), desk.svc, desk.sessions)
    if session is not None:
        if not same_origin(request.headers, desk.delivery.base_url) or not csrf_ok(session, request.form.get("csrf")):
            return _forbidden(desk)
        sign_out(session, desk.svc, desk.sessions)
    return _redirect(desk.url("/w/signin"), cleared_cookie())


# --- the list -------------------------------------------------------------------------------------------------------


def worklist_page(desk: Desk, request: Request) -> Page:
    session = current_session(request.headers.get("Cookie"), desk.svc, desk.sessions)
    if session is None:
        return _to_sign_in(desk, request)
    holder = session.holder
    district = desk.svc.directory.district()
    try:
        filters = Filters.model_validate(dict(request.query))
    except ValidationError as exc:
        return _list_error(desk, _filter_problem(exc))
    if holder.role == "enterprise" and filters.enterprise not in ("", holder.id):
        return _list_error(desk, "企业只能查看本企业的案件。")
    try:
        found = listing(holder, filters, desk.pages, desk.svc.cases, desk.cursor_key())
    except BadCursor:
        return _list_error(desk, "翻页链接无效或已过期,请从第一页重新查看。")
    now = desk.svc.clock.now()
    chosen = {k: v for k, v in dict(request.query).items() if k != "cursor" and v}
    next_url = desk.url("/w/cases?" + urlencode({**chosen, "cursor": found.next_cursor})) if found.next_cursor else ""
    enterprises = (
        sorted(((e.uscc, e.name) for e in district.enterprises), key=lambda e: e[1]) if holder.role == "station" else []
    )
    return _render(
        "worklist.html.j2",
        "案件列表",
        district=district.name,
        name=holder_name(holder, district),
        role=holder.role,
        rows=[row(c, holder, district, now) for c in found.cases],
        filters=filters,
        phases=PHASE_FILTER_NAMES,
        enterprises=enterprises,
        next_url=next_url,
        first_url=desk.url("/w/cases?" + urlencode(chosen)) if filters.cursor else "",
        case_url=desk.url("/w/cases/"),
        list_url=desk.url("/w/cases"),
        sign_out_url=desk.url("/w/signout"),
        csrf=session.csrf,
    )


def _filter_problem(exc: ValidationError) -> str:
    names = {
        "phase": "阶段",
        "enterprise": "企业",
        "from": "起始日期",
        "to": "截止日期",
        "q": "登记编号",
        "limit": "每页条数",
        "cursor": "翻页位置",
    }
    fields = [names.get(str(e["loc"][0]), "") for e in exc.errors() if e["loc"]]
    named = "、".join(f for f in dict.fromkeys(fields) if f)
    return f"筛选条件无效({named or '日期区间'}),请修改后重新查询。"


def _list_error(desk: Desk, message: str) -> Page:
    return notice(400, "无法查询", message, tone="error", back_url=desk.list_url)


# --- a case from the list -----------------------------------------------------------------------------------------


def _own_case(desk: Desk, session: Session, complaint_id: str) -> Case | None:
    case = desk.svc.cases.get(complaint_id) if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", complaint_id) else None
    return case if case is not None and owns(session.holder, case) else None


def _stand_in_link(case: Case, session: Session, desk: Desk) -> ActionLink | None:
    """What a message's link to the case's phase would allow the session's holder (never stored): its forms while
    the phase waits for the holder, until its deadline; none while it waits for the other side (the page then
    shows the case and its notes). None for a case that waits on nothing."""
    phase = case.wait_phase
    if not case.is_open or phase is None or phase not in PHASE_ACTIONS:
        return None
    link_phase: LinkPhase = phase
    deadline = case.deadlines.get(phase)
    if deadline is None:
        return None
    return ActionLink(
        key="",
        complaint_id=case.complaint_id,
        phase=link_phase,
        actions=list(PHASE_ACTIONS[link_phase]) if waits_for(case, session.holder) else [],
        role=session.holder.role,
        recipient=session.holder.id,
        expires_at=deadline.due_at,
        created_at=desk.svc.clock.now(),
    )


def _shown(
    desk: Desk,
    session: Session,
    case: Case,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    note_sent: bool = False,
) -> Page:
    """The case as its holder sees it from the list: a link's page with the forms of the phase that waits for
    the holder, each carrying the session's CSRF token; the case and its notes while the other side has the
    turn; else a notice. Each links back to the list."""
    link = _stand_in_link(case, session, desk)
    now = desk.svc.clock.now()
    if link is None or (not link.actions and not may_take_notes(case)):
        return _nothing_to_do(case, desk)
    if link.actions and link.expired(now):
        return expired_page(case, status=200, back_url=desk.list_url)
    return action_page(
        case,
        link,
        desk.svc.directory.district(),
        now,
        errors=errors,
        values=values,
        status=status,
        note_sent=note_sent,
        csrf=session.csrf,
        back_url=desk.list_url,
    )


def case_page(desk: Desk, complaint_id: str, request: Request) -> Page:
    session = current_session(request.headers.get("Cookie"), desk.svc, desk.sessions)
    if session is None:
        return _to_sign_in(desk, request)
    case = _own_case(desk, session, complaint_id)
    if case is None:
        return _not_found(desk)
    return _shown(desk, session, case)


def submit_case(desk: Desk, complaint_id: str, request: Request) -> Page:
    session = current_session(request.headers.get("Cookie"), desk.svc, desk.sessions)
    if session is None:
        return _to_sign_in(desk, request)
    if not same_origin(request.headers, desk.delivery.base_url) or not csrf_ok(session, request.form.get("csrf")):
        return _forbidden(desk)
    case = _own_case(desk, session, complaint_id)
    if case is None:
        return _not_found(desk)
    form = {k: v for k, v in request.form.items() if k != "csrf"}
    if form.get("action") == "note":
        return _submit_note(desk, session, case, form)
    back = desk.list_url
    chosen = next((a for a in ROLE_ACTIONS[session.holder.role] if a == form.get("action")), None)
    if chosen is None:
        return notice(400, "无法处理", "此操作不可用。", tone="error", case=case, back_url=back)
    link = _stand_in_link(case, session, desk)
    current = link is not None and chosen in link.actions  # else: act() says why (done before, or not now)
    actor = session.holder.actor
    now = desk.svc.clock.now()
    if link is not None and current and link.expired(now):
        refused = {"action": chosen, "via": "session", "reason": "deadline_passed"}
        note(case.complaint_id, "action_refused", actor, refused, desk.svc)
        return expired_page(case, status=409, back_url=back)
    payload, errors = form_payload(chosen, form)
    if errors:
        if link is None or not current:
            return notice(400, "无法处理", "提交的内容不完整。", tone="error", case=case, back_url=back)
        return _shown(desk, session, case, errors=errors, values=form, status=400)
    outcome = act(case.complaint_id, chosen, actor, payload, "session", desk.svc, desk.delivery)
    if outcome.status == "not_ready":
        return notice(
            503,
            "请稍候",
            "系统正在准备本案,请几秒钟后刷新本页重新提交。",
            tone="wait",
            case=case,
            retry_after=RETRY_AFTER_SECONDS,
            back_url=back,
        )
    if outcome.status == "busy":
        return busy_page(case, back)
    return answer_page(chosen, outcome, desk.delivery, back)


def _submit_note(desk: Desk, session: Session, case: Case, form: dict[str, str]) -> Page:
    """A note to the other side (:func:`~odr_adapter.people.notes.add_note` checks the author against the case),
    answered as on a link's page: the page again with the note shown, or what was wrong."""
    author = Author(session.holder.role, session.holder.id)
    text, key = form.get("note", ""), form.get("note_key") or None
    try:
        outcome = add_note(case.complaint_id, author, text, key, "session", desk.svc, desk.delivery)
    except NoteInvalid as exc:
        return _shown(desk, session, case, errors={"note": NOTE_ERRORS[exc.code]}, values=form, status=400)
    except NoteRefused as exc:
        return notice(409, "无法发送", NOTE_REFUSALS[exc.code], tone="error", case=case, back_url=desk.list_url)
    except StaleCase:
        return busy_page(case, desk.list_url)
    return _shown(desk, session, outcome.case, note_sent=True)


def _not_found(desk: Desk) -> Page:
    return notice(404, "未找到", "未找到该案件,或该案件不属于您。", tone="error", back_url=desk.list_url)


def _nothing_to_do(case: Case, desk: Desk) -> Page:
    if not case.is_open:
        return notice(200, "案件已结束", "本案已结束处理,无需再操作。", case=case, back_url=desk.list_url)
    return notice(200, "暂无需操作", "本案当前不等待您处理,可在案件列表中查看进展。", case=case, back_url=desk.list_url)
