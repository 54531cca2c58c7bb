"""Deadlines as docs/rules.md §4 counts them (民法典 第201条).

The day of the starting event is not counted; day 1 is the next day in Asia/Shanghai; a period of N days ends at
24:00 of its last day (00:00 of the next). Natural days count every day; working days count China's official
working days, make-up working days included, from chinese-calendar; for a year it does not cover, an operator's
holiday table, else the fallback (weekends, 1 January, 1-5 May and 1-8 October off). A natural-day period ending on
a holiday is not extended. The reminder goes 24 hours before the due time, or halfway through a period shorter than
48 hours, never before the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind = Literal["natural", "working"]
PHASES = ("acceptance", "resolution", "review", "rework")
JINSHAN_DAYS = {"acceptance": 2, "resolution": 7, "review": 2, "rework": 2}  # rules.md §4, the default policies
FALLBACK_OFF = {(1, 1), *((5, d) for d in range(1, 6)), *((10, d) for d in range(1, 9))}


@dataclass(frozen=True)
class Policy:
    days: int
    kind: Kind = "natural"


@dataclass(frozen=True)
class HolidayTable:
    """An operator's table for a year the calendar package lacks (``odr calendar import``)."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Policies:
    """Per phase, with overrides per enterprise class; the default is the Jinshan rule."""

    default: dict[str, Policy] = field(default_factory=lambda: {p: Policy(d) for p, d in JINSHAN_DAYS.items()})
    by_class: dict[str, dict[str, Policy]] = field(default_factory=dict)
    tables: dict[int, HolidayTable] = field(default_factory=dict)

    def policy(self, phase: str, enterprise_class: str | None) -> Policy:
        return self.by_class.get(enterprise_class or "", {}).get(phase) or self.default[phase]


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # UTC
    remind_at: datetime  # UTC


def is_working_day(day: date, tables: dict[int, HolidayTable]) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not cover
        pass
    table = tables.get(day.year)
    if table is not None:
        return day in table.workdays or (day not in table.holidays and day.weekday() < 5)
    return day.weekday() < 5 and (day.month, day.day) not in FALLBACK_OFF


def last_day(start_day: date, policy: Policy, tables: dict[int, HolidayTable]) -> date:
    if policy.kind == "natural":
        return start_day + timedelta(days=policy.days)
    day, counted = start_day, 0
    while counted < policy.days:
        day += timedelta(days=1)
        counted += is_working_day(day, tables)
    return day


def deadline(phase: str, start: datetime, enterprise_class: str | None, policies: Policies) -> Deadline:
    """When ``phase``, started at ``start``, ends, and when its reminder is due."""
    policy = policies.policy(phase, enterprise_class)
    end = last_day(start.astimezone(SHANGHAI).date(), policy, policies.tables)
    due = datetime.combine(end + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)
    early = min(timedelta(hours=24), (due - start) / 2)
    return Deadline(due, max(start, due - early).astimezone(UTC))
