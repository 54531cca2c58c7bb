"""What AWS does around the functions and moto does not: API Gateway proxying, the SQS and DynamoDB-stream
event source mappings, and EventBridge schedules, all driven by the kernel's clock (see kernel.py).

Triggers call the handlers in-process (as the Lambda service would call the function), not through moto's
Lambda API: an event source mapping is not an API call the function's role makes.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .deploy import ACCOUNT, ApiRoute, QueueTrigger, ScheduleTrigger, StreamTrigger
from .invoker import invoke
from .kernel import Kernel

log = logging.getLogger("odr_local.event_sources")


class ApiGateway:
    """Serves the template's Api routes on a local port as REST API proxy integrations."""

    def __init__(self, routes: list[ApiRoute], port: int = 0) -> None:
        self.routes = routes
        self.server = make_server("127.0.0.1", port, self._app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="api-gateway", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        path = request.path.removeprefix("/prod") or "/"
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method == request.method:
                return self._proxy(request, route, path, match.groupdict())
        if any(r.pattern.match(path) for r in self.routes):
            return Response(json.dumps({"message": "Method Not Allowed"}), 405, content_type="application/json")
        return Response(json.dumps({"message": "Missing Authentication Token"}), 403, content_type="application/json")

    def _proxy(self, request: Request, route: ApiRoute, path: str, params: dict[str, str]) -> Response:
        body = request.get_data(as_text=True)
        event = {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method,
            "headers": dict(request.headers),
            "multiValueHeaders": {k: request.headers.getlist(k) for k in request.headers.keys()},  # noqa: SIM118
            "queryStringParameters": dict(request.args) or None,
            "multiValueQueryStringParameters": {k: request.args.getlist(k) for k in request.args} or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "body": body or None,
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": request.method,
                "path": f"/prod{path}",
                "stage": "prod",
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": request.remote_addr},
            },
        }
        ok, payload = invoke(route.function, event)
        if not ok or not isinstance(payload, dict):
            return Response(json.dumps({"message": "Internal server error"}), 502, content_type="application/json")
        headers = {k: str(v) for k, v in (payload.get("headers") or {}).items()}
        for key, values in (payload.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(map(str, values))
        return Response(payload.get("body") or "", payload.get("statusCode", 200), headers=headers)


class QueuePump:
    """An SQS event source mapping: a batch to the function, the successes deleted, partial failures honoured.
    A failed message comes back when its visibility timeout (simulated seconds) has passed, as in SQS."""

    def __init__(self, trigger: QueueTrigger, sqs: Any, region: str) -> None:
        self.trigger, self.sqs, self.region = trigger, sqs, region
        self.name = trigger.queue_arn.rsplit(":", 1)[1]
        self.delivered = 0  # messages the function took (deleted after success)

    def _queue(self) -> Any:
        return sqs_backends[ACCOUNT][self.region].queues[self.name]

    def has_work(self) -> bool:
        return any(m.visible and not m.delayed for m in list(self._queue()._messages))

    def is_empty(self) -> bool:
        """No message at all: none visible, in flight or delayed."""
        return not self._queue()._messages

    def next_visible(self) -> float | None:
        """The epoch second at which a message now hidden (in flight or delayed) becomes visible."""
        times = [max(m.visible_at, m.delayed_until or 0) for m in list(self._queue()._messages)]
        return min(times) / 1000 + 0.001 if times else None

    def pump_once(self) -> bool:
        if not self.has_work():
            return False
        got = self.sqs.receive_message(
            QueueUrl=self.trigger.queue_url,
            MaxNumberOfMessages=self.trigger.batch_size,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        )
        messages = got.get("Messages", [])
        if not messages:
            return False
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.trigger.queue_arn,
                    "awsRegion": self.region,
                }
                for m in messages
            ]
        }
        ok, payload = invoke(self.trigger.function, event)
        failed = (
            {f["itemIdentifier"] for f in (payload or {}).get("batchItemFailures", [])}
            if ok
            else {m["MessageId"] for m in messages}
        )
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.trigger.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
            self.delivered += len(done)
        return True


