"""The reference model on its own (src/odr_model), against the worked examples of docs/rules.md and
docs/notifications.md. The model must agree with the docs before the stack is compared with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from odr_model import Case, Environment, Expected, Policies, Policy, deadline, load_district, simulate, steps_from
from odr_model.days import SHANGHAI, is_working_day

DISTRICT = load_district(Path(__file__).resolve().parents[2] / "data" / "district")
A_CLASS = "91310116MA1JK7Q26H"  # 上海金枫云购: class A, station JS-ZJ


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI) if "+" not in text else datetime.fromisoformat(text)


def test_natural_days_end_at_24_00_of_the_last_day() -> None:
    """rules.md: dispatched 2026-11-30 09:12 -> acceptance (2 days) ends 2026-12-02 24:00."""
    due = deadline("acceptance", sh("2026-11-30T09:12:00"), "A", Policies()).due_at
    assert due == sh("2026-12-03T00:00:00")


def test_working_days_skip_the_national_day_holiday() -> None:
    """rules.md: dispatched 2026-09-30 -> 2 working days end 2026-10-09 24:00 (1-7 October off)."""
    policies = Policies(default={**Policies().default, "acceptance": Policy(2, "working")})
    assert deadline("acceptance", sh("2026-09-30T10:00:00"), None, policies).due_at == sh("2026-10-10T00:00:00")


def test_a_natural_day_period_ending_on_a_holiday_is_not_extended() -> None:
    due = deadline("acceptance", sh("2026-09-29T10:00:00"), None, Policies()).due_at
    assert due == sh("2026-10-02T00:00:00")  # its last day, 1 October, is a holiday


def test_a_year_the_calendar_lacks_uses_the_fallback() -> None:
    assert not is_working_day(date(2027, 1, 1), {})  # 1 January
    assert not is_working_day(date(2027, 10, 8), {})  # 1-8 October
    assert not is_working_day(date(2027, 1, 2), {})  # a Saturday
    assert is_working_day(date(2027, 1, 4), {})


def test_the_reminder_goes_a_day_before_or_halfway_through_a_short_period() -> None:
    start = sh("2026-11-30T09:12:00")
    long = deadline("resolution", start, None, Policies())
    assert long.due_at - long.remind_at == timedelta(hours=24)
    short = deadline("review", start, None, Policies(default={**Policies().default, "review": Policy(1)}))
    assert short.remind_at - start == short.due_at - short.remind_at  # halfway: 14h48m before 2026-12-02 00:00


def case(
    steps: list[dict[str, object]], at: str = "2026-11-30T09:12:44", uscc: str = A_CLASS, opt_in: bool = True
) -> Expected:
    record = {
        "complaint_id": "3101160000000202611300101",
        "registered_at": sh(at).isoformat(),
        "claimed_amount": "199.00",
        "respondent": {"uscc": uscc},
        "odr_opt_in": opt_in,
    }
    env = Environment(sh(at), sh("2026-11-30T08:15:00"), timedelta(minutes=15))
    return simulate(Case.from_record(record), DISTRICT, Policies(), steps_from(steps), env)


def test_a_rework_the_same_day_is_announced_by_its_own_review_message() -> None:
    """Issue 20: each review wait gets exactly one `review` message, even when both fall due at the same time."""
    got = case(
        [
            {"do": "accept", "of": "acceptance", "after": "PT30M"},
            {"do": "report", "of": "resolution", "after": "PT1H", "recovered": "199.00"},
            {"do": "send_back", "of": "review", "after": "PT30M"},
            {"do": "report", "of": "rework", "after": "PT20M", "recovered": "199.00"},
            {"do": "approve", "of": "review", "round": 2, "after": "PT10M"},
        ]
    )
    reviews = [w for w in got.waits if w.name == "review"]
    assert len(reviews) == 2 and reviews[0].due == reviews[1].due
    assert got.message_counts()[("review", 1)] == 1 and got.message_counts()[("review", 2)] == 1
    assert (got.outcome, got.recovered, got.overdue) == ("settled", Decimal("199.00"), False)
    assert got.stages == [
        "dispatched-1",
        "accepted-1",
        "result_reported-1",
        "under_review-1",
        "sent_back-1",
        "result_reported-2",
        "under_review-2",
    ]


def test_nobody_acts_the_case_escalates_at_the_acceptance_deadline() -> None:
    got = case([])
    assert got.escalation == ("acceptance", sh("2026-12-03T00:00:00"))
    assert (got.outcome, got.overdue, got.recovered) == ("returned", True, Decimal("0.00"))
    assert got.reminders == [("acceptance", 1, sh("2026-12-02T00:00:00"))]
    assert {m.template for m in got.messages} == {"dispatched", "reminder", "overdue", "overdue_station"}


def test_links_are_single_use_and_refused_after_their_deadline() -> None:
    """notifications.md: the same action again is a recorded repeat; after the deadline, refused."""
    got = case([{"do": "accept", "of": "acceptance", "at_deadline": "-PT1S", "repeat": 1, "repeat_after": "PT5S"}])
    assert got.people == [("accepted", "enterprise", ""), ("action_refused", "enterprise", "deadline_passed")]
    assert got.waits[1].start == sh("2026-12-02T23:59:59")
    late = case([{"do": "accept", "of": "acceptance", "at_deadline": "PT0S"}])
    assert late.people == [("action_refused", "enterprise", "deadline_passed")] and late.overdue
    twice = case([{"do": "accept", "of": "acceptance", "after": "PT1M", "repeat": 1, "repeat_after": "PT5S"}])
    assert twice.people == [("accepted", "enterprise", ""), ("action_repeated", "enterprise", "accept")]


def test_a_withdrawal_closes_the_case_and_tells_the_enterprise() -> None:
    got = case(
        [
            {"do": "accept", "of": "acceptance", "after": "PT1M"},
            {"do": "note", "by": "station", "of": "resolution", "after": "PT2M"},
            {"do": "withdraw", "of": "resolution", "after": "PT3M"},
            {"do": "note", "by": "enterprise", "of": "resolution", "after": "PT4M"},
        ]
    )
    assert (got.outcome, got.revision, got.report) == ("withdrawn", 2, ("withdrawn", Decimal("0.00")))
    assert got.people == [("accepted", "enterprise", ""), ("note_added", "station", "")]
    assert ("withdrawn", 1) in got.message_counts() and ("handled", "2026-11-30") not in got.facts


def test_figures_follow_the_statistics_page() -> None:
    got = case(
        [
            {"do": "accept", "of": "acceptance", "after": "PT1M"},
            {"do": "report", "of": "resolution", "after": "PT1H", "settled": False},
            {"do": "approve", "of": "review", "after": "PT1H"},
        ]
    )
    day = "2026-11-30"
    assert got.facts[("not_settled", day)] == 1 and got.facts[("closed_on_time", day)] == 1
    assert got.facts[("accepted_on_time", day)] == 1 and got.facts[("cycle_0_1", day)] == 1
    assert ("recovered_amount", day) not in got.facts


@pytest.mark.parametrize("offset", ["PT0S", "PT17S"])
def test_steps_on_a_sweep_instant_are_reported_as_ties(offset: str) -> None:
    got = case([{"do": "note", "by": "station", "of": "acceptance", "after": offset}], at="2026-11-30T09:15:00")
    assert got.ties == ([0] if offset == "PT0S" else [])


def test_sweep_after() -> None:
    env = Environment(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 15, tzinfo=UTC))
    assert env.sweep_after(datetime(2026, 1, 1, 0, 15, tzinfo=UTC)) == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    assert env.sweep_after(datetime(2026, 1, 1, 0, 16, tzinfo=UTC)) == datetime(2026, 1, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("uscc", "opt_in"), [("91310116MA1P7H6K8B", True), (A_CLASS, False), ("91310116MA1X", True)])
def test_not_for_odr_goes_to_the_stations_regular_handling(uscc: str, opt_in: bool) -> None:
    """rules.md §3: delisted on 2026-06-30, not opted in, or not in the directory: regular handling."""
    got = case([{"do": "accept", "of": "acceptance", "after": "PT1M"}], uscc=uscc, opt_in=opt_in)
    assert (got.outcome, got.waits, got.people, got.stages) == ("returned", [], [], [])
    assert [m.template for m in got.messages] == ["regular"]
    assert ("routed_regular", "2026-11-30") in got.facts and ("handled", "2026-11-30") not in got.facts
