"""SMS through an HTTPS gateway, the way China-region SMS providers are reached.

``POST <url>`` with JSON ``{"to": "+86...", "text": "..."}`` and ``Authorization: Bearer <token>``; the token
is read from Secrets Manager (and read again when the gateway says it is no longer valid). 2xx: sent, its
``message_id`` returned; 429 and 5xx may pass; other 4xx are final.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from odr_adapter.data_access.clients import client
from odr_adapter.data_access.messaging import e164, provider_call
from odr_adapter.ports import DeliveryFailed

_TOKEN_SECONDS = 300.0


class SmsGateway:
    def __init__(self, url: str, token_secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self.token_secret = token_secret
        self.timeout = timeout
        self._token: tuple[float, str] | None = None

    def _bearer(self) -> str:
        if self._token is None or time.monotonic() - self._token[0] > _TOKEN_SECONDS:
            got = provider_call(lambda: client("secretsmanager").get_secret_value(SecretId=self.token_secret))
            self._token = (time.monotonic(), str(got["SecretString"]))
        return self._token[1]

    def send(self, mobile: str, text: str) -> str:
        body = json.dumps({"to": e164(mobile), "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {self._bearer()}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return str(json.loads(response.read() or b"{}").get("message_id", ""))
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                self._token = None  # the token was rotated: read it again on the next try
            final = 400 <= exc.code < 500 and exc.code not in (401, 429)
            raise DeliveryFailed(f"HTTP {exc.code}", permanent=final) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryFailed(type(exc).__name__, permanent=False) from exc
