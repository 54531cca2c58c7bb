"""Reminders before a deadline: each wait's reminder goes out once, at its ``remind_at``.

The sweeper runs on a schedule and finds candidates with one Query on the due-date index (open cases whose
deadline is within a day, the longest a reminder comes early). A reminder is claimed on the case with an
optimistic-locking transition before it is sent, so overlapping sweeps never send it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from odr_adapter.messages.sending import Delivery, Sent, send_message
from odr_adapter.messages.texts import Template
from odr_adapter.models.case import Case, transition
from odr_adapter.models.links import LinkPhase
from odr_adapter.ports import Services
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load

LOOKAHEAD = timedelta(days=1)


class DueIndex(Protocol):
    def reminders_due(self, now: datetime, lookahead: timedelta) -> list[Case]: ...


def send_reminders(svc: Services, index: DueIndex, delivery: Delivery) -> dict[str, int]:
    now = svc.clock.now()
    candidates = index.reminders_due(now, LOOKAHEAD)
    sent = [remind(c.complaint_id, svc, delivery) for c in candidates if _due_now(c, now)]
    delivered = sum(1 for s in sent if s is not None and s.delivered)
    return {
        "candidates": len(candidates),
        "reminded": delivered,
        "failed": sum(1 for s in sent if s is not None) - delivered,
    }


def _due_now(case: Case, now: datetime) -> bool:
    phase = case.wait_phase
    deadline = case.deadlines.get(phase) if phase else None
    return deadline is not None and deadline.remind_at <= now < deadline.due_at and case.pending_reminder is not None


def remind(complaint_id: str, svc: Services, delivery: Delivery) -> Sent | None:
    """Claim the case's due reminder, then send it; None when another sweep claimed it first."""

    def claim() -> str | None:
        case = load(complaint_id, svc)
        key = case.pending_reminder
        if key is None or not _due_now(case, svc.clock.now()):
            return None
        updated, event = transition(
            case,
            "reminder_due",
            "adapter",
            svc.clock.now(),
            reminders_sent=[*case.reminders_sent, key],
            detail={"key": key},
        )
        svc.cases.save(updated, event)
        return key

    key = on_stale(claim)
    if key is None:
        return None
    phase: LinkPhase = key.split(":", 1)[0]  # type: ignore[assignment]
    template: Template = "review_reminder" if phase == "review" else "reminder"
    return send_message(complaint_id, template, svc, delivery, link_phase=phase, key=f"reminder:{key}")
