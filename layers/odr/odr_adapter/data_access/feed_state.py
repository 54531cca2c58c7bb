"""The poller's state in the case table: its checkpoint (``FEED/CURSOR``) and its lease (``FEED/LEASE``).

Times are stored in one fixed UTC form so that DynamoDB's string comparison is time order: the cursor only
moves forward, and a lease is taken over only once expired.
"""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from odr_adapter.data_access.clients import client
from odr_adapter.models.feed import Checkpoint

_CURSOR = {"pk": {"S": "FEED"}, "sk": {"S": "CURSOR"}}
_LEASE = {"pk": {"S": "FEED"}, "sk": {"S": "LEASE"}}
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _text(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_FORMAT)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _condition_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class FeedState:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def read(self) -> Checkpoint:
        item = self.db.get_item(TableName=self.table, Key=_CURSOR, ConsistentRead=True).get("Item")
        if item is None:
            return Checkpoint()
        recent = {key: _time(value["S"]) for key, value in item.get("recent", {}).get("M", {}).items()}
        return Checkpoint(_time(item["updated_after"]["S"]), recent)

    def save(self, checkpoint: Checkpoint) -> None:
        """Store the checkpoint unless the stored cursor is already further (it never moves back)."""
        if checkpoint.updated_after is None:
            return
        cursor = _text(checkpoint.updated_after)
        recent = {key: {"S": _text(at)} for key, at in checkpoint.recent.items()}
        try:
            self.db.put_item(
                TableName=self.table,
                Item={**_CURSOR, "updated_after": {"S": cursor}, "recent": {"M": recent}},
                ConditionExpression="attribute_not_exists(pk) OR updated_after <= :new",
                ExpressionAttributeValues={":new": {"S": cursor}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def acquire(self, owner: str, now: datetime, until: datetime) -> bool:
        """Take the lease when it is free or expired; False while another run holds it."""
        try:
            self.db.put_item(
                TableName=self.table,
                Item={**_LEASE, "owner": {"S": owner}, "expires_at": {"S": _text(until)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":now": {"S": _text(now)}, ":owner": {"S": owner}},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def release(self, owner: str) -> None:
        try:
            self.db.delete_item(
                TableName=self.table,
                Key=_LEASE,
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
