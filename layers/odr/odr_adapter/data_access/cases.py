"""The case table: one item per case (its append-only history inside it) and four sparse indexes.

Keys: ``pk=CASE#<id>``, ``sk=CASE``. Indexes (Query only): ``ByDue`` (open cases by the deadline they wait
on), ``ByOwed`` (cases that owe something, by how long: keys only), ``ByStation`` and ``ByEnterprise`` (by
registration time). Every write is one PutItem conditioned on
the version read, so it costs one write and needs no transaction.

The indexes project the keys and only what their queries filter on (``remind_at``; ``status``, and on
``ByStation`` ``enterprise_pk``): a case write then costs an index write only when one of those changes, not
each time, and a case found is read whole from the table (:func:`fetch_items`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from odr_adapter.clock import iso_z, pause
from odr_adapter.data_access.case_items import OPEN_DUE, OWES, case_item, case_of
from odr_adapter.data_access.clients import client
from odr_adapter.data_access.conditional import write_once, write_or_found
from odr_adapter.models.case import Case, HistoryEvent, StaleCase

_SER = TypeSerializer()
_DES = TypeDeserializer()
_BATCH_GET = 100  # keys per BatchGetItem call, DynamoDB's limit
_BATCH_ATTEMPTS = 8


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _integers(_DES.deserialize(v)) for k, v in item.items()}


def _integers(value: Any) -> Any:
    """Numbers come back as they went in: the case document stores only integers as numbers (decimals are
    strings in its JSON form), so a rewritten case keeps ``1`` in its history, not ``"1"``."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


def fetch_items(
    db: Any, table: str, found: list[dict[str, Any]], projection: str | None = None
) -> list[dict[str, Any]]:
    """The table items of items an index Query found (plain values; whole, or the attributes ``projection``
    names), in the order found; an item gone since is left out. BatchGetItem, 100 keys a call, eventually
    consistent as the index itself; what it leaves unprocessed (throttled) is asked again after a pause."""
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in found]
    got: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(keys), _BATCH_GET):
        wanted: list[dict[str, Any]] = [_item(key) for key in keys[start : start + _BATCH_GET]]
        for attempt in range(_BATCH_ATTEMPTS):
            request: dict[str, Any] = {"Keys": wanted, **({"ProjectionExpression": projection} if projection else {})}
            answer = db.batch_get_item(RequestItems={table: request})
            for item in answer["Responses"].get(table, []):
                plain = _plain(item)
                got[(plain["pk"], plain["sk"])] = plain
            wanted = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not wanted:
                break
            if attempt == _BATCH_ATTEMPTS - 1:
                raise RuntimeError(f"{len(wanted)} items still unprocessed after {_BATCH_ATTEMPTS} BatchGetItem calls")
            pause(random.uniform(0, 0.05 * 2**attempt))
    return [got[k] for k in ((key["pk"], key["sk"]) for key in keys) if k in got]


def _case_key(complaint_id: str) -> dict[str, Any]:
    return _item({"pk": f"CASE#{complaint_id}", "sk": "CASE"})


class CaseStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def get(self, complaint_id: str, consistent: bool = True) -> Case | None:
        got = self.db.get_item(TableName=self.table, Key=_case_key(complaint_id), ConsistentRead=consistent)
        if "Item" not in got:
            return None
        return case_of(_plain(got["Item"]))

    def save(self, case: Case, event: HistoryEvent) -> Case:
        """Write ``case`` (version n, ending with ``event``) if the stored version is still n-1."""
        if not case.history or case.history[-1] != event:
            raise ValueError("a case is saved with the history event of its transition")
        expected = case.version - 1
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected == 0
            else {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected)}},
            }
        )
        writer = {"S": uuid.uuid4().hex}  # this write's own mark: two identical writes are still told apart
        if not write_once(
            self.db.put_item,
            lambda old: old.get("writer") == writer,  # this write, its answer lost and retried
            TableName=self.table,
            Item={**_item(case_item(case)), "writer": writer},
            **condition,
        ):
            raise StaleCase(f"case {case.complaint_id} changed since version {expected}")
        return case

    def create(self, case: Case, event: HistoryEvent) -> Case | None:
        """Write a new case (version 1) unless one is stored: one conditional PutItem whose failure carries the
        stored case (ALL_OLD), returned then, with nothing written. None when this call wrote it (or its answer
        was lost and botocore's retry met this very write)."""
        if case.version != 1 or case.history != [event]:
            raise ValueError("a new case is created with its first history event")
        writer = {"S": uuid.uuid4().hex}
        found = write_or_found(
            self.db.put_item,
            lambda old: old.get("writer") == writer,
            TableName=self.table,
            Item={**_item(case_item(case)), "writer": writer},
            ConditionExpression="attribute_not_exists(pk)",
        )
        return None if found is None else case_of(_plain(found))

    def history(self, complaint_id: str) -> list[HistoryEvent]:
        case = self.get(complaint_id)
        return case.history if case else []

    def due_before(self, when: datetime) -> list[Case]:
        """Open cases whose current deadline is before ``when``, soonest first."""
        return self._cases(
            IndexName="ByDue",
            KeyConditionExpression="due_pk = :o AND due_at < :t",
            ExpressionAttributeValues=_item({":o": OPEN_DUE, ":t": iso_z(when)}),
        )

    def reminders_due(self, now: datetime, lookahead: timedelta) -> list[Case]:
        """Open cases due within ``lookahead`` whose pending reminder is due by ``now`` (the rest is filtered
        out before it leaves DynamoDB). Within means up to and including: a reminder due 24 hours before its
        deadline is found by the sweep at that very instant."""
        return self._cases(
            IndexName="ByDue",
            KeyConditionExpression="due_pk = :o AND due_at <= :t",
            FilterExpression="remind_at <= :now",
            ExpressionAttributeValues=_item({":o": OPEN_DUE, ":t": iso_z(now + lookahead), ":now": iso_z(now)}),
        )

    def held(self, complaint_ids: list[str]) -> dict[str, int]:
        """The revision each stored case holds, for those owing nothing (ByOwed's ``owes_pk`` absent): what the
        poller need not queue again. Eventually consistent: a case just written may be missing (its record is
        then queued once more, which intake drops)."""
        found = fetch_items(
            self.db,
            self.table,
            [{"pk": f"CASE#{cid}", "sk": "CASE"} for cid in complaint_ids],
            projection="pk, sk, revision, owes_pk",
        )
        return {str(i["pk"]).removeprefix("CASE#"): int(i["revision"]) for i in found if "owes_pk" not in i}

    def owing(self, before: datetime) -> list[str]:
        """The ids of the cases that have owed something since before ``before``, longest owed first: one Query
        on ByOwed, a sparse index holding only the cases that owe (its keys only: the sweeper reads each case
        itself), so its cost follows what is owed, not how many cases are open."""
        found = self._query(
            IndexName="ByOwed",
            KeyConditionExpression="owes_pk = :o AND owes_since < :t",
            ExpressionAttributeValues=_item({":o": OWES, ":t": iso_z(before)}),
        )
        return [str(item["pk"]).removeprefix("CASE#") for item in found]

    def open_cases_off_the_owing_index(self) -> Iterator[Case]:
        """Open cases without ByOwed's attributes: the cases stored before the index existed. A paginated Scan,
        for the operator's one-off migration only (``odr cases heal --backfill``, docs/runbook.md); no
        function's role may Scan."""
        paginator = self.db.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table,
            FilterExpression="begins_with(pk, :case) AND sk = :sk AND #status <> :closed AND "
            "attribute_not_exists(owes_pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=_item({":case": "CASE#", ":sk": "CASE", ":closed": "closed"}),
        )
        for page in pages:
            for item in page["Items"]:
                yield case_of(_plain(item))

    def closed_for_station(self, station_code: str, registered_before: datetime) -> list[Case]:
        """A station's closed cases registered before a time (a case closed by then was registered before it)."""
        return self._cases(
            IndexName="ByStation",
            KeyConditionExpression="station_pk = :s AND reg_sk < :t",
            FilterExpression="#status = :closed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=_item(
                {":s": f"STATION#{station_code}", ":t": iso_z(registered_before), ":closed": "closed"}
            ),
        )

    def _cases(self, **query: Any) -> list[Case]:
        # The indexes project only the attributes their queries filter on: the cases found are read whole.
        return [case_of(i) for i in fetch_items(self.db, self.table, list(self._query(**query)))]

    def _query(self, **query: Any) -> Iterator[dict[str, Any]]:
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(TableName=self.table, **query):
            for item in page["Items"]:
                yield _plain(item)
