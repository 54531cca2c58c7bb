"""What a case looks like to the people acting on it: only what they need, deadlines in Asia/Shanghai."""

from __future__ import annotations

from typing import Any

from odr_adapter.clock import local
from odr_adapter.models.case import Case
from odr_adapter.models.notes import notes_of


def case_view(case: Case) -> dict[str, Any]:
    """The enterprise needs the consumer's name and phone to mediate; nothing else personal is shown."""
    record = case.record
    consumer = record.get("consumer", {})
    return {
        "complaint_id": case.complaint_id,
        "status": case.status,
        "outcome": case.outcome,
        "overdue": case.overdue,
        "station_code": case.station_code,
        "enterprise": case.enterprise.model_dump() if case.enterprise else None,
        "route": case.route.model_dump() if case.route else None,
        "screening": case.screening.model_dump() if case.screening else None,
        "deadlines": {
            phase: {"due_at": local(d.due_at).isoformat(), "policy": d.policy, "calendar": d.calendar}
            for phase, d in case.deadlines.items()
        },
        "waiting_for": case.pending.phase if case.pending and case.pending.open else None,
        "consumer": {"name": consumer.get("name"), "phone": consumer.get("phone")},
        "category": record.get("category"),
        "description": record.get("description"),
        "demand": record.get("demand"),
        "transaction": record.get("transaction"),
        "feedback": case.feedback.model_dump(mode="json") if case.feedback else None,
        "send_backs": case.send_backs,
        "review_comment": case.review_comment,
        "recovered_amount": str(case.recovered_amount) if case.recovered_amount is not None else None,
        "cycle_days": str(case.cycle_days) if case.cycle_days is not None else None,
        "notes": [n.as_dict() for n in notes_of(case)],
    }
