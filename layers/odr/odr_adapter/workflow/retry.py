"""Optimistic-locking retries: re-read and re-apply when another writer got there first."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from odr_adapter.clock import pause
from odr_adapter.models.case import StaleCase

T = TypeVar("T")


def on_stale(operation: Callable[[], T], attempts: int = 6) -> T:
    """Run ``operation`` (which must re-read the case) until it does not meet a stale version."""
    for attempt in range(attempts):
        try:
            return operation()
        except StaleCase:
            if attempt == attempts - 1:
                raise
            pause(random.uniform(0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")
