"""The 12315 platform simulator: a real HTTP server with the pull API, the report-back and progress endpoints,
faults switchable on demand, and a signer-pusher that calls the adapter's webhook.

Records become visible when the clock (the kernel's, see kernel.py) reaches their ``updated_at``, as on the real
platform. Pages
are ordered by (``updated_at``, ``complaint_id``, ``revision``) and the opaque cursor names the last item served
(keyset paging). Report-back follows the contract's Idempotency-Key rules: 201 first, 200 for the same key and
body, 409 for the same key with another body, 404 for an unknown complaint. Progress (contract v1.1, 4a)
follows the same rules, validates the body (400 naming every problem: the stage, an ``at`` with its offset,
``handled_by`` as the enterprise's ``{name, uscc}`` or the station's ``{code, name}``, a note of at most 200
characters without the consumer's personal data) and answers 422 once the complaint's outcome is reported.

Faults (``sim.faults.update(...)`` or ``POST /_sim/faults`` with a JSON object of the same names):

- per request, on the endpoints in ``targets`` (``pull``, ``results``, ``progress``), at most one of: ``error`` (503),
  ``throttle`` (429 with ``Retry-After``), ``slow`` (answers after ``slow_seconds``), ``drop`` (the connection
  is closed without an answer; on ``results`` and ``progress`` the report is recorded first, so only the reply
  is lost).
  ``script`` forces the faults of the next requests in order (``ok``: none), before the rates apply. ``slow``
  is real seconds: it tries the client's timeouts, and simulated time stands still while a request is served;
- per page: ``duplicate_page`` (the next cursor serves the same page again), ``repeat_items`` (the next page
  starts with the last ``repeat_items`` items of this one);
- per record: ``late`` (visible ``late_seconds`` of simulated time after its ``updated_at``, so it appears
  after newer records: an out-of-order ``updated_at``), ``stale_revision`` (each time a newer revision is
  served, an older one of the same complaint follows it);
- per push: ``push_duplicate`` (an accepted batch is pushed again, as after a lost acknowledgement).

Request and page faults draw from one random sequence seeded by ``seed`` (deterministic for a given order of
requests); record faults are a hash of the seed and the record's key (deterministic whatever the order).
``GET /_sim/counters`` (or ``sim.counters()``) gives what a run reconciles against.

Whatever a scenario publishes is served as a platform would serve it: JSON text in UTF-8, with ``\\u`` escapes
where UTF-8 cannot carry a string (a lone surrogate such as ``"\\ud83d"``, half an emoji), the adapter's own
:func:`~odr_adapter.models.limits.json_text`. An answer the simulator still fails to make is a 500, and the failure
is kept in ``serving_errors`` for the runner to stop on (a fault of the simulator, not one injected).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from odr_adapter.clock import SHANGHAI, Clock
from odr_adapter.models.limits import json_text

from .kernel import Kernel

log = logging.getLogger("odr_local.simulator")

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
RequestFault = Literal["error", "throttle", "slow", "drop"]
Key = tuple[str, int]  # (complaint_id, revision)
MAX_PUSH_ITEMS = 100
MAX_PUSH_BYTES = 1024 * 1024


class Faults(BaseModel):
    """What goes wrong on the simulated platform (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    targets: list[Literal["pull", "results", "progress"]] = ["pull"]
    error_rate: Rate = 0.0
    throttle_rate: Rate = 0.0
    retry_after_seconds: int = Field(1, ge=0)
    slow_rate: Rate = 0.0
    slow_seconds: float = Field(0.5, ge=0)
    drop_rate: Rate = 0.0
    duplicate_page_rate: Rate = 0.0
    repeat_items_rate: Rate = 0.0
    repeat_items: int = Field(2, ge=1)
    late_rate: Rate = 0.0
    late_seconds: float = Field(300.0, ge=0)  # simulated; keep it under the poller's overlap (10 minutes)
    stale_revision_rate: Rate = 0.0
    push_duplicate_rate: Rate = 0.0
    script: list[RequestFault | Literal["ok"]] = []

    _rng: random.Random = PrivateAttr(default_factory=random.Random)

    def model_post_init(self, context: Any) -> None:
        self._rng.seed(self.seed)

    @model_validator(mode="after")
    def _one_fault_per_request(self) -> Faults:
        if self.error_rate + self.throttle_rate + self.slow_rate + self.drop_rate > 1:
            raise ValueError("error, throttle, slow and drop rates share one request: their sum is at most 1")
        return self

    def update(self, **changes: Any) -> Faults:
        """Change some settings, validated together; a new seed restarts the random sequence."""
        merged = type(self).model_validate({**self.model_dump(), **changes})
        for name in type(self).model_fields:
            object.__setattr__(self, name, getattr(merged, name))
        if "seed" in changes:
            self._rng.seed(self.seed)
        return self

    def draw(self) -> float:
        return self._rng.random()

    def chance(self, kind: str, key: Key) -> float:
        """A fixed number in [0, 1) for this seed, fault kind and record."""
        digest = hashlib.sha256(f"{self.seed}:{kind}:{key[0]}:{key[1]}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def request_fault(self, target: str) -> RequestFault | None:
        if target not in self.targets:
            return None
        if self.script:
            scripted = self.script.pop(0)
            return None if scripted == "ok" else scripted
        if not (self.error_rate or self.throttle_rate or self.slow_rate or self.drop_rate):
            return None
        rates: tuple[tuple[RequestFault, float], ...] = (
            ("error", self.error_rate),
            ("throttle", self.throttle_rate),
            ("slow", self.slow_rate),
            ("drop", self.drop_rate),
        )
        r = self.draw()
        for name, rate in rates:
            if r < rate:
                return name
            r -= rate
        return None


class FeedOptions(BaseModel):
    """A scenario's ``feed:`` section: the faults to switch on and whether the platform also pushes."""

    model_config = ConfigDict(extra="forbid")

    push: bool = False
    faults: Faults = Field(default_factory=Faults)


@dataclass
class Counters:
    pull_requests: int = 0  # every GET of the feed, faulted or not
    pages_served: int = 0  # pages actually answered
    items_served: int = 0
    results_recorded: int = 0  # 201
    results_repeated: int = 0  # 200: same key and body again
    results_conflicting: int = 0  # 409: same key, other body
    progress_recorded: int = 0  # 201
    progress_repeated: int = 0  # 200: same key and body again
    progress_conflicting: int = 0  # 409
    progress_invalid: int = 0  # 400: a body that breaks the contract
    progress_superseded: int = 0  # 422: after the outcome
    pushes_attempted: int = 0  # HTTP requests to the webhook
    pushes_accepted: int = 0  # 2xx
    pushes_rejected: int = 0  # 4xx: the platform gives those records up
    pushes_failed: int = 0  # 5xx or no answer: retried
    faults: dict[str, int] = field(default_factory=dict)  # injected, by kind


@dataclass
class _Entry:
    record: dict[str, Any]
    key: Key
    at: datetime
    visible_at: datetime

    @property
    def order(self) -> tuple[datetime, str, int]:
        return (self.at, self.key[0], self.key[1])


def offered_key(record: dict[str, Any]) -> Key:
    """The (complaint id, revision) a record counts as: a revision that is not an integer counts as 0."""
    revision = record.get("revision")
    return (str(record.get("complaint_id")), revision if isinstance(revision, int) else 0)


def _at(record: dict[str, Any]) -> datetime:
    at = datetime.fromisoformat(str(record["updated_at"]))
    if at.tzinfo is None:
        raise ValueError("updated_at needs an offset")
    return at


def _encode_cursor(after: tuple[datetime, str, int] | None) -> str:
    payload = None if after is None else [after[0].isoformat(), after[1], after[2]]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_cursor(text: str | None) -> tuple[datetime, str, int] | None:
    if text is None:
        return None
    payload = json.loads(base64.urlsafe_b64decode(text.encode()))
    if payload is None:
        return None
    return (datetime.fromisoformat(payload[0]), str(payload[1]), int(payload[2]))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_text(body), status, headers, content_type="application/json")


def _drop(environ: dict[str, Any]) -> None:
    """Close the client's connection without a word; the server treats it as a dropped connection."""
    environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("simulated fault: connection dropped")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The platform's push signature (contract section 3)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _Enterprise(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1)]
    uscc: Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")]


class _Station(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]


class ProgressReport(BaseModel):
    """The body of ``POST /v1/complaints/{id}/progress`` (contract v1.1, section 4a)."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal["dispatched", "accepted", "result_reported", "under_review", "sent_back"]
    at: str
    handled_by: _Enterprise | _Station
    note: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _at_has_an_offset(self) -> ProgressReport:
        try:
            at = datetime.fromisoformat(self.at)
        except ValueError:
            raise ValueError("at must be an RFC 3339 date-time") from None
        if at.tzinfo is None or "T" not in self.at:
            raise ValueError("at must be an RFC 3339 date-time with an offset")
        return self


_PERSONAL = ("name", "phone", "email", "address", "id_number")


def progress_problems(body: dict[str, Any], record: dict[str, Any]) -> list[dict[str, str]]:
    """Every way ``body`` breaks section 4a, the consumer's personal data in the note included."""
    try:
        report = ProgressReport.model_validate(body)
    except ValidationError as exc:
        return [{"field": ".".join(map(str, e["loc"])) or "body", "reason": e["msg"]} for e in exc.errors()]
    consumer = record.get("consumer")
    values = [consumer.get(k) for k in _PERSONAL] if isinstance(consumer, dict) else []
    personal = [v for v in values if isinstance(v, str) and len(v) > 1]
    if report.note and any(value in report.note for value in personal):
        return [{"field": "note", "reason": "carries the consumer's personal data"}]
    return []


@dataclass
class Simulator:
    clock: Clock = field(default_factory=Clock)
    token: str = "sim-token"
    push_secret: str = "sim-push-secret"
    faults: Faults = field(default_factory=Faults)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> request
    result_log: list[dict[str, Any]] = field(default_factory=list)
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> body
    progress_log: list[dict[str, Any]] = field(default_factory=list)  # recorded stages, in arrival order
    superseded_log: list[dict[str, Any]] = field(default_factory=list)  # stages answered 422
    serving_errors: list[str] = field(default_factory=list)  # answers (or pushes) the simulator failed to make
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.stats = Counters()
        self._entries: list[_Entry] = []
        self._by_id: dict[str, list[_Entry]] = {}
        self.pusher: Pusher | None = None
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name="12315-simulator", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e.record for e in self._entries]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()

    def configure(self, options: FeedOptions, webhook_url: str, kernel: Kernel) -> None:
        """Apply a scenario's ``feed:`` section: its faults, and the pusher when ``push`` is on."""
        self.faults.update(**options.faults.model_dump())
        if options.push:
            self.start_pusher(webhook_url, kernel)

    def start_pusher(self, webhook_url: str, kernel: Kernel, batch_size: int = MAX_PUSH_ITEMS) -> Pusher:
        self.pusher = Pusher(self, webhook_url, kernel, batch_size)
        with self.lock:
            visible = sorted({e.visible_at for e in self._entries})
        for at in visible:
            self.pusher.push_at(at)
        return self.pusher

    def publish(self, record: dict[str, Any]) -> None:
        """Make a record (one revision of a complaint) part of the feed; it shows once the clock reaches it."""
        at = _at(record)
        key = offered_key(record)
        with self.lock:
            late = self.faults.late_rate > 0 and self.faults.chance("late", key) < self.faults.late_rate
            if late:
                self._count_fault("late")
            entry = _Entry(record, key, at, at + timedelta(seconds=self.faults.late_seconds if late else 0))
            self._entries.append(entry)
            self._by_id.setdefault(key[0], []).append(entry)
        if self.pusher is not None:
            self.pusher.push_at(entry.visible_at)

    def offered(self) -> set[tuple[str, int]]:
        """Every (complaint_id, revision) published so far: what intake must account for."""
        with self.lock:
            return {e.key for e in self._entries}

    def visible_since(self) -> dict[str, datetime]:
        """Each complaint id offered and visible now, with when its first record became visible."""
        now = self.clock.now()
        first: dict[str, datetime] = {}
        with self.lock:
            for e in self._entries:
                if e.visible_at <= now and (e.key[0] not in first or e.visible_at < first[e.key[0]]):
                    first[e.key[0]] = e.visible_at
        return first

    def failed_to_serve(self, what: str, exc: Exception) -> None:
        """Keep a failure of the simulator itself (not an injected fault), for the runner to stop on."""
        log.error("12315 simulator failed: %s", what, exc_info=exc)
        with self.lock:
            self.serving_errors.append(f"{what}: {type(exc).__name__}: {exc}")

    def counters(self) -> dict[str, Any]:
        """Everything a run reconciles: distinct records offered and visible, pushes, pages, faults."""
        now = self.clock.now()
        with self.lock:
            offered = {e.key for e in self._entries}
            visible = {e.key for e in self._entries if e.visible_at <= now}
            pushed = len(self.pusher.pushed) if self.pusher else 0
            return {
                "records_offered": len(offered),
                "records_visible": len(visible),
                "records_pushed": pushed,
                **asdict(self.stats),
                "result_keys": len(self.results),
                "progress_keys": len(self.progress),
            }

    def _count_fault(self, kind: str) -> None:
        self.stats.faults[kind] = self.stats.faults.get(kind, 0) + 1

    # -- HTTP ---------------------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/_sim/"):
            response = self._admin(request)
        elif request.headers.get("Authorization") != f"Bearer {self.token}":
            response = _json({"error": "bad token"}, 401)
        elif request.method == "GET" and request.path == "/v1/complaints":
            response = self._with_faults("pull", environ, lambda: self._pull(request))
        elif (
            request.method == "POST"
            and request.path.startswith("/v1/complaints/")
            and request.path.endswith("/results")
        ):
            complaint_id = request.path.split("/")[3]
            response = self._with_faults("results", environ, lambda: self._result(request, complaint_id))
        elif (
            request.method == "POST"
            and request.path.startswith("/v1/complaints/")
            and request.path.endswith("/progress")
        ):
            complaint_id = request.path.split("/")[3]
            response = self._with_faults("progress", environ, lambda: self._progress(request, complaint_id))
        else:
            response = _json({"error": "not found"}, 404)
        return response(environ, start_response)

    def _with_faults(self, target: str, environ: dict[str, Any], answer: Callable[[], Response]) -> Response:
        with self.lock:
            fault = self.faults.request_fault(target)
            if fault:
                self._count_fault(fault)
            if target == "pull":
                self.stats.pull_requests += 1
            slow, retry_after = self.faults.slow_seconds, self.faults.retry_after_seconds
        if fault == "error":
            return _json({"error": "simulated fault: service unavailable"}, 503)
        if fault == "throttle":
            return _json({"error": "simulated fault: rate limited"}, 429, {"Retry-After": str(retry_after)})
        if fault == "slow":
            time.sleep(slow)
        if fault == "drop" and target == "pull":
            _drop(environ)
        try:
            response = answer()
        except Exception as exc:  # a bug of the simulator, or something in a record it cannot serve
            self.failed_to_serve(f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}", exc)
            return _json({"error": "the simulator failed to answer"}, 500)
        if fault == "drop":  # a report is recorded, then its reply is lost
            _drop(environ)
        return response

    def _pull(self, request: Request) -> Response:
        try:
            since = datetime.fromisoformat(request.args["updated_after"])
            if since.tzinfo is None:
                raise ValueError("updated_after needs an offset")
            limit = min(200, max(1, int(request.args.get("limit", "100"))))
            after = _decode_cursor(request.args.get("cursor"))
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            return _json({"error": f"bad query: {exc}"}, 400)
        now = self.clock.now()
        with self.lock:
            f = self.faults
            rows = sorted((e for e in self._entries if e.at > since and e.visible_at <= now), key=lambda e: e.order)
            if after is not None:
                rows = [e for e in rows if e.order > after]
            page, more = rows[:limit], len(rows) > limit
            next_cursor = _encode_cursor(page[-1].order) if more else None
            if page and f.duplicate_page_rate and f.draw() < f.duplicate_page_rate:
                next_cursor = request.args.get("cursor") or _encode_cursor(None)
                self._count_fault("duplicate_page")
            elif more and len(page) > f.repeat_items and f.repeat_items_rate and f.draw() < f.repeat_items_rate:
                next_cursor = _encode_cursor(page[-1 - f.repeat_items].order)
                self._count_fault("repeat_items")
            items = []
            for entry in page:
                items.append(entry.record)
                if f.stale_revision_rate and f.chance("stale", entry.key) < f.stale_revision_rate:
                    older = [o for o in self._by_id[entry.key[0]] if o.key[1] < entry.key[1] and o.visible_at <= now]
                    if older:
                        items.append(min(older, key=lambda o: o.key[1]).record)
                        self._count_fault("stale_revision")
            self.stats.pages_served += 1
            self.stats.items_served += len(items)
        return _json({"items": items, "next_cursor": next_cursor, "server_time": now.isoformat()})

    def _report(self, request: Request) -> tuple[str, dict[str, Any]] | Response:
        """A report's Idempotency-Key and JSON body, or the 400 when either is missing."""
        key = request.headers.get("Idempotency-Key")
        body = request.get_json(silent=True)
        if not key or not isinstance(body, dict):
            return _json({"error": "Idempotency-Key and a JSON body are required"}, 400)
        return key, body

    def _repeat(self, kind: Literal["results", "progress"], seen: Any, body: dict[str, Any]) -> Response | None:
        """The answer to a key already used (lock held): the same body again is a repeat, another one a conflict."""
        if seen is None:
            return None
        counter = f"{kind}_repeated" if seen == body else f"{kind}_conflicting"
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        return _json({"status": "duplicate"}, 200) if seen == body else _json({"error": "key reused"}, 409)

    def _result(self, request: Request, complaint_id: str) -> Response:
        report = self._report(request)
        if isinstance(report, Response):
            return report
        key, body = report
        with self.lock:
            if complaint_id not in self._by_id:
                return _json({"error": "unknown complaint"}, 404)
            if (repeat := self._repeat("results", self.results.get(key), body)) is not None:
                return repeat
            self.results[key] = body
            self.result_log.append({"complaint_id": complaint_id, "key": key, **body})
            self.stats.results_recorded += 1
        return _json({"status": "recorded"}, 201)

    def _progress(self, request: Request, complaint_id: str) -> Response:
        report = self._report(request)
        if isinstance(report, Response):
            return report
        key, body = report
        with self.lock:
            if complaint_id not in self._by_id:
                return _json({"error": "unknown complaint"}, 404)
            if (repeat := self._repeat("progress", self.progress.get(key), body)) is not None:
                return repeat
            problems = progress_problems(body, self._by_id[complaint_id][-1].record)
            if problems:
                self.stats.progress_invalid += 1
                return _json({"error": "not a progress report of contract v1.1", "problems": problems}, 400)
            if any(r["complaint_id"] == complaint_id for r in self.result_log):
                self.stats.progress_superseded += 1
                self.superseded_log.append({"complaint_id": complaint_id, "key": key, **body})
                return _json({"error": "the outcome is reported: progress is closed"}, 422)
            self.progress[key] = body
            self.progress_log.append({"complaint_id": complaint_id, "key": key, **body})
            self.stats.progress_recorded += 1
        return _json({"status": "recorded"}, 201)

    def _admin(self, request: Request) -> Response:
        if request.path == "/_sim/counters" and request.method == "GET":
            return _json(self.counters())
        if request.path == "/_sim/publish" and request.method == "POST":
            return self._publish_request(request.get_json(silent=True))
        if request.path == "/_sim/faults" and request.method == "GET":
            return _json(self.faults.model_dump())
        if request.path == "/_sim/faults" and request.method == "POST":
            changes = request.get_json(silent=True)
            if not isinstance(changes, dict):
                return _json({"error": "a JSON object of fault settings is required"}, 400)
            try:
                with self.lock:
                    self.faults.update(**changes)
            except ValidationError as exc:
                problems = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in exc.errors()]
                return _json({"error": "invalid fault settings", "problems": problems}, 400)
            return _json(self.faults.model_dump())
        return _json({"error": "not found"}, 404)

    def _publish_request(self, body: Any) -> Response:
        """``{"records": [...], "now": bool}``: put records on the platform (``now``: registered at this
        instant). All or nothing: a record without a usable ``updated_at`` is named and nothing is published."""
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return _json({"error": 'a JSON object {"records": [...]} is required'}, 400)
        if body.get("now"):
            stamp = self.clock.now().astimezone(SHANGHAI).isoformat()
            records = [
                {**r, "registered_at": stamp, "updated_at": stamp} if isinstance(r, dict) else r for r in records
            ]
        problems = []
        for n, record in enumerate(records):
            try:
                _at(record)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append({"index": n, "reason": f"updated_at must be a date-time with an offset ({exc})"})
        if problems:
            return _json({"error": "nothing published", "problems": problems}, 400)
        for record in records:
            self.publish(record)
        return _json({"published": len(records)}, 202)

    # -- what the pusher needs ------------------------------------------------------------------------------

    def due_for_push(self, done: set[Key]) -> list[_Entry]:
        """Visible records whose revision has not been pushed yet, in feed order (one per key)."""
        now = self.clock.now()
        with self.lock:
            due: dict[Key, _Entry] = {}
            for e in self._entries:
                if e.visible_at <= now and e.key not in done:
                    due.setdefault(e.key, e)
        return sorted(due.values(), key=lambda e: e.order)


