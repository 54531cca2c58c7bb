"""What ``odr explain`` shows an operator: why a raw record goes where it goes — validation, screening, route
and deadlines, each with its rule and reason — from the same :func:`~odr_adapter.rules.decisions.decide` the
workflow applies. Consumer data is shown masked only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from odr_adapter.clock import local
from odr_adapter.models.deadlines import PHASE_NAMES, Deadline, DeadlinePolicies, Phase
from odr_adapter.models.directory import CLASS_NAMES, District
from odr_adapter.models.record import Complaint, RecordInvalid, parse_record
from odr_adapter.rules.decisions import Decisions, decide
from odr_adapter.rules.routing import Route
from odr_adapter.rules.screening import RULES
from odr_cli.pii import masked_consumer

Outcome = Literal["quarantined", "withdrawn", "rejected", "regular", "odr"]


class ProblemView(BaseModel):
    path: str
    reason: str


class ScreeningView(BaseModel):
    accepted: bool
    rule: str
    reason: str
    refusal_reason: str | None
    rules_checked: list[str]


class EnterpriseView(BaseModel):
    uscc: str
    name: str
    enterprise_class: str
    class_name: str
    station_code: str
    listed_on: date
    delisted_on: date | None
    listed_on_registration_day: bool


class RouteView(BaseModel):
    decision: Literal["odr", "regular"]
    rule: str
    reason: str
    enterprise: EnterpriseView | None
    matched_by: str | None
    matched_reason: str
    station_code: str
    station_name: str | None
    station_rule: str
    station_reason: str


class DeadlineView(BaseModel):
    phase: Phase
    phase_name: str
    policy: str
    policy_scope: str
    start_at: datetime
    last_day: date
    due_at: datetime
    remind_at: datetime
    calendar: str
    calendar_version: str
    fallback: bool
    rule: str


class Explanation(BaseModel):
    complaint_id: str | None
    revision: int | None
    status: str | None
    registered_at: datetime | None
    registration_day: date | None
    registered_at_overridden: bool
    consumer: Any
    district: str
    directory: str
    valid: bool
    problems: list[ProblemView]
    screening: ScreeningView | None
    route: RouteView | None
    deadlines: dict[str, DeadlineView]
    outcome: Outcome
    outcome_reason: str


def explain(
    raw: Any,
    district: District,
    policies: DeadlinePolicies,
    directory: str,
    registered_at: datetime | None = None,
) -> Explanation:
    """The whole decision for ``raw``; ``registered_at`` replaces the record's registration time (what-if)."""
    if registered_at is not None and isinstance(raw, dict):
        raw = {**raw, "registered_at": registered_at.isoformat()}
    record = raw if isinstance(raw, dict) else {}
    base: dict[str, Any] = {
        "complaint_id": record.get("complaint_id") if isinstance(record.get("complaint_id"), str) else None,
        "revision": record.get("revision") if type(record.get("revision")) is int else None,
        "status": record.get("status") if isinstance(record.get("status"), str) else None,
        "registered_at_overridden": registered_at is not None,
        "consumer": masked_consumer(record.get("consumer")),
        "district": f"{district.name} {district.county_code}",
        "directory": directory,
    }
    try:
        complaint = parse_record(raw)
    except RecordInvalid as invalid:
        return Explanation(
            **base,
            registered_at=None,
            registration_day=None,
            valid=False,
            problems=[ProblemView(path=p.path, reason=p.reason) for p in invalid.problems],
            screening=None,
            route=None,
            deadlines={},
            outcome="quarantined",
            outcome_reason="记录不符合接口规范(feed contract v1):进入隔离区,不建案(odr quarantine list / redrive)",
        )
    start = complaint.registered_at
    decisions = decide(complaint, district, policies, start)
    routed = decisions.route
    klass = routed.enterprise.enterprise_class if routed and routed.enterprise else None
    outcome, reason = _outcome(complaint, decisions, district)
    return Explanation(
        **base,
        registered_at=local(complaint.registered_at),
        registration_day=complaint.registered_local,
        valid=True,
        problems=[],
        screening=ScreeningView(
            accepted=decisions.screening.accepted,
            rule=decisions.screening.rule,
            reason=decisions.screening.reason,
            refusal_reason=decisions.screening.refusal_reason,
            rules_checked=[rule.__name__.lstrip("_") for rule in RULES],
        ),
        route=_route_view(complaint, routed, district) if routed else None,
        deadlines={phase: _deadline_view(d, start, klass, policies) for phase, d in decisions.deadlines.items()},
        outcome=outcome,
        outcome_reason=reason,
    )


