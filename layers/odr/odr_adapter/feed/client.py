"""HTTP client of the 12315 platform (pull API, report-back, progress), with retries on transient faults.

Transient: 5xx, 429 (after its ``Retry-After``), timeouts, refused or dropped connections and cut-off answers.
They are retried with exponential backoff and jitter; anything else is the platform's final word.

A page of the pull API is read as the webhook reads a push (:func:`~odr_adapter.models.limits.feed_items`): each
record within the feed's limits, one over them handed over as :class:`~odr_adapter.models.limits.OverLimits`,
never a ``RecursionError`` or a crash that would stop the poller on that page for good.
"""

from __future__ import annotations

import http.client
import json
import random
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from odr_adapter.clock import pause
from odr_adapter.models.limits import RequestRejected, feed_items

TRANSIENT_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


class PlatformError(Exception):
    """The platform refused the request for good (4xx other than 429)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        super().__init__(f"12315 platform answered {status}: {body[:200]}")


class PlatformUnavailable(Exception):
    """Transient faults outlasted the retries; the caller leaves the work for its next run."""


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (the platform sends whole seconds; an HTTP date is not used by it)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class FeedClient:
    base_url: str
    token: str
    attempts: int = 5
    timeout: float = 10.0
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0  # a longer rate-limit pause is left to the next scheduled run
    sleep: Callable[[float], None] = pause
    retries: int = field(default=0, init=False)  # transient faults met so far, for the caller's log

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter, so retrying clients do not fire in step."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        read: Callable[[bytes], Any] = lambda raw: json.loads(raw or b"null"),
    ) -> tuple[int, Any]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        all_headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            **(headers or {}),
        }
        last = ""
        for attempt in range(self.attempts):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
            wait = self._backoff(attempt)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, read(response.read())
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace")
                if exc.code == 429:
                    asked = retry_after_seconds(exc.headers.get("Retry-After"))
                    if asked is not None and asked > self.max_retry_after:
                        raise PlatformUnavailable(f"{method} {path}: rate limited for {asked:.0f} s") from None
                    wait = max(wait, asked if asked is not None else 1.0)
                elif exc.code < 500:
                    raise PlatformError(exc.code, text) from None
                last = f"HTTP {exc.code}"
            except (*TRANSIENT_ERRORS, json.JSONDecodeError, RequestRejected) as exc:  # a cut-off answer
                last = f"{type(exc).__name__}: {exc}"
            self.retries += 1
            if attempt < self.attempts - 1:
                self.sleep(wait)
        raise PlatformUnavailable(f"{method} {path} failed {self.attempts} times (last: {last})")

    def page(self, updated_after: str, cursor: str | None, limit: int = 200) -> dict[str, Any]:
        query = {"updated_after": updated_after, "limit": str(limit)}
        if cursor:
            query["cursor"] = cursor
        _, body = self._request("GET", "/v1/complaints?" + urllib.parse.urlencode(query), read=feed_items)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise PlatformUnavailable("the feed answered something that is not a page of items")
        return body

    def report(self, complaint_id: str, idempotency_key: str, result: dict[str, Any]) -> int:
        status, _ = self._request(
            "POST",
            f"/v1/complaints/{urllib.parse.quote(complaint_id)}/results",
            result,
            {"Idempotency-Key": idempotency_key},
        )
        return status

    def progress(self, complaint_id: str, idempotency_key: str, body: dict[str, Any]) -> int:
        """Contract v1.1, section 4a: one stage of the case (201 first time, 200 the same key and body again)."""
        status, _ = self._request(
            "POST",
            f"/v1/complaints/{urllib.parse.quote(complaint_id)}/progress",
            body,
            {"Idempotency-Key": idempotency_key},
        )
        return status
