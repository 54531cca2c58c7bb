"""Statistics counters kept as cases move, so a report reads a few counter items instead of every case.

A case *contributes* facts (received on its registration day, dispatched on the day it went to the
enterprise, settled on its closing day, ...) to counters per scope (all cases, enterprise class, enterprise,
station) and per bucket (day and month in Asia/Shanghai; all cases also a lifetime total). A change of the
case item adds ``contribution(new) - contribution(old)``: facts are dated by the history, which is
append-only, so a fact counted once never moves, and the deltas of a case's successive versions telescope to
its current contribution. That makes the counters equal to a recount from the case records, whatever the
order in which the changes are counted. A stream batch's changes are counted together, each exactly once
(see :mod:`odr_adapter.data_access.stats`).

Gauges (``status_*``: how many cases are in each status now) live in the lifetime bucket of all cases only;
nothing reads a lifetime or a gauge per class, enterprise or station, and each would be one more counter
item written by most changes. What each counter means: docs/statistics.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from odr_adapter.clock import local
from odr_adapter.models.case import OPEN_STATUSES, Case, HistoryEvent
from odr_adapter.models.counters import ALL, LIFETIME, CaseChange, Counted, CounterItem, CounterKey, Deltas, Values
from odr_adapter.ports import CounterSink

ODR_OUTCOMES = ("settled", "not_settled")
OUTCOMES = ("settled", "not_settled", "returned", "withdrawn", "rejected")
STATUSES = (*OPEN_STATUSES, "closed")
CYCLE_EDGES = (1, 2, 3, 5, 7, 10, 15)  # days: the cycle-time distribution's bucket edges


def cycle_bucket(days: Decimal) -> str:
    """The distribution bucket of a cycle time, e.g. ``cycle_3_5`` for 3 <= days < 5."""
    lower = 0
    for edge in CYCLE_EDGES:
        if days < edge:
            return f"cycle_{lower}_{edge}"
        lower = edge
    return f"cycle_{lower}_plus"


CYCLE_BUCKETS = tuple(
    [f"cycle_{lo}_{hi}" for lo, hi in zip((0, *CYCLE_EDGES[:-1]), CYCLE_EDGES, strict=True)]
    + [f"cycle_{CYCLE_EDGES[-1]}_plus"]
)


class Fact(NamedTuple):
    metric: str
    day: date | None  # None: a gauge, counted in the lifetime bucket only


def day_of(at: datetime) -> date:
    return local(at).date()


def buckets(day: date | None, scope: str = ALL) -> tuple[str, ...]:
    """A fact's buckets in ``scope``: its day and month, and for all cases the lifetime total; a gauge (no day)
    only the lifetime total of all cases."""
    lifetime = (LIFETIME,) if scope == ALL else ()
    if day is None:
        return lifetime
    return (f"D#{day.isoformat()}", f"M#{day:%Y-%m}", *lifetime)


def scopes(case: Case) -> list[str]:
    out = [ALL]
    if case.enterprise is not None:
        out += [f"CLASS#{case.enterprise.enterprise_class}", f"ENT#{case.enterprise.uscc}"]
    if case.station_code:
        out.append(f"STATION#{case.station_code}")
    return out


def _events(case: Case, name: str) -> list[HistoryEvent]:
    return [h for h in case.history if h.event == name]


def _first(case: Case, name: str) -> HistoryEvent | None:
    return next((h for h in case.history if h.event == name), None)


def is_dispatched(case: Case) -> bool:
    return "acceptance" in case.deadlines and case.enterprise is not None


def facts(case: Case) -> dict[Fact, Decimal]:
    """What the case contributes to the counters as it stands."""
    out: dict[Fact, Decimal] = defaultdict(Decimal)
    one = Decimal(1)
    out[Fact("received", day_of(case.registered_at))] += one
    out[Fact(f"status_{case.status}", None)] += one
    for name, metric in (("refused", "refused"), ("routed_regular", "routed_regular"), ("declined", "declined")):
        event = _first(case, name)
        if event is not None:
            out[Fact(metric, day_of(event.at))] += one
    dispatched = _first(case, "dispatched")
    if dispatched is not None and is_dispatched(case):
        out[Fact("dispatched", day_of(dispatched.at))] += one
    accepted = _first(case, "accepted")
    if accepted is not None:
        out[Fact("accepted", day_of(accepted.at))] += one
        due = case.deadlines.get("acceptance")
        if due is not None and accepted.at < due.due_at:
            out[Fact("accepted_on_time", day_of(accepted.at))] += one
    overdue = _first(case, "overdue")
    if overdue is not None:
        out[Fact("overdue", day_of(overdue.at))] += one
    for event in _events(case, "sent_back"):
        out[Fact("sent_back", day_of(event.at))] += one
    if case.status == "closed" and case.closed_at is not None:
        out.update(_closure_facts(case, day_of(case.closed_at)))
    return dict(out)


def _closure_facts(case: Case, day: date) -> dict[Fact, Decimal]:
    one = Decimal(1)
    out: dict[Fact, Decimal] = {Fact("closed", day): one}
    if case.outcome is not None:
        out[Fact(case.outcome, day)] = one
    if case.recovered_amount:
        out[Fact("recovered_amount", day)] = case.recovered_amount
    if is_dispatched(case) and case.outcome != "withdrawn":
        cycle = case.cycle_days or Decimal(0)
        out[Fact("handled", day)] = one
        out[Fact("cycle_days", day)] = cycle
        out[Fact(cycle_bucket(cycle), day)] = one
        if case.outcome in ODR_OUTCOMES and not case.overdue:
            out[Fact("closed_on_time", day)] = one
    return out


def contribution(case: Case | None) -> Deltas:
    """The case's facts spread over its scopes and buckets."""
    out: Deltas = {}
    if case is None:
        return out
    where = scopes(case)
    for fact, value in facts(case).items():
        for scope in where:
            for bucket in buckets(fact.day, scope):
                values = out.setdefault((scope, bucket), {})
                values[fact.metric] = values.get(fact.metric, Decimal(0)) + value
    return out


