"""What a report costs as cases accumulate (prints figures, asserts nothing).

Seeds the statistics table (moto, in-process) with the counters of 1,000 and then 50,000 synthetic cases spread
over 2026, computed by the domain's own counting (``counters.recount``), and counts the DynamoDB items that the
report, the trend and the scorecards read for a week, a month and the year. The counts depend on the period and
the number of scopes (classes, enterprises, stations), not on the number of cases.

Run: .venv/bin/python bench/report_reads.py
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
from moto import mock_aws

from odr_adapter.data_access.clients import client
from odr_adapter.data_access.stats import StatsStore
from odr_adapter.models.case import Case, EnterpriseRef, HistoryEvent
from odr_adapter.models.deadlines import Deadline
from odr_adapter.models.directory import District
from odr_adapter.models.scorecard_rules import ScorecardRules
from odr_adapter.stats.counters import recount
from odr_adapter.stats.figures import Period, build_report
from odr_adapter.stats.scorecards import scorecards
from odr_cli.district_files import read_district

ROOT = Path(__file__).resolve().parents[1]
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
PERIODS = {
    "a week": Period(date(2026, 11, 23), date(2026, 11, 29)),
    "a month": Period(date(2026, 11, 1), date(2026, 11, 30)),
    "the year": Period(date(2026, 1, 1), date(2026, 12, 31)),
}
PATHS = ("settled", "settled", "settled", "not_settled", "overdue", "withdrawn", "refused", "regular")


def synthetic_case(n: int, rng: random.Random, district: District) -> Case:
    """A closed case on one of the usual paths, with the history events the counters date facts by."""
    registered = YEAR + timedelta(seconds=rng.uniform(0, 364 * 86400))
    ent = rng.choice(district.enterprises)
    path = rng.choice(PATHS)

    def event(name: str, days: float) -> HistoryEvent:
        return HistoryEvent(version=0, event=name, actor="bench", at=registered + timedelta(days=days))

    history = [event("received", 0)]
    fields: dict[str, object] = {}
    if path in ("refused", "regular"):
        history.append(event("refused" if path == "refused" else "routed_regular", 0.01))
        outcome, closed_after = ("rejected" if path == "refused" else "returned"), 0.02
    else:
        due = registered + timedelta(days=2)
        fields = {
            "enterprise": EnterpriseRef(uscc=ent.uscc, name=ent.name, enterprise_class=ent.enterprise_class),
            "deadlines": {
                "acceptance": Deadline(
                    phase="acceptance",
                    due_at=due,
                    remind_at=due,
                    policy="2 个自然日",
                    calendar="natural-days",
                    calendar_version="n/a",
                )
            },
        }
        history.append(event("dispatched", 0.01))
        closed_after = rng.uniform(1, 9)
        if path == "overdue":
            history.append(event("overdue", 2))
            outcome, fields["overdue"] = "returned", True
        elif path == "withdrawn":
            outcome = "withdrawn"
        else:
            history.append(event("accepted", rng.uniform(0.1, 1.9)))
            outcome = path
    closed = registered + timedelta(days=closed_after)
    history.append(event("closed", closed_after))
    recovered = Decimal(rng.choice(("88.50", "199.00", "1299.00"))) if outcome == "settled" else Decimal("0.00")
    return Case(
        complaint_id=f"BENCH{n:07d}",
        revision=1,
        version=len(history),
        status="closed",
        outcome=outcome,
        registered_at=registered,
        received_at=registered,
        record={},
        execution_name=f"case-BENCH{n:07d}",
        station_code=ent.station_code if path != "refused" else None,
        closed_at=closed,
        cycle_days=Decimal(closed_after).quantize(Decimal("0.01")),
        recovered_amount=recovered,
        history=history,
        **fields,
    )


def buckets_in(period: Period) -> int:
    """Counter items per scope that cover the period (day items, or months plus the partial months' days)."""
    count = 0
    for first, last in period.ranges():
        if first.startswith("M#"):
            count += (int(last[2:6]) - int(first[2:6])) * 12 + int(last[7:9]) - int(first[7:9]) + 1
        else:
            count += (date.fromisoformat(last[2:]) - date.fromisoformat(first[2:])).days + 1
    return count


def measure(cases: int, district: District) -> dict[str, object]:
    rng = random.Random(12315)
    began = time.monotonic()
    book = recount(synthetic_case(n, rng, district) for n in range(cases))
    counted = time.monotonic() - began
    table = f"bench-stats-{cases}"
    boto3.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    store = StatsStore(table)
    store.add(book.items)
    stations = {s.code: s.name for s in district.stations}
    out: dict[str, object] = {"counter items stored": len(book.items), "recount (s)": round(counted, 1)}
    for label, period in PERIODS.items():
        store.items_read = 0
        report = build_report(store, period, stations)
        out[f"report, {label}"] = store.items_read
        store.items_read = 0
        scorecards(store, period, district.enterprises, ScorecardRules())
        out[f"scorecards, {label}"] = store.items_read
        if label == "the year":
            out["sentence"] = report.sentence()
    return out


def ceilings(district: District) -> dict[str, object]:
    """The most items each read can touch: every scope active on every day (or month) of the period."""
    report_scopes = 1 + 3 + len(district.stations)  # all cases, the classes, the stations
    out: dict[str, object] = {"counter items stored": "", "recount (s)": ""}
    for label, period in PERIODS.items():
        listed = [e for e in district.enterprises if e.delisted_on is None or e.delisted_on >= period.first]
        out[f"report, {label}"] = report_scopes * buckets_in(period) + 1  # + the lifetime item
        classes = len({e.enterprise_class for e in listed})  # each card beside its class's figures
        out[f"scorecards, {label}"] = (len(listed) + classes) * buckets_in(period)
    return out


def main() -> None:
    os.environ.update(AWS_DEFAULT_REGION="cn-north-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    district = read_district(ROOT / "data" / "district")
    with mock_aws():
        client.cache_clear()
        results = [measure(n, district) for n in (1_000, 50_000)]
    bound = ceilings(district)
    keys = [k for k in results[0] if k != "sentence"]
    width = max(len(k) for k in keys)
    print("DynamoDB items read (a report must not read more as cases accumulate):\n")
    print(f"{'':<{width}}  {'1,000 cases':>12}  {'50,000 cases':>12}  {'at most':>8}")
    for key in keys:
        print(f"{key:<{width}}  {results[0][key]!s:>12}  {results[1][key]!s:>12}  {bound[key]!s:>8}")
    for cases, r in zip((1_000, 50_000), results, strict=True):
        print(f"\n{cases:,} cases, 2026: {r['sentence']}")


if __name__ == "__main__":
    main()
