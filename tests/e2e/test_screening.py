"""A station configured to confirm screening by hand: a human step with its own deadline."""

from __future__ import annotations

from .conftest import PathsRun

CONFIRMED = "3101160000000202611300201"
REFUSED = "3101160000000202611300202"
UNANSWERED = "3101160000000202611300203"


def test_the_station_confirms_and_the_case_goes_to_odr(screening: PathsRun) -> None:
    case = screening.case(CONFIRMED)
    assert (case.outcome, case.screening_overdue) == ("settled", False)
    assert case.screening is not None and case.screening.rule == "station_confirmed"
    events = screening.events(CONFIRMED)
    assert events.index("screening_requested") < events.index("screening_confirmed") < events.index("dispatched")
    status, states = screening.execution(CONFIRMED)
    assert status == "SUCCEEDED"
    assert states[:6] == [
        "ScreenAndRoute",
        "Route",
        "AwaitScreening",  # tells the station, then waits
        "ApplyScreening",
        "Route",
        "AwaitAcceptance",
    ]


def test_the_station_refuses_with_its_ground_and_reason(screening: PathsRun) -> None:
    case = screening.case(REFUSED)
    assert (case.outcome, case.refusal_reason) == ("rejected", "handled_elsewhere")
    assert case.screening is not None and case.screening.rule == "station_refused"
    assert case.screening.reason == "已由消保委调解"
    [report] = screening.reports(REFUSED)
    assert (report["outcome"], report["refusal_reason"]) == ("rejected", "handled_elsewhere")


def test_a_missed_screening_deadline_applies_the_automatic_decision_flagged(screening: PathsRun) -> None:
    case = screening.case(UNANSWERED)
    assert case.screening_overdue is True and case.screening_proposal == "odr"
    assert case.outcome == "settled"
    assert "screening_confirmed" not in screening.events(UNANSWERED)
    dispatched = next(h for h in case.history if h.event == "dispatched")
    assert dispatched.at >= case.deadlines["screening"].due_at
    assert "ApplyScreening" in screening.execution(UNANSWERED)[1]