def change_deltas(old: Case | None, new: Case | None) -> Deltas:
    """What the counters must add when ``old`` becomes ``new``; only non-zero values."""
    before, after = contribution(old), contribution(new)
    out: Deltas = {}
    for key in before.keys() | after.keys():
        b, a = before.get(key, {}), after.get(key, {})
        values = {m: a.get(m, Decimal(0)) - b.get(m, Decimal(0)) for m in b.keys() | a.keys()}
        values = {m: v for m, v in values.items() if v}
        if values:
            out[key] = values
    return out


@dataclass
class CountResult:
    applied: int = 0
    duplicates: int = 0
    no_change: int = 0


def count_changes(changes: Iterable[CaseChange], sink: CounterSink, now: datetime) -> CountResult:
    """Count a batch of changes (in stream order) together; a change already counted (a redelivered record) is
    skipped, a change that adds nothing writes nothing."""
    result = CountResult()
    counted: list[Counted] = []
    for change in changes:
        deltas = change_deltas(change.old, change.new)
        if deltas:
            counted.append(Counted(change.complaint_id, change.version, deltas))
        else:
            result.no_change += 1
    result.applied = sink.fold(counted, now) if counted else 0
    result.duplicates = len(counted) - result.applied
    return result


@dataclass
class CounterBook:
    """Counters in memory: a recount from case records, or seed data for benchmarks."""

    items: dict[CounterKey, Values] = field(default_factory=dict)

    def add(self, deltas: Deltas) -> None:
        for key, values in deltas.items():
            target = self.items.setdefault(key, {})
            for metric, value in values.items():
                target[metric] = target.get(metric, Decimal(0)) + value

    def read(self, scope: str, first: str, last: str) -> list[CounterItem]:
        return [
            CounterItem(bucket, dict(values))
            for (s, bucket), values in sorted(self.items.items())
            if s == scope and first <= bucket <= last
        ]


def recount(cases: Iterable[Case]) -> CounterBook:
    """The counters as they must be for these cases."""
    book = CounterBook()
    for case in cases:
        book.add(contribution(case))
    return book


def differences(expected: Mapping[CounterKey, Values], actual: Mapping[CounterKey, Values]) -> list[str]:
    """Every counter that differs (a missing counter counts as zero), as readable lines."""
    out = []
    for key in sorted(expected.keys() | actual.keys()):
        e, a = expected.get(key, {}), actual.get(key, {})
        for metric in sorted(e.keys() | a.keys()):
            want, got = e.get(metric, Decimal(0)), a.get(metric, Decimal(0))
            if want != got:
                out.append(f"{key[0]} {key[1]} {metric}: counted {got}, recount {want}")
    return out
