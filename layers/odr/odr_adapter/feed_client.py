"""HTTP client of the 12315 platform (pull API and report-back), with retries on transient faults."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class PlatformError(Exception):
    """The platform refused the request for good (4xx other than 429)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        super().__init__(f"12315 platform answered {status}: {body[:200]}")


class PlatformUnavailable(Exception):
    """Transient faults outlasted the retries; the caller leaves the work queued."""


@dataclass
class FeedClient:
    base_url: str
    token: str
    attempts: int = 5
    timeout: float = 10.0
    base_delay: float = 0.2

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        all_headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            **(headers or {}),
        }
        for attempt in range(self.attempts):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
            wait = self.base_delay * 2**attempt * random.uniform(0.5, 1.5)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace")
                if exc.code == 429:
                    wait = max(wait, float(exc.headers.get("Retry-After") or 1))
                elif exc.code < 500:
                    raise PlatformError(exc.code, text) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                pass
            if attempt < self.attempts - 1:
                time.sleep(wait)
        raise PlatformUnavailable(f"{method} {path} failed {self.attempts} times")

    def page(self, updated_after: str, cursor: str | None, limit: int = 200) -> dict[str, Any]:
        query = {"updated_after": updated_after, "limit": str(limit)}
        if cursor:
            query["cursor"] = cursor
        _, body = self._request("GET", "/v1/complaints?" + urllib.parse.urlencode(query))
        return dict(body)

    def report(self, complaint_id: str, idempotency_key: str, result: dict[str, Any]) -> int:
        status, _ = self._request(
            "POST",
            f"/v1/complaints/{urllib.parse.quote(complaint_id)}/results",
            result,
            {"Idempotency-Key": idempotency_key},
        )
        return status
