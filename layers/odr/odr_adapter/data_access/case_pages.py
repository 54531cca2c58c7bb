"""A holder's cases a page at a time: one Query on ``ByStation`` or ``ByEnterprise`` (never a Scan).

The registration period is the key condition (``reg_sk`` is the registration time, then the id); the section,
status and enterprise are a filter, which DynamoDB applies after reading ``Limit`` items. So a page is filled
by reading on from where the last read stopped, at most :data:`MAX_READS` times, and the next page starts after
the last case returned: its index key is DynamoDB's own ``LastEvaluatedKey`` form for the index.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

from odr_adapter.clock import iso_z
from odr_adapter.data_access.case_items import case_of
from odr_adapter.data_access.cases import _plain, fetch_items
from odr_adapter.data_access.clients import client
from odr_adapter.models.sessions import Holder
from odr_adapter.models.worklists import CasePage, CaseQuery

MAX_READS = 5  # Queries per page at most: a page may come back short (with a cursor) rather than read on
_SER = TypeSerializer()
_INDEX = {"station": ("ByStation", "station_pk", "STATION#"), "enterprise": ("ByEnterprise", "enterprise_pk", "ENT#")}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items()}


def _query(holder: Holder, query: CaseQuery, limit: int) -> dict[str, Any]:
    index, partition, prefix = _INDEX[holder.role]
    values: dict[str, Any] = {":h": f"{prefix}{holder.id}", ":closed": "closed"}
    key = f"{partition} = :h"
    low, high = query.registered_from, query.registered_before
    if low and high:
        key += " AND reg_sk BETWEEN :low AND :high"
        values.update({":low": iso_z(low), ":high": iso_z(high)})
    elif low:
        key += " AND reg_sk >= :low"
        values[":low"] = iso_z(low)
    elif high:
        key += " AND reg_sk < :high"  # "<time>#<id>" sorts after "<time>": a case registered at ``high`` is out
        values[":high"] = iso_z(high)
    filters = ["#status = :closed" if query.section == "closed" else "#status <> :closed"]
    if query.status:
        filters.append("#status = :status")
        values[":status"] = query.status
    if query.enterprise_uscc:
        filters.append("enterprise_pk = :ent")
        values[":ent"] = f"ENT#{query.enterprise_uscc}"
    return {
        "IndexName": index,
        "KeyConditionExpression": key,
        "FilterExpression": " AND ".join(filters),
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": _values(values),
        "ScanIndexForward": not query.newest_first,
        "Limit": limit,
    }


def _index_key(item: dict[str, Any], partition: str) -> dict[str, str]:
    return {name: str(item[name]) for name in ("pk", "sk", partition, "reg_sk")}


class CasePageStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def page(self, holder: Holder, query: CaseQuery, start: dict[str, str] | None, limit: int) -> CasePage:
        partition = _INDEX[holder.role][1]
        request = {"TableName": self.table, **_query(holder, query, limit)}
        items: list[dict[str, Any]] = []
        last: dict[str, str] | None = start
        for _ in range(MAX_READS):
            if last is not None:
                request["ExclusiveStartKey"] = _values(last)
            got = self.db.query(**request)
            items += [_plain(item) for item in got["Items"]]
            evaluated = got.get("LastEvaluatedKey")
            last = {k: str(_plain({k: v})[k]) for k, v in evaluated.items()} if evaluated else None
            if len(items) >= limit or last is None:
                break
        if len(items) > limit:
            items = items[:limit]
            last = _index_key(items[-1], partition)
        # The index projects the keys, status and enterprise (what the filter reads): the cases are read whole.
        return CasePage([case_of(item) for item in fetch_items(self.db, self.table, items)], last)
