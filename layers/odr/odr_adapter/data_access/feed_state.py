"""The poller's cursor in the case table (``FEED/CURSOR``): it only ever moves forward."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .clients import client

_KEY = {"pk": {"S": "FEED"}, "sk": {"S": "CURSOR"}}


class FeedCursor:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def read(self) -> str | None:
        got = self.db.get_item(TableName=self.table, Key=_KEY, ConsistentRead=True)
        return got["Item"]["updated_after"]["S"] if "Item" in got else None

    def advance(self, updated_after: str) -> None:
        try:
            self.db.put_item(
                TableName=self.table,
                Item={**_KEY, "updated_after": {"S": updated_after}},
                ConditionExpression="attribute_not_exists(pk) OR updated_after < :new",
                ExpressionAttributeValues={":new": {"S": updated_after}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
