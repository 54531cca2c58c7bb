"""The local stack's reading of EventBridge cron expressions: when the monthly schedule fires, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from odr_local.cron import Cron

MONTHLY = Cron.parse("cron(0 1 1 * ? *)")  # ScorecardFunction: 09:00 Beijing time on the 1st


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "fires"),
    [
        ("2026-11-30T00:00:00", "2026-12-01T01:00:00"),  # make run's scenario starts 2026-11-30 08:00 Beijing
        ("2026-12-01T01:00:00", "2027-01-01T01:00:00"),  # strictly after: not twice at one instant
        ("2026-12-01T00:59:59", "2026-12-01T01:00:00"),
        ("2027-01-15T12:00:00", "2027-02-01T01:00:00"),
    ],
)
def test_the_monthly_schedule_fires_at_one_on_the_first_utc(after: str, fires: str) -> None:
    assert MONTHLY.next_after(utc(after)) == utc(fires)


def test_lists_weekdays_and_years_are_read_as_eventbridge_reads_them() -> None:
    weekdays = Cron.parse("cron(30 0,12 ? * 2,6 *)")  # Monday and Friday, 00:30 and 12:30
    assert weekdays.next_after(utc("2026-11-28T13:00:00")) == utc("2026-11-30T00:30:00")  # Sat -> Mon
    assert weekdays.next_after(utc("2026-11-30T00:30:00")) == utc("2026-11-30T12:30:00")
    assert Cron.parse("cron(0 0 29 2 ? *)").next_after(utc("2026-03-01T00:00:00")) == utc("2028-02-29T00:00:00")
    with pytest.raises(ValueError, match="never fires"):
        Cron.parse("cron(0 0 1 1 ? 2020)").next_after(utc("2026-01-01T00:00:00"))


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 1 1 * * *)",
        "cron(0 1 ? * ? *)",
        "cron(0/5 * * * ? *)",
        "cron(0 1 L * ? *)",
        "cron(0 1 1 JAN ? *)",
        "cron(0 24 1 * ? *)",
        "cron(0 1 1 * ?)",
        "rate(1 day)",
    ],
)
def test_what_the_stack_cannot_read_stops_the_deployment(expression: str) -> None:
    with pytest.raises(ValueError, match="unsupported schedule"):
        Cron.parse(expression)