class StreamPump:
    """A DynamoDB stream event source mapping: records in order, in batches, from the stream's start; a failed
    batch is delivered again (the position does not move past it), as Lambda does. Records are kept 24 hours,
    as DynamoDB Streams keeps them: older ones the consumer has taken are dropped from the emulated stream, so
    a long run's memory does not grow with every write."""

    RETENTION = timedelta(hours=24)
    RETRY_SECONDS = 30.0  # a failed batch is tried again after about as long as its attempt may take in Lambda

    def __init__(self, trigger: StreamTrigger, region: str, now: Callable[[], float]) -> None:
        self.trigger, self.region, self.now = trigger, region, now
        self.retry_at: float | None = None  # after a failed batch: the epoch second of its next attempt
        self.table_name = trigger.stream_arn.split(":table/")[1].split("/")[0]
        self.position: int | None = None  # the next sequence number to deliver
        self.delivered = 0
        self.observers: list[Callable[[list[dict[str, Any]]], None]] = []  # see every record read, filtered or not
        self.peers: list[StreamPump] = [self]  # every mapping on this stream: a record is kept until all took it

    def _shard(self) -> Any:
        return dynamodb_backends[ACCOUNT][self.region].tables[self.table_name].stream_shard

    def caught_up(self) -> bool:
        shard = self._shard()
        return self.position is not None and shard.starting_sequence_number + len(shard.items) <= self.position

    def next_retry(self) -> float | None:
        """When a failed batch is delivered again: time moves on meanwhile, as it does between Lambda's attempts
        (a batch that waits on a lease must see the lease run out)."""
        return self.retry_at

    def pump_once(self) -> bool:
        if self.retry_at is not None and self.now() < self.retry_at:
            return False
        self.retry_at = None
        shard = self._shard()
        if self.position is None:
            self.position = shard.starting_sequence_number
        if shard.starting_sequence_number + len(shard.items) <= self.position:
            return False
        taken = shard.get(self.position, self.trigger.batch_size)
        records = [json.loads(json.dumps(r, default=_as_lambda)) for r in taken]
        for record in records:
            record["awsRegion"] = self.region
            record["eventSourceARN"] = self.trigger.stream_arn
        wanted = [r for r in records if not self.trigger.filters or any(matches(f, r) for f in self.trigger.filters)]
        ok = invoke(self.trigger.function, {"Records": wanted})[0] if wanted else True
        if ok:
            for observe in self.observers:
                observe(records)
            self.position += len(records)
            self.delivered += len(records)
            self._forget_old(shard)
        else:
            self.retry_at = self.now() + self.RETRY_SECONDS
        return True

    def _forget_old(self, shard: Any) -> None:
        cutoff = (datetime.now(UTC) - self.RETENTION).replace(tzinfo=None)
        positions = [p.position for p in self.peers if p.position is not None]
        taken = min(positions) - shard.starting_sequence_number if len(positions) == len(self.peers) else 0
        old = 0
        while old < taken and shard.items[old].record["dynamodb"]["ApproximateCreationDateTime"] < cutoff:
            old += 1
        if old:
            del shard.items[:old]
            shard.starting_sequence_number += old


def matches(pattern: Any, value: Any) -> bool:
    """An event filter pattern (the subset template.yaml uses: nested objects, exact values, ``prefix``)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(_matches_one(p, value) for p in pattern)
    raise NotImplementedError(f"filter pattern {pattern!r} has no local counterpart")


def _matches_one(pattern: Any, value: Any) -> bool:
    if isinstance(pattern, dict):
        if set(pattern) == {"prefix"}:
            return isinstance(value, str) and value.startswith(pattern["prefix"])
        raise NotImplementedError(f"filter pattern {pattern!r} has no local counterpart")
    return bool(value == pattern)


def _as_lambda(value: Any) -> Any:
    """What moto keeps in a stream record as Lambda's event carries it: ApproximateCreationDateTime (a naive UTC
    datetime) as epoch seconds, a binary attribute (bytes) as base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return int(value.replace(tzinfo=UTC).timestamp())


def schedule(kernel: Kernel, trigger: ScheduleTrigger) -> None:
    """An EventBridge schedule (which moto never fires) on the kernel's clock: a rate, or a cron expression."""

    def fire() -> None:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": kernel.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [],
            "detail": {},
        }
        invoke(trigger.function, event)

    if trigger.cron is not None:
        cron = trigger.cron

        def fire_and_again() -> None:
            kernel.call_at(cron.next_after(kernel.now()), fire_and_again, f"cron {trigger.function}")
            fire()

        kernel.call_at(cron.next_after(kernel.now()), fire_and_again, f"cron {trigger.function}")
        return
    assert trigger.rate_seconds is not None
    kernel.every(trigger.rate_seconds, fire, f"schedule {trigger.function}")
