"""The operator's stores, named by the environment: a deployed stack's outputs exported, or
``--env-file build/local-stack.env`` for the local stack."""

from __future__ import annotations

import os

from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.quarantine import QuarantineStore
from odr_adapter.data_access.stats import StatsStore


class NotConfigured(Exception):
    """A resource name the command needs is not in the environment."""


def required(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise NotConfigured(f"{variable} is not set (export it, or pass --env-file build/local-stack.env)")
    return value


def district_code() -> str:
    return os.environ.get("DISTRICT_CODE", "310116")


def directory_store() -> DirectoryStore:
    return DirectoryStore(required("DIRECTORY_TABLE"), district_code())


def quarantine_store() -> QuarantineStore:
    return QuarantineStore(required("CASES_TABLE"))


def stats_store() -> StatsStore:
    return StatsStore(required("STATS_TABLE"))
