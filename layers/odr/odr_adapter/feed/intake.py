"""Intake: a feed record becomes exactly one case; later revisions update it, never an older one."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any, Literal

from odr_adapter.models.case import Case, StaleCase, transition
from odr_adapter.models.record import Complaint, RecordInvalid, parse_record
from odr_adapter.ports import Services, TokenGone
from odr_adapter.workflow.retry import on_stale

IngestOutcome = Literal["created", "revised", "withdrawn", "duplicate", "stale", "quarantined"]


def execution_name(complaint_id: str) -> str:
    """One execution per complaint: the name makes StartExecution idempotent."""
    return f"case-{complaint_id}"


def parse_message(body: str) -> dict[str, Any]:
    """An intake message is ``{"record": ..., "source": ...}``; anything else carries its text as the record,
    so that it is quarantined with the reason rather than retried until it reaches the dead-letter queue."""
    try:
        message = json.loads(body)
    except ValueError:
        return {"record": body, "source": "unreadable"}
    return message if isinstance(message, dict) and "record" in message else {"record": message, "source": "unknown"}


def ingest(raw: Any, svc: Services) -> IngestOutcome:
    """Apply one record; an invalid one is quarantined with every reason, never dropped."""
    try:
        complaint = parse_record(raw)
    except RecordInvalid as invalid:
        svc.quarantine.put(raw, [p.model_dump() for p in invalid.problems], svc.clock.now().isoformat())
        return "quarantined"
    return on_stale(lambda: _apply(complaint, svc))


def _apply(complaint: Complaint, svc: Services) -> IngestOutcome:
    case = svc.cases.get(complaint.complaint_id)
    now = svc.clock.now()
    if case is None:
        case, event = transition(
            Case(
                complaint_id=complaint.complaint_id,
                revision=complaint.revision,
                registered_at=complaint.registered_at,
                received_at=now,
                record=complaint.to_raw(),
                execution_name=execution_name(complaint.complaint_id),
                withdraw_requested=complaint.status == "withdrawn",
            ),
            "received",
            "12315",
            now,
            detail={"revision": complaint.revision},
        )
        case = svc.cases.save(case, event)
        _ensure_started(case, svc)
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
        record=complaint.to_raw(),
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
    if case.execution_started:
        return
    svc.executions.start(case.execution_name, {"complaint_id": case.complaint_id})
    current: Case | None = case  # usually still the stored version: no read needed before marking it

    def mark() -> None:
        nonlocal current
        if current is None or current.execution_started:
            return
        updated, event = transition(current, "execution_started", "adapter", svc.clock.now(), execution_started=True)
        try:
            svc.cases.save(updated, event)
        except StaleCase:
            current = svc.cases.get(case.complaint_id)
            raise

    on_stale(mark)
