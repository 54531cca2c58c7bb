"""How days are counted: deadlines from the policies, on China's working-day calendar.

Counting (民法典 第201条): the day of the starting event is not counted; day 1 is the next day in
Asia/Shanghai; a period of N days ends at 24:00 of its last day, i.e. 00:00 of the following day.
Natural-day periods count every day. Working-day periods count only China's official working days,
make-up working days (调休) included, from chinese-calendar; for a year it does not cover, an
operator-supplied holiday table is used if present, else a conservative fallback (weekends, 1 Jan,
1-5 May and 1-8 Oct off), which is flagged on the deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar

from odr_adapter.clock import SHANGHAI
from odr_adapter.models.deadlines import Deadline, DeadlinePolicies, HolidayTable, Phase, Policy

FALLBACK_DAYS_OFF = {(1, 1), *((5, d) for d in range(1, 6)), *((10, d) for d in range(1, 9))}


class WorkingDays:
    """Which days are official working days, with the source of that knowledge for each year."""

    def __init__(self, tables: Mapping[int, HolidayTable] | None = None) -> None:
        self.tables = dict(tables or {})

    def source(self, day: date) -> tuple[str, str, bool]:
        """(calendar name, data version, fallback?) for the day's year."""
        if self._packaged(day):
            return "chinese-calendar", _packaged_version(), False
        if day.year in self.tables:
            return "operator-table", f"{self.tables[day.year].source}:{day.year}", False
        return "fallback", "weekends+fixed-holidays", True

    @staticmethod
    def _packaged(day: date) -> bool:
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_working(self, day: date) -> bool:
        if self._packaged(day):
            return bool(chinese_calendar.is_workday(day))
        table = self.tables.get(day.year)
        if table:
            if day in table.workdays:
                return True
            return day not in table.holidays and day.weekday() < 5
        return day.weekday() < 5 and (day.month, day.day) not in FALLBACK_DAYS_OFF


def _packaged_version() -> str:
    return f"chinesecalendar-{getattr(chinese_calendar, '__version__', 'unknown')}"


def last_day(start_day: date, policy: Policy, days: WorkingDays) -> date:
    """The last day of a period of ``policy.days`` days that starts after ``start_day``."""
    if policy.kind == "natural":
        return start_day + timedelta(days=policy.days)
    counted, day = 0, start_day
    while counted < policy.days:
        day += timedelta(days=1)
        if days.is_working(day):
            counted += 1
    return day


def _calendar_of(start_day: date, end_day: date, days: WorkingDays) -> tuple[str, str, bool]:
    """The weakest source used over the period: a fallback anywhere flags the whole deadline."""
    sources = [days.source(start_day + timedelta(days=i)) for i in range((end_day - start_day).days + 1)]
    fallback = next((s for s in sources if s[2]), None)
    if fallback:
        return fallback
    operator = next((s for s in sources if s[0] == "operator-table"), None)
    return operator or sources[-1]


def compute_deadline(
    phase: Phase, start: datetime, enterprise_class: str | None, policies: DeadlinePolicies
) -> Deadline:
    """When ``phase`` must be done if it starts at ``start``; with its calendar and reminder time."""
    policy = policies.policy(phase, enterprise_class)
    days = WorkingDays({t.year: t for t in policies.holiday_tables})
    start_day = start.astimezone(SHANGHAI).date()
    end = last_day(start_day, policy, days)
    due_at = datetime.combine(end + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)
    if policy.kind == "natural":
        calendar, version, fallback = "natural-days", "n/a", False
    else:
        calendar, version, fallback = _calendar_of(start_day, end, days)
    return Deadline(
        phase=phase,
        due_at=due_at,
        remind_at=max(start, due_at - min(timedelta(days=1), (due_at - start) / 2)).astimezone(UTC),
        policy=f"{policy.days} {'个工作日' if policy.kind == 'working' else '个自然日'}",
        calendar=calendar,
        calendar_version=version,
        fallback=fallback,
    )
