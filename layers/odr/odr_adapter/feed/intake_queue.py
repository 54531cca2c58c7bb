"""What the edge (the webhook, the poller) puts on the intake queue: one record per message, or, for a record too
large for a queue message or (from the pull) over the feed's limits, its digest and every reason, so that it is
quarantined and the rest of the push or page goes on.

Apart from :mod:`odr_adapter.feed.intake`, which makes cases of the messages: the edge neither validates a record
nor builds a case, and its functions' cold starts do not load the record's checks or the case model.
"""

from __future__ import annotations

from typing import Any

from odr_adapter.models.limits import QUEUE_MESSAGE_BYTES, OverLimits, digest_stub, text_bytes


def intake_message(record: Any, source: str) -> dict[str, Any]:
    """The intake message for one record: ``{"record": ..., "source": ...}``, or, for a record over the feed's
    limits (:class:`~odr_adapter.models.limits.OverLimits`) or one that would not fit in a queue message, its
    digest and the reasons (``"problems"``), so it is quarantined, not lost, and the rest of the push or page is
    queued as usual."""
    if isinstance(record, OverLimits):
        problems = [{"path": "(record)", "reason": reason} for reason in record.reasons]
        return {"record": record.digest, "source": source, "problems": problems}
    message = {"record": record, "source": source}
    size = text_bytes(message)
    if size <= QUEUE_MESSAGE_BYTES:
        return message
    reason = f"record is {size} bytes; a queued record is at most {QUEUE_MESSAGE_BYTES} (kept as its SHA-256)"
    return {"record": digest_stub(record), "source": source, "problems": [{"path": "(record)", "reason": reason}]}
