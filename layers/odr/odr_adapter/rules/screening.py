"""Screening (受理条件): the machine-checkable grounds on which a complaint is not accepted.

Each ground is a named rule with a reason a station's responsible person can read. Grounds follow the
市场监督管理投诉举报处理暂行办法 (art. 15); the refusal codes are the report-back contract's.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # named, not used: the pages read the refusal names without loading the record's checks
    from odr_adapter.models.directory import District
    from odr_adapter.models.record import Complaint

RefusalReason = Literal[
    "outside_jurisdiction", "handled_elsewhere", "not_consumer_dispute", "time_barred", "incomplete"
]
REFUSAL_NAMES: dict[str, str] = {
    "outside_jurisdiction": "不属于本辖区",
    "handled_elsewhere": "已由其他机构处理",
    "not_consumer_dispute": "不属于消费纠纷",
    "time_barred": "超过三年",
    "incomplete": "投诉要件不全",
}
_PLACEHOLDER_NAME = re.compile(r"(某|未知|不详|不清楚)")
_ONLY_PUNCTUATION = re.compile(r"^[\s\W_…]*$")


@dataclass(frozen=True)
class Screening:
    accepted: bool
    rule: str
    reason: str
    refusal_reason: RefusalReason | None = None


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February falls to the month's last day (民法典 第202条)."""
    year = day.year + years
    if year > date.max.year:
        return date.max
    last = calendar.monthrange(year, day.month)[1]
    return date(year, day.month, min(day.day, last))


def limitation_last_day(harm_known_on: date) -> date:
    """Last day a complaint may be registered: three years, counted from the day after the harm was known."""
    return add_years(harm_known_on, 3)


def _outside_jurisdiction(c: Complaint, d: District) -> Screening | None:
    code = c.respondent.division_code
    if code and not code.startswith(d.county_code):
        return Screening(
            False,
            "outside_jurisdiction",
            f"被投诉人所在地区划代码 {code} 不属于本辖区({d.name} {d.county_code})",
            "outside_jurisdiction",
        )
    return None


def _handled_elsewhere(c: Complaint, d: District) -> Screening | None:
    if c.handled_elsewhere and c.handled_elsewhere.strip():
        return Screening(
            False,
            "handled_elsewhere",
            "同一纠纷已由法院、仲裁机构、消费者协会或其他调解组织受理或处理",
            "handled_elsewhere",
        )
    return None


def _time_barred(c: Complaint, d: District) -> Screening | None:
    known = c.transaction.harm_known_on if c.transaction else None
    if known is None:
        return None
    last = limitation_last_day(known)
    if c.registered_local > last:
        return Screening(
            False,
            "time_barred",
            f"自知道权益受到侵害之日({known.isoformat()})起超过三年,登记日 {c.registered_local.isoformat()}"
            f" 晚于最后一日 {last.isoformat()}",
            "time_barred",
        )
    return None


def _incomplete(c: Complaint, d: District) -> Screening | None:
    r = c.respondent
    identifiable = bool(r.uscc or r.shop_name or r.address or r.division_code) or not (
        len(r.name.strip()) < 2 or _PLACEHOLDER_NAME.search(r.name)
    )
    if not identifiable:
        return Screening(
            False,
            "incomplete_respondent",
            "无法确定被投诉人:仅有泛称名称,无信用代码、店铺名或地址",
            "incomplete",
        )
    if _ONLY_PUNCTUATION.match(c.description) or _ONLY_PUNCTUATION.match(c.demand):
        return Screening(False, "incomplete_facts", "投诉缺少具体的事实或诉求", "incomplete")
    return None


RULES = (_outside_jurisdiction, _handled_elsewhere, _time_barred, _incomplete)


def screen(complaint: Complaint, district: District) -> Screening:
    """First refusal ground that applies, else accepted (rule ``acceptance_conditions_met``)."""
    for rule in RULES:
        found = rule(complaint, district)
        if found:
            return found
    return Screening(True, "acceptance_conditions_met", "符合受理条件")
