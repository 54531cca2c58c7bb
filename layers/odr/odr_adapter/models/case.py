"""A case: the adapter's state for one complaint, its transitions and its history.

Every change goes through :func:`transition`, which yields the next version with one more history event
(the history lives in the case item, append-only); the store writes it conditioned on the previous version,
so a stale writer fails loudly and no event is ever lost or rewritten.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odr_adapter.models.deadlines import Deadline, Phase

Status = Literal["received", "screening", "dispatched", "accepted", "under_review", "closed"]
Outcome = Literal["settled", "not_settled", "withdrawn", "returned", "rejected"]
OPEN_STATUSES = ("received", "screening", "dispatched", "accepted", "under_review")
WAIT_PHASE: dict[str, Phase] = {
    "screening": "screening",
    "dispatched": "acceptance",
    "accepted": "resolution",
    "under_review": "review",
}
MAX_SEND_BACKS = 2
ROUNDED_PHASES = ("resolution", "review")  # waits a send-back begins again: one round per send-back


class _Private(BaseModel):
    """Validation errors never echo the values (feedback and records carry personal data)."""

    model_config = ConfigDict(hide_input_in_errors=True)


class HistoryEvent(BaseModel):
    version: int
    event: str
    actor: str
    at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)


class EnterpriseRef(BaseModel):
    uscc: str
    name: str
    enterprise_class: str
    matched_by: str | None = None


class Decision(BaseModel):
    """A screening or routing decision: the rule that decided and the reason people read."""

    rule: str
    reason: str


class Feedback(_Private):
    settled: bool
    recovered_amount: Decimal = Decimal("0.00")
    summary: str
    not_settled_reason: str | None = None
    reported_at: datetime


class PendingWait(BaseModel):
    """The task token of the wait in progress: kept here, never put in a message or link.

    ``answer`` is the output an action sent (or is sending) to end the wait: the token stays until the next
    wait replaces it, so a callback that failed in transit is sent again when the action is repeated.
    """

    phase: Phase
    task_token: str = Field(repr=False)
    since: datetime
    answer: dict[str, Any] | None = None
    answered_at: datetime | None = None  # when ``answer`` was recorded: a callback still owed since then

    @property
    def open(self) -> bool:
        return self.answer is None


class Case(_Private):
    complaint_id: str
    revision: int
    version: int = 0
    status: Status = "received"
    outcome: Outcome | None = None
    registered_at: datetime
    received_at: datetime
    record: dict[str, Any] = Field(repr=False)
    execution_name: str
    execution_started: bool = False  # the workflow's first step ran (until then the case owes the start)
    workflow_restarts: int = 0  # executions started again under a new name (see execution_name)
    station_code: str | None = None
    enterprise: EnterpriseRef | None = None
    screening: Decision | None = None
    route: Decision | None = None
    refusal_reason: str | None = None
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    pending: PendingWait | None = None
    feedback: Feedback | None = None
    send_backs: int = 0
    review_comment: str | None = None
    overdue: bool = False
    overdue_phase: str | None = None
    withdraw_requested: bool = False
    screening_proposal: str | None = None  # the automatic decision a station screening by hand confirms or changes
    screening_confirmation: dict[str, Any] | None = None
    screening_overdue: bool = False
    calendar_fallback: bool = False
    recovered_amount: Decimal | None = None
    closed_at: datetime | None = None
    cycle_days: Decimal | None = None
    process_summary: str | None = None
    reminders_sent: list[str] = Field(default_factory=list)
    confirmation_pending: str | None = None  # the key of a confirmation owed (set with the action that owes it)
    notes_owed: list[str] = Field(default_factory=list)  # the keys of notes' messages owed (set with each note)
    debt_began_at: datetime | None = None  # since when the case owes, without a break (see owes_since)
    history: list[HistoryEvent] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def wait_phase(self) -> Phase | None:
        return WAIT_PHASE.get(self.status)

    def wait_id(self, phase: str) -> str:
        """The identity of the case's wait in ``phase``: the phase and its round (``review:1`` is the review after
        the first send-back). Not its deadline: two waits of one phase begun on the same day share a due time
        under day-counted policies, and each must still be announced and reminded of once."""
        return f"{phase}:{self.send_backs if phase in ROUNDED_PHASES else 0}"

    @property
    def pending_reminder(self) -> str | None:
        """The key of the reminder for the wait the case is in, while it has not gone out (its :meth:`wait_id`).
        Screening has none: a day-long step the station was just told of."""
        phase = self.wait_phase
        deadline = self.deadlines.get(phase) if phase and phase != "screening" else None
        if phase is None or deadline is None or not self.is_open:
            return None
        key = self.wait_id(phase)
        return None if key in self.reminders_sent else key

    @property
    def next_remind_at(self) -> datetime | None:
        """When the pending reminder is due (stored beside ``due_at`` so the sweep reads only those due)."""
        phase = self.wait_phase
        return self.deadlines[phase].remind_at if phase and self.pending_reminder else None

    @property
    def messages_owed(self) -> list[str]:
        """The keys of the messages the case owes, sent after the person who caused them was answered: an
        acceptance's confirmation, notes' messages."""
        confirmation = [self.confirmation_pending] if self.confirmation_pending else []
        return [*confirmation, *self.notes_owed]

    @property
    def owes(self) -> bool:
        """Whether the case owes something outside it: the workflow's start (from intake until the first step
        records it), a callback its action recorded (the wait is still kept), a withdrawal's end of the wait, a
        message. Normally settled within seconds; the sweeper heals what is still owed minutes later."""
        if not self.is_open:
            return False
        pending = self.pending
        return (
            not self.execution_started
            or (pending is not None and (not pending.open or self.withdraw_requested))
            or bool(self.messages_owed)
        )

    @property
    def owes_since(self) -> datetime | None:
        """When the case began to owe, without a moment owing nothing since: the start of the oldest debt still
        owed, or of one settled while it owed another. Kept by :func:`transition` (``debt_began_at``), so a later
        write (a note, a reminder, another debt) never makes it later: ByOwed sorts by it and the sweeper's grace
        runs from it. Only a write that pays a debt by owing it anew says so (the sweeper's restart of a workflow:
        the new execution's first step is owed from then)."""
        if not self.owes or not self.history:
            return None
        if self.debt_began_at is not None:
            return self.debt_began_at
        # A case stored before debt_began_at was kept: as owes_since was computed then.
        answered = self.pending.answered_at if self.pending is not None and not self.pending.open else None
        return answered or self.history[-1].at

    def settling(self, key: str) -> dict[str, Any]:
        """The changes that settle the owed message ``key`` (none when it is not owed), made in the write that
        records how it was sent."""
        if key == self.confirmation_pending:
            return {"confirmation_pending": None}
        if key in self.notes_owed:
            return {"notes_owed": [k for k in self.notes_owed if k != key]}
        return {}

    @property
    def next_due_at(self) -> datetime | None:
        """The deadline of the phase the case waits in (drives the due-date index)."""
        phase = self.wait_phase
        if not self.is_open or phase is None or phase not in self.deadlines:
            return None
        return self.deadlines[phase].due_at


def execution_name(complaint_id: str, restart: int = 0) -> str:
    """One execution per complaint: the name makes StartExecution idempotent. A restart (an execution that ended
    before the workflow's first step ran) takes the next name, ``case-<id>-r<n>``: Step Functions keeps a
    Standard execution's name for 90 days, and the restart count kept on the case makes the name deterministic."""
    return f"case-{complaint_id}" if restart == 0 else f"case-{complaint_id}-r{restart}"


class StaleCase(Exception):
    """Another writer changed the case since it was read."""


class CaseWithdrawn(Exception):
    """The consumer withdrew the complaint: the workflow must stop (Step Functions error name)."""


class InvalidAction(Exception):
    """An action that the case's state does not allow (answered as a 4xx)."""


class InvalidChange(ValueError):
    """A transition that sets a field the case lacks or a value its type refuses (a programming error)."""


_OWN_FIELDS = frozenset({"version", "history"})  # set by transition itself


def transition(case: Case, event: str, actor: str, at: datetime, **changes: Any) -> tuple[Case, HistoryEvent]:
    """The next version of ``case`` with ``changes`` applied, and the history event that records it.

    Only the changed fields are validated (the rest of the case already is): raises :class:`InvalidChange` for
    an unknown field or an invalid value, so nothing the model refuses is ever stored.
    """
    detail = changes.pop("detail", {})
    entry = HistoryEvent(version=case.version + 1, event=event, actor=actor, at=at, detail=detail)
    updated = case.model_copy()
    validator = Case.__pydantic_validator__
    for name, value in changes.items():
        if name not in Case.model_fields or name in _OWN_FIELDS:
            raise InvalidChange(f"transition {event!r} sets {name!r}, which a case cannot be given")
        try:
            validator.validate_assignment(updated, name, value)
        except ValidationError as exc:
            problems = "; ".join(e["msg"] for e in exc.errors(include_input=False))
            raise InvalidChange(f"transition {event!r} sets an invalid {name!r}: {problems}") from exc
    updated.version = case.version + 1
    updated.history = [*case.history, entry]
    if "debt_began_at" not in changes:  # a debt added while the case owes leaves it as it was
        updated.debt_began_at = case.owes_since or at
    if not updated.owes:
        updated.debt_began_at = None
    return updated, entry
