"""The statistics table: counter items, and what makes counting exactly-once without a transaction per change.

Counters: ``pk=<scope>`` (``ALL``, ``CLASS#A``, ``ENT#<uscc>``, ``STATION#<code>``), ``sk=<bucket>``
(``D#2026-11-30``, ``M#2026-11``, ``T``), one numeric attribute per metric, only ever changed by ``ADD``.

A stream batch is counted as one *fold*, numbered: the fold's deltas, summed per counter item, go first into
the fold item (``pk=FOLD``, ``sk=LEASE``: the fold's number, its journal and a lease time), written on the
condition that the fold before it is complete; then each counter item gets one ``ADD`` on the condition that
its ``fold`` attribute is below the fold's number (and sets it); then each case's marker (``pk=APPLIED#<id>``,
``sk=LAST``: the case's last counted version, expiring after 30 days) is raised to the version counted. So:

- only one fold runs at a time (the condition on the fold item), and fold numbers only grow;
- an item takes a fold's deltas at most once (its condition), so a fold finished again after a crash or by a
  second writer adds nothing twice; a fold is complete when its markers are written, which comes last, and
  the next fold finishes a dead one's journal (its lease run out) before it begins;
- a change is counted only when it is newer than its case's marker: a redelivered batch counts nothing, and a
  case's changes come in version order (its stream records do).

Each write is one item, outside any transaction: a change costs its counter items once, where a transaction
per change cost each of them twice plus a marker.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from odr_adapter.clock import pause
from odr_adapter.data_access.case_items import case_from_item
from odr_adapter.data_access.clients import client
from odr_adapter.models.case import Case
from odr_adapter.models.counters import ALL, LIFETIME, Counted, CounterItem, CounterKey, Deltas, Values

MARKER_PREFIX = "APPLIED#"
MARKER_DAYS = 30  # markers outlive any redelivery (stream records are kept 24 hours) and any quiet spell
LEASE_SECONDS = 120  # twice the counters function's timeout: a fold older than this is dead
WAITS = 8  # pauses for a running fold (25 s at most) before the batch is failed (Lambda delivers it again)
_FOLD = {"pk": {"S": "FOLD"}, "sk": {"S": "LEASE"}}
_BATCH_GET = 100
_DES = TypeDeserializer()


class FoldBusy(Exception):
    """Another fold is running and did not end in time: the batch is delivered again later."""


def _number(value: Decimal | int) -> dict[str, str]:
    return {"N": str(value)}


def _key(key: CounterKey) -> str:
    return f"{key[0]}|{key[1]}"


def _order(deltas: Deltas) -> list[CounterKey]:
    """Every item of the fold, the all-time total of all cases last: a reader that finds it up to date
    (figures.counts_cover) finds the fold's other counters written too, where writes become visible one by one."""
    return sorted(deltas, key=lambda key: (key == (ALL, LIFETIME), key))


def _update(table: str, key: CounterKey, values: Values) -> dict[str, Any]:
    names = {f"#m{i}": metric for i, metric in enumerate(sorted(values))}
    return {
        "TableName": table,
        "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
        "UpdateExpression": "ADD " + ", ".join(f"{n} :v{n[2:]}" for n in names),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":v{n[2:]}": {"N": str(values[m])} for n, m in names.items()},
    }


def _condition_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class Journal:
    """A fold as the fold item keeps it: its number, the deltas per counter item and each case's version."""

    def __init__(self, seq: int, deltas: Deltas, versions: dict[str, int]) -> None:
        self.seq, self.deltas, self.versions = seq, deltas, versions

    def stored(self) -> dict[str, Any]:
        return {
            "M": {
                "deltas": {
                    "M": {
                        _key(key): {"M": {m: _number(v) for m, v in values.items()}}
                        for key, values in self.deltas.items()
                    }
                },
                "versions": {"M": {cid: _number(v) for cid, v in self.versions.items()}},
            }
        }

    @classmethod
    def of(cls, seq: int, stored: dict[str, Any]) -> Journal:
        body = stored["M"]
        deltas: Deltas = {}
        for key, values in body["deltas"]["M"].items():
            scope, bucket = key.split("|", 1)
            deltas[(scope, bucket)] = {m: Decimal(v["N"]) for m, v in values["M"].items()}
        versions = {cid: int(v["N"]) for cid, v in body["versions"]["M"].items()}
        return cls(seq, deltas, versions)


class StatsStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")
        self.items_read = 0  # for the benchmark: what reports cost

    def fold(self, changes: list[Counted], now: datetime) -> int:
        """Count ``changes`` (one stream batch, in order) exactly once; how many were new (see the module doc)."""
        for attempt in range(WAITS + 1):
            fold = self.db.get_item(TableName=self.table, Key=_FOLD, ConsistentRead=True).get("Item", {})
            seq = int(fold["seq"]["N"]) if "seq" in fold else 0
            last = Journal.of(seq, fold["journal"]) if "journal" in fold else None
            cases = {c.complaint_id for c in changes} | set(last.versions if last else ())
            counted = self._markers(cases)
            if last is not None and not _complete(last, counted):
                if fold["until"]["S"] >= _text(now):
                    if attempt == WAITS:
                        raise FoldBusy(f"fold {seq} is still running")
                    pause(random.uniform(0.05, 0.2) * 2 ** min(attempt, 5))  # a fold takes well under a second
                    continue
                if not self._take_over(last, fold["until"]["S"], now):
                    continue  # another writer took it over first
                self._finish(last, now)
                continue
            fresh, versions = _fresh(changes, counted)
            if not fresh:
                return 0
            journal = Journal(seq + 1, _summed(fresh), versions)
            if not self._begin(journal, seq, now):
                continue  # another fold began first
            self._finish(journal, now)
            return len(fresh)
        raise AssertionError("unreachable")

    def _markers(self, cases: set[str]) -> dict[str, int]:
        """Each case's last counted version (consistent reads: a fold's markers are its last writes)."""
        out: dict[str, int] = {}
        ids = sorted(cases)
        for start in range(0, len(ids), _BATCH_GET):
            wanted: list[dict[str, Any]] = [
                {"pk": {"S": f"{MARKER_PREFIX}{cid}"}, "sk": {"S": "LAST"}} for cid in ids[start : start + _BATCH_GET]
            ]
            while wanted:
                got = self.db.batch_get_item(RequestItems={self.table: {"Keys": wanted, "ConsistentRead": True}})
                for item in got["Responses"].get(self.table, []):
                    out[item["pk"]["S"].removeprefix(MARKER_PREFIX)] = int(item["version"]["N"])
                wanted = got.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if wanted:
                    pause(random.uniform(0, 0.1))
        return out

    def _begin(self, journal: Journal, after: int, now: datetime) -> bool:
        """Store the fold's journal as fold ``after + 1``: False when another fold took that number."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_FOLD,
                UpdateExpression="SET seq = :seq, journal = :journal, #until = :until",
                ConditionExpression="attribute_not_exists(seq) OR seq = :after",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={
                    ":seq": _number(journal.seq),
                    ":after": _number(after),
                    ":journal": journal.stored(),
                    ":until": {"S": _text(now + timedelta(seconds=LEASE_SECONDS))},
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def _take_over(self, journal: Journal, until: str, now: datetime) -> bool:
        """Renew a dead fold's lease for this writer: False when another writer renewed it first."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_FOLD,
                UpdateExpression="SET #until = :until",
                ConditionExpression="seq = :seq AND #until = :seen",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={
                    ":seq": _number(journal.seq),
                    ":seen": {"S": until},
                    ":until": {"S": _text(now + timedelta(seconds=LEASE_SECONDS))},
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def _finish(self, journal: Journal, now: datetime) -> None:
        """Apply the journal to every counter item it names, then raise its cases' markers (both idempotent)."""
        fold = {"S": f"{journal.seq:012d}"}
        for key in _order(journal.deltas):
            update = _update(self.table, key, journal.deltas[key])
            update["UpdateExpression"] += " SET #fold = :fold"
            update["ConditionExpression"] = "attribute_not_exists(#fold) OR #fold < :fold"
            update["ExpressionAttributeNames"]["#fold"] = "fold"
            update["ExpressionAttributeValues"][":fold"] = fold
            self._conditional(update)
        expires = _number(int((now + timedelta(days=MARKER_DAYS)).timestamp()))
        for cid, version in sorted(journal.versions.items()):
            self._conditional(
                {
                    "TableName": self.table,
                    "Key": {"pk": {"S": f"{MARKER_PREFIX}{cid}"}, "sk": {"S": "LAST"}},
                    "UpdateExpression": "SET version = :v, expires_at = :e",
                    "ConditionExpression": "attribute_not_exists(version) OR version < :v",
                    "ExpressionAttributeValues": {":v": _number(version), ":e": expires},
                }
            )

    def _conditional(self, update: dict[str, Any]) -> None:
        """One conditional UpdateItem; a failed condition means it was already done."""
        try:
            self.db.update_item(**update)
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def add(self, deltas: Deltas) -> None:
        """Add without a marker: seeding counters computed elsewhere (benchmarks, a rebuild on a quiet table)."""
        for key, values in deltas.items():
            self.db.update_item(**_update(self.table, key, values))

    def read(self, scope: str, first: str, last: str) -> list[CounterItem]:
        out: list[CounterItem] = []
        for page in self.db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={":p": {"S": scope}, ":a": {"S": first}, ":b": {"S": last}},
        ):
            self.items_read += int(page["Count"])
            out.extend(CounterItem(i["sk"]["S"], _values(i)) for i in page["Items"])
        return out

    def everything(self) -> dict[CounterKey, Values]:
        """Every counter item (a Scan: for verification against a recount, never for reports)."""
        out: dict[CounterKey, Values] = {}
        for page in self.db.get_paginator("scan").paginate(TableName=self.table):
            for item in page["Items"]:
                if not item["pk"]["S"].startswith(MARKER_PREFIX) and item["pk"]["S"] != _FOLD["pk"]["S"]:
                    out[(item["pk"]["S"], item["sk"]["S"])] = _values(item)
        return out


