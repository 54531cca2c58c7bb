"""The 12315 platform simulator: a real HTTP server with the pull API and the report-back endpoint.

Records become visible when the (compressed) clock reaches their ``updated_at``, as on the real platform.
Report-back follows the contract's Idempotency-Key rules: 201 first, 200 for the same key and body, 409
for the same key with another body, 404 for an unknown complaint.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from odr_adapter.clock import Clock


@dataclass
class Simulator:
    clock: Clock
    token: str = "sim-token"
    records: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> request
    result_log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="12315-simulator", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()

    def publish(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.records.append(record)

    def _visible(self, updated_after: datetime) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self.lock:
            rows = [r for r in self.records if updated_after < _at(r) <= now]
        return sorted(rows, key=lambda r: (_at(r), str(r.get("complaint_id"))))

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            response = _json({"error": "bad token"}, 401)
        elif request.method == "GET" and request.path == "/v1/complaints":
            response = self._pull(request)
        elif (
            request.method == "POST"
            and request.path.startswith("/v1/complaints/")
            and request.path.endswith("/results")
        ):
            response = self._result(request, request.path.split("/")[3])
        else:
            response = _json({"error": "not found"}, 404)
        return response(environ, start_response)

    def _pull(self, request: Request) -> Response:
        try:
            since = datetime.fromisoformat(request.args["updated_after"])
            limit = min(200, max(1, int(request.args.get("limit", "100"))))
            offset = int(base64.urlsafe_b64decode(request.args["cursor"]).decode()) if "cursor" in request.args else 0
        except (KeyError, ValueError):
            return _json({"error": "bad query"}, 400)
        rows = self._visible(since)
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        cursor = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
        return _json({"items": page, "next_cursor": cursor, "server_time": self.clock.now().isoformat()})

    def _result(self, request: Request, complaint_id: str) -> Response:
        key = request.headers.get("Idempotency-Key")
        body = request.get_json(silent=True)
        if not key or not isinstance(body, dict):
            return _json({"error": "Idempotency-Key and a JSON body are required"}, 400)
        with self.lock:
            if not any(r.get("complaint_id") == complaint_id for r in self.records):
                return _json({"error": "unknown complaint"}, 404)
            seen = self.results.get(key)
            if seen is not None:
                return _json({"status": "duplicate"}, 200) if seen == body else _json({"error": "key reused"}, 409)
            self.results[key] = body
            self.result_log.append({"complaint_id": complaint_id, "key": key, **body})
        return _json({"status": "recorded"}, 201)


def _at(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["updated_at"]))


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json")
