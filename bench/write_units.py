"""DynamoDB write units per case on the local stack (prints figures, asserts nothing).

Runs a scenario (default scenarios/jinshan-week.yaml) with a meter on moto's DynamoDB backend that sees every
write with the item before and after it, and prices it as on-demand DynamoDB does:

- the table: 1 write unit per started KB of the larger of the item before and after the write, x2 inside a
  transaction;
- each global secondary index: an item entering the index is a put of its projected size, leaving it a delete,
  a change of the index key a delete and a put, a change of a projected attribute an update, and a write that
  changes nothing the index projects costs the index nothing.

Figures are per case of the scenario, by what was written (the case item by the history event the write added,
the record beside the case, the counters and their markers, links, ...). Baselines from the same run: the
indexes as if they projected ALL, and the counters as if every change were one transaction.

Run: .venv/bin/python bench/write_units.py [SCENARIO]
"""

from __future__ import annotations

import io
import json
import math
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.utilities import bytesize

ROOT = Path(__file__).resolve().parents[1]

from odr_local.invoker import FunctionOutput  # noqa: E402
from odr_local.runner import ScenarioRun, stack_for  # noqa: E402
from odr_local.scenario import Scenario  # noqa: E402

KB = 1024
OUT = ROOT / "build" / "bench"


def units(size: int) -> int:
    return max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class IndexEntry:
    """An item as one index sees it: its index key, its projected size and what it projects."""

    key: tuple[str, ...]
    size: int
    content: str


@dataclass(frozen=True)
class Seen:
    """An item as the meter needs it before or after a write."""

    size: int
    record: int  # bytes of a case item's 12315 record (its attribute), 0 for other items
    kind: str
    entries: dict[str, IndexEntry | None]  # index name -> entry as projected (None: not in the index)
    entries_if_all: dict[str, IndexEntry | None]


def _kind(item: Item) -> str:
    """What an item is, by its keys (and, for a case item, the history event its latest version added)."""
    pk = str(item.attrs["pk"].value) if "pk" in item.attrs else ""
    sk = str(item.attrs["sk"].value) if "sk" in item.attrs else ""
    if pk.startswith("CASE#"):
        if sk != "CASE":
            return f"case {sk.split('#')[0].lower()}"
        history = item.attrs.get("history")
        last = history.value[-1].value if history is not None and history.value else {}
        event = last.get("event")
        return f"case item: {event.value if event is not None else '?'}"
    prefix = pk.split("#")[0]
    if prefix == "APPLIED":
        return "counter marker"
    if prefix == "FOLD":
        return "fold"
    if prefix in ("ALL", "CLASS", "ENT", "STATION"):
        return "counter"
    return prefix.lower() or "?"


