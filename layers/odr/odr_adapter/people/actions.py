"""What people do to a case: the enterprise accepts, declines or reports; the station approves or sends back.

Each action checks the case is waiting for it and the deadline has not passed, records the change, then
ends the wait with the task token kept on the case. Repeating an action already done is answered, not redone.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from odr_adapter.models.case import MAX_SEND_BACKS, Case, Feedback, InvalidAction, PendingWait, transition
from odr_adapter.models.links import ActionName
from odr_adapter.ports import Services, TokenGone
from odr_adapter.rules.calendars import compute_deadline
from odr_adapter.rules.screening import RefusalReason
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load, timer_seconds


class DeadlinePassed(InvalidAction):
    """The phase's deadline is over: the case went back to the regulator."""


class NotYetWaiting(InvalidAction):
    """The workflow has not reached this wait yet (retry shortly)."""


class ResultReport(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    settled: bool
    recovered_amount: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=14, decimal_places=2)
    summary: str = Field(min_length=1, max_length=2000)
    not_settled_reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason_when_not_settled(self) -> ResultReport:
        if not self.settled and not (self.not_settled_reason or "").strip():
            raise ValueError("not_settled_reason is required when the dispute was not settled")
        return self


class ScreeningConfirmation(BaseModel):
    """The station's screening by hand: accept (route as the rules say), refuse (不予受理), or regular handling."""

    model_config = ConfigDict(hide_input_in_errors=True)

    decision: Literal["accept", "refuse", "regular"]
    refusal_reason: RefusalReason | None = None
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _refusal_explained(self) -> ScreeningConfirmation:
        if self.decision == "refuse" and (self.refusal_reason is None or not self.reason.strip()):
            raise ValueError("a refusal needs refusal_reason and the reason")
        if self.decision == "regular" and not self.reason.strip():
            raise ValueError("regular handling needs the reason")
        return self


class Review(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    comment: str | None = Field(default=None, max_length=1000)


_EXPECTS: dict[str, tuple[str, str, str]] = {
    # action: (status it needs, status after, event)
    "accept": ("dispatched", "accepted", "accepted"),
    "decline": ("dispatched", "closed", "declined"),
    "report": ("accepted", "under_review", "result_reported"),
    "approve": ("under_review", "under_review", "approved"),
    "send_back": ("under_review", "accepted", "sent_back"),
    "confirm_screening": ("screening", "screening", "screening_confirmed"),
}
_DONE_AFTER: dict[str, tuple[str, ...]] = {
    "accept": ("accepted", "under_review"),
    "report": ("under_review",),
}


def perform(complaint_id: str, action: ActionName, actor: str, payload: dict[str, Any], svc: Services) -> Case:
    """Apply ``action`` and end the wait it answers; raises InvalidAction (a 4xx) when not allowed."""
    report = ResultReport.model_validate(payload) if action == "report" else None
    review = Review.model_validate(payload) if action in ("approve", "send_back") else None
    screening = ScreeningConfirmation.model_validate(payload) if action == "confirm_screening" else None
    return on_stale(lambda: _perform(complaint_id, action, actor, report, review, svc, screening))


def _perform(
    complaint_id: str,
    action: ActionName,
    actor: str,
    report: ResultReport | None,
    review: Review | None,
    svc: Services,
    screening: ScreeningConfirmation | None = None,
) -> Case:
    case = load(complaint_id, svc)
    needs, after, event = _EXPECTS[action]
    pending = case.pending
    if pending is not None and not pending.open:
        if pending.answer and pending.answer.get("action") == event:
            with suppress(TokenGone):  # gone: the first callback did arrive
                _deliver(case, pending, action, svc)  # a repeat: the first callback may never have arrived
            return case
        raise InvalidAction(f"case {complaint_id} was already answered ({pending.answer})")
    if case.status != needs:
        if case.status in _DONE_AFTER.get(action, ()):
            return case  # a double submit: already done, nothing more to do
        if not case.is_open:
            raise InvalidAction(f"case {complaint_id} is closed ({case.outcome})")
        raise InvalidAction(f"case {complaint_id} is {case.status}; '{action}' needs {needs}")
    if pending is None or pending.phase != case.wait_phase:
        raise NotYetWaiting(f"case {complaint_id} is not waiting for '{action}' yet")
    now = svc.clock.now()
    due = case.next_due_at
    if due is not None and now >= due:
        raise DeadlinePassed(f"the {pending.phase} deadline passed at {due.isoformat()}")
    changes: dict[str, Any] = {"status": after, "pending": pending.model_copy(update={"answer": {"action": event}})}
    detail: dict[str, Any] = {}
    klass = case.enterprise.enterprise_class if case.enterprise else None
    deadlines = dict(case.deadlines)
    if report is not None:
        changes["feedback"] = Feedback(**report.model_dump(), reported_at=now)
        deadlines["review"] = compute_deadline("review", now, klass, svc.directory.deadline_policies())
        detail = {"settled": report.settled, "recovered_amount": str(report.recovered_amount)}
    if action == "send_back":
        if case.send_backs >= MAX_SEND_BACKS:
            raise InvalidAction(f"case {complaint_id} was already sent back {MAX_SEND_BACKS} times")
        changes["send_backs"] = case.send_backs + 1
        changes["review_comment"] = review.comment if review else None
        deadlines["resolution"] = compute_deadline("rework", now, klass, svc.directory.deadline_policies())
        detail = {"comment": changes["review_comment"], "send_backs": changes["send_backs"]}
    if action == "approve":
        changes.pop("status")
        detail = {"comment": review.comment if review else None}
    if action == "decline":
        changes.pop("status")  # the workflow closes it as returned
    if screening is not None:
        changes["screening_confirmation"] = screening.model_dump()
        detail = screening.model_dump()
    changes["deadlines"] = deadlines
    updated, history = transition(case, event, actor, now, **changes, detail=detail)
    svc.cases.save(updated, history)
    try:
        _deliver(updated, pending, action, svc)
    except TokenGone:
        on_stale(lambda: _undo(case, updated, changes, action, actor, svc))
        raise DeadlinePassed("the wait ended before the action arrived; the case went back to the regulator") from None
    return updated


def _deliver(case: Case, pending: PendingWait, action: ActionName, svc: Services) -> None:
    """End the wait with the task token kept on the case (raises TokenGone when the wait is over)."""
    if action == "decline":
        svc.executions.fail(pending.task_token, "EnterpriseDeclined", "the enterprise declined the case")
        return
    _, _, event = _EXPECTS[action]
    svc.executions.succeed(pending.task_token, {"action": event, "seconds": timer_seconds(case, svc)})


def _undo(before: Case, after: Case, changes: dict[str, Any], action: str, actor: str, svc: Services) -> None:
    """The wait had already ended (a deadline raced the action): take the action back, keep the attempt."""
    fresh = load(before.complaint_id, svc)
    restored: dict[str, Any] = {}
    if fresh.version == after.version:  # nothing happened since: restore what the action changed
        restored = {key: getattr(before, key) for key in changes}
        restored["pending"] = None
    note, event = transition(fresh, "action_too_late", actor, svc.clock.now(), **restored, detail={"action": action})
    svc.cases.save(note, event)
