"""Quarantined feed records: the raw record and every reason, kept until redriven."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .clients import client


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
                "pk": {"S": "QUARANTINE"},
                "sk": {"S": key},
                "complaint_id": {"S": str(cid or "")},
                "raw": {"S": text},
                "problems": {"S": json.dumps(problems, ensure_ascii=False)},
                "quarantined_at": {"S": at},
            },
        )
        return key

    def all(self) -> list[dict[str, Any]]:
        got = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :q",
            ExpressionAttributeValues={":q": {"S": "QUARANTINE"}},
        )
        return [
            {
                "id": i["sk"]["S"],
                "complaint_id": i["complaint_id"]["S"],
                "raw": json.loads(i["raw"]["S"]),
                "problems": json.loads(i["problems"]["S"]),
                "quarantined_at": i["quarantined_at"]["S"],
            }
            for i in got["Items"]
        ]
