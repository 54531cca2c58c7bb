"""The directory table: stations and ODR enterprises, loaded whole (a district has tens, not millions)."""

from __future__ import annotations

import time
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..deadlines import DeadlinePolicies
from ..directory import District, Enterprise, Station
from .clients import client

_SER = TypeSerializer()
_DES = TypeDeserializer()
_CACHE_SECONDS = 300.0


class DirectoryStore:
    def __init__(self, table: str, county_code: str = "310116") -> None:
        self.table = table
        self.county_code = county_code
        self.db = client("dynamodb")
        self._cached: tuple[float, District] | None = None

    def district(self) -> District:
        """The district as stored, cached for five minutes per warm container."""
        if self._cached and time.monotonic() - self._cached[0] < _CACHE_SECONDS:
            return self._cached[1]
        stations = [Station.model_validate(i) for i in self._items("STATION")]
        enterprises = [Enterprise.model_validate(i) for i in self._items("ENTERPRISE")]
        district = District(county_code=self.county_code, stations=stations, enterprises=enterprises)
        self._cached = (time.monotonic(), district)
        return district

    def policies(self) -> DeadlinePolicies:
        """The district's deadline policies (item ``CONFIG/deadlines``), else the Jinshan defaults."""
        got = self.db.get_item(TableName=self.table, Key={"pk": {"S": "CONFIG"}, "sk": {"S": "deadlines"}})
        if "Item" not in got:
            return DeadlinePolicies()
        return DeadlinePolicies.model_validate_json(got["Item"]["json"]["S"])

    def save_policies(self, policies: DeadlinePolicies) -> None:
        item = {"pk": {"S": "CONFIG"}, "sk": {"S": "deadlines"}, "json": {"S": policies.model_dump_json()}}
        self.db.put_item(TableName=self.table, Item=item)

    def replace(self, district: District) -> None:
        """Write every station and enterprise (used by imports and the local stack's seeding)."""
        for kind, key, rows in (
            ("STATION", "code", [s.model_dump(mode="json") for s in district.stations]),
            ("ENTERPRISE", "uscc", [e.model_dump(mode="json") for e in district.enterprises]),
        ):
            for row in rows:
                item = {k: _SER.serialize(v) for k, v in {**row, "pk": kind, "sk": row[key]}.items() if v is not None}
                self.db.put_item(TableName=self.table, Item=item)
        self._cached = None

    def _items(self, kind: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :k",
            ExpressionAttributeValues={":k": {"S": kind}},
        ):
            out.extend({k: _DES.deserialize(v) for k, v in i.items()} for i in page["Items"])
        return out
