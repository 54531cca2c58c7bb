"""EventBridge cron expressions on the local stack's clock: ``cron(minutes hours day-of-month month day-of-week
year)``, in UTC, as EventBridge reads them.

The template's schedules use a small part of the language, and this reads exactly that part: each field a number,
a comma list of numbers, or ``*``; ``?`` for the day field that is not used (one of day-of-month and day-of-week
must be ``?``, as EventBridge requires). Anything else (ranges, steps, ``L``, ``W``, ``#``, names) is refused
when the stack is deployed, rather than fired at the wrong time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_CRON = re.compile(r"cron\((.+)\)")
_FIELD = re.compile(r"\*|\?|\d+(,\d+)*")
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))  # day-of-week: 1 = Sunday


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int] | None  # None: every value
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # 1 = Sunday ... 7 = Saturday
    years: frozenset[int] | None

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = _CRON.fullmatch(expression.strip())
        fields = match.group(1).split() if match else []
        if len(fields) != 6 or not all(_FIELD.fullmatch(f) for f in fields):
            raise ValueError(f"unsupported schedule {expression!r}: fields of numbers, * and ? only")
        if (fields[2] == "?") == (fields[4] == "?"):
            raise ValueError(f"unsupported schedule {expression!r}: exactly one of day-of-month and day-of-week is ?")
        sets: list[frozenset[int] | None] = []
        for text, (low, high) in zip(fields, _BOUNDS, strict=True):
            if text in ("*", "?"):
                sets.append(None)
                continue
            values = frozenset(int(v) for v in text.split(","))
            if min(values) < low or max(values) > high:
                raise ValueError(f"unsupported schedule {expression!r}: {text} is outside {low}-{high}")
            sets.append(values)
        return cls(*sets)

    def next_after(self, moment: datetime) -> datetime:
        """The first firing time strictly after ``moment`` (a whole minute, UTC)."""
        at = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = at + timedelta(days=366 * 5)
        while at < limit:
            if not self._day_matches(at):
                at = (at + timedelta(days=1)).replace(hour=0, minute=0)
            elif self.hours is not None and at.hour not in self.hours:
                at = (at + timedelta(hours=1)).replace(minute=0)
            elif self.minutes is not None and at.minute not in self.minutes:
                at += timedelta(minutes=1)
            else:
                return at
        raise ValueError("the schedule never fires in the next five years")

    def _day_matches(self, at: datetime) -> bool:
        weekday = at.isoweekday() % 7 + 1  # Sunday 1, Monday 2, ... Saturday 7
        return (
            (self.years is None or at.year in self.years)
            and (self.months is None or at.month in self.months)
            and (self.days is None or at.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )
