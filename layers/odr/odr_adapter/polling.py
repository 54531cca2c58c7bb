"""Polling the 12315 feed: an overlapping window, paging, and a cursor that never passes unqueued records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from .feed_client import FeedClient
from .ports import Outbound

OVERLAP = timedelta(minutes=10)


class CursorStore(Protocol):
    def read(self) -> str | None: ...
    def advance(self, updated_after: str) -> None: ...


class BulkQueue(Outbound, Protocol):
    def send_all(self, bodies: list[dict[str, Any]]) -> None: ...


def poll_once(feed: FeedClient, queue: BulkQueue, cursor: CursorStore, start: datetime) -> dict[str, int]:
    """Fetch every page changed since the cursor (minus the overlap) and queue each record.

    The cursor moves to the newest ``updated_at`` only after all pages are queued, so a crash re-reads.
    """
    stored = cursor.read()
    since = (datetime.fromisoformat(stored) - OVERLAP).isoformat() if stored else start.isoformat()
    newest = datetime.fromisoformat(stored) if stored else None
    seen, page_cursor = 0, None
    while True:
        page = feed.page(since, page_cursor)
        items = page.get("items", [])
        queue.send_all([{"record": item, "source": "poll"} for item in items])
        seen += len(items)
        for item in items:
            try:
                at = datetime.fromisoformat(item["updated_at"])
            except (KeyError, TypeError, ValueError):
                continue
            newest = at if newest is None or at > newest else newest
        page_cursor = page.get("next_cursor")
        if not page_cursor:
            break
    if newest is not None:
        cursor.advance(newest.isoformat())
    return {"seen": seen}
