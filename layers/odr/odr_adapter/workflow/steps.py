"""The state machine's steps: each loads the case, applies one rule-driven change and says what is next."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from odr_adapter.clock import local
from odr_adapter.models.case import Case, CaseWithdrawn, Decision, EnterpriseRef, InvalidAction, PendingWait, transition
from odr_adapter.models.deadlines import Deadline, Phase
from odr_adapter.models.record import Complaint
from odr_adapter.ports import Services
from odr_adapter.rules.calendars import compute_deadline
from odr_adapter.rules.decisions import DISPATCH_PHASES, Decisions, decide
from odr_adapter.rules.routing import route
from odr_adapter.rules.screening import Screening
from odr_adapter.workflow.retry import on_stale

RouteDecision = Literal["rejected", "returned", "odr"]


def load(complaint_id: str, svc: Services) -> Case:
    case = svc.cases.get(complaint_id)
    if case is None:
        raise InvalidAction(f"no case {complaint_id}")
    return case


def timer_seconds(case: Case, svc: Services) -> int:
    """Real seconds the next wait may last: until the deadline of the phase the case waits in."""
    due = case.next_due_at
    return svc.clock.timeout_seconds_until(due) if due else 1


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


def register_wait(complaint_id: str, phase: Phase, task_token: str, svc: Services) -> None:
    """Keep the wait's task token with the case; the action that ends the wait looks it up there."""

    def apply() -> None:
        case = load(complaint_id, svc)
        if case.withdraw_requested:
            raise CaseWithdrawn(complaint_id)
        if case.wait_phase != phase:
            raise InvalidAction(f"case {complaint_id} is {case.status}, not waiting for {phase}")
        now = svc.clock.now()
        updated, event = transition(
            case,
            "waiting",
            "adapter",
            now,
            pending=PendingWait(phase=phase, task_token=task_token, since=now),
            detail={
                "phase": phase,
                "due_at": case.deadlines[phase].due_at.isoformat() if phase in case.deadlines else None,
            },
        )
        svc.cases.save(updated, event)

    on_stale(apply)


ANSWER_TAKEN = "answer_taken_at_deadline"
OVERDUE = "overdue"


def answer_taken(case: Case, after_version: int) -> bool:
    """Whether the deadline's step took, after ``after_version``, the answer an action recorded (its callback
    lost or too late): the workflow went on with it, so the action stands."""
    return any(h.event == ANSWER_TAKEN and h.version > after_version for h in case.history)


def escalate(complaint_id: str, phase: str, svc: Services) -> dict[str, Any]:
    """A deadline passed: mark the case overdue; it goes back to the regulator (closed as returned).

    Unless the case recorded an answer to that wait before the deadline (an action records it before it sends
    the callback; a callback lost or throttled is owed, and the sweeper may not have sent it again yet): then
    the answer is taken here, with the seconds the next wait may last, as the callback would have brought it,
    and the state machine goes on with it (``{"action": <answer>, "seconds": n}``, else ``"overdue"``).
    """

    def apply() -> dict[str, Any]:
        case = load(complaint_id, svc)
        if case.overdue:  # a retried step: already escalated
            return {"action": OVERDUE, "seconds": 0}
        pending = case.pending
        answer = pending.answer if pending is not None and pending.phase == phase else None
        if answer is None:
            updated, event = transition(
                case,
                "overdue",
                "adapter",
                svc.clock.now(),
                overdue=True,
                overdue_phase=phase,
                pending=None,
                detail={"phase": phase},
            )
            svc.cases.save(updated, event)
            return {"action": OVERDUE, "seconds": 0}
        waiting = max((h.version for h in case.history if h.event == "waiting"), default=0)
        if not answer_taken(case, waiting):  # else a retried step: already taken
            updated, event = transition(
                case, ANSWER_TAKEN, "adapter", svc.clock.now(), detail={"phase": phase, **answer}
            )
            svc.cases.save(updated, event)
        return {"action": str(answer["action"]), "seconds": timer_seconds(case, svc)}

    return on_stale(apply)


def close(complaint_id: str, outcome_hint: str, svc: Services) -> dict[str, Any]:
    """Close the case (办结): outcome, recovered amount and cycle time; queue the report to 12315."""

    def apply() -> dict[str, Any]:
        case = load(complaint_id, svc)
        if not case.is_open:  # a retried step: queue the report again (same key, the platform dedupes)
            svc.outcomes_to_12315.send(report_body(case))
            return {"outcome": case.outcome}
        now = svc.clock.now()
        outcome, amount, summary = _outcome(case, outcome_hint)
        cycle = (Decimal((now - case.registered_at).total_seconds()) / Decimal(86400)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        updated, event = transition(
            case,
            "closed",
            _closer(case, outcome),
            now,
            status="closed",
            outcome=outcome,
            recovered_amount=amount,
            closed_at=now,
            cycle_days=cycle,
            pending=None,
            process_summary=summary,
            detail={"outcome": outcome, "recovered_amount": str(amount), "cycle_days": str(cycle)},
        )
        svc.cases.save(updated, event)
        svc.outcomes_to_12315.send(report_body(updated))
        return {"outcome": outcome}

    return on_stale(apply)


def _outcome(case: Case, hint: str) -> tuple[str, Decimal, str]:
    zero = Decimal("0.00")
    if hint == "resolved" and case.feedback:
        fb = case.feedback
        return (
            ("settled" if fb.settled else "not_settled"),
            (fb.recovered_amount if fb.settled else zero),
            fb.summary,
        )
    if hint == "rejected":
        return "rejected", zero, case.screening.reason if case.screening else "不予受理"
    if hint == "declined":
        return "returned", zero, "企业拒绝通过ODR处理,退回监管部门常规处理"
    if hint == "withdrawn":
        return "withdrawn", zero, "消费者撤回投诉,处理终止"
    if case.overdue:
        return "returned", zero, f"企业未在{case.overdue_phase}期限内反馈,退回监管部门常规处理"
    return "returned", zero, case.route.reason if case.route else "转市场监管所常规处理"


def _closer(case: Case, outcome: str) -> str:
    if outcome in ("settled", "not_settled"):
        return f"station:{case.station_code}"
    return "adapter"


def report_body(case: Case) -> dict[str, Any]:
    """The report-back contract's body, with the key that makes the platform accept it once."""
    handled_by = (
        f"{case.enterprise.name}"
        if case.enterprise and case.outcome in ("settled", "not_settled")
        else f"station:{case.station_code or 'intake'}"
    )
    body: dict[str, Any] = {
        "outcome": case.outcome,
        "recovered_amount": f"{case.recovered_amount or Decimal('0.00'):.2f}",
        "closed_at": local(case.closed_at).isoformat() if case.closed_at else None,
        "handled_by": handled_by,
        "process_summary": (case.process_summary or "")[:2000],
    }
    if case.outcome == "rejected":
        body["refusal_reason"] = case.refusal_reason
    return {
        "complaint_id": case.complaint_id,
        "idempotency_key": f"{case.complaint_id}-{case.outcome}",
        "body": body,
    }


def record_failure(complaint_id: str, error: dict[str, Any], svc: Services) -> None:
    """An unexpected fault ended the execution: keep it on the case for the operators."""

    def apply() -> None:
        case = svc.cases.get(complaint_id)
        if case is None:
            return
        updated, event = transition(
            case,
            "workflow_failed",
            "adapter",
            svc.clock.now(),
            detail={"error": str(error.get("Error", ""))[:200], "cause": str(error.get("Cause", ""))[:500]},
        )
        svc.cases.save(updated, event)

    on_stale(apply)
