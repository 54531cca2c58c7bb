"""The statistics table: counter items and the markers that make counting exactly-once.

Counters: ``pk=<scope>`` (``ALL``, ``CLASS#A``, ``ENT#<uscc>``, ``STATION#<code>``), ``sk=<bucket>``
(``D#2026-11-30``, ``M#2026-11``, ``T``), one numeric attribute per metric, only ever changed by ``ADD``.
Markers: ``pk=APPLIED#<complaint id>``, ``sk=V#<version>``, expiring (TTL ``expires_at``) after the stream
can no longer redeliver the change. A change's ``ADD``s and its marker go in one transaction whose marker
``Put`` requires the marker to be absent: a redelivered change cancels the whole transaction.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from odr_adapter.clock import pause
from odr_adapter.data_access.case_items import case_from_item
from odr_adapter.data_access.clients import client
from odr_adapter.models.case import Case
from odr_adapter.models.counters import ALL, LIFETIME, CounterItem, CounterKey, Deltas, Marker, Values

MARKER_PREFIX = "APPLIED#"
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
_MAX_TRANSACTION = 100
_DES = TypeDeserializer()


def _update(table: str, key: CounterKey, values: Values) -> dict[str, Any]:
    names = {f"#m{i}": metric for i, metric in enumerate(sorted(values))}
    return {
        "TableName": table,
        "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
        "UpdateExpression": "ADD " + ", ".join(f"{n} :v{n[2:]}" for n in names),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":v{n[2:]}": {"N": str(values[m])} for n, m in names.items()},
    }


class StatsStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")
        self.items_read = 0  # for the benchmark: what reports cost

    def apply(self, marker: Marker, deltas: Deltas) -> bool:
        """Add ``deltas`` and write ``marker`` in one transaction; False when the marker already existed."""
        if len(deltas) + 1 > _MAX_TRANSACTION:
            raise ValueError(f"{len(deltas)} counter items exceed one transaction")
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "pk": {"S": f"{MARKER_PREFIX}{marker.complaint_id}"},
                        "sk": {"S": f"V#{marker.version:08d}"},
                        "expires_at": {"N": str(int(marker.expires_at.timestamp()))},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        # The all-time total of all cases goes last: a reader that finds it up to date (reports.counts_cover)
        # finds the change's other counters written too, where writes become visible one by one.
        order = sorted(deltas, key=lambda key: (key == (ALL, LIFETIME), key))
        actions += [{"Update": _update(self.table, key, deltas[key])} for key in order]
        for attempt in range(6):
            try:
                self.db.transact_write_items(TransactItems=actions)
                return True
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                if attempt == 5 or not _RETRYABLE & set(reasons):
                    raise
                # Two changes met on a hot counter (``ALL``/``T``): try again shortly.
                pause(random.uniform(0, 0.05 * 2**attempt))
        raise AssertionError("unreachable")

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
                if not item["pk"]["S"].startswith(MARKER_PREFIX):
                    out[(item["pk"]["S"], item["sk"]["S"])] = _values(item)
        return out


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
