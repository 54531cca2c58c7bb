"""The state machine's steps: each loads the case, applies one rule-driven change and says what is next."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .case import Case, CaseWithdrawn, Decision, EnterpriseRef, InvalidAction, PendingWait, transition
from .clock import local
from .deadlines import Phase
from .explain import decide
from .ports import Services
from .record import Complaint
from .retry import on_stale

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
    """Screening then routing; an ODR case is dispatched with its acceptance and resolution deadlines."""

    def apply() -> dict[str, Any]:
        case = load(complaint_id, svc)
        if case.withdraw_requested:
            raise CaseWithdrawn(complaint_id)
        if case.screening is not None:  # a retried step: the decision is already recorded
            return {"decision": _decision_of(case)}
        complaint = Complaint.model_validate(case.record)
        now = svc.clock.now()
        decisions = decide(
            complaint, svc.directory.district(), svc.directory.deadline_policies(), now
        )  # the same code as `odr explain`
        screening = decisions.screening
        decided = Decision(rule=screening.rule, reason=screening.reason)
        if not screening.accepted:
            updated, event = transition(
                case,
                "refused",
                "adapter",
                now,
                screening=decided,
                refusal_reason=screening.refusal_reason,
                detail={"rule": screening.rule, "reason": screening.reason},
            )
            svc.cases.save(updated, event)
            return {"decision": "rejected"}
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
        }
        detail = {
            "rule": r.rule,
            "reason": r.reason,
            "station": r.station_code,
            "station_rule": r.station_rule,
        }
        if r.decision == "regular":
            updated, event = transition(case, "routed_regular", "adapter", now, **common, detail=detail)
            svc.cases.save(updated, event)
            return {"decision": "returned"}
        deadlines = dict(decisions.deadlines)
        updated, event = transition(
            case,
            "dispatched",
            "adapter",
            now,
            **common,
            status="dispatched",
            deadlines=deadlines,
            calendar_fallback=any(d.fallback for d in deadlines.values()),
            detail={
                **detail,
                "acceptance_due": deadlines["acceptance"].due_at.isoformat(),
                "resolution_due": deadlines["resolution"].due_at.isoformat(),
            },
        )
        svc.cases.save(updated, event)
        return {"decision": "odr", "calendar_fallback": updated.calendar_fallback}

    return on_stale(apply)


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


def escalate(complaint_id: str, phase: str, svc: Services) -> None:
    """A deadline passed: mark the case overdue; it goes back to the regulator (closed as returned)."""

    def apply() -> None:
        case = load(complaint_id, svc)
        if case.overdue:  # a retried step: already escalated
            return
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

    on_stale(apply)


def close(complaint_id: str, outcome_hint: str, svc: Services) -> dict[str, Any]:
    """Close the case (办结): outcome, recovered amount and cycle time; queue the report to 12315."""

    def apply() -> dict[str, Any]:
        case = load(complaint_id, svc)
        if not case.is_open:  # a retried step: queue the report again (same key, the platform dedupes)
            svc.reports.send(report_body(case))
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
        svc.reports.send(report_body(updated))
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
