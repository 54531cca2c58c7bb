"""The state machine's steps: each loads the case, applies one rule-driven change and says what is next.

The two that screen a case are in :mod:`odr_adapter.workflow.screening`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odr_adapter.clock import local
from odr_adapter.models.case import Case, CaseWithdrawn, InvalidAction, PendingWait, transition
from odr_adapter.models.deadlines import Phase
from odr_adapter.ports import Services
from odr_adapter.workflow.retry import on_stale


def load(complaint_id: str, svc: Services) -> Case:
    case = svc.cases.get(complaint_id)
    if case is None:
        raise InvalidAction(f"no case {complaint_id}")
    return case


def timer_seconds(case: Case, svc: Services) -> int:
    """Real seconds the next wait may last: until the deadline of the phase the case waits in."""
    due = case.next_due_at
    return svc.clock.timeout_seconds_until(due) if due else 1


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
