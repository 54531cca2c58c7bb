"""What the counters function does with a batch of the case table's stream: count its changes together, each
once, then read how many cases are in each status now (the gauges), only when the batch changed anything."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from odr_adapter.models.counters import CaseChange
from odr_adapter.ports import CounterReader, CounterSink
from odr_adapter.stats.counters import STATUSES, CountResult, count_changes
from odr_adapter.stats.figures import lifetime


class CounterStore(CounterSink, CounterReader, Protocol):
    pass


def count_batch(
    changes: Iterable[CaseChange], store: CounterStore, now: datetime
) -> tuple[CountResult, dict[str, int]]:
    """The batch's count, and the cases in each status now (empty when nothing was applied).

    The changes are counted together; when one cannot be read, those before it are counted and the error goes
    on (Lambda delivers the batch again, or its halves: what was counted is recognised then)."""
    read: list[CaseChange] = []
    try:
        for change in changes:
            read.append(change)
    except Exception:
        count_changes(read, store, now)
        raise
    result = count_changes(read, store, now)
    if not result.applied:
        return result, {}
    figures = lifetime(store)
    return result, {status: figures.count(f"status_{status}") for status in STATUSES}
