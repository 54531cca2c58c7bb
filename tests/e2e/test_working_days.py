"""A working-day policy over a year chinese-calendar does not cover: counted on the fallback, flagged, no crash."""

from __future__ import annotations

from odr_adapter.clock import local

from .conftest import PathsRun

CASE = "3101160000000202612300001"


def test_deadline_counted_in_working_days_across_the_new_year(working_days: PathsRun) -> None:
    case = working_days.case(CASE)
    resolution = case.deadlines["resolution"]
    # Day 1 is 12-31 (a working day in 2026's official calendar); 2027-01-01 is off on the fallback; then
    # 4-8 and 11-14 January: the tenth working day is 2027-01-14, so the period ends at 24:00 that day.
    assert local(resolution.due_at).isoformat() == "2027-01-15T00:00:00+08:00"
    assert (resolution.calendar, resolution.fallback, resolution.policy) == ("fallback", True, "10 个工作日")
    assert local(case.deadlines["acceptance"].due_at).isoformat() == "2027-01-02T00:00:00+08:00"
    assert case.calendar_fallback is True
    dispatched = next(h for h in case.history if h.event == "dispatched")
    assert dispatched.detail["resolution_due"] == resolution.due_at.isoformat()


def test_the_case_still_runs_to_closure(working_days: PathsRun) -> None:
    case = working_days.case(CASE)
    assert (case.status, case.outcome) == ("closed", "settled")
    assert working_days.execution(CASE)[0] == "SUCCEEDED"
