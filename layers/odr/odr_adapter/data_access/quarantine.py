"""Quarantined feed records: the raw record and every reason, kept until redriven.

Items ``pk=QUARANTINE, sk=<id>`` in the case table; the id is a hash of the raw record, so the same bad
record quarantined twice is one entry (its ``quarantined_at`` is then the latest time).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from odr_adapter.data_access.clients import client
from odr_adapter.ports import Outbound

_PK = {"S": "QUARANTINE"}


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["sk"]["S"],
        "complaint_id": item["complaint_id"]["S"],
        "raw": json.loads(item["raw"]["S"]),
        "problems": json.loads(item["problems"]["S"]),
        "quarantined_at": item["quarantined_at"]["S"],
    }


class RedriveFailed(Exception):
    """The record could not be sent to intake; it stays in quarantine."""


class QuarantineStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.db = client("dynamodb")

    def put(self, raw: Any, problems: list[dict[str, str]], at: str) -> str:
        text = json.dumps(raw, ensure_ascii=False, sort_keys=True)
        key = hashlib.sha256(text.encode()).hexdigest()[:16]
        cid = raw.get("complaint_id") if isinstance(raw, dict) else None
        self.db.put_item(
            TableName=self.table,
            Item={
                "pk": _PK,
                "sk": {"S": key},
                "complaint_id": {"S": str(cid or "")},
                "raw": {"S": text},
                "problems": {"S": json.dumps(problems, ensure_ascii=False)},
                "quarantined_at": {"S": at},
            },
        )
        return key

    def all(self) -> list[dict[str, Any]]:
        """Every entry (id, complaint_id, raw, problems, quarantined_at), oldest first."""
        entries: list[dict[str, Any]] = []
        for page in self.db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :q",
            ExpressionAttributeValues={":q": _PK},
            ConsistentRead=True,
        ):
            entries += [_entry(i) for i in page["Items"]]
        return sorted(entries, key=lambda e: (e["quarantined_at"], e["id"]))

    def get(self, entry_id: str) -> dict[str, Any] | None:
        got = self.db.get_item(TableName=self.table, Key={"pk": _PK, "sk": {"S": entry_id}}, ConsistentRead=True)
        return _entry(got["Item"]) if "Item" in got else None

    def delete(self, entry_id: str, quarantined_at: str) -> bool:
        """Remove the entry unless it was quarantined again since it was read (then False: it stays)."""
        try:
            self.db.delete_item(
                TableName=self.table,
                Key={"pk": _PK, "sk": {"S": entry_id}},
                ConditionExpression="quarantined_at = :at",
                ExpressionAttributeValues={":at": {"S": quarantined_at}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def redrive(self, entry: dict[str, Any], intake: Outbound) -> bool:
        """Send the raw record to intake as the poller does, then remove the entry (only once it was sent).

        False when intake quarantined the record again before the removal: the new entry is kept.
        """
        try:
            intake.send({"record": entry["raw"], "source": "redrive"})
        except (ClientError, BotoCoreError) as exc:
            raise RedriveFailed(f"{entry['id']} was not sent to intake ({exc}); it stays in quarantine") from exc
        return self.delete(entry["id"], entry["quarantined_at"])
