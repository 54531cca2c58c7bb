"""What people do to a case: the enterprise accepts, declines or reports; the station approves or sends back.

Each action checks the case is waiting for it and the deadline has not passed, records the change, then
ends the wait with the task token kept on the case. Repeating an action already done is answered, not redone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from odr_adapter.messages.sending import message_key
from odr_adapter.models.case import MAX_SEND_BACKS, Case, Feedback, InvalidAction, PendingWait, transition
from odr_adapter.models.links import ActionName
from odr_adapter.models.money import MoneyString
from odr_adapter.ports import Services, TokenGone, TransientFault
from odr_adapter.rules.calendars import compute_deadline
from odr_adapter.rules.screening import RefusalReason
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import answer_taken, load, timer_seconds

CLOCK_SKEW = timedelta(seconds=5)


class DeadlinePassed(InvalidAction):
    """The phase's deadline is over: the case went back to the regulator."""


class NotYetWaiting(InvalidAction):
    """The workflow has not reached this wait yet (retry shortly)."""


NO_CLAIM_CEILING = Decimal("100000.00")
"""The most a result may report as recovered when the complaint claims no amount (10万元): a bound against typing
errors and exponents, far above the consumer disputes the district's ODR settles; a larger settlement goes through
the station's regular handling."""


class AmountAboveCeiling(ValueError):
    """The reported recovered amount is above what the complaint allows: the request is refused, nothing changes."""

    def __init__(self, amount: Decimal, ceiling: Decimal, claimed: bool) -> None:
        self.amount = amount
        self.ceiling = ceiling
        self.claimed = claimed
        bound = "the complaint's claimed amount" if claimed else "the ceiling for a complaint with no claimed amount"
        super().__init__(f"recovered_amount {amount} is above {bound} ({ceiling:.2f})")


def claimed_amount(case: Case) -> Decimal | None:
    """诉求金额 of the case's record (a valid record's decimal string), None when the consumer claimed none."""
    claimed = case.record.get("claimed_amount")
    return Decimal(claimed) if isinstance(claimed, str) and claimed else None


def recovered_ceiling(case: Case) -> tuple[Decimal, bool]:
    """The most a result may report as recovered, and whether it is the claim: 0 ≤ recovered ≤ claimed amount,
    or ≤ :data:`NO_CLAIM_CEILING` when the complaint claims no amount."""
    claimed = claimed_amount(case)
    return (claimed, True) if claimed is not None else (NO_CLAIM_CEILING, False)


def check_recovered(amount: Decimal, case: Case) -> None:
    ceiling, claimed = recovered_ceiling(case)
    if amount > ceiling:
        raise AmountAboveCeiling(amount, ceiling, claimed)


