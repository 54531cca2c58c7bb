"""boto3 clients, created once per container and reused across invocations.

Throttling and 5xx answers are retried where they happen: botocore's adaptive mode (the standard retries, with
backoff and jitter, plus a client-side rate limit once a service throttles). What is still failing after those
attempts is raised as :class:`TransientAwsFault`, a :class:`ClientError` (callers that look at the error code
keep working) and a :class:`~odr_adapter.ports.TransientFault` (the domain and the state machine retry it later:
a fault of AWS delays a case, never fails it). A ``ValidationException`` (the request refused for what it holds,
such as an item over 400 KB) is raised as :class:`RefusedByAws`, also a :class:`ClientError` and an
:class:`~odr_adapter.ports.Unstorable`: no retry can cure it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from odr_adapter.ports import TransientFault, Unstorable

_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=10,
    max_pool_connections=50,
)
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "TransactionInProgressException",
        "InternalServerError",
        "InternalFailure",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class TransientAwsFault(ClientError, TransientFault):
    """An AWS call that kept failing with a throttling or server error (or no answer) after botocore's retries."""


class RefusedByAws(ClientError, Unstorable):
    """An AWS call refused for what it holds (``ValidationException``): the same call fails the same way again."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientFault):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return error.get("Code") in TRANSIENT_CODES or status >= 500
    return isinstance(exc, ConnectionError | HTTPClientError)


def _transient(exc: BaseException, operation: str) -> TransientAwsFault:
    if isinstance(exc, ClientError):
        return TransientAwsFault(exc.response, operation)
    return TransientAwsFault({"Error": {"Code": type(exc).__name__, "Message": str(exc)}}, operation)


class _Calls:
    """A client whose operations raise :class:`TransientAwsFault` for what trying later can cure."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if not callable(attribute) or name.startswith("_") or name in ("get_paginator", "get_waiter", "can_paginate"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except TransientAwsFault:
                raise
            except Exception as exc:
                if is_transient(exc):
                    raise _transient(exc, name) from exc
                if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ValidationException":
                    raise RefusedByAws(exc.response, name) from exc
                raise

        return call


@cache
def client(service: str, region: str | None = None) -> Any:
    return _Calls(boto3.client(service, region_name=region or None, config=_CONFIG))  # type: ignore[call-overload]
