"""Login links and sessions in the sessions table: ``pk=HOLDER#<role>#<id>``, ``sk=<LOGIN|SESSION>#<sha256>``.

One partition per holder: a token is checked with one consistent GetItem, and every session of a station or an
enterprise is found with one Query to revoke them. ``expires_epoch`` is the table's TTL attribute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from odr_adapter.clock import iso_z
from odr_adapter.data_access.clients import client
from odr_adapter.models.sessions import Holder, SessionRecord

_SER = TypeSerializer()
_DES = TypeDeserializer()
_KEYS = ("pk", "sk", "expires_epoch")


def _pk(holder: Holder) -> str:
    return f"HOLDER#{holder.role}#{holder.id}"


def _key(holder: Holder, kind: str, key_hash: str) -> dict[str, Any]:
    return {"pk": {"S": _pk(holder)}, "sk": {"S": f"{kind.upper()}#{key_hash}"}}


def _record(item: dict[str, Any]) -> SessionRecord:
    return SessionRecord.model_validate({k: _DES.deserialize(v) for k, v in item.items() if k not in _KEYS})


class SessionStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def put(self, record: SessionRecord) -> None:
        doc = record.model_dump(mode="json", exclude_none=True)
        item = {
            **{k: _SER.serialize(v) for k, v in doc.items()},
            **_key(record.holder, record.kind, record.key_hash),
            "expires_epoch": {"N": str(int(record.expires_at.timestamp()))},
        }
        self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def get(self, holder: Holder, kind: str, key_hash: str) -> SessionRecord | None:
        got = self.db.get_item(TableName=self.table, Key=_key(holder, kind, key_hash), ConsistentRead=True)
        return _record(got["Item"]) if "Item" in got else None

    def use(self, holder: Holder, key_hash: str, at: datetime) -> bool:
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(holder, "login", key_hash),
                UpdateExpression="SET used_at = :t",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at) "
                "AND attribute_not_exists(revoked_at) AND expires_at > :t",
                ExpressionAttributeValues={":t": {"S": iso_z(at)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def revoke(self, holder: Holder, kind: str, key_hash: str, at: datetime) -> None:
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(holder, kind, key_hash),
                UpdateExpression="SET revoked_at = :t",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                ExpressionAttributeValues={":t": {"S": iso_z(at)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # revoked already, or gone (expired and deleted): nothing to do

    def of_holder(self, holder: Holder) -> list[SessionRecord]:
        paginator = self.db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": _pk(holder)}},
            ConsistentRead=True,
        )
        return [_record(item) for page in pages for item in page["Items"]]
