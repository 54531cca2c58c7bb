"""SQS: the intake queue (feed records) and the report-back queue (outcomes for the 12315 platform)."""

from __future__ import annotations

import json
from typing import Any

from .clients import client


class Queue:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqs = client("sqs")

    def send(self, body: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(body, ensure_ascii=False))

    def send_all(self, bodies: list[dict[str, Any]]) -> None:
        """Queue every body or raise: a record is never reported queued when it is not."""
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": json.dumps(b, ensure_ascii=False)} for i, b in enumerate(chunk)]
            got = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            failed = got.get("Failed", [])
            if failed:
                retry = [chunk[int(f["Id"])] for f in failed]
                for body in retry:
                    self.send(body)