class ResultReport(BaseModel):
    """The enterprise's result. Booleans are JSON booleans only (``"yes"``, ``"true"`` or ``1`` are refused: the
    page's form turns its own yes/no into them). Money is a decimal string (see ``MoneyString``): ``"199"`` and
    ``"199.00"`` alike, never a JSON number, an exponent, NaN, Infinity or a negative amount; and at most the
    complaint's claimed amount (:func:`recovered_ceiling`, checked once the case is read)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    settled: StrictBool = Field(description="true: settled (和解成功); false: not settled. JSON booleans only.")
    recovered_amount: Annotated[MoneyString, AfterValidator(lambda d: d.quantize(Decimal("0.01")))] = Field(
        default=Decimal("0.00"),
        description="Yuan recovered for the consumer: a decimal string with at most two decimals, "
        "0 up to the complaint's claimed amount (or 100000.00 when it claims none).",
    )
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
_ACTION_OF: dict[str, ActionName] = {event: action for action, (_, _, event) in _EXPECTS.items()}  # type: ignore[misc]
_DONE_AFTER: dict[str, tuple[str, ...]] = {
    "accept": ("accepted", "under_review"),
    "report": ("under_review",),
}


def perform(complaint_id: str, action: ActionName, actor: str, payload: dict[str, Any], svc: Services) -> Case:
    """Apply ``action`` and end the wait it answers; raises InvalidAction (a 4xx) when not allowed."""
    return perform_once(complaint_id, action, actor, payload, svc)[0]


def perform_once(
    complaint_id: str, action: ActionName, actor: str, payload: dict[str, Any], svc: Services
) -> tuple[Case, bool]:
    """:func:`perform`, and whether this call made the change (True for exactly one of concurrent calls: the one
    whose conditional write recorded it); False when it was already recorded (its callback is sent again)."""
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
) -> tuple[Case, bool]:
    case = load(complaint_id, svc)
    needs, after, event = _EXPECTS[action]
    pending = case.pending
    if pending is not None and not pending.open:
        if pending.answer and pending.answer.get("action") == event:
            redeliver(case, svc)  # a repeat: the first callback may never have arrived
            return case, False
        raise InvalidAction(f"case {complaint_id} was already answered ({pending.answer})")
    if case.status != needs:
        if case.status in _DONE_AFTER.get(action, ()):
            return case, False  # a double submit: already done, nothing more to do
        if not case.is_open:
            raise InvalidAction(f"case {complaint_id} is closed ({case.outcome})")
        raise InvalidAction(f"case {complaint_id} is {case.status}; '{action}' needs {needs}")
    if pending is None or pending.phase != case.wait_phase:
        raise NotYetWaiting(f"case {complaint_id} is not waiting for '{action}' yet")
    now = svc.clock.now()
    due = case.next_due_at
    if due is not None and now >= due:
        raise DeadlinePassed(f"the {pending.phase} deadline passed at {due.isoformat()}")
    if report is not None:
        check_recovered(report.recovered_amount, case)
    answered = pending.model_copy(update={"answer": {"action": event}, "answered_at": now})
    changes: dict[str, Any] = {"status": after, "pending": answered}
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
    if action == "accept":  # the confirmation is owed with the acceptance, in the same conditional write
        owed = case.model_copy(update={"deadlines": deadlines})
        changes["confirmation_pending"] = message_key("accepted", owed, "resolution")
    updated, history = transition(case, event, actor, now, **changes, detail=detail)
    svc.cases.save(updated, history)
    try:
        _deliver(updated, pending, action, svc)
    except TokenGone:
        fresh = load(complaint_id, svc)
        if not _timer_may_have_ended(fresh, due, svc) or answer_taken(fresh, updated.version):
            return updated, True  # a repeat delivered it first, or the deadline's step took the answer recorded
        if on_stale(lambda: _undo(case, updated, changes, action, actor, svc)):
            raise DeadlinePassed(
                "the wait ended before the action arrived; the case went back to the regulator"
            ) from None
        return updated, True  # the deadline's step took the answer while this action was being taken back
    except TransientFault:
        pass  # recorded and owed: the sweeper delivers it (owes_since), a repeat delivers it too
    return updated, True


def _timer_may_have_ended(fresh: Case, due: datetime | None, svc: Services) -> bool:
    """Whether the wait can have ended without this action: its timer fires at the deadline (Step Functions'
    clock, a few seconds apart from ours at most), a withdrawal fails it, an escalation follows the timeout.
    Otherwise a gone token means a repeat of the same action (another tab, a retry) delivered it first."""
    if fresh.overdue or fresh.withdraw_requested or due is None:
        return True
    return svc.clock.now() >= due - CLOCK_SKEW


def redeliver(case: Case, svc: Services) -> Literal["delivered", "gone", "failing"]:
    """Send again the callback an answered wait owes: ``gone`` when the wait is over (the callback did arrive,
    or the wait timed out), ``failing`` when Step Functions still cannot take it (a later try will)."""
    pending = case.pending
    action = _ACTION_OF.get(str(pending.answer.get("action"))) if pending and pending.answer else None
    if pending is None or action is None:
        return "gone"
    try:
        _deliver(case, pending, action, svc)
    except TokenGone:
        return "gone"
    except TransientFault:
        return "failing"
    return "delivered"


def _deliver(case: Case, pending: PendingWait, action: ActionName, svc: Services) -> None:
    """End the wait with the task token kept on the case (raises TokenGone when the wait is over)."""
    if action == "decline":
        svc.executions.fail(pending.task_token, "EnterpriseDeclined", "the enterprise declined the case")
        return
    _, _, event = _EXPECTS[action]
    svc.executions.succeed(pending.task_token, {"action": event, "seconds": timer_seconds(case, svc)})


def _undo(before: Case, after: Case, changes: dict[str, Any], action: str, actor: str, svc: Services) -> bool:
    """The wait had already ended (a deadline raced the action): take the action back, keep the attempt.
    False when the deadline's step took the recorded answer first (the action stands; nothing is undone)."""
    fresh = load(before.complaint_id, svc)
    if answer_taken(fresh, after.version):
        return False
    restored: dict[str, Any] = {}
    if fresh.version == after.version:  # nothing happened since: restore what the action changed
        restored = {key: getattr(before, key) for key in changes}
        restored["pending"] = None
    restored["confirmation_pending"] = None  # an acceptance taken back owes no confirmation
    note, event = transition(fresh, "action_too_late", actor, svc.clock.now(), **restored, detail={"action": action})
    svc.cases.save(note, event)
    return True