def _fresh(changes: list[Counted], counted: dict[str, int]) -> tuple[list[Counted], dict[str, int]]:
    """The changes newer than their case's marker and than the case's changes before them in the batch, and each
    case's newest version among them."""
    fresh, versions = [], dict(counted)
    for change in changes:
        if change.version > versions.get(change.complaint_id, 0):
            fresh.append(change)
            versions[change.complaint_id] = change.version
    return fresh, {c.complaint_id: versions[c.complaint_id] for c in fresh}


def _summed(changes: list[Counted]) -> Deltas:
    """The changes' deltas added up per counter item (zeros left out): what the fold writes once per item."""
    out: Deltas = {}
    for change in changes:
        for key, values in change.deltas.items():
            target = out.setdefault(key, {})
            for metric, value in values.items():
                target[metric] = target.get(metric, Decimal(0)) + value
    return {key: kept for key, values in out.items() if (kept := {m: v for m, v in values.items() if v})}


def _complete(journal: Journal, counted: dict[str, int]) -> bool:
    """Whether a fold's markers are all written (its last step, so its counters are too)."""
    return all(counted.get(cid, 0) >= version for cid, version in journal.versions.items())


def _text(at: datetime) -> str:
    """One fixed UTC form, so that DynamoDB's string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _values(item: dict[str, Any]) -> Values:
    return {k: Decimal(v["N"]) for k, v in item.items() if "N" in v}


def scan_cases(cases_table: str) -> Iterator[Case]:
    """Every case in the case table (a Scan: for verifying the counters against a recount, never for reports)."""
    paginator = client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(
        TableName=cases_table,
        FilterExpression="sk = :case AND begins_with(pk, :prefix)",
        ExpressionAttributeValues={":case": {"S": "CASE"}, ":prefix": {"S": "CASE#"}},
    ):
        for item in page["Items"]:
            case = case_from_item({k: _DES.deserialize(v) for k, v in item.items()})
            if case is not None:
                yield case
