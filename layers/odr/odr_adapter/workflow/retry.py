"""Optimistic-locking retries: re-read and re-apply when another writer got there first."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from odr_adapter.clock import pause
from odr_adapter.models.case import StaleCase

T = TypeVar("T")
ATTEMPTS = 10  # twenty people acting on one case at once still get through (about 3 s of backoff at most)
MAX_PAUSE = 0.5


def on_stale(operation: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run ``operation`` (which must re-read the case) until it does not meet a stale version; the pauses grow
    with jitter, capped, so concurrent writers spread out instead of colliding again."""
    for attempt in range(attempts):
        try:
            return operation()
        except StaleCase:
            if attempt == attempts - 1:
                raise
            pause(random.uniform(0, min(MAX_PAUSE, 0.02 * 2**attempt)))
    raise AssertionError("unreachable")
