"""The one clock production code reads.

In AWS the clock is the system clock. On the local stack it is compressed: ``ODR_CLOCK`` holds
``<simulated origin ISO>|<real origin epoch seconds>|<scale>``, and simulated time runs ``scale`` times faster
than real time from that origin, so a 7-day case takes seconds. Step Functions timeouts are real seconds,
hence :meth:`Clock.real_seconds_until`.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK_ENV = "ODR_CLOCK"


@dataclass(frozen=True)
class Clock:
    sim_origin: datetime | None = None
    real_origin: float = 0.0
    scale: float = 1.0

    @classmethod
    def from_env(cls) -> Clock:
        spec = os.environ.get(CLOCK_ENV, "")
        if not spec:
            return cls()
        origin, real, scale = spec.split("|")
        return cls(datetime.fromisoformat(origin).astimezone(UTC), float(real), float(scale))

    @classmethod
    def compressed(cls, sim_origin: datetime, seconds_per_day: float) -> Clock:
        return cls(sim_origin.astimezone(UTC), time.time(), 86400.0 / seconds_per_day)

    def to_env(self) -> str:
        if self.sim_origin is None:
            return ""
        return f"{self.sim_origin.isoformat()}|{self.real_origin}|{self.scale}"

    def now(self) -> datetime:
        """Current (simulated) time, aware, in UTC."""
        if self.sim_origin is None:
            return datetime.now(UTC)
        return self.sim_origin + timedelta(seconds=(time.time() - self.real_origin) * self.scale)

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds until ``when`` in this clock's time (negative when already past)."""
        return (when - self.now()).total_seconds() / self.scale

    def timeout_seconds_until(self, when: datetime) -> int:
        """A Step Functions timeout (whole real seconds, at least 1) that fires at ``when``."""
        return max(1, math.ceil(self.real_seconds_until(when)))

    def real_seconds(self, simulated_seconds: float) -> float:
        return simulated_seconds / self.scale


def now() -> datetime:
    return Clock.from_env().now()


def local(dt: datetime) -> datetime:
    """Show a time the way people in the district read it."""
    return dt.astimezone(SHANGHAI)


def iso_z(dt: datetime) -> str:
    """UTC ISO form with ``Z``, the only form moto's TimestampPath accepts and sortable as a string."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