def _entry(item: Item, table: Any, index: Any, projection: dict[str, Any]) -> IndexEntry | None:
    key_names = [k["AttributeName"] for k in index.schema]
    if any(name not in item.attrs for name in key_names):
        return None
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        names = list(item.attrs)
    else:
        names = [*key_names, table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
        if kind == "INCLUDE":
            names += projection.get("NonKeyAttributes", [])
    projected = {n: item.attrs[n] for n in dict.fromkeys(names) if n in item.attrs}
    size = sum(bytesize(n) + v.size() for n, v in projected.items())
    content = json.dumps({n: v.to_json() for n, v in projected.items()}, sort_keys=True, default=str)
    return IndexEntry(tuple(str(item.attrs[n].value) for n in key_names), size, content)


def seen(item: Item | None, table: Any) -> Seen | None:
    if item is None:
        return None
    indexes = table.global_indexes or []
    record = item.attrs.get("record")
    return Seen(
        item.size(),
        bytesize("record") + record.size() if record is not None and _kind(item).startswith("case item") else 0,
        _kind(item),
        {i.name: _entry(item, table, i, i.projection) for i in indexes},
        {i.name: _entry(item, table, i, {"ProjectionType": "ALL"}) for i in indexes},
    )


def index_units(before: IndexEntry | None, after: IndexEntry | None) -> int:
    if before is None and after is None:
        return 0
    if before is None:
        return units(after.size)  # type: ignore[union-attr]
    if after is None:
        return units(before.size)
    if before.key != after.key:
        return units(before.size) + units(after.size)
    if before.content == after.content:
        return 0
    return units(max(before.size, after.size))


@dataclass
class Tally:
    writes: int = 0
    table: int = 0
    index: int = 0
    index_if_all: int = 0
    transactional: int = 0  # writes made inside a transaction (their units counted twice above)
    without_record: int = 0  # table units had the case item not carried the record
    sizes: list[int] = field(default_factory=list)


class WriteMeter:
    """Wraps moto's DynamoDB backend so that every successful write is priced (see the module doc)."""

    def __init__(self) -> None:
        self.tally: dict[str, Tally] = defaultdict(Tally)
        self.transactions = 0
        self.lock = threading.Lock()
        self.local = threading.local()
        self.saved: dict[str, Callable[..., Any]] = {}

    def record(self, before: Seen | None, after: Seen | None) -> None:
        pending = getattr(self.local, "pending", None)
        entry = (before, after, pending is not None)
        if pending is not None:
            pending.append(entry)
        else:
            self._add(*entry)

    def _add(self, before: Seen | None, after: Seen | None, transactional: bool) -> None:
        both = before or after
        assert both is not None
        kind = (after or before).kind  # type: ignore[union-attr]
        factor = 2 if transactional else 1
        size = max(before.size if before else 0, after.size if after else 0)
        names = both.entries.keys()
        with self.lock:
            t = self.tally[kind]
            t.writes += 1
            t.transactional += transactional
            t.table += factor * units(size)
            t.without_record += factor * units(
                max(before.size - before.record if before else 0, after.size - after.record if after else 0)
            )
            t.sizes.append(after.size if after else 0)
            for name in names:
                t.index += index_units(before.entries[name] if before else None, after.entries[name] if after else None)
                t.index_if_all += index_units(
                    before.entries_if_all[name] if before else None, after.entries_if_all[name] if after else None
                )

    @contextmanager
    def installed(self) -> Iterator[WriteMeter]:
        backend = dynamodb_models.DynamoDBBackend
        meter = self
        names = ("put_item", "update_item", "delete_item", "transact_write_items")
        self.saved = {name: getattr(backend, name) for name in names}
        put, update, delete, transact = (self.saved[n] for n in names)

        def _current(self: Any, table_name: str, key_or_item: dict[str, Any]) -> tuple[Any, Item | None]:
            table = self.get_table(table_name)
            hash_value = dynamodb_models.DynamoType(key_or_item[table.hash_key_attr])
            range_value = (
                dynamodb_models.DynamoType(key_or_item[table.range_key_attr]) if table.range_key_attr else None
            )
            return table, table.get_item(hash_value, range_value)

        def metered_put(self: Any, table_name: str, item_attrs: dict[str, Any], *a: Any, **kw: Any) -> Any:
            table, old = _current(self, table_name, item_attrs)
            before = seen(old, table)
            new = put(self, table_name, item_attrs, *a, **kw)
            meter.record(before, seen(new, table))
            return new

        def metered_update(self: Any, table_name: str, key: dict[str, Any], *a: Any, **kw: Any) -> Any:
            table, old = _current(self, table_name, key)
            before = seen(old, table)
            new = update(self, table_name, key, *a, **kw)
            meter.record(before, seen(new, table))
            return new

        def metered_delete(self: Any, table_name: str, key: dict[str, Any], *a: Any, **kw: Any) -> Any:
            table, old = _current(self, table_name, key)
            before = seen(old, table)
            gone = delete(self, table_name, key, *a, **kw)
            if gone is not None:
                meter.record(before, None)
            return gone

        def metered_transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
            meter.local.pending = []
            try:
                transact(self, transact_items)
                pending, meter.local.pending = meter.local.pending, None
            finally:
                meter.local.pending = None
            meter.transactions += 1
            for entry in pending:
                meter._add(*entry)

        backend.put_item = metered_put  # type: ignore[method-assign]
        backend.update_item = metered_update  # type: ignore[method-assign]
        backend.delete_item = metered_delete  # type: ignore[method-assign]
        backend.transact_write_items = metered_transact  # type: ignore[method-assign]
        try:
            yield self
        finally:
            for name, original in self.saved.items():
                setattr(backend, name, original)


SCHEDULED = ("feed",)  # the poller's lease and cursor: written by the clock, not per complaint


def _group(kind: str) -> str:
    if kind.startswith("case item"):
        return "case item"
    if kind.startswith("counter") or kind == "fold":
        return "counters"
    return kind


def figures(meter: WriteMeter, cases: int) -> dict[str, float]:
    """The run's figures per case (see the module doc); ``write_units_per_case`` counts every write of the run,
    ``per_complaint`` leaves out the scheduled ones (the poller's lease and cursor)."""
    per = float(cases)
    tallies = meter.tally
    every = sum(t.table + t.index for t in tallies.values())
    scheduled = sum(t.table + t.index for k, t in tallies.items() if k in SCHEDULED)
    case_item = [t for k, t in tallies.items() if k.startswith("case item")]
    counters = [t for k, t in tallies.items() if _group(k) == "counters"]
    index = sum(t.index for t in tallies.values())
    if_all = sum(t.index_if_all for t in tallies.values())
    counter_units = sum(t.table for t in counters)
    counter_transactional = sum(2 * units(size) for t in counters for size in t.sizes)
    return {
        "write_units_per_case": every / per,
        "per_complaint": (every - scheduled) / per,
        "scheduled": scheduled / per,
        "indexes": index / per,
        "indexes_if_all": if_all / per,
        "case_item_table": sum(t.table for t in case_item) / per,
        "case_item_table_without_record": sum(t.without_record for t in case_item) / per,
        "case_item_writes": sum(t.writes for t in case_item) / per,
        "case_item_kb": sum(sum(t.sizes) for t in case_item) / max(1, sum(len(t.sizes) for t in case_item)) / KB,
        "counters": counter_units / per,
        "counters_if_transactional": counter_transactional / per,
        "transactions": meter.transactions / per,
    }


def print_figures(meter: WriteMeter, cases: int, name: str, out: Any) -> dict[str, float]:
    per = float(cases)
    rows = sorted(meter.tally.items(), key=lambda kv: -(kv[1].table + kv[1].index))
    print(f"\nscenario {name}: {cases} cases; write units per case (1 per started KB, x2 in a transaction)", file=out)
    print(f"\n{'written':34} {'writes':>7} {'avg KB':>7} {'table':>7} {'indexes':>8} {'(if ALL)':>9}", file=out)
    for kind, t in rows:
        avg = sum(t.sizes) / len(t.sizes) / KB if t.sizes else 0
        print(
            f"{kind:34} {t.writes / per:7.2f} {avg:7.2f} {t.table / per:7.2f} {t.index / per:8.2f}"
            f" {t.index_if_all / per:9.2f}",
            file=out,
        )
    groups: dict[str, list[Tally]] = defaultdict(list)
    for kind, t in meter.tally.items():
        groups[_group(kind)].append(t)
    print(f"\n{'by group':34} {'writes':>7} {'units':>7} {'share':>7}", file=out)
    total = sum(t.table + t.index for t in meter.tally.values())
    for group, tallies in sorted(groups.items(), key=lambda kv: -sum(t.table + t.index for t in kv[1])):
        u = sum(t.table + t.index for t in tallies)
        w = sum(t.writes for t in tallies)
        print(f"{group:34} {w / per:7.2f} {u / per:7.2f} {u / total:7.0%}", file=out)
    f = figures(meter, cases)
    print(f"\nwrite units per case: {f['write_units_per_case']:.1f} (every write of the run)", file=out)
    print(
        f"write units per complaint: {f['per_complaint']:.1f} (the poller's lease and cursor left out:"
        f" {f['scheduled']:.1f}, written by the clock)",
        file=out,
    )
    print("\nagainst baselines in the same run (the same writes, priced as they would have been):", file=out)
    print(
        f"  indexes {f['indexes']:.1f} as deployed, {f['indexes_if_all']:.1f} if every index projected ALL"
        f" (ratio {f['indexes'] / f['indexes_if_all'] if f['indexes_if_all'] else 0:.2f})",
        file=out,
    )
    print(
        f"  case item {f['case_item_table']:.1f} ({f['case_item_writes']:.1f} writes of {f['case_item_kb']:.2f} KB),"
        f" {f['case_item_table_without_record']:.1f} without the record in it"
        f" (ratio {f['case_item_table_without_record'] / f['case_item_table'] if f['case_item_table'] else 0:.2f})",
        file=out,
    )
    print(
        f"  counters {f['counters']:.1f} ({f['transactions']:.1f} transactions per case), "
        f"{f['counters_if_transactional']:.1f} with every counter write inside a transaction"
        f" (ratio {f['counters'] / f['counters_if_transactional'] if f['counters_if_transactional'] else 0:.2f})",
        file=out,
    )
    return f


def case_item_attributes(out: Any) -> None:
    """What the stored case items hold at the end of the run: bytes per attribute, on average."""
    sizes: dict[str, int] = defaultdict(int)
    count = 0
    for backend in dynamodb_models.dynamodb_backends.values():
        for regional in backend.values():
            for table in regional.tables.values():
                for item in table.all_items():
                    if item.attrs.get("sk") is not None and item.attrs["sk"].value == "CASE":
                        count += 1
                        for name, value in item.attrs.items():
                            sizes[name] += bytesize(name) + value.size()
    if not count:
        return
    total = sum(sizes.values()) / count
    print(f"\ncase item at the end of the run: {total / KB:.2f} KB on average, of which", file=out)
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {name:24} {size / count:7.0f} bytes", file=out)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "scenarios" / "jinshan-week.yaml"
    screen = sys.stdout
    sys.stdout = FunctionOutput(ROOT / "build" / "logs", io.StringIO())
    scenario = Scenario.load(path)
    stack = stack_for(scenario)
    meter = WriteMeter()
    try:
        with meter.installed():
            result = ScenarioRun(scenario, stack, io.StringIO()).run()
        case_item_attributes(screen)
    finally:
        stack.stop()
    found = print_figures(meter, len(result["cases"]), scenario.name, screen)
    ingestion = result.get("ingestion") or {}
    if ingestion.get("offered"):  # the same run's intake: what the writes above were fed with
        found["deliveries_per_record"] = ingestion["deliveries"] / ingestion["offered"]
        print(
            f"\n(the same run) deliveries into the intake queue per record: {found['deliveries_per_record']:.2f}",
            file=screen,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "write_units.json").write_text(json.dumps({"scenario": scenario.name, **found}, indent=2) + "\n")


if __name__ == "__main__":
    main()
