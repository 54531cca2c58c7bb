"""What opening a link (GET) and submitting its form (POST) do.

GET only shows: the case and its forms, or why there is nothing to do. POST validates the form, claims the
link (single use, a conditional write), then acts. A link acts only on its own case and only while its
recipient is still the one the case names; after its deadline it is refused with a page that says the case
went back to the regulator. A repeated submit of the same action is answered as done. A session's case page
(:mod:`odr_adapter.people.worklist_pages`) reads its forms and answers with the public functions here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from odr_adapter.clock import local
from odr_adapter.messages.links import find, link_url, recipient_of
from odr_adapter.messages.sending import Delivery
from odr_adapter.models.case import Case, StaleCase
from odr_adapter.models.links import ActionLink, ActionName
from odr_adapter.people.actions import ResultReport, Review, ScreeningConfirmation
from odr_adapter.people.notes import MAX_NOTE_CHARS, Author, NoteInvalid, NoteRefused, add_note
from odr_adapter.people.pages import ACTION_NAMES, OUTCOME_NAMES, STATUS_NAMES, Page, action_page, notice
from odr_adapter.people.submissions import Outcome, act, note
from odr_adapter.ports import Services

RETRY_AFTER_SECONDS = 3
_FIELD_NAMES = {
    "settled": "处理结果",
    "recovered_amount": "挽回金额",
    "summary": "处理经过",
    "not_settled_reason": "未和解原因",
    "comment": "意见",
}


def open_link(link_id: str, svc: Services, delivery: Delivery) -> Page:
    link, case = _resolve(link_id, svc, delivery)
    if link is None or case is None:
        return _unknown()
    now = svc.clock.now()
    if link.used_at is not None and link.used_action is not None:
        if link.result == "too_late":
            return expired_page(case)
        return _refused(link.used_action, case) if link.result == "refused" else _used(link, case)
    if link.expired(now):
        return expired_page(case)
    if not case.is_open:
        return notice(200, "案件已结束", "本案已结束处理,无需再操作。", case=case)
    return action_page(case, link, svc.directory.district(), now)


def submit_link(link_id: str, form: dict[str, str], svc: Services, delivery: Delivery) -> Page:
    link, case = _resolve(link_id, svc, delivery)
    if link is None or case is None:
        return _unknown()
    if form.get("action") == "note":
        return _submit_note(link, case, form, svc, delivery)
    chosen = next((a for a in link.actions if a == form.get("action")), None)
    if chosen is None:
        return notice(400, "无法处理", "此链接不支持该操作。", tone="error", case=case)
    actor = f"{link.role}:{link.recipient}"
    now = svc.clock.now()
    if link.expired(now):
        refused = {"action": chosen, "via": "link", "reason": "deadline_passed"}
        note(case.complaint_id, "action_refused", actor, refused, svc)
        return expired_page(case, status=409)
    payload, errors = form_payload(chosen, form)
    if errors:
        return action_page(case, link, svc.directory.district(), now, errors=errors, values=form, status=400)
    if not delivery.links.claim(link.key, chosen, now):
        return _claimed_before(link, case, chosen, actor, svc, delivery)
    try:
        outcome = act(case.complaint_id, chosen, actor, payload, "link", svc, delivery)
    except Exception:
        delivery.links.release(link.key, chosen)  # nothing happened: the person may submit again
        raise
    if outcome.status == "not_ready":
        delivery.links.release(link.key, chosen)
        return notice(
            503,
            "请稍候",
            "系统正在准备本案,请几秒钟后刷新本页重新提交。",
            tone="wait",
            case=case,
            retry_after=RETRY_AFTER_SECONDS,
        )
    if outcome.status == "busy":  # nothing was done: the link stays usable
        delivery.links.release(link.key, chosen)
        return busy_page(case)
    delivery.links.settle(link.key, outcome.status)
    return answer_page(chosen, outcome, delivery)


NOTE_ERRORS = {
    "empty": "请填写留言内容",
    "too_long": f"留言不超过{MAX_NOTE_CHARS}字,请删减后重新发送",
    "not_text": "留言含有无法识别的字符,请删除后重新发送",
    "bad_key": "页面已过期,请刷新本页后重新发送",
}
NOTE_REFUSALS = {
    "closed": "本案已结束,不能再留言。",
    "not_dispatched": "本案尚未派发企业,暂不能留言。",
    "not_party": "此链接不能在本案留言。",
    "key_taken": "页面已过期,请刷新本页后重新发送。",
}


def _submit_note(link: ActionLink, case: Case, form: dict[str, str], svc: Services, delivery: Delivery) -> Page:
    """A note from the link's recipient until the link's deadline, whether or not its action was used: a note
    claims nothing, so the link's forms stay as they were."""
    now = svc.clock.now()
    if link.expired(now):
        return expired_page(case, status=409)
    author = Author(link.role, link.recipient)
    try:
        outcome = add_note(
            case.complaint_id, author, form.get("note", ""), form.get("note_key") or None, "link", svc, delivery
        )
    except NoteInvalid as exc:
        error = NOTE_ERRORS[exc.code]
        if link.used_at is not None or not case.is_open:
            return notice(400, "无法发送", error, tone="error", case=case)
        district = svc.directory.district()
        return action_page(case, link, district, now, errors={"note": error}, values=form, status=400)
    except NoteRefused as exc:
        return notice(409, "无法发送", NOTE_REFUSALS[exc.code], tone="error", case=case)
    except StaleCase:
        return busy_page(case)
    if link.used_at is not None or not outcome.case.is_open:
        return notice(200, "已发送", "留言已发送,对方将收到通知。", tone="ok", case=outcome.case)
    return action_page(outcome.case, link, svc.directory.district(), now, note_sent=True)