class Pusher:
    """The platform's push: batches of newly visible records, signed, POSTed to the adapter's webhook.

    A push is due when a record becomes visible (on the kernel's clock). 2xx: delivered. 4xx: refused for good,
    given up (as the contract says the platform does). Anything else, or no answer: sent again after a growing
    pause of simulated time, so a record may arrive more than once, and by pull too.
    """

    RETRY_SECONDS = 15.0  # the first pause after a failed push; doubles per failure, at most ten minutes

    def __init__(self, sim: Simulator, url: str, kernel: Kernel, batch_size: int = MAX_PUSH_ITEMS) -> None:
        self.sim, self.url, self.kernel, self.batch_size = sim, url, kernel, min(batch_size, MAX_PUSH_ITEMS)
        self.pushed: set[Key] = set()
        self.given_up: set[Key] = set()
        self.failures = 0
        self.retry_at: datetime | None = None  # after a failed push, nothing goes out before this
        self._due: set[float] = set()  # epoch seconds at which a push is already on the kernel's queue

    def push_at(self, when: datetime) -> None:
        at = when.timestamp()
        with self.sim.lock:
            if at in self._due:
                return
            self._due.add(at)
        self.kernel.call_at(when, lambda: self._fire(at), "12315 push")

    def _fire(self, at: float) -> None:
        with self.sim.lock:
            self._due.discard(at)
        try:
            self.push_due()
        except Exception as exc:  # the pusher must outlive any one bad moment
            self.sim.failed_to_serve("push", exc)

    def push_due(self) -> None:
        if self.retry_at is not None and self.kernel.now() < self.retry_at:
            return  # the retry is on the kernel's queue already
        self.retry_at = None
        for batch in self._batches(self.sim.due_for_push(self.pushed | self.given_up)):
            status = self._post(batch)
            if status is None or not (200 <= status < 300 or 400 <= status < 500):
                self.failures += 1
                pause = min(600.0, self.RETRY_SECONDS * 2 ** (self.failures - 1))
                self.retry_at = self.kernel.now() + timedelta(seconds=pause)
                self.push_at(self.retry_at)
                return
            keys = {e.key for e in batch}
            if status < 300:
                self.pushed |= keys
                with self.sim.lock:
                    again = self.sim.faults.push_duplicate_rate and (
                        self.sim.faults.draw() < self.sim.faults.push_duplicate_rate
                    )
                    if again:
                        self.sim._count_fault("push_duplicate")
                if again:
                    self._post(batch)
            else:
                self.given_up |= keys
        self.failures = 0

    def _batches(self, due: list[_Entry]) -> list[list[_Entry]]:
        batches: list[list[_Entry]] = []
        current: list[_Entry] = []
        size = 0
        for entry in due:
            length = len(json_text(entry.record).encode()) + 2
            if current and (len(current) >= self.batch_size or size + length > MAX_PUSH_BYTES - 16):
                batches.append(current)
                current, size = [], 0
            current.append(entry)
            size += length
        return [*batches, current] if current else batches

    def _post(self, batch: list[_Entry]) -> int | None:
        body = json_text({"items": [e.record for e in batch]}).encode()
        stamp = str(int(self.sim.clock.now().timestamp()))  # the platform signs with its own clock
        headers = {
            "Content-Type": "application/json",
            "X-12315-Timestamp": stamp,
            "X-12315-Signature": sign(self.sim.push_secret, stamp, body),
        }
        status: int | None
        try:
            status = requests.post(self.url, data=body, headers=headers, timeout=30).status_code
        except requests.RequestException:
            status = None
        with self.sim.lock:
            stats = self.sim.stats
            stats.pushes_attempted += 1
            if status is None or status >= 500 or status < 200 or 300 <= status < 400:
                stats.pushes_failed += 1
            elif status < 300:
                stats.pushes_accepted += 1
            else:
                stats.pushes_rejected += 1
        return status
