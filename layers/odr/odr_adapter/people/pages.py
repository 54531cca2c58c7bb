"""The HTML pages behind action links: mobile-first, Chinese, server-rendered (Jinja2, autoescaped).

Pages carry no script and forbid framing, caching and referrers: the link id is a credential in the URL.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from odr_adapter.clock import local
from odr_adapter.messages.texts import CATEGORY_NAMES, deadline_text
from odr_adapter.models.case import MAX_SEND_BACKS, Case
from odr_adapter.models.deadlines import PHASE_NAMES
from odr_adapter.models.directory import District
from odr_adapter.models.links import ActionLink, ActionName
from odr_adapter.models.notes import notes_of
from odr_adapter.people.notes import MAX_NOTE_CHARS, may_take_notes
from odr_adapter.rules.screening import REFUSAL_NAMES

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}
ACTION_NAMES: dict[str, str] = {
    "accept": "受理",
    "decline": "不同意ODR处理",
    "report": "反馈处理结果",
    "approve": "同意办结",
    "send_back": "退回重办",
    "confirm_screening": "确认受理审查",
}
PAGE_TITLES = {"screening": "受理审查", "acceptance": "受理投诉", "resolution": "反馈处理结果", "review": "审核办结"}
EVENT_NAMES = {
    "received": "收到投诉",
    "execution_started": "开始处理",
    "screening_requested": "待监管所受理审查",
    "screening_confirmed": "监管所审查结论",
    "dispatched": "派发企业",
    "routed_regular": "转常规处理",
    "refused": "不予受理",
    "notified": "已发送通知",
    "notification_failed": "通知发送失败",
    "waiting": "等待处理",
    "accepted": "企业受理",
    "declined": "企业不同意ODR处理",
    "result_reported": "企业反馈处理结果",
    "approved": "同意办结",
    "sent_back": "退回重办",
    "reminder_due": "期限提醒",
    "overdue": "逾期",
    "action_refused": "操作被拒绝",
    "action_repeated": "重复提交",
    "action_too_late": "逾期操作",
    "withdrawal_received": "消费者撤回",
    "closed": "办结",
    "workflow_failed": "处理异常",
    "note_added": "留言",
}
NOTE_NAMES = {"station": "监管所指导意见", "enterprise": "企业提问"}
STATUS_NAMES = {
    "received": "已收到",
    "screening": "待监管所受理审查",
    "dispatched": "待企业受理",
    "accepted": "企业处理中",
    "under_review": "待监管所审核",
    "closed": "已办结",
}
OUTCOME_NAMES = {
    "settled": "和解成功",
    "not_settled": "和解不成",
    "withdrawn": "消费者已撤回",
    "returned": "已退回监管部门常规处理",
    "rejected": "不予受理",
}
_ENV = Environment(
    loader=PackageLoader("odr_adapter.people", "templates"),
    autoescape=select_autoescape(["html.j2"], default_for_string=True),
    undefined=StrictUndefined,
)


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    headers: dict[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


def notice(
    status: int,
    title: str,
    message: str,
    tone: str = "info",
    case: Case | None = None,
    next_url: str | None = None,
    retry_after: int | None = None,
    back_url: str = "",
    next_label: str = "反馈处理结果",
    next_id: str = "next",
) -> Page:
    """A page that only tells: done, refused, expired, unknown, try again; with a button to ``next_url`` when
    there is a next step, and a link back to the list (``back_url``) on the worklist pages."""
    html = _ENV.get_template("page_notice.html.j2").render(
        title=title,
        message=message,
        tone=tone,
        complaint_id=case.complaint_id if case else "",
        state=_state(case) if case else "",
        next_url=next_url,
        next_label=next_label,
        next_id=next_id,
        back_url=back_url,
    )
    page = Page(status, html)
    if retry_after is not None:
        page.headers["Retry-After"] = str(retry_after)
    return page


def action_page(
    case: Case,
    link: ActionLink,
    district: District,
    now: datetime,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    note_sent: bool = False,
    csrf: str = "",
    back_url: str = "",
) -> Page:
    """The case as its recipient needs it, a form per action the link allows, and the notes between the station
    and the enterprise with a form to write one (a new idempotency key per page shown). Opened from a worklist,
    every form carries the session's ``csrf`` token, the page links back to the list (``back_url``), and a link
    that allows no action says whose turn it is."""
    actions: list[ActionName] = list(link.actions)
    if case.send_backs >= MAX_SEND_BACKS and "send_back" in actions:
        actions.remove("send_back")
    html = _ENV.get_template("page_action.html.j2").render(
        title=PAGE_TITLES[link.phase],
        phase=link.phase,
        complaint_id=case.complaint_id,
        state=_state(case),
        due=deadline_text(link.expires_at),
        phase_name=PHASE_NAMES[link.phase],
        facts=_facts(case),
        consumer=_consumer(case),
        feedback=_feedback(case) if link.phase == "review" else None,
        history=_history(case) if link.phase == "review" else [],
        send_backs=case.send_backs,
        refusal_names=REFUSAL_NAMES,
        proposal={"rejected": "不予受理", "returned": "转常规处理", "odr": "分派ODR企业"}.get(
            case.screening_proposal or "", "—"
        ),
        review_comment=case.review_comment if link.phase == "resolution" else None,
        actions=actions,
        action_names=ACTION_NAMES,
        errors=defaultdict(str, errors or {}),
        values=defaultdict(str, values or {}),
        district=district.name,
        notes=_notes(case),
        note_form=may_take_notes(case),
        note_role=link.role,
        note_key=(values or {}).get("note_key") or secrets.token_urlsafe(16),
        note_max=MAX_NOTE_CHARS,
        note_sent=note_sent,
        csrf=csrf,
        back_url=back_url,
        waiting="" if actions else STATUS_NAMES.get(case.status, case.status),
    )
    return Page(status, html)


def _state(case: Case) -> str:
    if case.outcome:
        return OUTCOME_NAMES.get(case.outcome, case.outcome)
    return STATUS_NAMES.get(case.status, case.status)


def _facts(case: Case) -> list[tuple[str, str]]:
    record = case.record
    tx = record.get("transaction") or {}
    respondent = record.get("respondent") or {}
    rows = [
        ("登记编号", case.complaint_id),
        ("登记时间", f"{local(case.registered_at):%Y-%m-%d %H:%M}"),
        ("被投诉企业", case.enterprise.name if case.enterprise else respondent.get("name", "")),
        ("店铺/平台", " ".join(str(v) for v in (respondent.get("shop_name"), respondent.get("platform")) if v)),
        ("问题类别", CATEGORY_NAMES.get(str(record.get("category")), str(record.get("category")))),
        ("商品/服务", str(tx.get("item_name") or "")),
        ("订单号", str(tx.get("order_no") or "")),
        ("交易金额", f"{tx['amount']} 元" if tx.get("amount") else ""),
        ("购买日期", str(tx.get("purchased_on") or "")),
        ("投诉内容", str(record.get("description") or "")),
        ("消费者诉求", str(record.get("demand") or "")),
        ("诉求金额", f"{record['claimed_amount']} 元" if record.get("claimed_amount") else ""),
    ]
    rows += [(f"{PHASE_NAMES.get(p, p)}期限", deadline_text(d.due_at)) for p, d in case.deadlines.items()]
    return [(label, value) for label, value in rows if value]


def _consumer(case: Case) -> dict[str, str]:
    """Only what mediation needs: how to reach the consumer. Address, e-mail and ID stay out."""
    consumer = case.record.get("consumer") or {}
    return {"name": str(consumer.get("name", "")), "phone": str(consumer.get("phone", ""))}


def _feedback(case: Case) -> dict[str, Any] | None:
    fb = case.feedback
    if fb is None:
        return None
    return {
        "result": "和解成功" if fb.settled else "和解不成",
        "settled": fb.settled,
        "amount": f"{fb.recovered_amount:.2f}",
        "above_claim": _above_claim(case, fb.recovered_amount) if fb.settled else "",
        "reason": fb.not_settled_reason or "",
        "summary": fb.summary,
        "at": f"{local(fb.reported_at):%Y-%m-%d %H:%M}",
    }


def _above_claim(case: Case, amount: Decimal) -> str:
    """The station's warning when the reported amount is above the consumer's claim (the claim was lowered by a
    later revision, or the result was reported before the claim bounded it): it is checked, never assumed."""
    claimed = case.record.get("claimed_amount")
    try:
        claim = Decimal(claimed) if isinstance(claimed, str) else None
    except InvalidOperation:
        return ""
    if claim is None or amount <= claim:
        return ""
    return f"挽回金额 {amount:.2f} 元超过消费者的诉求金额 {claim:.2f} 元,请核实后再同意办结。"


WORKFLOW_MECHANICS = (
    "waiting",
    "execution_started",
    "workflow_restarted",
    "workflow_start_owed",
    "owing_indexed",
    "answer_taken_at_deadline",
)


def _history(case: Case) -> list[dict[str, str]]:
    rows = []
    for h in case.history:
        if h.event in WORKFLOW_MECHANICS:
            continue  # workflow mechanics, not something a reviewer acts on
        what = EVENT_NAMES.get(h.event, h.event)
        if h.event in ("notified", "notification_failed"):
            what += f"({'企业' if h.detail.get('to') == 'enterprise' else '监管所'})"
        if h.event == "note_added":
            what = NOTE_NAMES.get(str(h.detail.get("from")), what)
        if h.event in ("action_refused", "action_repeated"):
            what += f":{ACTION_NAMES.get(str(h.detail.get('action')), '')}"
        who = h.actor.split(":", 1)[0]
        rows.append(
            {
                "at": f"{local(h.at):%m-%d %H:%M}",
                "what": what,
                "who": {"enterprise": "企业", "station": "监管所", "12315": "12315平台"}.get(who, "系统"),
            }
        )
    return rows


def _notes(case: Case) -> list[dict[str, str]]:
    """The notes, oldest first: who wrote, when, and the text (escaped by the template, line breaks kept)."""
    return [
        {"who": n.author, "label": NOTE_NAMES[n.author], "at": f"{local(n.at):%m-%d %H:%M}", "text": n.text}
        for n in notes_of(case)
    ]
