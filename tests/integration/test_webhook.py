"""The push webhook through the local stack's API Gateway: signature, time window, envelope, size, queueing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests

from odr_local.simulator import Simulator
from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import record, take_intake

SECRET = "sim-push-secret"  # the simulator's push secret, which the stack puts in WebhookSecret


def signed(body: bytes, stamp: int, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-12315-Timestamp": str(stamp),
        "X-12315-Signature": f"sha256={digest}",
    }


def stamp_seconds_ago(stack: LocalStack, seconds: float) -> int:
    """The stack's (simulated) clock now, minus seconds: the window is simulated seconds too."""
    return int((stack.now() - timedelta(seconds=seconds)).timestamp())


def push(stack: LocalStack, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    headers = signed(body, stamp_seconds_ago(stack, 0)) if headers is None else headers
    return requests.post(f"{stack.api.url}/prod/feed/complaints", data=body, headers=headers, timeout=60)


def envelope(*items: dict[str, Any]) -> bytes:
    return json.dumps({"items": list(items)}, ensure_ascii=False).encode()


def new_id() -> str:
    return f"IT-PUSH-{uuid.uuid4().hex[:16]}"


def test_a_signed_push_is_queued_then_answered_202(stack: LocalStack) -> None:
    first = record(complaint_id=new_id())
    second = record("shop-name-only", complaint_id=new_id())  # carries a field the contract does not know
    got = push(stack, envelope(first, second))
    assert got.status_code == 202 and got.json() == {"accepted": 2}
    queued = take_intake(stack, {first["complaint_id"], second["complaint_id"]})
    assert {b["record"]["complaint_id"]: b for b in queued} == {
        first["complaint_id"]: {"record": first, "source": "push"},
        second["complaint_id"]: {"record": second, "source": "push"},
    }


@pytest.mark.parametrize(
    "case",
    ["wrong signature", "wrong secret", "no timestamp", "no signature", "not a number", "body changed"],
)
def test_a_badly_signed_push_is_refused_401_and_not_queued(stack: LocalStack, case: str) -> None:
    item = record(complaint_id=new_id())
    body = envelope(item)
    headers = signed(body, stamp_seconds_ago(stack, 0))
    if case == "wrong signature":
        headers["X-12315-Signature"] = "sha256=" + "0" * 64
    elif case == "wrong secret":
        headers = signed(body, stamp_seconds_ago(stack, 0), secret="not-the-secret")
    elif case == "no timestamp":
        del headers["X-12315-Timestamp"]
    elif case == "no signature":
        del headers["X-12315-Signature"]
    elif case == "not a number":
        headers["X-12315-Timestamp"] = "yesterday"
    else:
        body = envelope({**item, "claimed_amount": "9999.00"})
    got = push(stack, body, headers)
    assert got.status_code == 401 and got.json()["error"]
    assert take_intake(stack, {item["complaint_id"]}) == []


@pytest.mark.parametrize(("seconds", "status"), [(301, 401), (-301, 401), (290, 202), (-290, 202)])
def test_the_timestamp_must_be_within_300_seconds(stack: LocalStack, seconds: int, status: int) -> None:
    item = record(complaint_id=new_id())
    body = envelope(item)
    got = push(stack, body, signed(body, stamp_seconds_ago(stack, seconds)))
    assert got.status_code == status
    assert len(take_intake(stack, {item["complaint_id"]})) == (1 if status == 202 else 0)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"{not json", {"body"}),
        (b"[]", {"body"}),
        (b'{"records": []}', {"items"}),
        (b'{"items": []}', {"items"}),
        (envelope(*[{"complaint_id": f"C{n:09d}"} for n in range(101)]), {"items"}),
        (b'{"items": [{"complaint_id": "C000000001"}, "text", 3]}', {"items.1", "items.2"}),
    ],
    ids=["not json", "not an object", "no items", "0 items", "101 items", "items not objects"],
)
def test_a_push_that_is_not_the_envelope_is_refused_400_with_reasons(
    stack: LocalStack, body: bytes, fields: set[str]
) -> None:
    got = push(stack, body)
    assert got.status_code == 400
    problems = got.json()["problems"]
    assert {p["field"] for p in problems} == fields and all(p["reason"] for p in problems)


