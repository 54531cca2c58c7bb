"""Routing: who the respondent is in the ODR directory, whether the case goes to ODR, and which station.

ODR versus regular handling: a case goes to ODR only when the consumer chose the green channel
(``odr_opt_in``) *and* the respondent is in the directory on the registration day (Asia/Shanghai).
Everything else is the station's regular handling; the route always says which rule decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from odr_adapter.models.directory import District, Enterprise
from odr_adapter.models.record import Complaint

MatchedBy = Literal["uscc", "shop_name", "registered_name"]


@dataclass(frozen=True)
class Route:
    decision: Literal["odr", "regular"]
    rule: str
    reason: str
    station_code: str
    station_rule: str
    enterprise: Enterprise | None = None
    matched_by: MatchedBy | None = None


def find_enterprise(c: Complaint, d: District) -> tuple[Enterprise | None, MatchedBy | None]:
    """By credit code, else shop name (normalised), else registered name."""
    r = c.respondent
    if r.uscc:
        found = d.by_uscc(r.uscc)
        if found:
            return found, "uscc"
    if r.shop_name:
        found = d.by_shop_name(r.shop_name)
        if found:
            return found, "shop_name"
    found = d.by_registered_name(r.name) or d.by_shop_name(r.name)
    if found:
        return found, "registered_name" if d.by_registered_name(r.name) else "shop_name"
    return None, None


def pick_station(c: Complaint, d: District, enterprise: Enterprise | None) -> tuple[str, str]:
    """Township of the respondent, else the directory entry's station, else the bureau's intake desk."""
    code = c.respondent.division_code
    if code and len(code) == 9:
        station = d.station_for_division(code)
        if station:
            return station.code, "respondent_township"
    if enterprise and d.station(enterprise.station_code):
        return enterprise.station_code, "directory_station"
    return d.intake_station_code, "intake_desk"


def route(c: Complaint, d: District) -> Route:
    enterprise, matched_by = find_enterprise(c, d)
    station_code, station_rule = pick_station(c, d, enterprise)
    day = c.registered_local
    if enterprise is None:
        return Route(
            "regular",
            "not_in_directory",
            "被投诉人不在ODR企业目录中,转市场监管所常规处理",
            station_code,
            station_rule,
        )
    if not enterprise.listed_at(day):
        when = enterprise.delisted_on.isoformat() if enterprise.delisted_on else enterprise.listed_on.isoformat()
        return Route(
            "regular",
            "not_listed_on_registration_day",
            f"{enterprise.name} 在登记日 {day.isoformat()} 不在ODR企业目录中(目录日期 {when}),转常规处理",
            station_code,
            station_rule,
            enterprise,
            matched_by,
        )
    if not c.odr_opt_in:
        return Route(
            "regular",
            "consumer_not_opted_in",
            "消费者未选择ODR绿色通道,转市场监管所常规处理",
            station_code,
            station_rule,
            enterprise,
            matched_by,
        )
    return Route(
        "odr",
        "odr_directory_member",
        f"被投诉人为ODR企业({enterprise.enterprise_class}类,按{_matched_text(matched_by)}匹配),分派其ODR专员",
        station_code,
        station_rule,
        enterprise,
        matched_by,
    )


def _matched_text(matched_by: MatchedBy | None) -> str:
    return {"uscc": "统一社会信用代码", "shop_name": "店铺名称", "registered_name": "登记名称"}.get(
        matched_by or "", ""
    )
