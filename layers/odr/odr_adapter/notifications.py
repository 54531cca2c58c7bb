"""Messages to the enterprise's ODR specialist and the station's responsible person.

Chinese text from Jinja2 templates; deadlines shown in Asia/Shanghai. The recipient's data picks the
channel (SMS first for specialists, who act on a phone; e-mail first for stations); when the first channel
fails the other is tried. Every attempt is recorded in the case history, and a failed notification never
stops the case: the deadline still runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined

from .case import Case, transition
from .clock import local
from .deadlines import PHASE_NAMES
from .directory import District
from .ports import Services
from .record import Complaint
from .retry import on_stale
from .steps import load

Kind = Literal["dispatched", "withdrawn", "overdue", "regular", "review", "sent_back"]
TO_ENTERPRISE = {"dispatched", "withdrawn", "sent_back"}
CATEGORY_NAMES = {
    "quality": "质量问题",
    "after_sales": "售后服务",
    "false_advertising": "虚假宣传",
    "contract": "合同纠纷",
    "price": "价格问题",
    "safety": "安全问题",
    "delivery": "物流配送",
    "other": "其他",
}
_ENV = Environment(loader=PackageLoader("odr_adapter", "templates"), undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class Recipient:
    role: Literal["enterprise", "station"]
    name: str
    email: str | None
    mobile: str | None


def _long(dt: datetime | None) -> str:
    return local(dt).strftime("%Y年%m月%d日 %H:%M") if dt else "—"


def _short(dt: datetime | None) -> str:
    return local(dt).strftime("%m月%d日%H:%M") if dt else "—"


def render(kind: Kind, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, e-mail body, SMS text) of one message."""
    subject, email, sms = (
        _ENV.get_template(f"{kind}.{part}.j2").render(**context).strip() for part in ("subject", "email", "sms")
    )
    return subject, email, sms


def _context(kind: Kind, case: Case, district: District, link: str) -> dict[str, Any]:
    complaint = Complaint.model_validate(case.record)
    enterprise = district.by_uscc(case.enterprise.uscc) if case.enterprise else None
    station = district.station(case.station_code or "") if case.station_code else None
    phase = case.overdue_phase or ""

    def due(name: str) -> datetime | None:
        found = case.deadlines.get(name)
        return found.due_at if found else None

    return {
        "case": case,
        "enterprise": enterprise,
        "enterprise_name": case.enterprise.name if case.enterprise else complaint.respondent.name,
        "station": station,
        "category": CATEGORY_NAMES.get(complaint.category, complaint.category),
        "item": complaint.transaction.item_name if complaint.transaction and complaint.transaction.item_name else "—",
        "demand": complaint.demand,
        "respondent": complaint.respondent.name,
        "reason": case.route.reason if case.route else "",
        "acceptance_due": _long(due("acceptance")),
        "acceptance_due_short": _short(due("acceptance")),
        "resolution_due": _long(due("resolution")),
        "resolution_due_short": _short(due("resolution")),
        "review_due": _long(due("review")),
        "review_due_short": _short(due("review")),
        "phase_name": PHASE_NAMES.get(phase, phase),
        "due": _long(due(phase)),
        "result": ("和解成功" if case.feedback.settled else "和解不成") if case.feedback else "",
        "comment": case.review_comment or "",
        "link": link,
    }


def recipient(kind: Kind, case: Case, district: District) -> Recipient | None:
    if kind in TO_ENTERPRISE:
        ent = district.by_uscc(case.enterprise.uscc) if case.enterprise else None
        return Recipient("enterprise", ent.contact_name, ent.contact_email, ent.contact_mobile) if ent else None
    station = district.station(case.station_code or "")
    if station is None:
        return None
    return Recipient("station", station.reviewer_name, station.reviewer_email, station.reviewer_mobile)


def notify(complaint_id: str, kind: Kind, svc: Services, link_base: str = "") -> dict[str, Any]:
    """Send one message about a case and record every attempt; never raises for a delivery failure."""
    case = load(complaint_id, svc)
    district = svc.directory.district()
    if kind == "withdrawn" and "acceptance" not in case.deadlines:
        return {"sent": False, "reason": "never dispatched"}
    who = recipient(kind, case, district)
    attempts: list[dict[str, Any]] = []
    if who is not None:
        subject, email_body, sms_text = render(
            kind, _context(kind, case, district, f"{link_base}/cases/{complaint_id}")
        )
        channels = [("sms", who.mobile), ("email", who.email)]
        if who.role == "station":
            channels.reverse()
        for channel, address in channels:
            if not address:
                continue
            try:
                if channel == "sms":
                    svc.sms.send(address, sms_text)
                else:
                    svc.email.send(address, subject, email_body)
                attempts.append({"channel": channel, "ok": True})
                break
            except Exception as exc:  # a provider fault: record it and try the other channel
                attempts.append({"channel": channel, "ok": False, "error": type(exc).__name__})
    delivered = any(a["ok"] for a in attempts)

    def record() -> None:
        fresh = load(complaint_id, svc)
        updated, event = transition(
            fresh,
            "notified" if delivered else "notification_failed",
            "adapter",
            svc.clock.now(),
            detail={"kind": kind, "to": who.role if who else None, "attempts": attempts},
        )
        svc.cases.save(updated, event)

    on_stale(record)
    return {"sent": delivered}
