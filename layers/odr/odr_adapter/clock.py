"""The one clock production code reads.

In AWS it is the system clock. The local stack makes the system clock itself simulated (odr_local.kernel moves
``time.time()`` and ``datetime.now()`` for the whole process), so nothing here knows about simulation: a
deadline, a Step Functions timeout and a webhook's signature window are simulated seconds there and real ones
in AWS, by the same code.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The days a query may name (a listing's filter, a report's period): no complaint is registered outside them, and
# a day at either end of what a date holds overflowed where the day after it was computed (a 502)
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)

_pause: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Clock:
    def now(self) -> datetime:
        """Current time, aware, in UTC."""
        return datetime.now(UTC)

    def timeout_seconds_until(self, when: datetime) -> int:
        """A Step Functions timeout (whole seconds, at least 1) that fires at ``when``."""
        return max(1, math.ceil((when - self.now()).total_seconds()))


def pause(seconds: float) -> None:
    """Wait inside one invocation (a backoff, a Retry-After). The local stack's virtual time counts this as
    work, during which simulated time stands still, so it installs a pause that returns at once."""
    _pause(seconds)


def set_pause(pause_function: Callable[[float], None]) -> None:
    global _pause
    _pause = pause_function


def now() -> datetime:
    return Clock().now()


def local(dt: datetime) -> datetime:
    """Show a time the way people in the district read it."""
    return dt.astimezone(SHANGHAI)


def iso_z(dt: datetime) -> str:
    """UTC ISO form with ``Z``, the only form moto's TimestampPath accepts and sortable as a string."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
