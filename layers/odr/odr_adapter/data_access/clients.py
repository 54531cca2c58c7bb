"""boto3 clients, created once per container and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=50,
)


@cache
def client(service: str, region: str | None = None) -> Any:
    return boto3.client(service, region_name=region or None, config=_CONFIG)  # type: ignore[call-overload]
