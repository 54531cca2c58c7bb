"""compute_deadline: natural and working days, chinese-calendar, operator tables and the fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odr_adapter.models.deadlines import DeadlinePolicies, HolidayTable, Policy
from odr_adapter.rules.calendars import WorkingDays, compute_deadline, last_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def working(days: int, tables: list[HolidayTable] | None = None) -> DeadlinePolicies:
    """Every phase counts ``days`` working days."""
    policy = Policy(days=days, kind="working")
    return DeadlinePolicies(
        default={"acceptance": policy, "resolution": policy, "review": policy, "rework": policy},
        holiday_tables=tables or [],
    )


def natural(days: int) -> DeadlinePolicies:
    policy = Policy(days=days)
    return DeadlinePolicies(default={"acceptance": policy, "resolution": policy, "review": policy, "rework": policy})


# --- natural days -----------------------------------------------------------------------------------------


def test_natural_days_start_day_not_counted_due_at_midnight() -> None:
    deadline = compute_deadline("acceptance", at("2026-11-30T09:12:00+08:00"), None, DeadlinePolicies())
    assert deadline.due_at == at("2026-12-03T00:00:00+08:00")
    assert deadline.due_at.tzinfo is not None
    assert deadline.calendar == "natural-days"
    assert deadline.fallback is False
    assert deadline.policy == "2 个自然日"
    assert deadline.phase == "acceptance"


def test_natural_days_reminder_a_day_before() -> None:
    deadline = compute_deadline("acceptance", at("2026-11-30T09:12:00+08:00"), None, DeadlinePolicies())
    assert deadline.remind_at == at("2026-12-02T00:00:00+08:00")


def test_default_resolution_is_seven_natural_days() -> None:
    deadline = compute_deadline("resolution", at("2026-11-30T09:12:00+08:00"), "A", DeadlinePolicies())
    assert deadline.due_at == at("2026-12-08T00:00:00+08:00")


def test_start_day_is_the_shanghai_day() -> None:
    # 17:00 UTC on 30 Nov is 01:00 on 1 Dec in Shanghai
    deadline = compute_deadline("acceptance", at("2026-11-30T17:00:00+00:00"), None, DeadlinePolicies())
    assert deadline.due_at == at("2026-12-04T00:00:00+08:00")


def test_natural_days_ignore_holidays() -> None:
    deadline = compute_deadline("acceptance", at("2026-09-30T10:00:00+08:00"), None, natural(2))
    assert deadline.due_at == at("2026-10-03T00:00:00+08:00")


def test_by_class_policy_overrides_default() -> None:
    policies = DeadlinePolicies(by_class={"C": {"acceptance": Policy(days=3, kind="working")}})
    start = at("2026-11-30T09:12:00+08:00")  # Monday
    assert compute_deadline("acceptance", start, "C", policies).due_at == at("2026-12-04T00:00:00+08:00")
    assert compute_deadline("acceptance", start, "C", policies).policy == "3 个工作日"
    assert compute_deadline("acceptance", start, "A", policies).due_at == at("2026-12-03T00:00:00+08:00")
    assert compute_deadline("acceptance", start, None, policies).due_at == at("2026-12-03T00:00:00+08:00")


def test_policy_days_at_least_one() -> None:
    with pytest.raises(ValueError):
        Policy(days=0)


# --- working days, chinese-calendar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Mon 30 Nov 2026: Tue, Wed
        ("2026-11-30T09:12:00+08:00", 2, "2026-12-03T00:00:00+08:00"),
        # Fri 4 Dec 2026: the weekend is skipped, Mon, Tue
        ("2026-12-04T09:00:00+08:00", 2, "2026-12-09T00:00:00+08:00"),
        # Fri 18 Sep 2026: Sun 20 Sep is a make-up working day (调休), then Mon 21
        ("2026-09-18T10:00:00+08:00", 2, "2026-09-22T00:00:00+08:00"),
        # Wed 30 Sep 2026: National Day 1-7 Oct off; Thu 8, Fri 9
        ("2026-09-30T10:00:00+08:00", 2, "2026-10-10T00:00:00+08:00"),
        # ... and Sat 10 Oct is a make-up working day
        ("2026-09-30T10:00:00+08:00", 3, "2026-10-11T00:00:00+08:00"),
        # 8, 9, 10, 12, 13, 14, 15 Oct
        ("2026-09-30T10:00:00+08:00", 7, "2026-10-16T00:00:00+08:00"),
        # Spring Festival 2026: 15-23 Feb off, Sat 14 Feb and Sat 28 Feb are working days
        ("2026-02-13T10:00:00+08:00", 1, "2026-02-15T00:00:00+08:00"),
        ("2026-02-13T10:00:00+08:00", 2, "2026-02-25T00:00:00+08:00"),
        # New Year 2026: 1-3 Jan off, Sun 4 Jan working
        ("2025-12-31T10:00:00+08:00", 1, "2026-01-05T00:00:00+08:00"),
    ],
)
def test_working_days_follow_chinese_calendar(start: str, days: int, due: str) -> None:
    deadline = compute_deadline("acceptance", at(start), None, working(days))
    assert deadline.due_at == at(due)
    assert deadline.calendar == "chinese-calendar"
    assert deadline.calendar_version.startswith("chinesecalendar-")
    assert deadline.fallback is False
    assert deadline.policy == f"{days} 个工作日"


def test_make_up_working_day_is_counted() -> None:
    days = WorkingDays()
    assert days.is_working(date(2026, 9, 20))  # Sunday, 调休
    assert days.is_working(date(2026, 10, 10))  # Saturday, 调休
    assert not days.is_working(date(2026, 10, 5))  # Monday, National Day holiday
    assert not days.is_working(date(2026, 9, 19))  # ordinary Saturday


# --- beyond the packaged calendar: fallback and operator tables -------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Thu 31 Dec 2026 (packaged), then 2027: Fri 1 Jan off in the fallback, weekend, Mon 4, Tue 5
        ("2026-12-30T10:00:00+08:00", 2, "2027-01-05T00:00:00+08:00"),
        ("2027-03-10T10:00:00+08:00", 2, "2027-03-13T00:00:00+08:00"),  # Wed: Thu, Fri
        ("2027-04-30T10:00:00+08:00", 1, "2027-05-07T00:00:00+08:00"),  # Fri: 1-5 May off, weekend, Thu 6
        ("2027-09-30T10:00:00+08:00", 1, "2027-10-12T00:00:00+08:00"),  # Thu: 1-8 Oct off, weekend, Mon 11
    ],
)
def test_2027_working_days_use_the_fallback(start: str, days: int, due: str) -> None:
    deadline = compute_deadline("acceptance", at(start), "B", working(days))
    assert deadline.due_at == at(due)
    assert deadline.fallback is True
    assert deadline.calendar == "fallback"
    assert deadline.calendar_version == "weekends+fixed-holidays"


def test_far_future_working_day_deadline_never_crashes() -> None:
    deadline = compute_deadline("resolution", at("2099-12-28T10:00:00+08:00"), None, working(15))
    assert deadline.fallback is True and deadline.due_at > at("2099-12-28T10:00:00+08:00")


def test_natural_days_in_2027_are_not_fallback() -> None:
    deadline = compute_deadline("acceptance", at("2027-03-10T10:00:00+08:00"), None, DeadlinePolicies())
    assert (deadline.calendar, deadline.fallback) == ("natural-days", False)


TABLE_2027 = HolidayTable(
    year=2027,
    holidays=[date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10), date(2027, 2, 11)],
    workdays=[date(2027, 1, 2), date(2027, 2, 6)],  # two Saturdays made working days
    source="jinshan-2027",
)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Thu 31 Dec 2026: Fri 1 Jan off, Sat 2 Jan working by the table, Mon 4
        ("2026-12-31T10:00:00+08:00", 2, "2027-01-05T00:00:00+08:00"),
        # Fri 5 Feb 2027: Sat 6 working, 8-11 off, Fri 12
        ("2027-02-05T10:00:00+08:00", 2, "2027-02-13T00:00:00+08:00"),
        # an ordinary week: Wed 10 Mar -> Thu, Fri
        ("2027-03-10T10:00:00+08:00", 2, "2027-03-13T00:00:00+08:00"),
        # 1-5 May are not holidays in this table (unlike the fallback): Fri 30 Apr -> Mon 3 May
        ("2027-04-30T10:00:00+08:00", 1, "2027-05-04T00:00:00+08:00"),
    ],
)
def test_operator_table_is_used_for_2027(start: str, days: int, due: str) -> None:
    deadline = compute_deadline("acceptance", at(start), None, working(days, [TABLE_2027]))
    assert deadline.due_at == at(due)
    assert deadline.calendar == "operator-table"
    assert deadline.calendar_version == "jinshan-2027:2027"
    assert deadline.fallback is False


def test_operator_table_for_another_year_does_not_help_2027() -> None:
    table_2028 = TABLE_2027.model_copy(update={"year": 2028, "holidays": [], "workdays": []})
    deadline = compute_deadline("acceptance", at("2027-03-10T10:00:00+08:00"), None, working(2, [table_2028]))
    assert (deadline.calendar, deadline.fallback) == ("fallback", True)


def test_packaged_calendar_wins_over_an_operator_table_for_a_covered_year() -> None:
    table_2026 = HolidayTable(year=2026, holidays=[date(2026, 12, 1)])
    deadline = compute_deadline("acceptance", at("2026-11-30T09:12:00+08:00"), None, working(2, [table_2026]))
    assert deadline.due_at == at("2026-12-03T00:00:00+08:00")
    assert deadline.calendar == "chinese-calendar"


def test_reminder_is_between_start_and_due() -> None:
    start = at("2026-11-30T23:30:00+08:00")
    deadline = compute_deadline("acceptance", start, None, working(1))
    assert start <= deadline.remind_at < deadline.due_at
    assert deadline.due_at - deadline.remind_at <= timedelta(days=1)


# --- properties -------------------------------------------------------------------------------------------

_offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
# 2003 and 2027-2028 exercise the fallback, 2004-2026 the packaged calendar
starts = st.datetimes(min_value=datetime(2003, 1, 1), max_value=datetime(2028, 12, 31), timezones=_offsets)
policy_days = st.integers(min_value=1, max_value=20)
tables = st.sampled_from([[], [TABLE_2027]])


@PROPERTY
@given(start=starts, days=policy_days, holiday_tables=tables)
def test_property_working_due_never_before_natural_due(start, days, holiday_tables) -> None:
    work = compute_deadline("resolution", start, None, working(days, holiday_tables))
    nat = compute_deadline("resolution", start, None, natural(days))
    assert work.due_at >= nat.due_at
    assert work.due_at > start
    assert work.due_at.astimezone(SHANGHAI).time() == datetime.min.time()  # midnight in Shanghai
    # the period's last day is a working day
    days_off = WorkingDays({t.year: t for t in holiday_tables})
    assert days_off.is_working(work.due_at.astimezone(SHANGHAI).date() - timedelta(days=1))


@PROPERTY
@given(a=starts, b=starts, days=policy_days, holiday_tables=tables)
def test_property_working_due_is_monotonic_in_start(a, b, days, holiday_tables) -> None:
    early, late = sorted((a, b))
    policies = working(days, holiday_tables)
    assert (
        compute_deadline("review", early, None, policies).due_at
        <= compute_deadline("review", late, None, policies).due_at
    )


@PROPERTY
@given(start_day=st.dates(min_value=date(2003, 1, 1), max_value=date(2028, 12, 31)), days=policy_days)
def test_property_last_day_counts_exactly_n_working_days(start_day: date, days: int) -> None:
    calendar = WorkingDays({2027: TABLE_2027})
    end = last_day(start_day, Policy(days=days, kind="working"), calendar)
    between = [start_day + timedelta(days=i) for i in range(1, (end - start_day).days + 1)]
    assert sum(calendar.is_working(d) for d in between) == days


def test_due_at_is_utc_aware() -> None:
    deadline = compute_deadline("acceptance", at("2026-11-30T09:12:00+08:00"), None, working(2))
    assert deadline.due_at.utcoffset() == timedelta(0)
    assert deadline.due_at == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert deadline.due_at == datetime(2026, 12, 3, 0, 0, tzinfo=CST)