def _outcome(complaint: Complaint, decisions: Decisions, district: District) -> tuple[Outcome, str]:
    if complaint.status == "withdrawn":
        return "withdrawn", "消费者已撤回(status withdrawn):流程在受理审查前终止;上述决定为假如未撤回时适用的结果"
    if not decisions.screening.accepted:
        return "rejected", f"不予受理({decisions.screening.refusal_reason}):{decisions.screening.reason}"
    routed = decisions.route
    assert routed is not None  # an accepted complaint is always routed
    station = district.station(routed.station_code)
    where = f"{routed.station_code} {station.name if station else ''}".strip()
    if routed.decision == "regular":
        return "regular", f"转市场监管所常规处理({where}):{routed.reason}"
    name = routed.enterprise.name if routed.enterprise else ""
    return "odr", f"ODR:分派 {name} 的ODR专员,审核办结由 {where} 负责"


_MATCHED = {
    "uscc": "统一社会信用代码与目录一致",
    "shop_name": "店铺名称与目录中的店铺名一致(全角半角、空格、括号样式、大小写归一后比较)",
    "registered_name": "被投诉人名称与目录中的登记名称一致(归一后比较)",
}


def _route_view(complaint: Complaint, routed: Route, district: District) -> RouteView:
    ent = routed.enterprise
    day = complaint.registered_local
    station = district.station(routed.station_code)
    return RouteView(
        decision=routed.decision,
        rule=routed.rule,
        reason=routed.reason,
        enterprise=EnterpriseView(
            uscc=ent.uscc,
            name=ent.name,
            enterprise_class=ent.enterprise_class,
            class_name=CLASS_NAMES.get(ent.enterprise_class, ""),
            station_code=ent.station_code,
            listed_on=ent.listed_on,
            delisted_on=ent.delisted_on,
            listed_on_registration_day=ent.listed_at(day),
        )
        if ent
        else None,
        matched_by=routed.matched_by,
        matched_reason=_MATCHED.get(routed.matched_by or "", "按信用代码、店铺名称、登记名称依次查找,目录中均无此企业"),
        station_code=routed.station_code,
        station_name=station.name if station else None,
        station_rule=routed.station_rule,
        station_reason=_station_reason(complaint, routed, station.name if station else routed.station_code),
    )


def _station_reason(complaint: Complaint, routed: Route, station_name: str) -> str:
    code = complaint.respondent.division_code
    if routed.station_rule == "respondent_township":
        return f"被投诉人乡镇代码 {code} 属 {station_name} 辖区"
    why = (
        f"乡镇代码 {code} 不属任何监管所"
        if code and len(code) == 9
        else ("仅有区县代码 " + code if code else "被投诉人无乡镇代码")
    )
    if routed.station_rule == "directory_station":
        return f"{why};按企业目录登记的监管所 {station_name}"
    return f"{why},且无目录企业可依:转区局投诉受理窗口 {station_name}"


