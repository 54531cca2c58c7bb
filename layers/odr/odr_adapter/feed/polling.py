"""Polling the 12315 feed: an overlapping window, paging, and a cursor that never passes unqueued records.

The cursor is the newest ``updated_at`` already queued, capped at the moment the run began (the platform's
``server_time``). The next run asks for everything after ``cursor - overlap``: a record the platform commits
late (an ``updated_at`` earlier than ones already served) is still caught when it is less than ``overlap``
late, however long a run takes. Each page is queued before the cursor moves, so a crash re-reads it.

"New" and "duplicate" are counted against the keys seen inside the overlap window, which the checkpoint keeps:
cheap (no read per record) and exact for everything the window can serve again. Only records whose key
(complaint id + revision) is not among them are queued: the overlap serves the last records again on every run,
and sending them again would only make intake drop them again. The keys are saved with the cursor after the
page is queued, so a crash in between queues them once more (at least once, never lost).

With the platform's push on, most records reach intake by push before a poll serves them. So a new key is first
looked up among the stored cases (one BatchGetItem per page): a record whose case already holds its revision, or
a later one, and owes nothing (intake would only drop it, or heal what is owed) is not queued again.

A bad record never stalls the feed: the client reads each record of a page within the webhook's limits
(:func:`~odr_adapter.models.limits.feed_items`), and one over them (nested too deep, a number too long, not UTF-8)
comes as :class:`~odr_adapter.models.limits.OverLimits`, keyed and dated by the complaint id, revision and
``updated_at`` at its top level. Records are queued as they came (intake judges and quarantines them), one holding
a lone surrogate is carried with ``\\u`` escapes, and one over the limits or too large for a queue message is queued
as its digest with every reason (:func:`~odr_adapter.feed.intake_queue.intake_message`), so the page is queued and
the cursor moves past it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from odr_adapter.clock import Clock
from odr_adapter.feed.intake_queue import intake_message
from odr_adapter.models.feed import Checkpoint
from odr_adapter.models.limits import OverLimits, json_text
from odr_adapter.ports import BulkQueue, Feed, HeldRecords, StateStore

OVERLAP = timedelta(minutes=10)
FIRST_LOOKBACK = timedelta(days=1)  # where the very first run starts
PAGE_SIZE = 200
MAX_RECENT = 5000  # keys kept for duplicate counting; bounds the checkpoint item well under 400 KB


@dataclass
class PollReport:
    held_elsewhere: bool = False  # another run holds the lease: this one did nothing
    complete: bool = False  # reached the end of the feed (else stopped for time; the next run goes on)
    pages: int = 0
    seen: int = 0
    new: int = 0
    duplicate: int = 0
    queued: int = 0  # records sent to intake: those not already queued inside the window nor held by intake
    held: int = 0  # new keys not queued: their case already holds that revision (the push brought it)
    lag_seconds: float = 0.0  # now - newest updated_at seen in this run (0 when the feed had nothing)
    cursor: str | None = None

    def as_log(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def record_key(item: Any) -> str:
    """``complaint_id#revision``; a record lacking them is keyed by its content (intake quarantines it)."""
    found = _identified(item)
    if found is not None:
        return f"{found[0]}#{found[1]}"
    kept = item.digest if isinstance(item, OverLimits) else item
    digest = hashlib.sha256(json_text(kept, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def updated_at(item: Any) -> datetime | None:
    """The record's ``updated_at`` when it is a date-time with an offset, else None (it cannot move the cursor)."""
    try:
        at = datetime.fromisoformat(str(_fields(item)["updated_at"]))
    except (KeyError, TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None


def poll(
    feed: Feed,
    queue: BulkQueue,
    state: StateStore,
    clock: Clock,
    owner: str,
    budget_seconds: float,
    overlap: timedelta = OVERLAP,
    page_size: int = PAGE_SIZE,
    held: HeldRecords | None = None,
) -> PollReport:
    """One poller run under the lease; ``budget_seconds`` is the (real, monotonic) time the invocation may take,
    and the lease outlives it. ``held`` tells which records intake already holds (not queued again)."""
    started = clock.now()
    stop_at = time.monotonic() + budget_seconds
    lease_until = started + timedelta(seconds=budget_seconds + 60)
    if not state.acquire(owner, started, lease_until):
        return PollReport(held_elsewhere=True)
    try:
        return _run(feed, queue, state, clock, started, stop_at, overlap, page_size, held)
    finally:
        state.release(owner)


def _run(
    feed: Feed,
    queue: BulkQueue,
    state: StateStore,
    clock: Clock,
    started: datetime,
    stop_at: float,
    overlap: timedelta,
    page_size: int,
    held: HeldRecords | None,
) -> PollReport:
    checkpoint = state.read()
    since = checkpoint.updated_after - overlap if checkpoint.updated_after else started - FIRST_LOOKBACK
    cursor, recent = checkpoint.updated_after, dict(checkpoint.recent)
    report = PollReport()
    ceiling: datetime | None = None  # the platform's clock when the run began
    newest: datetime | None = None
    page_cursor: str | None = None
    while True:
        page = feed.page(since.isoformat(), page_cursor, page_size)
        if ceiling is None:
            ceiling = _server_time(page) or started
        items: list[Any] = page["items"]
        keyed = [(record_key(item), updated_at(item)) for item in items]
        holding = _holding([item for item, (key, _) in zip(items, keyed, strict=True) if key not in recent], held)
        fresh = []
        for item, (key, at) in zip(items, keyed, strict=True):
            if key in recent or at is None or at <= since:
                report.duplicate += 1  # already seen in the window, or a stale copy from before it
            else:
                report.new += 1
            if key not in recent and _is_held(item, holding):
                report.held += 1
            elif key not in recent:
                fresh.append(intake_message(item, "poll"))
            recent[key] = at or started
        queue.send_all(fresh)
        report.queued += len(fresh)
        # Everything on this page is durably queued: only now may the cursor pass it.
        report.seen += len(items)
        report.pages += 1
        for _, at in keyed:
            if at is not None and (newest is None or at > newest):
                newest = at
        if newest is not None:
            candidate = min(newest, ceiling)
            moved = cursor is None or candidate > cursor
            cursor = candidate if cursor is None or candidate > cursor else cursor
            if moved or fresh:  # a page served again adds nothing to save
                state.save(Checkpoint(cursor, _window(recent, cursor - overlap)))
        page_cursor = page.get("next_cursor")
        if not page_cursor:
            report.complete = True
            break
        if time.monotonic() >= stop_at:
            break
    report.cursor = cursor.isoformat() if cursor else None
    report.lag_seconds = (clock.now() - newest).total_seconds() if newest else 0.0
    return report


def _fields(item: Any) -> Any:
    """The record's fields; of one over the limits, those its top level showed (complaint id, revision, time)."""
    return item.identity if isinstance(item, OverLimits) else item


def _identified(item: Any) -> tuple[str, int] | None:
    fields = _fields(item)
    if (
        isinstance(fields, dict)
        and isinstance(fields.get("complaint_id"), str)
        and isinstance(fields.get("revision"), int)
    ):
        return fields["complaint_id"], fields["revision"]
    return None


def _holding(items: list[Any], held: HeldRecords | None) -> dict[str, int]:
    """The revision intake holds for each of these records' cases (those owing nothing), when asked."""
    ids = sorted({found[0] for found in map(_identified, items) if found is not None})
    return held.held(ids) if held is not None and ids else {}


def _is_held(item: Any, holding: dict[str, int]) -> bool:
    found = _identified(item)
    return found is not None and holding.get(found[0], -1) >= found[1]


def _server_time(page: dict[str, Any]) -> datetime | None:
    return updated_at({"updated_at": page.get("server_time")})


def _window(recent: dict[str, datetime], since: datetime) -> dict[str, datetime]:
    """The keys the next run's window can serve again (newest first when over the bound)."""
    kept = sorted(((at, key) for key, at in recent.items() if at > since), reverse=True)[:MAX_RECENT]
    return {key: at for at, key in kept}
