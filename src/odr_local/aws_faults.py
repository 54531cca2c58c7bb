"""Faults of AWS on the local stack, for the chaos suite: calls that functions make are answered, at a seeded
rate, by throttling, a 5xx or a lost answer, and a handler may crash between two of its AWS calls.

The faults are decided where the emulator answers (:mod:`odr_local.in_process`), so botocore sees them as it
would from AWS: a throttle or a 5xx is a refusal (nothing applied), a lost answer is a read timeout after the
call was applied (the hardest case: a retry repeats what was done). botocore's retry policy retries what it
retries, and what it gives up on reaches the handler. Only calls made while a function runs are faulted; the
harness's own reads are not. In virtual time the run is one sequence of steps, so the same seed faults the same
calls.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError

from . import in_process
from .invoker import current

FAULTED_SERVICES = frozenset({"dynamodb", "stepfunctions", "sfn", "states", "sqs", "ses", "sns", "secretsmanager"})
_THROTTLE_CODES = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "sqs": "RequestThrottled",
    "ses": "Throttling",
}


class HandlerCrash(Exception):
    """A handler stopped between two AWS calls. Lambda reports a function stopped at its timeout (the usual way a
    handler stops half-way) as ``Sandbox.Timedout``, and so does the local stack for this crash."""

    lambda_error_type = "Sandbox.Timedout"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data


@dataclass
class AwsFaults:
    rate: float = 0.1  # share of the functions' AWS calls answered by a fault
    crash_rate: float = 0.0  # share of the functions' AWS calls before which the handler crashes
    seed: int = 7
    injected: Counter[str] = field(default_factory=Counter)  # "dynamodb.PutItem:throttle" -> count
    calls: int = 0  # calls the functions made (faulted or not)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lost: str | None = None

    def install(self) -> AwsFaults:
        in_process.faults = self
        return self

    def uninstall(self) -> None:
        in_process.faults = None

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def before(self, request: Any, event_name: str) -> AWSResponse | None:
        """Refusals (throttling, a 5xx): AWS did nothing. A crash: the handler stops before the call."""
        self._lost = None
        if current() is None:
            return None
        parts = event_name.split(".")  # before-send.<service>.<Operation>
        service, operation = (parts[1], parts[2]) if len(parts) >= 3 else ("", "")
        if service not in FAULTED_SERVICES:
            return None
        self.calls += 1
        draw = self._random.random()
        if draw < self.crash_rate:
            self.injected[f"{service}.{operation}:crash"] += 1
            raise HandlerCrash(f"crashed before {service}.{operation}")
        if draw >= self.crash_rate + self.rate:
            return None
        kind = self._random.choice(("throttle", "5xx", "lost answer"))
        self.injected[f"{service}.{operation}:{kind}"] += 1
        if kind == "lost answer":
            self._lost = request.url
            return None
        if kind == "5xx":
            return _response(request.url, 500, service, "InternalFailure", "injected: internal failure")
        return _response(request.url, 400, service, _THROTTLE_CODES.get(service, "ThrottlingException"), "injected")

    def after(self, request: Any, event_name: str) -> None:
        """The call was applied; a lost answer reaches the caller as a read timeout (it may retry it)."""
        if self._lost is not None:
            url, self._lost = self._lost, None
            raise ReadTimeoutError(endpoint_url=url)


def _response(url: str, status: int, service: str, code: str, message: str) -> AWSResponse:
    headers = HTTPHeaders()
    if service == "ses":  # the query protocol answers in XML
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>chaos</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        headers["x-amzn-query-error"] = f"{code};Sender"
    return AWSResponse(url, status, headers, _Body(body))
