"""Messages to the enterprise's ODR specialist and the station's responsible person.

The recipient's contact data picks the channels: SMS first for specialists (who act on a phone), e-mail first
for stations; a recipient may have only one. Each channel is retried with backoff, then the other one is
tried. A message that acts on the case carries a new secure link, created as it is sent. Every attempt and
outcome is recorded in the case history, under a key that makes a retried step send nothing twice. A failed
notification never stops the case: the deadline still runs, and when the enterprise could not be reached
the station is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from odr_adapter.messages.channels import RetryPolicy, Route, deliver
from odr_adapter.messages.links import issue, link_url
from odr_adapter.messages.texts import SPECS, Message, Template, context, render
from odr_adapter.models.case import Case, transition
from odr_adapter.models.deadlines import Phase
from odr_adapter.models.directory import District
from odr_adapter.models.links import LinkPhase
from odr_adapter.ports import LinkRepository, Outbound, Services
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load, register_wait, timer_seconds

Kind = Literal["dispatched", "withdrawn", "overdue", "regular", "review", "sent_back", "screening"]
KIND_TEMPLATES: dict[Kind, tuple[Template, ...]] = {
    "dispatched": ("dispatched",),
    "withdrawn": ("withdrawn",),
    "sent_back": ("sent_back",),
    "overdue": ("overdue", "overdue_station"),
    "regular": ("regular",),
    "review": ("review",),
    "screening": ("screening",),
}
RECORDED = ("notified", "notification_failed")


@dataclass(frozen=True)
class Delivery:
    """What sending a message needs besides the channels in :class:`Services`."""

    links: LinkRepository
    base_url: str  # public base of the action pages, e.g. https://odr.example.gov.cn
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Where a person's action or note queues the message it owes, sent after the answer (the confirmation
    # function); None: sent in the same call (functions that never answer a person).
    confirmations: Outbound | None = None


@dataclass(frozen=True)
class Contact:
    role: Literal["enterprise", "station"]
    email: str | None
    mobile: str | None


@dataclass(frozen=True)
class Sent:
    delivered: bool
    link_id: str | None = None
    duplicate: bool = False


def contact(role: str, case: Case, district: District) -> Contact | None:
    if role == "enterprise":
        ent = district.by_uscc(case.enterprise.uscc) if case.enterprise else None
        return Contact("enterprise", ent.contact_email, ent.contact_mobile) if ent else None
    station = district.station(case.station_code or "")
    return Contact("station", station.reviewer_email, station.reviewer_mobile) if station else None


def message_key(template: Template, case: Case, link_phase: LinkPhase | None) -> str:
    """Once per template and the wait it announces (:meth:`Case.wait_id`, its phase and round): a retried step
    sends nothing twice, and the second review after a send-back is a new wait, told even when its deadline is
    the first one's (both begun the same day)."""
    return f"{template}:{case.wait_id(link_phase) if link_phase else 'once'}"


def already_recorded(case: Case, key: str) -> bool:
    return any(h.event in RECORDED and h.detail.get("key") == key for h in case.history)


def notify(
    complaint_id: str, kind: Kind, svc: Services, delivery: Delivery, wait: tuple[Phase, str] | None = None
) -> dict[str, int]:
    """The workflow's notification step: every message of ``kind``, and the real ``seconds`` the next wait may
    last (sending changes no deadline); never raises for a delivery failure.

    With ``wait`` (the phase and task token of the callback task that sends these messages) the wait is
    registered first, so that whoever a message reaches finds the case waiting for them: one state of the
    workflow both announces a wait and waits."""
    if wait is not None:
        register_wait(complaint_id, wait[0], wait[1], svc)
    case = load(complaint_id, svc)
    sent = failed = 0
    if kind != "withdrawn" or "acceptance" in case.deadlines:  # never dispatched: the enterprise never heard of it
        for template in KIND_TEMPLATES[kind]:
            result = send_message(complaint_id, template, svc, delivery)
            sent, failed = sent + result.delivered, failed + (not result.delivered)
    return {"sent": sent, "failed": failed, "seconds": timer_seconds(case, svc)}


def send_message(
    complaint_id: str,
    template: Template,
    svc: Services,
    delivery: Delivery,
    link_phase: LinkPhase | None = None,
    key: str | None = None,
    extra: dict[str, Any] | None = None,
    email_first: bool = False,
) -> Sent:
    """Send one message (with a new link when it acts in a phase) and record the outcome on the case;
    ``email_first`` when only its e-mail carries what the recipient must read (a note without a link)."""
    case = load(complaint_id, svc)
    spec = SPECS[template]
    phase = link_phase or spec.link_phase
    key = key or message_key(template, case, phase)
    if already_recorded(case, key):
        return Sent(delivered=True, duplicate=True)
    district = svc.directory.district()
    who = contact(spec.role, case, district)
    now = svc.clock.now()
    link_id = issue(case, phase, now, delivery.links) if phase and who else None
    message = render(template, context(case, district, link_url(delivery.base_url, link_id) if link_id else "", extra))
    routes = _routes(who, message, svc, email_first) if who else []
    channel, tries = deliver(routes, delivery.retry)
    detail = {
        "key": key,
        "template": template,
        "to": spec.role,
        "channel": channel,
        "attempts": tries,
        "link": bool(link_id),
    }
    if not routes:
        detail["error"] = "no contact"

    def record() -> None:
        fresh = load(complaint_id, svc)
        event_name = "notified" if channel else "notification_failed"
        settled = fresh.settling(key)  # a message the case owed is settled by the write that records it
        updated, event = transition(fresh, event_name, "adapter", svc.clock.now(), **settled, detail=detail)
        svc.cases.save(updated, event)

    on_stale(record)
    if channel is None and spec.role == "enterprise":
        send_message(complaint_id, "undeliverable", svc, delivery, key=f"undeliverable:{key}", extra=_failed(template))
    return Sent(delivered=channel is not None, link_id=link_id)


def _routes(who: Contact, message: Message, svc: Services, email_first: bool = False) -> list[Route]:
    """The recipient's channels in order of preference, each with the call that sends on it."""
    sms = Route("sms", partial(svc.sms.send, who.mobile, message.sms)) if who.mobile else None
    email = Route("email", partial(svc.email.send, who.email, message.subject, message.email)) if who.email else None
    ordered = (sms, email) if who.role == "enterprise" and not email_first else (email, sms)
    return [r for r in ordered if r is not None]


def _failed(template: Template) -> dict[str, Any]:
    names = {
        "dispatched": "新投诉派发通知",
        "accepted": "受理确认及反馈链接",
        "reminder": "期限提醒",
        "sent_back": "退回重办通知",
        "overdue": "逾期退回通知",
        "withdrawn": "撤回通知",
        "note_to_enterprise": "监管所指导意见",
    }
    return {"failed_message": names.get(template, template)}
