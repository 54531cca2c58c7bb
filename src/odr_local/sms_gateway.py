"""A simulated HTTPS SMS gateway (the kind China-region SMS providers offer), as a real local HTTP server.

``POST /v1/sms`` with ``Authorization: Bearer <token>`` and JSON ``{"to": "+86...", "text": "..."}``:
200 ``{"message_id": ...}``. It keeps every accepted message, and fails on demand: the next n requests, or
every request to given numbers, answer with the status a test asks for.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from odr_adapter.clock import Clock


@dataclass(frozen=True)
class Sms:
    message_id: str
    to: str
    text: str
    at: datetime


@dataclass
class SmsGatewaySimulator:
    clock: Clock = field(default_factory=Clock)
    token: str = "sms-gateway-token"
    sent: list[Sms] = field(default_factory=list)
    requests: int = 0
    failing: list[int] = field(default_factory=list)  # statuses of the next requests to fail, in order
    failing_numbers: dict[str, int] = field(default_factory=dict)  # number -> status, until cleared
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="sms-gateway", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1/sms"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()

    def fail_next(self, count: int, status: int = 503) -> None:
        with self.lock:
            self.failing.extend([status] * count)

    def fail_number(self, number: str, status: int = 503) -> None:
        with self.lock:
            self.failing_numbers[number] = status

    def recover(self) -> None:
        with self.lock:
            self.failing.clear()
            self.failing_numbers.clear()

    def messages_to(self, number: str) -> list[Sms]:
        with self.lock:
            return [m for m in self.sent if m.to == number]

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/v1/sms":
            return _json({"error": "not found"}, 404)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"error": "bad token"}, 401)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("to"), str) or not isinstance(body.get("text"), str):
            return _json({"error": "to and text are required"}, 400)
        with self.lock:
            self.requests += 1
            status = self.failing.pop(0) if self.failing else self.failing_numbers.get(body["to"])
            if status is not None:
                return _json({"error": "failing on demand"}, status)
            sms = Sms(str(uuid.uuid4()), body["to"], body["text"], self.clock.now())
            self.sent.append(sms)
        return _json({"message_id": sms.message_id})


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json")
