"""The workflow's screening steps: screen and route a new case, or settle one a station screened by hand.

Apart from the other steps (:mod:`odr_adapter.workflow.steps`) because only these read the 12315 record and the
rules: the record's validation (phonenumbers, python-stdnum) and the calendars load only in the two functions
that screen (bench/cold_start.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from odr_adapter.models.case import Case, CaseWithdrawn, Decision, EnterpriseRef, transition
from odr_adapter.models.deadlines import Deadline
from odr_adapter.models.record import Complaint
from odr_adapter.ports import Services
from odr_adapter.rules.calendars import compute_deadline
from odr_adapter.rules.decisions import DISPATCH_PHASES, Decisions, decide
from odr_adapter.rules.routing import route
from odr_adapter.rules.screening import Screening
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load, timer_seconds

RouteDecision = Literal["rejected", "returned", "odr"]


def screen_and_route(complaint_id: str, svc: Services) -> dict[str, Any]:
    """Screening then routing; an ODR case is dispatched with its acceptance and resolution deadlines. The
    workflow's first step: its write also records that the workflow started (intake leaves the case owing it).

    When the deciding station screens by hand, the automatic decision is only proposed: the case waits for the
    station's responsible person (phase ``screening``) and :func:`apply_screening` settles it afterwards.
    ``seconds`` is how long the wait that follows may last (the station's screening, the enterprise's acceptance).
    """

    def apply() -> dict[str, Any]:
        case = load(complaint_id, svc)
        if case.withdraw_requested:
            raise CaseWithdrawn(complaint_id)
        if case.screening is not None:  # a retried step: the decision is already recorded
            return {"decision": _decision_of(case), "seconds": timer_seconds(case, svc)}
        if case.status == "screening":
            return {"decision": "manual", "seconds": timer_seconds(case, svc)}
        complaint = Complaint.model_validate(case.record)
        now = svc.clock.now()
        district = svc.directory.district()
        policies = svc.directory.deadline_policies()
        decisions = decide(complaint, district, policies, now)  # the same code as `odr explain`
        station_code = (decisions.route or route(complaint, district)).station_code
        station = district.station(station_code)
        if station is not None and station.manual_screening:
            due = compute_deadline("screening", now, None, policies)
            proposal = _proposal(decisions)
            updated, event = transition(
                case,
                "screening_requested",
                "adapter",
                now,
                status="screening",
                station_code=station_code,
                screening_proposal=proposal,
                deadlines={"screening": due},
                execution_started=True,
                detail={
                    "proposal": proposal,
                    "rule": decisions.screening.rule,
                    "reason": decisions.screening.reason,
                    "due_at": due.due_at.isoformat(),
                },
            )
            svc.cases.save(updated, event)
            return {"decision": "manual", "seconds": timer_seconds(updated, svc)}
        return _settle(case, decisions, now, "adapter", {"execution_started": True}, svc)

    return on_stale(apply)


def apply_screening(complaint_id: str, svc: Services) -> dict[str, Any]:
    """Settle a case screened by hand: the station's confirmation, or (its deadline missed) the proposal, flagged."""

    def apply() -> dict[str, Any]:
        case = load(complaint_id, svc)
        if case.withdraw_requested:
            raise CaseWithdrawn(complaint_id)
        if case.screening is not None:
            return {"decision": _decision_of(case), "seconds": timer_seconds(case, svc)}
        complaint = Complaint.model_validate(case.record)
        now = svc.clock.now()
        district = svc.directory.district()
        policies = svc.directory.deadline_policies()
        decisions = decide(complaint, district, policies, now)
        confirmation = case.screening_confirmation
        if confirmation is None:
            return _settle(case, decisions, now, "adapter", {"screening_overdue": True}, svc)
        reason = str(confirmation.get("reason") or "")
        if confirmation["decision"] == "refuse":
            refused = Screening(False, "station_refused", reason, confirmation.get("refusal_reason"))
            decisions = Decisions(refused)
        else:
            routed = decisions.route or route(complaint, district)
            accepted = Screening(True, "station_confirmed", reason or "监管所负责人确认符合受理条件")
            if confirmation["decision"] == "regular":
                routed = replace(routed, decision="regular", rule="station_regular", reason=reason)
            deadlines = (
                {p: compute_deadline(p, now, routed.enterprise.enterprise_class, policies) for p in DISPATCH_PHASES}
                if routed.decision == "odr" and routed.enterprise
                else {}
            )
            decisions = Decisions(accepted, routed, deadlines)
        return _settle(case, decisions, now, f"station:{case.station_code}", {}, svc)

    return on_stale(apply)


def _proposal(decisions: Decisions) -> RouteDecision:
    if not decisions.screening.accepted:
        return "rejected"
    return "odr" if decisions.route and decisions.route.decision == "odr" else "returned"


def _settle(
    case: Case, decisions: Decisions, now: datetime, actor: str, extra: dict[str, Any], svc: Services
) -> dict[str, Any]:
    """Record a screening-and-routing decision: refused, regular handling, or dispatched to the enterprise."""
    screening = decisions.screening
    decided = Decision(rule=screening.rule, reason=screening.reason)
    if not screening.accepted:
        updated, event = transition(
            case,
            "refused",
            actor,
            now,
            status="received",
            screening=decided,
            refusal_reason=screening.refusal_reason,
            detail={"rule": screening.rule, "reason": screening.reason},
            **extra,
        )
        svc.cases.save(updated, event)
        return {"decision": "rejected", "seconds": timer_seconds(updated, svc)}
    r = decisions.route
    assert r is not None  # routing always follows an accepting screening
    enterprise = (
        EnterpriseRef(
            uscc=r.enterprise.uscc,
            name=r.enterprise.name,
            enterprise_class=r.enterprise.enterprise_class,
            matched_by=r.matched_by,
        )
        if r.enterprise
        else None
    )
    common = {
        "screening": decided,
        "route": Decision(rule=r.rule, reason=r.reason),
        "station_code": r.station_code,
        "enterprise": enterprise,
        **extra,
    }
    detail = {"rule": r.rule, "reason": r.reason, "station": r.station_code, "station_rule": r.station_rule}
    if r.decision == "regular":
        updated, event = transition(case, "routed_regular", actor, now, **common, status="received", detail=detail)
        svc.cases.save(updated, event)
        return {"decision": "returned", "seconds": timer_seconds(updated, svc)}
    deadlines: dict[str, Deadline] = dict(case.deadlines)
    deadlines.update(decisions.deadlines.items())
    updated, event = transition(
        case,
        "dispatched",
        actor,
        now,
        **common,
        status="dispatched",
        deadlines=deadlines,
        calendar_fallback=any(d.fallback for d in decisions.deadlines.values()),
        detail={
            **detail,
            "acceptance_due": deadlines["acceptance"].due_at.isoformat(),
            "resolution_due": deadlines["resolution"].due_at.isoformat(),
        },
    )
    svc.cases.save(updated, event)
    return {"decision": "odr", "calendar_fallback": updated.calendar_fallback, "seconds": timer_seconds(updated, svc)}


def _decision_of(case: Case) -> RouteDecision:
    if case.refusal_reason:
        return "rejected"
    return "odr" if case.enterprise and case.route and case.route.rule == "odr_directory_member" else "returned"