def test_a_push_over_one_mebibyte_is_refused_413(stack: LocalStack) -> None:
    item = record(complaint_id=new_id(), attachment_text="x" * (1024 * 1024))
    got = push(stack, envelope(item))
    assert got.status_code == 413
    assert take_intake(stack, {item["complaint_id"]}) == []


def test_the_signature_is_compared_in_constant_time(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = envelope(record(complaint_id=new_id()))
    headers = signed(body, stamp_seconds_ago(stack, 0))
    wrong = "sha256=" + "f" * 64
    assert push(stack, body, {**headers, "X-12315-Signature": wrong}).status_code == 401
    assert push(stack, body, headers).status_code == 202
    given = [b for _, b in compared]
    assert wrong.encode() in given and headers["X-12315-Signature"].encode() in given


def test_a_push_that_cannot_be_queued_is_answered_503_for_the_platform_to_retry(stack: LocalStack) -> None:
    sqs, url = stack.client("sqs"), stack.deployment.ref("IntakeQueue")
    item = record(complaint_id=new_id(), attachment_text="x" * 2000)
    body = envelope(record(complaint_id=new_id()), item)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})  # SQS now refuses the record
    try:
        got = push(stack, body)
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1048576"})
    assert got.status_code == 503 and got.headers["Retry-After"] and "accepted" not in got.json()
    assert push(stack, body).status_code == 202  # the platform's retry, once the queue takes it
    assert len(take_intake(stack, {item["complaint_id"]})) == 1


def base64_event(stack: LocalStack, body: bytes) -> dict[str, Any]:
    """API Gateway's event for a binary body: the handler must check the signature on the decoded bytes."""
    return {
        "resource": "/feed/complaints",
        "path": "/feed/complaints",
        "httpMethod": "POST",
        "headers": signed(body, stamp_seconds_ago(stack, 0)),
        "requestContext": {"resourcePath": "/feed/complaints", "httpMethod": "POST", "stage": "prod"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def test_a_base64_encoded_body_is_verified_on_its_bytes(stack: LocalStack, invoke: Invoker) -> None:
    item = record(complaint_id=new_id())
    ok, response = invoke("WebhookFunction", base64_event(stack, envelope(item)))
    assert ok and response["statusCode"] == 202
    assert [b["record"] for b in take_intake(stack, {item["complaint_id"]})] == [item]
    ok, response = invoke("WebhookFunction", base64_event(stack, b'{"items": ["\xff\xfe"]}'))  # not UTF-8
    assert ok and response["statusCode"] == 400
    assert [p["field"] for p in json.loads(response["body"])["problems"]] == ["items.0"]  # the record is not UTF-8


def test_the_simulators_pusher_delivers_through_the_webhook(stack: LocalStack) -> None:
    platform = Simulator()  # signs with the same push secret as the stack's simulator
    platform.start()
    items = [record(complaint_id=new_id(), updated_at=stack.now().isoformat()) for _ in range(3)]
    try:
        for item in items:
            platform.publish(item)
        platform.start_pusher(f"{stack.api.url}/prod/feed/complaints", stack.kernel)
        assert stack.wait_for(lambda: platform.counters()["records_pushed"] == 3), platform.counters()
    finally:
        platform.stop()
    counters = platform.counters()
    assert counters["pushes_accepted"] == 1 and counters["pushes_rejected"] == 0
    queued = take_intake(stack, {i["complaint_id"] for i in items})
    assert sorted(b["record"]["complaint_id"] for b in queued) == sorted(i["complaint_id"] for i in items)
    assert {b["source"] for b in queued} == {"push"}
