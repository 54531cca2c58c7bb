"""The push side of the feed (contract section 3): check a signed batch from the 12315 platform and queue it.

Checks run cheapest and safest first: size (413), then the signature over the raw bytes (401) before the body is
even parsed, then the JSON within its limits (400: nesting depth, number length, no NaN/Infinity, UTF-8; each
record is read on its own by :func:`~odr_adapter.models.limits.feed_items`, the poller's reader too, and a record
over the limits is named as ``items.<n>``), then the envelope (400). No body, however hostile, gets a 5xx: the
platform retries anything but 2xx and 4xx, so a 5xx for a bad body would be retried forever. The answer is 202 only once
every record is durably on the intake queue; otherwise (the queue failed) the push fails with a 503 and the
platform sends it again.

Records themselves are not judged here: intake validates each one and quarantines what is wrong, so nothing is
lost and one bad record never holds up the others. A record too large for a queue message is queued as its digest
with the reason (:func:`~odr_adapter.feed.intake_queue.intake_message`), to be quarantined like any other bad record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from odr_adapter.clock import Clock
from odr_adapter.feed.intake_queue import intake_message
from odr_adapter.models.limits import OverLimits, RequestRejected, body_bytes, feed_items
from odr_adapter.ports import BulkQueue

MAX_BODY_BYTES = 1024 * 1024
MAX_ITEMS = 100
WINDOW_SECONDS = 300
TIMESTAMP_HEADER = "X-12315-Timestamp"
SIGNATURE_HEADER = "X-12315-Signature"


class PushRejected(Exception):
    """The push is refused for good (4xx): the platform must not send it again as it is."""

    def __init__(self, status: int, message: str, problems: list[dict[str, str]] | None = None) -> None:
        self.status = status
        self.message = message
        self.problems = problems or []
        super().__init__(message)


class NotQueued(Exception):
    """The records could not all be queued: answer 5xx so the platform retries the whole push."""


class Envelope(BaseModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ITEMS)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str, clock: Clock) -> None:
    """Raise 401 unless the body is signed with the shared secret within the time window.

    The window is in real seconds: on the local stack the clock runs faster than real time, and a replay window
    is about how long ago the platform signed, not about simulated days.
    """
    stamp = _header(headers, TIMESTAMP_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if not stamp or not given:
        raise PushRejected(401, f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    if not given.isascii():
        raise PushRejected(401, "signature does not match")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 11:  # 11 digits: until the year 5138
        raise PushRejected(401, f"{TIMESTAMP_HEADER} must be Unix seconds")
    skew = abs(clock.now().timestamp() - int(stamp))
    if skew > WINDOW_SECONDS:
        raise PushRejected(401, f"{TIMESTAMP_HEADER} is more than {WINDOW_SECONDS} s from the adapter's clock")
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"sha256={digest}".encode(), given.encode()):
        raise PushRejected(401, "signature does not match")


def raw_body(body: str | None, is_base64_encoded: bool) -> bytes:
    """The bytes the platform signed: API Gateway hands text bodies over as they came, binary ones in base64."""
    try:
        return body_bytes(body, is_base64_encoded)
    except RequestRejected as exc:
        raise PushRejected(exc.status, exc.message, [{"field": "body", "reason": exc.message}]) from None


def parse_envelope(body: bytes) -> list[dict[str, Any]]:
    """The records of ``{"items": [1..100 objects]}``, or 400 (413) with every problem found."""
    try:
        data = feed_items(body, MAX_BODY_BYTES)
    except RequestRejected as exc:
        raise PushRejected(exc.status, exc.message, [{"field": "body", "reason": r} for r in exc.reasons]) from None
    items = data.get("items") if isinstance(data, dict) else None
    over = [
        {"field": f"items.{n}", "reason": reason}
        for n, item in enumerate(items if isinstance(items, list) else [])
        if isinstance(item, OverLimits)
        for reason in item.reasons
    ]
    if over:
        raise PushRejected(400, "records over the feed's limits (nesting, numbers, encoding, size)", over)
    try:
        return Envelope.model_validate(data).items
    except ValidationError as exc:
        problems = [{"field": ".".join(map(str, e["loc"])) or "body", "reason": e["msg"]} for e in exc.errors()]
        raise PushRejected(400, 'body is not {"items": [1 to 100 records]}', problems) from None


def accept_push(headers: Mapping[str, str], body: bytes, secret: str, queue: BulkQueue, clock: Clock) -> int:
    """Check one push and queue its records; returns how many were accepted."""
    if len(body) > MAX_BODY_BYTES:
        raise PushRejected(413, f"body is {len(body)} bytes; at most {MAX_BODY_BYTES}")
    verify_signature(headers, body, secret, clock)
    items = parse_envelope(body)
    try:
        queue.send_all([intake_message(item, "push") for item in items])
    except Exception as exc:  # whatever the cause, the platform must send the batch again
        raise NotQueued(f"{len(items)} records not queued: {type(exc).__name__}") from exc
    return len(items)
