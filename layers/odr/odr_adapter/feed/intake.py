"""Intake: a feed record becomes exactly one case; later revisions update it, never an older one.

A record that cannot become a case is quarantined with every reason, never dropped and never retried until it
blocks the queue: one that breaks the contract, one holding text no store can carry (a lone surrogate: half an
emoji cut by the sender), one too large to keep in a case item (:data:`~odr_adapter.models.limits.MAX_RECORD_BYTES`),
and one too large for the queue itself, which the webhook and the poller replace by a digest at the edge
(:func:`~odr_adapter.feed.intake_queue.intake_message`) so that the rest of their push or page goes on; so does the
poller with a record over the feed's limits (the webhook answers 400 to a push holding one).

Defence in depth: a record that passes every check and still cannot be serialised or stored, for a reason that
trying again will not cure (nested deeper than the serialiser goes, an item the table refuses), is quarantined
with that reason too, never retried until the dead-letter queue. A fault of AWS is still raised and retried.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal

from odr_adapter.models.case import Case, execution_name, transition
from odr_adapter.models.limits import MAX_RECORD_BYTES, is_digest_stub, surrogates_and_size
from odr_adapter.models.record import LONE_SURROGATE, Complaint, Problem, RecordInvalid, parse_record
from odr_adapter.ports import Services, TokenGone, Unstorable
from odr_adapter.workflow.retry import on_stale

IngestOutcome = Literal["created", "revised", "withdrawn", "duplicate", "stale", "quarantined"]


@dataclass(frozen=True)
class Refused:
    """A record the edge could not queue whole: what is kept of it, and why (intake quarantines it)."""

    raw: Any
    problems: list[dict[str, str]]


def parse_message(body: str) -> dict[str, Any]:
    """An intake message is ``{"record": ..., "source": ...}`` (with ``"problems"`` when the edge refused the
    record: its record is then a :class:`Refused`); anything else carries its text as the record, so that it is
    quarantined with the reason rather than retried until it reaches the dead-letter queue."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return {"record": body, "source": "unreadable"}
    if not isinstance(message, dict) or "record" not in message:
        return {"record": message, "source": "unknown"}
    problems = message.get("problems")
    if isinstance(problems, list) and problems:
        return {**message, "record": Refused(message["record"], [_plain(p) for p in problems])}
    return message


def _plain(problem: Any) -> dict[str, str]:
    given = problem if isinstance(problem, dict) else {}
    return {"path": str(given.get("path", "(record)")), "reason": str(given.get("reason", problem))}


def record_problems(raw: Any) -> list[Problem]:
    """Why a record cannot be stored as it is, whatever the contract says of it: text no store can carry,
    or a size no case item can hold. Empty when it can be."""
    surrogates, size = surrogates_and_size(raw)
    problems = [Problem(path=path, reason=LONE_SURROGATE) for path in surrogates]
    if size > MAX_RECORD_BYTES:
        problems.append(
            Problem(path="(record)", reason=f"record is {size} bytes; a case keeps at most {MAX_RECORD_BYTES}")
        )
    return problems


def ingest(raw: Any, svc: Services) -> IngestOutcome:
    """Apply one record; one that cannot become a case is quarantined with every reason, never dropped."""
    if isinstance(raw, Refused):
        return _quarantine(raw.raw, raw.problems, svc)
    if is_digest_stub(raw):  # a digest that came back (a redrive): the record itself must come from the platform
        return _quarantine(raw, [{"path": "(record)", "reason": "only a digest of this record was kept"}], svc)
    unstorable = record_problems(raw)
    try:
        complaint = parse_record(raw)
    except RecordInvalid as invalid:
        found = unstorable + [p for p in invalid.problems if not (unstorable and p.reason == LONE_SURROGATE)]
        return _quarantine(raw, [p.model_dump() for p in found], svc)
    if unstorable:
        return _quarantine(raw, [p.model_dump() for p in unstorable], svc)
    try:
        return on_stale(lambda: _apply(complaint, svc))
    except Unstorable as refused:
        return _quarantine(raw, [{"path": "(record)", "reason": str(refused)}], svc)


def _stored_form(complaint: Complaint) -> dict[str, Any]:
    """The record as a case keeps it, or :class:`Unstorable` (pydantic's serialiser stops at about 250 levels,
    with "Circular reference detected (depth exceeded)")."""
    try:
        return complaint.to_raw()
    except (ValueError, RecursionError) as exc:
        raise Unstorable(f"record cannot be serialised to be stored: {exc}") from None


def _quarantine(raw: Any, problems: list[dict[str, str]], svc: Services) -> IngestOutcome:
    svc.quarantine.put(raw, problems, svc.clock.now().isoformat())
    return "quarantined"


def _apply(complaint: Complaint, svc: Services) -> IngestOutcome:
    """At the floor for a new complaint: one conditional write (which, failing, brings the stored case) and the
    start of its execution by its idempotent name. Only a record of a case already stored costs more."""
    now = svc.clock.now()
    new, event = transition(
        Case(
            complaint_id=complaint.complaint_id,
            revision=complaint.revision,
            registered_at=complaint.registered_at,
            received_at=now,
            record=_stored_form(complaint),
            execution_name=execution_name(complaint.complaint_id),
            withdraw_requested=complaint.status == "withdrawn",
        ),
        "received",
        "12315",
        now,
        detail={"revision": complaint.revision},
    )
    case = svc.cases.create(new, event)
    if case is None:
        svc.executions.start(new.execution_name, {"complaint_id": new.complaint_id})
        return "created"
    if complaint.revision < case.revision:
        return "stale"
    if complaint.revision == case.revision:
        _ensure_started(case, svc)  # heals a crash between "case written" and "execution started"
        if case.withdraw_requested:
            _stop_wait(case, svc)  # heals a crash between "withdrawal written" and "wait ended"
        return "duplicate"
    return _revise(case, complaint, svc)


def _revise(case: Case, complaint: Complaint, svc: Services) -> IngestOutcome:
    withdrawing = complaint.status == "withdrawn" and not case.withdraw_requested
    updated, event = transition(
        case,
        "withdrawal_received" if withdrawing else "revision_applied",
        "12315",
        svc.clock.now(),
        revision=complaint.revision,
        record=_stored_form(complaint),
        withdraw_requested=case.withdraw_requested or complaint.status == "withdrawn",
        detail={"revision": complaint.revision, "status": complaint.status},
    )
    svc.cases.save(updated, event)
    if withdrawing:
        _stop_wait(updated, svc)
    _ensure_started(updated, svc)
    return "withdrawn" if withdrawing else "revised"


def _stop_wait(case: Case, svc: Services) -> None:
    """End the wait a withdrawn case is in; a step that starts later sees withdraw_requested and stops itself."""
    if case.is_open and case.pending is not None:
        with suppress(TokenGone):
            svc.executions.fail(case.pending.task_token, "CaseWithdrawn", "consumer withdrew the complaint")


def _ensure_started(case: Case, svc: Services) -> None:
    """Start the case's execution until its first step records that it ran (the case owes the start until
    then, so the sweeper restarts a workflow that never started or ended before that step). Starting by the
    same name again is idempotent while the execution runs."""
    if not case.execution_started:
        svc.executions.start(case.execution_name, {"complaint_id": case.complaint_id})
