"""The text of every message (Chinese, Jinja2 templates in ``templates/``): subject, e-mail body and SMS.

An SMS fits one segment (70 characters) with its link when the public base URL is short (see
docs/notifications.md); it never carries consumer data. The e-mail says what the case is about, without the
consumer's name or phone: the enterprise sees those on the page behind the link, which it needs to act.
Deadlines read the way people say them in Asia/Shanghai: a period ending at 00:00 ends "24:00" of its day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from odr_adapter.clock import local
from odr_adapter.models.case import Case
from odr_adapter.models.deadlines import PHASE_NAMES
from odr_adapter.models.directory import District
from odr_adapter.models.links import LinkPhase, Role

if TYPE_CHECKING:
    from jinja2 import Environment

Template = Literal[
    "dispatched",
    "accepted",
    "reminder",
    "sent_back",
    "overdue",
    "withdrawn",
    "regular",
    "review",
    "review_reminder",
    "overdue_station",
    "undeliverable",
    "screening",
    "note_to_enterprise",
    "note_to_station",
]
Letter = Literal["scorecard"]  # a message about no single case (messages.monthly_scorecards)
SMS_SEGMENT = 70
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


@cache
def _templates() -> Environment:
    """Jinja2, loaded at the first message: the functions that import this module for its names (the sweeper,
    whose sweeps mostly send nothing) do not pay for it at every cold start."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("odr_adapter.messages", "templates"), undefined=StrictUndefined, autoescape=False
    )


@dataclass(frozen=True)
class Spec:
    """Who a message goes to and which phase its link acts in (None: it carries no link)."""

    role: Role
    link_phase: LinkPhase | None = None


SPECS: dict[Template, Spec] = {
    "dispatched": Spec("enterprise", "acceptance"),
    "accepted": Spec("enterprise", "resolution"),
    "sent_back": Spec("enterprise", "resolution"),
    "reminder": Spec("enterprise"),  # the link's phase is the one the reminder is about
    "overdue": Spec("enterprise"),
    "withdrawn": Spec("enterprise"),
    "regular": Spec("station"),
    "review": Spec("station", "review"),
    "review_reminder": Spec("station", "review"),
    "overdue_station": Spec("station"),
    "undeliverable": Spec("station"),
    "screening": Spec("station", "screening"),
    "note_to_enterprise": Spec("enterprise"),  # a link only when the enterprise acts in the case's phase (notes)
    "note_to_station": Spec("station"),
}


@dataclass(frozen=True)
class Message:
    subject: str
    email: str
    sms: str


def deadline_text(dt: datetime | None, short: bool = False) -> str:
    """``2026年12月2日24:00`` / ``12月2日24:00``: a deadline at midnight is the end of the day before."""
    if dt is None:
        return "—"
    at = local(dt)
    day, clock = (at - timedelta(days=1), "24:00") if (at.hour, at.minute) == (0, 0) else (at, f"{at:%H:%M}")
    text = f"{day.month}月{day.day}日{clock}"
    return text if short else f"{day.year}年{text}"


def sign(district: District) -> str:
    """The SMS signature, e.g. 【金山ODR】."""
    return f"【{district.name.removesuffix('区')}ODR】"


def context(case: Case, district: District, link: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    record = case.record
    transaction = record.get("transaction") or {}
    enterprise = district.by_uscc(case.enterprise.uscc) if case.enterprise else None
    station = district.station(case.station_code or "") if case.station_code else None
    phase = case.overdue_phase or case.wait_phase or ""
    due = case.deadlines.get(phase)
    return {
        "sign": sign(district),
        "district": district.name,
        "complaint_id": case.complaint_id,
        "tail": case.complaint_id[-4:],
        "enterprise_name": case.enterprise.name if case.enterprise else record["respondent"]["name"],
        "contact_name": enterprise.contact_name if enterprise else "",
        "station_name": station.name if station else "",
        "reviewer_name": station.reviewer_name if station else "",
        "category": CATEGORY_NAMES.get(str(record.get("category")), str(record.get("category"))),
        "item": transaction.get("item_name") or "—",
        "demand": record.get("demand") or "—",
        "reason": case.route.reason if case.route else "",
        "phase_name": PHASE_NAMES.get(phase, phase),
        "due": deadline_text(due.due_at if due else None),
        "due_short": deadline_text(due.due_at if due else None, short=True),
        "acceptance_due": deadline_text(_due(case, "acceptance")),
        "acceptance_due_short": deadline_text(_due(case, "acceptance"), short=True),
        "screening_due": deadline_text(_due(case, "screening")),
        "screening_due_short": deadline_text(_due(case, "screening"), short=True),
        "proposal": {"rejected": "不予受理", "returned": "转常规处理", "odr": "分派ODR企业"}.get(
            case.screening_proposal or "", "—"
        ),
        "review_due": deadline_text(_due(case, "review")),
        "review_due_short": deadline_text(_due(case, "review"), short=True),
        "resolution_due": deadline_text(_due(case, "resolution")),
        "resolution_due_short": deadline_text(_due(case, "resolution"), short=True),
        "result": ("和解成功" if case.feedback.settled else "和解不成") if case.feedback else "",
        "comment": case.review_comment or "",
        "link": link,
        **(extra or {}),
    }


def _due(case: Case, phase: str) -> datetime | None:
    found = case.deadlines.get(phase)
    return found.due_at if found else None


def render(template: Template | Letter, values: dict[str, Any]) -> Message:
    templates = _templates()
    subject, email, sms = (
        templates.get_template(f"{template}.{part}.j2").render(**values).strip() for part in ("subject", "email", "sms")
    )
    return Message(subject, email, sms)
