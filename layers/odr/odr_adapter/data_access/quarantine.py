"""Quarantined feed records: the raw record and every reason, kept until redriven.

Items ``pk=QUARANTINE, sk=<id>`` in the case table; the id is a hash of the raw record, so the same bad
record quarantined twice is one entry (its ``quarantined_at`` is then the latest time).

Whatever the record, its entry can be written and read back:

- the raw record is stored as JSON text (:func:`~odr_adapter.models.limits.json_text`): UTF-8, or ``\\u`` escapes
  when it holds a lone surrogate, which UTF-8 (and so DynamoDB) cannot carry;
- a record whose text is over :data:`~odr_adapter.models.limits.MAX_QUARANTINED_BYTES` is stored as its digest
  (:func:`~odr_adapter.models.limits.digest_stub`: identity, size, largest fields, SHA-256), not in S3. Why: the
  12315 platform keeps the record and serves it again (same complaint id and revision, matched by the digest),
  so nothing is lost that cannot be fetched; a record that large is garbage or an attack far more often than a
  complaint, and copying it whole would put a consumer's personal data in a second store with its own access,
  encryption and retention to keep; and an entry stays one bounded item the operator's tools read as before.
  Such an entry cannot be redriven (there is nothing to send): the operator has the platform send it again.
  A record the poller found over the feed's limits (nested too deep, a number too long, not UTF-8) comes already
  as a digest (:class:`~odr_adapter.models.limits.OverLimits`), of its text as the platform sent it.
- problems are capped in number and length, and the complaint id kept beside them is cut to 64 characters.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from odr_adapter.data_access.clients import client
from odr_adapter.models.limits import MAX_QUARANTINED_BYTES, TRUNCATED, digest_stub, is_digest_stub, json_text
from odr_adapter.ports import Outbound

_PK = {"S": "QUARANTINE"}
MAX_PROBLEMS = 200
MAX_PROBLEM_CHARS = 300


def _safe(text: str, limit: int) -> str:
    """Cut to ``limit`` characters, lone surrogates written as ``\\udxxx`` (DynamoDB takes only UTF-8)."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def _bounded(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    kept = [{k: _safe(str(v), MAX_PROBLEM_CHARS) for k, v in p.items()} for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        kept.append({"path": "(record)", "reason": f"{len(problems) - MAX_PROBLEMS} more problems not kept"})
    return kept


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
        text = json_text(raw, sort_keys=True)
        key = hashlib.sha256(text.encode()).hexdigest()[:16]
        if len(text.encode()) > MAX_QUARANTINED_BYTES:
            raw = digest_stub(raw)
            text = json_text(raw, sort_keys=True)
            problems = [*problems, {"path": "(record)", "reason": "too large to keep whole: kept as its SHA-256"}]
        identity = raw[TRUNCATED] if is_digest_stub(raw) else raw
        cid = identity.get("complaint_id") if isinstance(identity, dict) else None
        self.db.put_item(
            TableName=self.table,
            Item={
                "pk": _PK,
                "sk": {"S": key},
                "complaint_id": {"S": _safe(str(cid or ""), 64)},
                "raw": {"S": text},
                "problems": {"S": json_text(_bounded(problems))},
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

        False when intake quarantined the record again before the removal: the new entry is kept. An entry that
        kept only the record's digest cannot be redriven: the platform must send the record again.
        """
        if is_digest_stub(entry["raw"]):
            raise RedriveFailed(
                f"{entry['id']} kept only the digest of a record too large to store or over the feed's limits; "
                "have the 12315 platform send it again (complaint id, revision and SHA-256 are in the entry); "
                "it stays in quarantine"
            )
        try:
            intake.send({"record": entry["raw"], "source": "redrive"})
        except (ClientError, BotoCoreError) as exc:
            raise RedriveFailed(f"{entry['id']} was not sent to intake ({exc}); it stays in quarantine") from exc
        return self.delete(entry["id"], entry["quarantined_at"])