def _deadline_view(d: Deadline, start: datetime, klass: str | None, policies: DeadlinePolicies) -> DeadlineView:
    due = local(d.due_at)
    last = due.date() - timedelta(days=1)
    start_day = local(start).date()
    scoped = bool(klass and d.phase in policies.by_class.get(klass, {}))
    counted = "只计法定工作日(含调休上班日,不含节假日和周末休息日)" if d.calendar != "natural-days" else "每日均计"
    rule = (
        f"起算日 {start_day.isoformat()} 不计入(民法典第201条),次日为第1日,{counted};"
        f"期限届满于 {last.isoformat()} 24:00(Asia/Shanghai)"
    )
    if d.fallback:
        rule += (
            ";⚠ 期间内有年份既无官方放假数据也无运营方假日表,按保守推算"
            "(周末、1月1日、5月1-5日、10月1-8日休息),请用 odr calendar import 导入当年放假安排"
        )
    return DeadlineView(
        phase=d.phase,
        phase_name=PHASE_NAMES.get(d.phase, d.phase),
        policy=d.policy,
        policy_scope=f"class {klass}" if scoped else "default",
        start_at=local(start),
        last_day=last,
        due_at=due,
        remind_at=local(d.remind_at),
        calendar=d.calendar,
        calendar_version=d.calendar_version,
        fallback=d.fallback,
        rule=rule,
    )


# --- as text -----------------------------------------------------------------------------------------------


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %z")


def as_text(e: Explanation) -> str:
    """The explanation for a person: each step with its rule name in brackets and its reason."""
    lines = [
        f"投诉 Complaint {e.complaint_id or '(no valid id)'}  revision {e.revision}  status {e.status}",
        f"辖区 District {e.district} — directory: {e.directory}",
    ]
    if e.registered_at:
        overridden = "  (--as-of: overridden)" if e.registered_at_overridden else ""
        lines.append(f"登记 Registered {_when(e.registered_at)}, registration day {e.registration_day}{overridden}")
    if isinstance(e.consumer, dict):
        lines.append("投诉人 Consumer " + ", ".join(f"{k} {v}" for k, v in e.consumer.items() if v is not None))
    elif e.consumer is not None:
        lines.append(f"投诉人 Consumer {e.consumer}")
    lines.append("")
    if not e.valid:
        lines.append(f"1. 校验 Validation: INVALID — {len(e.problems)} problem(s)")
        lines += [f"   - {p.path}: {p.reason}" for p in e.problems]
    else:
        lines.append("1. 校验 Validation: valid (feed contract v1)")
    if e.screening:
        s = e.screening
        verdict = "accepted 受理" if s.accepted else f"refused 不予受理 ({s.refusal_reason})"
        lines += [
            f"2. 受理审查 Screening: {verdict} [{s.rule}]",
            f"   {s.reason}",
            f"   grounds checked in order: {', '.join(s.rules_checked)}",
        ]
    if e.route:
        lines += _route_lines(e.route, e.registration_day)
    if e.deadlines:
        first = next(iter(e.deadlines.values()))
        lines.append(
            f"4. 期限 Deadlines, counted from {_when(first.start_at)} "
            "(the workflow counts from its dispatch time; here the registration time)"
        )
        for d in e.deadlines.values():
            flag = "  ⚠ FALLBACK calendar" if d.fallback else ""
            lines += [
                f"   {d.phase_name} {d.phase}: due {d.last_day} 24:00 ({d.due_at.isoformat()}){flag}",
                f"      policy {d.policy} ({d.policy_scope}); calendar {d.calendar} {d.calendar_version}",
                f"      reminder at {_when(d.remind_at)}",
                f"      {d.rule}",
            ]
    lines += ["", f"结果 Outcome: {e.outcome} — {e.outcome_reason}"]
    return "\n".join(lines) + "\n"


def _route_lines(r: RouteView, day: date | None) -> list[str]:
    lines = [f"3. 分派 Route: {r.decision.upper()} [{r.rule}]", f"   {r.reason}"]
    if r.enterprise:
        ent = r.enterprise
        delisted = ent.delisted_on.isoformat() if ent.delisted_on else "—"
        listed = "yes" if ent.listed_on_registration_day else "no"
        lines += [
            f"   enterprise {ent.name} {ent.uscc}, class {ent.enterprise_class} {ent.class_name}",
            f"   matched by {r.matched_by}: {r.matched_reason}",
            f"   directory: listed {ent.listed_on}, delisted {delisted}; listed on {day}: {listed}",
        ]
    else:
        lines.append(f"   {r.matched_reason}")
    lines.append(f"   station {r.station_code} {r.station_name or ''} [{r.station_rule}]: {r.station_reason}")
    return lines
