"""Statistics counters kept as cases move, so a report reads a few counter items instead of every case.

A case *contributes* facts (received on its registration day, dispatched on the day it went to the
enterprise, settled on its closing day, ...) to counters per scope (all cases, enterprise class, enterprise,
station) and per bucket (day and month in Asia/Shanghai, plus a lifetime total). A change of the case item
adds ``contribution(new) - contribution(old)``: facts are dated by the history, which is append-only, so a
fact counted once never moves, and the deltas of a case's successive versions telescope to its current
contribution. That makes the counters equal to a recount from the case records, whatever the order in which
the changes are counted. Each change is counted once: its deltas are written together with a marker for
(case, version) that may exist only once (see :mod:`odr_adapter.data_access.stats`).

Gauges (``status_*``: how many cases are in each status now) live in the lifetime bucket only. What each
counter means: docs/statistics.md.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from pydantic import ValidationError

from odr_adapter.clock import local
from odr_adapter.models.case import OPEN_STATUSES, Case, HistoryEvent

ALL = "ALL"
LIFETIME = "T"
MARKER_DAYS = 7  # markers outlive any redelivery: stream records are kept 24 hours
ODR_OUTCOMES = ("settled", "not_settled")
OUTCOMES = ("settled", "not_settled", "returned", "withdrawn", "rejected")
STATUSES = (*OPEN_STATUSES, "closed")
CYCLE_EDGES = (1, 2, 3, 5, 7, 10, 15)  # days: the cycle-time distribution's bucket edges

CounterKey = tuple[str, str]  # (scope, bucket)
Values = dict[str, Decimal]
Deltas = dict[CounterKey, Values]


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


def buckets(day: date | None) -> tuple[str, ...]:
    if day is None:
        return (LIFETIME,)
    return (f"D#{day.isoformat()}", f"M#{day:%Y-%m}", LIFETIME)


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
            for bucket in buckets(fact.day):
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


class CaseItemInvalid(ValueError):
    """A case item the counters cannot read; says which fields, never their values (they may be personal)."""


def case_from_item(item: Mapping[str, Any]) -> Case | None:
    """The case in a stored case item (plain values, as a stream image holds them); None for other items."""
    if not str(item.get("pk", "")).startswith("CASE#") or item.get("sk") != "CASE":
        return None
    doc = {k: v for k, v in item.items() if k in Case.model_fields}  # not the index attributes
    try:
        record = doc.get("record")
        doc["record"] = json.loads(record) if isinstance(record, str) else record or {}
        return Case.model_validate(doc)
    except (ValueError, ValidationError) as exc:
        problems = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors(include_input=False))
            if isinstance(exc, ValidationError)
            else "record is not JSON"
        )
        raise CaseItemInvalid(
            f"{item['pk']} version {item.get('version')} is not a readable case: {problems}"
        ) from None


@dataclass(frozen=True)
class Marker:
    """Says that one version of one case was counted; it may exist only once."""

    complaint_id: str
    version: int
    expires_at: datetime


@dataclass(frozen=True)
class CaseChange:
    complaint_id: str
    version: int
    old: Case | None
    new: Case

    @classmethod
    def from_items(cls, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> CaseChange | None:
        """A change of a case item (INSERT or MODIFY); None for other items and for deletions, which do
        not rewrite statistics (purging old cases must not change the figures of past periods)."""
        after = case_from_item(new) if new else None
        if after is None:
            return None
        return cls(after.complaint_id, after.version, case_from_item(old) if old else None, after)


class CounterSink(Protocol):
    def apply(self, marker: Marker, deltas: Deltas) -> bool:
        """Add ``deltas`` unless ``marker`` exists, atomically with writing it; False when it existed."""
        ...


@dataclass
class CountResult:
    applied: int = 0
    duplicates: int = 0
    no_change: int = 0


def count_changes(changes: Iterable[CaseChange], sink: CounterSink, now: datetime) -> CountResult:
    """Count changes in order; a change already counted (a redelivered record) is skipped."""
    result = CountResult()
    expires = now + timedelta(days=MARKER_DAYS)
    for change in changes:
        deltas = change_deltas(change.old, change.new)
        if not deltas:
            result.no_change += 1
        elif sink.apply(Marker(change.complaint_id, change.version, expires), deltas):
            result.applied += 1
        else:
            result.duplicates += 1
    return result


class CounterItem(NamedTuple):
    bucket: str
    values: Values


class CounterReader(Protocol):
    def read(self, scope: str, first: str, last: str) -> list[CounterItem]:
        """The scope's counter items with ``first <= bucket <= last``, in bucket order."""
        ...


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
