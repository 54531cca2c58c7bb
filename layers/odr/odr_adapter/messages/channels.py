"""Delivering one message over the recipient's channels: retries with backoff, then the other channel.

A channel call either returns the provider's message id or raises :class:`DeliveryFailed`, saying whether
trying again may help (throttling, a 5xx, a dropped connection) or not (a rejected address or sender).
Every try is returned for the case history.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from odr_adapter.clock import pause
from odr_adapter.ports import DeliveryFailed


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.2  # seconds before the second try; doubled (with jitter) before each next one
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        ceiling = self.base_delay * self.factor ** (attempt - 1)
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Route:
    """One way to reach the recipient: a channel name and the call that sends on it."""

    channel: str
    send: Callable[[], str]


def deliver(
    routes: list[Route], retry: RetryPolicy, sleep: Callable[[float], None] = pause
) -> tuple[str | None, list[dict[str, Any]]]:
    """Try each route in turn until one delivers; (channel that delivered or None, every try)."""
    tries: list[dict[str, Any]] = []
    for route in routes:
        for attempt in range(1, retry.attempts + 1):
            try:
                route.send()
            except DeliveryFailed as exc:
                tries.append({"channel": route.channel, "try": attempt, "ok": False, "error": exc.code})
                if exc.permanent:
                    break
            except Exception as exc:  # an unexpected fault of the provider's client: may pass, so retried
                tries.append({"channel": route.channel, "try": attempt, "ok": False, "error": type(exc).__name__})
            else:
                tries.append({"channel": route.channel, "try": attempt, "ok": True})
                return route.channel, tries
            if attempt < retry.attempts:
                sleep(retry.delay(attempt))
    return None, tries
