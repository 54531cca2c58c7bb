"""Hostile records through the real parts (issue 10, items 3-5): the webhook behind the local API Gateway, SQS and
DynamoDB on the emulation, the deployed intake function, the poller with its real queue and checkpoint table.

A record with a lone surrogate (half an emoji, valid JSON) or of 300 KB is quarantined with its reason; the
records beside it go on; the poller's cursor moves past it; a body nested 100 000 deep is a 400, never a 502."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import requests

from odr_adapter.clock import Clock
from odr_adapter.data_access.feed_state import FeedState
from odr_adapter.data_access.quarantine import QuarantineStore
from odr_adapter.data_access.queues import Queue
from odr_adapter.feed.polling import poll
from odr_adapter.models.limits import MAX_RECORD_BYTES
from odr_adapter.models.record import LONE_SURROGATE
from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import record
from .test_poller import Parts, parts  # noqa: F401 - the poller suite's own queue and state table
from .test_webhook import push, signed, stamp_seconds_ago

CUT = "\ud83d"  # the first half of 😀: a lone surrogate, valid JSON as "\\ud83d"


def new_id(tag: str) -> str:
    return f"IT-HOSTILE-{tag}-{uuid.uuid4().hex[:10]}"


def cid_of(body: dict[str, Any]) -> Any:
    raw = body.get("record")
    if isinstance(raw, dict):
        return raw.get("complaint_id") or (raw.get("_odr_truncated") or {}).get("complaint_id")
    return None


def take_raw(stack: LocalStack, complaint_ids: set[str]) -> list[str]:
    """The intake queue's message texts about these complaints (taken off the queue); others are put back."""
    sqs, url = stack.client("sqs"), stack.deployment.ref("IntakeQueue")
    mine: list[str] = []
    others: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            break
        for m in got:
            if cid_of(json.loads(m["Body"])) in complaint_ids:
                mine.append(m["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            else:
                others.append(m["ReceiptHandle"])
    for handle in others:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return mine


def intake(invoke: Invoker, texts: list[str]) -> dict[str, Any]:
    """The deployed intake function on these message texts, as SQS hands them over."""
    records = [
        {"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": text, "attributes": {}, "messageAttributes": {}}
        | {"md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:1:q"}
        | {"awsRegion": "cn-north-1"}
        for i, text in enumerate(texts)
    ]
    ok, response = invoke("IntakeFunction", {"Records": records})
    assert ok, response
    return response  # type: ignore[no-any-return]


def quarantined(stack: LocalStack, complaint_id: str) -> list[dict[str, Any]]:
    store = QuarantineStore(stack.deployment.ref("CasesTable"))
    return [e for e in store.all() if e["complaint_id"] == complaint_id]


def test_a_cut_emoji_is_quarantined_and_the_rest_of_the_push_goes_on(stack: LocalStack, invoke: Invoker) -> None:
    innocent = record(complaint_id=new_id("OK"))
    bad = record(complaint_id=new_id("CUT"), description=f"收到的水壶漏电{CUT}")
    body = json.dumps({"items": [bad, innocent]}).encode()  # "\ud83d" as JSON escapes: what the platform sends
    got = push(stack, body)
    assert got.status_code == 202 and got.json() == {"accepted": 2}
    texts = take_raw(stack, {bad["complaint_id"], innocent["complaint_id"]})
    assert len(texts) == 2
    assert intake(invoke, texts) == {"batchItemFailures": []}
    assert stack.cases.get(innocent["complaint_id"]) is not None
    assert stack.cases.get(bad["complaint_id"]) is None
    (entry,) = quarantined(stack, bad["complaint_id"])
    assert entry["problems"] == [{"path": "description", "reason": LONE_SURROGATE}]
    assert entry["raw"]["description"] == bad["description"]  # kept as it came, escaped in the store


def test_a_record_over_the_queue_limit_is_quarantined_as_its_digest(stack: LocalStack, invoke: Invoker) -> None:
    innocent = record(complaint_id=new_id("OK"))
    huge = record(complaint_id=new_id("HUGE"), platform_notes="很" * 100_000)  # 300 KB: over SQS's 256 KiB
    got = push(stack, json.dumps({"items": [huge, innocent]}, ensure_ascii=False).encode())
    assert got.status_code == 202 and got.json() == {"accepted": 2}
    assert intake(invoke, take_raw(stack, {huge["complaint_id"], innocent["complaint_id"]})) == {
        "batchItemFailures": []
    }
    assert stack.cases.get(innocent["complaint_id"]) is not None
    (entry,) = quarantined(stack, huge["complaint_id"])
    kept = entry["raw"]["_odr_truncated"]
    assert kept["bytes"] > 256 * 1024 and len(kept["sha256"]) == 64 and kept["revision"] == 1
    assert "a queued record is at most" in entry["problems"][0]["reason"]


def test_a_record_too_large_for_a_case_item_is_quarantined_not_retried(stack: LocalStack, invoke: Invoker) -> None:
    """Under SQS's limit, over DynamoDB's 400 KB with the case around it: before, intake failed until the DLQ."""
    huge = record(complaint_id=new_id("ITEM"), platform_notes="x" * (250 * 1024))
    text = json.dumps({"record": huge, "source": "poll"})
    assert intake(invoke, [text]) == {"batchItemFailures": []}
    assert stack.cases.get(huge["complaint_id"]) is None
    (entry,) = quarantined(stack, huge["complaint_id"])
    reasons = [p["reason"] for p in entry["problems"]]
    assert any(f"a case keeps at most {MAX_RECORD_BYTES}" in r for r in reasons)
    assert entry["raw"]["_odr_truncated"]["largest_fields"]["platform_notes"] > 250 * 1024


def test_a_body_nested_deep_or_with_a_huge_number_is_400_not_502(stack: LocalStack) -> None:
    for body in (
        b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"items": [{"revision": ' + b"9" * 5000 + b"}]}",
    ):
        got = push(stack, body)
        assert got.status_code == 400, got.text
        assert got.json()["problems"][0]["field"] == "items.0"  # the record over the limits
    deep = b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    unsigned = requests.post(
        f"{stack.api.url}/prod/feed/complaints",
        data=deep,
        headers={**signed(deep, stamp_seconds_ago(stack, 0)), "X-12315-Signature": "sha256=" + "0" * 64},
        timeout=60,
    )
    assert unsigned.status_code == 401  # the signature is checked before the body is parsed


class Page:
    """The platform's feed as FeedClient hands it over (JSON parsed: "\\ud83d" is a lone surrogate)."""

    def __init__(self, items: list[dict[str, Any]], server_time: str) -> None:
        self.items, self.server_time = items, server_time

    def page(self, updated_after: str, cursor: str | None, limit: int) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": None, "server_time": self.server_time}


def test_the_poller_queues_a_page_holding_a_cut_emoji_and_moves_its_cursor(
    stack: LocalStack,
    parts: Parts,  # noqa: F811
) -> None:
    now = Clock().now()
    at = [(now - timedelta(minutes=m)).isoformat() for m in (3, 2, 1)]
    items = [
        record(complaint_id=new_id("P1"), updated_at=at[0]),
        record(complaint_id=new_id("PCUT"), updated_at=at[1], demand=f"退款{CUT}"),
        {**record(complaint_id=new_id("PBIG"), updated_at=at[2]), "notes": "x" * (300 * 1024)},
    ]
    report = poll(Page(items, now.isoformat()), Queue(parts.queue_url), FeedState(parts.table), Clock(), "t", 30)
    assert report.complete and report.queued == 3
    assert parts.state.read().updated_after == now - timedelta(minutes=1)  # past every record of the page
    queued = parts.take()
    assert [cid_of(b) for b in queued] == [i["complaint_id"] for i in items]
    assert queued[1]["record"]["demand"] == items[1]["demand"]
    assert "problems" in queued[2] and "problems" not in queued[0]
