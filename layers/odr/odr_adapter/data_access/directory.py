"""The directory table: stations and ODR enterprises, loaded whole (a district has tens, not millions).

Items: ``pk=STATION, sk=<code>``, ``pk=ENTERPRISE, sk=<uscc>``, ``pk=CONFIG, sk=deadlines`` (the deadline
policies as JSON) and ``pk=CONFIG, sk=directory`` (the import revision). An import writes only the rows it
changes, in transactions of at most 100 operations; each one also moves the revision item, so an import
that read revision N fails, writing nothing more, once another import has moved it (see docs/rules.md).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from odr_adapter.clock import iso_z
from odr_adapter.data_access.clients import client
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import Change, District, Enterprise, Plan, Station

_SER = TypeSerializer()
_DES = TypeDeserializer()
_CACHE_SECONDS = 300.0
_POLICIES_KEY = {"pk": {"S": "CONFIG"}, "sk": {"S": "deadlines"}}
_REVISION_KEY = {"pk": {"S": "CONFIG"}, "sk": {"S": "directory"}}
TRANSACTION_LIMIT = 100  # DynamoDB TransactWriteItems: one of them is the revision item


class DirectoryChanged(Exception):
    """Someone else wrote the directory or the policies since they were read; re-run to see the new diff."""


@dataclass(frozen=True)
class Revision:
    """Which import the directory is at; ``state`` is ``writing`` while a multi-transaction import is under way."""

    revision: int = 0
    state: str = "done"
    source: str = ""
    at: str = ""
    import_id: str = ""


@dataclass(frozen=True)
class Snapshot:
    revision: Revision
    stations: list[Station]
    enterprises: list[Enterprise]


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items() if v is not None}


class DirectoryStore:
    def __init__(self, table: str, county_code: str = "310116") -> None:
        self.table = table
        self.county_code = county_code
        self.db = client("dynamodb")
        self._cached: tuple[float, District] | None = None
        self._cached_policies: tuple[float, DeadlinePolicies] | None = None

    def district(self) -> District:
        """The district as stored, cached for five minutes per warm container."""
        if self._cached and time.monotonic() - self._cached[0] < _CACHE_SECONDS:
            return self._cached[1]
        stations = [Station.model_validate(i) for i in self._items("STATION")]
        enterprises = [Enterprise.model_validate(i) for i in self._items("ENTERPRISE")]
        district = District(county_code=self.county_code, stations=stations, enterprises=enterprises)
        self._cached = (time.monotonic(), district)
        return district

    def snapshot(self) -> Snapshot:
        """Revision, stations and enterprises read fresh (strongly consistent), the base of an import's diff."""
        return Snapshot(
            self.revision(),
            [Station.model_validate(i) for i in self._items("STATION", consistent=True)],
            [Enterprise.model_validate(i) for i in self._items("ENTERPRISE", consistent=True)],
        )

    def revision(self) -> Revision:
        got = self.db.get_item(TableName=self.table, Key=_REVISION_KEY, ConsistentRead=True)
        if "Item" not in got:
            return Revision()
        item = {k: _DES.deserialize(v) for k, v in got["Item"].items()}
        return Revision(int(item["revision"]), item["state"], item["source"], item["at"], item["import_id"])

    def apply(self, plan: Plan, base: Revision, source: str, at: datetime) -> int:
        """Write the plan's rows if the directory is still at ``base``; the number of transactions used.

        Up to 99 rows go in one transaction with the revision item; a longer plan takes several, each
        atomic, the first conditioned on ``base`` and the next ones on this import's id.
        """
        writes = [self._write(plan.kind, change) for change in plan.changes]
        size = TRANSACTION_LIMIT - 1
        chunks = [writes[i : i + size] for i in range(0, len(writes), size)]
        import_id = uuid.uuid4().hex
        for number, chunk in enumerate(chunks):
            state = "done" if number == len(chunks) - 1 else "writing"
            marker = self._revision_update(base, import_id, first=number == 0, state=state, source=source, at=at)
            try:
                self.db.transact_write_items(TransactItems=[*chunk, marker])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                raise DirectoryChanged(
                    f"the directory changed since it was read; {number} of {len(chunks)} transaction(s) were "
                    "written before this one was refused; run the import again to see the new diff"
                ) from exc
        self._cached = None
        return len(chunks)

    def _write(self, kind: str, change: Change) -> dict[str, Any]:
        key = {"pk": {"S": kind}, "sk": {"S": change.key}}
        if change.row is None:
            return {"Delete": {"TableName": self.table, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}
        condition = "attribute_not_exists(pk)" if change.kind == "added" else "attribute_exists(pk)"
        item = {**_item(change.row), **key}
        return {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": condition}}

    def _revision_update(
        self, base: Revision, import_id: str, first: bool, state: str, source: str, at: datetime
    ) -> dict[str, Any]:
        values = {
            ":next": base.revision + 1,
            ":id": import_id,
            ":state": state,
            ":source": source,
            ":at": iso_z(at),
        }
        if first:
            condition = "attribute_not_exists(pk)" if base.revision == 0 else "#rev = :base"
            if base.revision:
                values[":base"] = base.revision
        else:
            condition = "#id = :id"
        return {
            "Update": {
                "TableName": self.table,
                "Key": _REVISION_KEY,
                "UpdateExpression": "SET #rev = :next, #id = :id, #state = :state, #source = :source, #at = :at",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {
                    "#rev": "revision",
                    "#id": "import_id",
                    "#state": "state",
                    "#source": "source",
                    "#at": "at",
                },
                "ExpressionAttributeValues": _item(values),
            }
        }

    def policies(self) -> DeadlinePolicies:
        """The district's deadline policies (item ``CONFIG/deadlines``), else the Jinshan defaults."""
        return self.policies_snapshot()[0]

    def deadline_policies(self) -> DeadlinePolicies:
        """:meth:`policies` for the workflow: read when first needed, then cached five minutes per container,
        so a changed policy or holiday table reaches running functions within minutes."""
        cached = self._cached_policies
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        policies = self.policies()
        self._cached_policies = (time.monotonic(), policies)
        return policies

    def policies_snapshot(self) -> tuple[DeadlinePolicies, str | None]:
        """The policies and their stored text (None when none are stored), for :meth:`replace_policies`."""
        got = self.db.get_item(TableName=self.table, Key=_POLICIES_KEY, ConsistentRead=True)
        if "Item" not in got:
            return DeadlinePolicies(), None
        text = got["Item"]["json"]["S"]
        return DeadlinePolicies.model_validate_json(text), text

    def save_policies(self, policies: DeadlinePolicies) -> None:
        item = {**_POLICIES_KEY, "json": {"S": policies.model_dump_json()}}
        self.db.put_item(TableName=self.table, Item=item)

    def replace_policies(self, policies: DeadlinePolicies, expected: str | None) -> None:
        """Save ``policies`` if the stored text is still ``expected`` (None: still none stored)."""
        item = {**_POLICIES_KEY, "json": {"S": policies.model_dump_json()}}
        check: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected is None
            else {"ConditionExpression": "#j = :old", "ExpressionAttributeNames": {"#j": "json"}}
            | {"ExpressionAttributeValues": {":old": {"S": expected}}}
        )
        try:
            self.db.put_item(TableName=self.table, Item=item, **check)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise DirectoryChanged("the deadline policies changed since they were read; run again") from exc
            raise

    def replace(self, district: District) -> None:
        """Write every station and enterprise as given, unconditionally (the local stack's seeding)."""
        for kind, key, rows in (
            ("STATION", "code", [s.model_dump(mode="json") for s in district.stations]),
            ("ENTERPRISE", "uscc", [e.model_dump(mode="json") for e in district.enterprises]),
        ):
            for row in rows:
                item = {k: _SER.serialize(v) for k, v in {**row, "pk": kind, "sk": row[key]}.items() if v is not None}
                self.db.put_item(TableName=self.table, Item=item)
        self._cached = None

    def _items(self, kind: str, consistent: bool = False) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :k",
            ExpressionAttributeValues={":k": {"S": kind}},
            ConsistentRead=consistent,
        ):
            out.extend({k: _DES.deserialize(v) for k, v in i.items()} for i in page["Items"])
        return out
