"""What AWS would do around the functions and moto does not: API Gateway proxying, SQS event sources, schedules."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

import boto3
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .deploy import ApiRoute, QueueTrigger, ScheduleTrigger, StreamTrigger

log = logging.getLogger("odr_local.services")


def _invoke(lambda_client: Any, function: str, event: dict[str, Any]) -> tuple[bool, Any]:
    got = lambda_client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = json.loads(got["Payload"].read() or b"null")
    return "FunctionError" not in got, payload


class ApiGateway:
    """Serves the template's Api routes on a local port as REST API proxy integrations."""

    def __init__(self, routes: list[ApiRoute], lambda_client: Any, port: int = 0) -> None:
        self.routes = routes
        self.lambda_client = lambda_client
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
        ok, payload = _invoke(self.lambda_client, route.function, event)
        if not ok or not isinstance(payload, dict):
            return Response(json.dumps({"message": "Internal server error"}), 502, content_type="application/json")
        headers = {k: str(v) for k, v in (payload.get("headers") or {}).items()}
        for key, values in (payload.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(map(str, values))
        return Response(payload.get("body") or "", payload.get("statusCode", 200), headers=headers)


class QueuePump(threading.Thread):
    """An SQS event source mapping: batches to the function, deletes what succeeded, honours partial failures."""

    def __init__(self, trigger: QueueTrigger, sqs: Any, lambda_client: Any, stop: threading.Event) -> None:
        super().__init__(name=f"sqs-{trigger.function}", daemon=True)
        self.trigger, self.sqs, self.lambda_client, self.stop_event = trigger, sqs, lambda_client, stop
        self.delivered = 0  # messages the function took (deleted after success)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.pump_once(wait=1)
            except Exception:  # the emulator is shutting down or hiccuped: keep pumping
                log.exception("queue pump for %s", self.trigger.function)
                time.sleep(0.5)

    def pump_once(self, wait: int = 0) -> int:
        got = self.sqs.receive_message(
            QueueUrl=self.trigger.queue_url,
            MaxNumberOfMessages=self.trigger.batch_size,
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
        )
        messages = got.get("Messages", [])
        if not messages:
            return 0
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
                    "awsRegion": self.trigger.queue_arn.split(":")[3],
                }
                for m in messages
            ]
        }
        ok, payload = _invoke(self.lambda_client, self.trigger.function, event)
        failed = (
            {f["itemIdentifier"] for f in (payload or {}).get("batchItemFailures", [])}
            if ok
            else {m["MessageId"] for m in messages}
        )
        for m in messages:
            if m["MessageId"] in failed:
                # Retry soon: the compressed local clock makes the real visibility timeout far too long.
                self.sqs.change_message_visibility(
                    QueueUrl=self.trigger.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=1
                )
            else:
                self.sqs.delete_message(QueueUrl=self.trigger.queue_url, ReceiptHandle=m["ReceiptHandle"])
                self.delivered += 1
        return len(messages)


class StreamPump(threading.Thread):
    """A DynamoDB stream event source mapping: every shard from TRIM_HORIZON, records in order, in batches;
    a failed batch is retried (the shard does not advance past it), as Lambda does."""

    def __init__(self, trigger: StreamTrigger, streams: Any, lambda_client: Any, stop: threading.Event) -> None:
        super().__init__(name=f"stream-{trigger.function}", daemon=True)
        self.trigger, self.streams, self.lambda_client, self.stop_event = trigger, streams, lambda_client, stop
        self.iterators: dict[str, str] = {}

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                if not self.pump_once():
                    self.stop_event.wait(0.2)
            except Exception:
                log.exception("stream pump for %s", self.trigger.function)
                self.stop_event.wait(0.5)

    def pump_once(self) -> int:
        arn = self.trigger.stream_arn
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            got = self.streams.get_records(ShardIterator=self.iterators[shard_id], Limit=self.trigger.batch_size)
            records = got.get("Records", [])
            if records:
                for record in records:
                    record["eventSourceARN"] = arn
                    record.setdefault("awsRegion", arn.split(":")[3])
                    created = record["dynamodb"].get("ApproximateCreationDateTime")
                    if created is not None:  # boto3 parsed it; Lambda's event carries epoch seconds
                        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
                ok, _ = _invoke(self.lambda_client, self.trigger.function, {"Records": records})
                if not ok:
                    continue  # keep the iterator: the same batch is delivered again
                delivered += len(records)
            self.iterators[shard_id] = got.get("NextShardIterator") or self.iterators[shard_id]
        return delivered


class Scheduler(threading.Thread):
    """EventBridge schedules (which moto never fires), at the compressed clock's pace (at most once a second)."""

    def __init__(
        self, schedules: list[ScheduleTrigger], lambda_client: Any, scale: float, stop: threading.Event
    ) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.schedules, self.lambda_client, self.scale, self.stop_event = (
            schedules,
            lambda_client,
            scale,
            stop,
        )
        self.fired: dict[str, int] = {}

    def run(self) -> None:
        next_at = {s.function: 0.0 for s in self.schedules}
        while not self.stop_event.is_set():
            now = time.monotonic()
            for s in self.schedules:
                if now >= next_at[s.function]:
                    next_at[s.function] = now + max(1.0, s.rate_seconds / self.scale)
                    self.fire(s)
            self.stop_event.wait(0.2)

    def fire(self, schedule: ScheduleTrigger) -> None:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "resources": [],
            "detail": {},
        }
        try:
            _invoke(self.lambda_client, schedule.function, event)
        except Exception:
            log.exception("schedule %s", schedule.function)
        self.fired[schedule.function] = self.fired.get(schedule.function, 0) + 1


def clients(endpoint: str, region: str) -> tuple[Any, Any, Any]:
    session = boto3.session.Session(region_name=region)
    return (
        session.client("lambda", endpoint_url=endpoint),
        session.client("sqs", endpoint_url=endpoint),
        session.client("dynamodbstreams", endpoint_url=endpoint),
    )
