"""Enterprise API keys in the directory table: ``pk=APIKEY``, ``sk=<sha256 of the key>`` -> the enterprise's USCC.

The key itself is never stored; :meth:`ApiKeyStore.issue` returns it once.
"""

from __future__ import annotations

from datetime import datetime

from odr_adapter.clock import iso_z
from odr_adapter.data_access.clients import client
from odr_adapter.models.api_keys import api_key_hash, new_api_key


class ApiKeyStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def enterprise_for(self, key_hash: str) -> str | None:
        got = self.db.get_item(
            TableName=self.table, Key={"pk": {"S": "APIKEY"}, "sk": {"S": key_hash}}, ConsistentRead=True
        )
        item = got.get("Item")
        if item is None or "revoked_at" in item:
            return None
        return str(item["uscc"]["S"])

    def issue(self, uscc: str, label: str, at: datetime) -> str:
        key = new_api_key()
        self.db.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": "APIKEY"},
                "sk": {"S": api_key_hash(key)},
                "uscc": {"S": uscc},
                "label": {"S": label},
                "created_at": {"S": iso_z(at)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return key

    def revoke(self, key_hash: str, at: datetime) -> None:
        self.db.update_item(
            TableName=self.table,
            Key={"pk": {"S": "APIKEY"}, "sk": {"S": key_hash}},
            UpdateExpression="SET revoked_at = :t",
            ExpressionAttributeValues={":t": {"S": iso_z(at)}},
        )