def _resolve(link_id: str, svc: Services, delivery: Delivery) -> tuple[ActionLink | None, Case | None]:
    link = find(link_id, delivery.links)
    if link is None:
        return None, None
    case = svc.cases.get(link.complaint_id)
    if case is None or recipient_of(case, link.role) != link.recipient:
        return None, None  # the case now names someone else: this link acts on nothing
    return link, case


def form_payload(action: ActionName, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The action's body from the form fields, or the errors to show next to them."""
    errors: dict[str, str] = {}
    if action == "report":
        settled = form.get("settled", "")
        if settled not in ("yes", "no"):
            return {}, {"settled": "请选择处理结果"}
        amount = (form.get("recovered_amount") or "").strip().replace(",", "") or "0"
        try:
            Decimal(amount)
        except InvalidOperation:
            return {}, {"recovered_amount": "请填写金额,如 199.00"}
        payload: dict[str, Any] = {
            "settled": settled == "yes",
            "recovered_amount": amount if settled == "yes" else "0",
            "summary": (form.get("summary") or "").strip(),
            "not_settled_reason": (form.get("not_settled_reason") or "").strip() or None,
        }
        model: type[ResultReport] | type[Review] | type[ScreeningConfirmation] = ResultReport
    elif action in ("approve", "send_back"):
        payload = {"comment": (form.get("comment") or "").strip() or None}
        if action == "send_back" and not payload["comment"]:
            return {}, {"comment": "退回时请填写意见,企业将据此重新处理"}
        model = Review
    elif action == "confirm_screening":
        decision = form.get("decision", "")
        if decision not in ("accept", "refuse", "regular"):
            return {}, {"decision": "请选择审查结论"}
        payload = {
            "decision": decision,
            "refusal_reason": form.get("refusal_reason") or None,
            "reason": (form.get("reason") or "").strip(),
        }
        if decision != "accept" and not payload["reason"]:
            return {}, {"reason": "不予受理或转常规处理时请填写理由"}
        if decision == "refuse" and not payload["refusal_reason"]:
            return {}, {"refusal_reason": "请选择不予受理的依据"}
        model = ScreeningConfirmation
    else:
        return {}, {}
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "not_settled_reason"
            errors[name] = _explain(name, e["type"])
    return payload, errors


def _explain(name: str, kind: str) -> str:
    label = _FIELD_NAMES.get(name, name)
    if kind in ("missing", "string_too_short"):
        return f"请填写{label}"
    if kind == "value_error":
        return "未和解时请填写原因"
    return f"{label}格式不正确"


def _claimed_before(
    link: ActionLink, case: Case, action: ActionName, actor: str, svc: Services, delivery: Delivery
) -> Page:
    used = delivery.links.get(link.key) or link
    if used.used_at is None:  # claimed then released meanwhile (not ready yet, or busy): nothing was done
        return busy_page(case)
    if used.result is None:  # another submit of this link is still at work: say so, record nothing
        return notice(
            409,
            "正在处理",
            "此链接的另一次提交正在处理中,请稍后刷新本页查看结果。",
            tone="wait",
            case=case,
            retry_after=RETRY_AFTER_SECONDS,
        )
    if used.used_action == action and used.result in ("too_late", "refused"):
        return expired_page(case, status=409) if used.result == "too_late" else _refused(action, case)
    if used.used_action == action:
        case = note(link.complaint_id, "action_repeated", actor, {"action": action, "via": "link"}, svc)
        return notice(200, "已提交", f"“{ACTION_NAMES[action]}”已经提交过,无需重复操作。", tone="ok", case=case)
    detail = {"action": action, "via": "link", "reason": "link_used", "used_for": used.used_action}
    case = note(link.complaint_id, "action_refused", actor, detail, svc)
    done = ACTION_NAMES.get(str(used.used_action), "其他操作")
    return notice(409, "链接已使用", f"此链接已用于“{done}”,不能再用于其他操作。", tone="error", case=case)


def answer_page(action: ActionName, outcome: Outcome, delivery: Delivery, back_url: str = "") -> Page:
    """What a submitted action came to (also a session's, from its case page on a worklist: ``back_url``)."""
    case = outcome.case
    if outcome.status == "too_late":
        return expired_page(case, status=409, back_url=back_url)
    if outcome.status == "refused":
        return _refused(action, case, back_url)
    title = "已提交" if outcome.status == "repeated" else "提交成功"
    done = {
        "accept": "已受理。请与消费者联系协商,并在期限内反馈处理结果;反馈链接将通过短信或邮件发送给您。",
        "decline": "已登记不同意通过ODR处理,案件将退回监管部门常规处理。",
        "report": "处理结果已提交,等待市场监管所审核。",
        "approve": "已同意办结,结果将报送12315平台。",
        "send_back": "已退回企业重新处理,企业将收到通知。",
        "confirm_screening": "审查结论已提交,案件将按结论分派或处理。",
    }[action]
    next_url = link_url(delivery.base_url, outcome.next_link_id) if outcome.next_link_id else None
    return notice(200, title, done, tone="ok", case=case, next_url=next_url, back_url=back_url)


def busy_page(case: Case, back_url: str = "") -> Page:
    return notice(
        409,
        "请稍候",
        "本案正在处理其他操作,本次提交未生效,请几秒钟后刷新本页重新提交。",
        tone="wait",
        case=case,
        retry_after=RETRY_AFTER_SECONDS,
        back_url=back_url,
    )


def _refused(action: ActionName, case: Case, back_url: str = "") -> Page:
    message = f"本案当前状态为“{_state_name(case)}”,不能再{ACTION_NAMES[action]}。"
    return notice(409, "无法处理", message, "error", case, back_url=back_url)


def _state_name(case: Case) -> str:
    return OUTCOME_NAMES.get(case.outcome or "", "") or STATUS_NAMES.get(case.status, case.status)


def _unknown() -> Page:
    return notice(404, "链接无效", "链接无效或不完整,请使用通知中的完整链接。", tone="error")


def _used(link: ActionLink, case: Case) -> Page:
    done = ACTION_NAMES.get(str(link.used_action), "")
    at = f"{local(link.used_at):%Y-%m-%d %H:%M}" if link.used_at else ""
    return notice(200, "已处理", f"此链接已于 {at} 用于“{done}”,无需再次操作。", tone="ok", case=case)


def expired_page(case: Case, status: int = 410, back_url: str = "") -> Page:
    if case.overdue or case.outcome == "returned":
        message = "处理期限已过,本案已退回监管部门常规处理,本次操作未被接受。"
    else:
        message = "处理期限已过,此链接已失效,本次操作未被接受。"
    return notice(status, "期限已过", message, tone="error", case=case, back_url=back_url)
