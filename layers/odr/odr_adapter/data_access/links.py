"""Action links in the case table: ``pk=LINK#<sha256 of the id>``, ``sk=LINK``; claimed with a conditional write.

Claims of a single effect (a confirmation sent once) live beside them: ``pk=CLAIM#<key>``, ``sk=CLAIM``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from odr_adapter.clock import iso_z
from odr_adapter.data_access.clients import client
from odr_adapter.data_access.conditional import write_once
from odr_adapter.models.links import ActionLink, ActionName

_SER = TypeSerializer()
_DES = TypeDeserializer()


def _key(key: str) -> dict[str, Any]:
    return {"pk": {"S": f"LINK#{key}"}, "sk": {"S": "LINK"}}


def _conditional(call: Any, **kwargs: Any) -> bool:
    """A conditional write whose failed condition means someone else's change (never ours: see write_once)."""
    return write_once(call, lambda old: False, **kwargs)


class LinkStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def put(self, link: ActionLink) -> None:
        doc = link.model_dump(mode="json", exclude_none=True)
        values = {**doc, "pk": f"LINK#{link.key}", "sk": "LINK", "expires_at": iso_z(link.expires_at)}
        item = {k: _SER.serialize(v) for k, v in values.items()}
        if not write_once(
            self.db.put_item,
            lambda old: old == item,
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
        ):
            raise ValueError(f"another link has the key of link {link.key[:8]}…")  # 72 random bits: never

    def get(self, key: str) -> ActionLink | None:
        got = self.db.get_item(TableName=self.table, Key=_key(key), ConsistentRead=True)
        if "Item" not in got:
            return None
        item = {k: _DES.deserialize(v) for k, v in got["Item"].items() if k not in ("pk", "sk")}
        return ActionLink.model_validate(item)

    def claim(self, key: str, action: ActionName, at: datetime) -> bool:
        """Mark the link used for ``action``; False when it was used already (by another request). The claim
        carries a token of its own: two requests at one instant are still told apart."""
        token = {"S": uuid.uuid4().hex}
        return write_once(
            self.db.update_item,
            lambda old: old.get("claim_token") == token,
            TableName=self.table,
            Key=_key(key),
            UpdateExpression="SET used_at = :t, used_action = :a, claim_token = :c",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
            ExpressionAttributeValues={":t": {"S": iso_z(at)}, ":a": {"S": action}, ":c": token},
        )

    def release(self, key: str, action: ActionName) -> None:
        """Undo a claim whose action could not run yet (the workflow was not waiting for it)."""
        _conditional(
            self.db.update_item,
            TableName=self.table,
            Key=_key(key),
            UpdateExpression="REMOVE used_at, used_action, claim_token",
            ConditionExpression="used_action = :a AND attribute_not_exists(#r)",
            ExpressionAttributeNames={"#r": "result"},
            ExpressionAttributeValues={":a": {"S": action}},
        )

    def settle(self, key: str, result: str) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=_key(key),
            UpdateExpression="SET #r = :r",
            ExpressionAttributeNames={"#r": "result"},
            ExpressionAttributeValues={":r": {"S": result}},
        )

    def reserve(self, key: str, at: datetime, until: datetime) -> bool:
        """Take the claim unless it is done or another holder's lease has not ended (a conditional write)."""
        token = {"S": uuid.uuid4().hex}
        return write_once(
            self.db.update_item,
            lambda old: old.get("holder") == token,
            TableName=self.table,
            Key={"pk": {"S": f"CLAIM#{key}"}, "sk": {"S": "CLAIM"}},
            UpdateExpression="SET lease_until = :u, claimed_at = :t, holder = :h",
            ConditionExpression="attribute_not_exists(pk) OR (attribute_not_exists(done_at) AND lease_until <= :t)",
            ExpressionAttributeValues={":u": {"S": iso_z(until)}, ":t": {"S": iso_z(at)}, ":h": token},
        )

    def finish(self, key: str) -> None:
        self.db.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"CLAIM#{key}"}, "sk": {"S": "CLAIM"}},
            UpdateExpression="SET done_at = claimed_at",
        )
