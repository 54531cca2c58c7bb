"""SQS: the intake queue (feed records), the report-back queue (outcomes for the 12315 platform) and the
progress queue (FIFO: each case's stages in order)."""

from __future__ import annotations

from typing import Any

from odr_adapter.data_access.clients import client
from odr_adapter.models.limits import QUEUE_MESSAGE_BYTES, json_text


class MessageTooLarge(ValueError):
    """A body over SQS's message limit: the caller must queue a digest instead (intake_message does)."""


def _text(body: dict[str, Any]) -> str:
    """The message text: UTF-8 JSON, with ``\\u`` escapes when a string holds what SQS cannot carry."""
    text = json_text(body)
    if len(text.encode("utf-8")) > QUEUE_MESSAGE_BYTES:
        raise MessageTooLarge(f"message is {len(text.encode('utf-8'))} bytes; SQS takes at most {QUEUE_MESSAGE_BYTES}")
    return text


class Queue:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqs = client("sqs")

    def send(self, body: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=_text(body))

    def send_all(self, bodies: list[dict[str, Any]]) -> None:
        """Queue every body or raise: a record is never reported queued when it is not.

        Batches hold at most 10 messages and stay under SQS's 1 MiB batch limit; failed entries are sent again
        one by one (which raises if SQS still refuses them).
        """
        texts = [_text(b) for b in bodies]
        for chunk in _batches(texts):
            entries = [{"Id": str(i), "MessageBody": text} for i, text in enumerate(chunk)]
            got = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            for failed in got.get("Failed", []):
                self.sqs.send_message(QueueUrl=self.url, MessageBody=chunk[int(failed["Id"])])


class OrderedQueue:
    """A FIFO queue: one message group per complaint (its messages are delivered in order, one group's failure
    holds back only that group), the idempotency key as the deduplication id (a batch queued again within
    five minutes, as after a retried stream batch, adds nothing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqs = client("sqs")

    def send_in_order(self, messages: list[dict[str, Any]]) -> None:
        """Queue every message in the order given, or raise (the caller's batch is retried whole)."""
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": _text(m),
                    "MessageGroupId": m["complaint_id"],
                    "MessageDeduplicationId": m["idempotency_key"],
                }
                for i, m in enumerate(chunk)
            ]
            got = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            if got.get("Failed"):
                raise RuntimeError(f"SQS refused {len(got['Failed'])} of {len(entries)} progress messages")


_BATCH_BYTES = 900 * 1024  # below SQS's 1 MiB per batch, with room for the request's own overhead


def _batches(texts: list[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for text in texts:
        length = len(text.encode("utf-8"))
        if current and (len(current) == 10 or size + length > _BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(text)
        size += length
    if current:
        batches.append(current)
    return batches
