"""The state machine's steps on in-memory ports: what tests/integration/test_step_handlers.py proves on moto,
plus the races and retries only fakes can stage (another writer between a step's read and its write)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from odr_adapter.models.case import CaseWithdrawn, Feedback, InvalidAction, StaleCase
from odr_adapter.models.directory import District
from odr_adapter.models.links import ActionLink, link_key
from odr_adapter.people.actions import perform
from odr_adapter.people.pages import action_page
from odr_adapter.ports import TransientFault
from odr_adapter.workflow.retry import ATTEMPTS, MAX_PAUSE
from odr_adapter.workflow.screening import apply_screening, screen_and_route
from odr_adapter.workflow.steps import close, escalate, record_failure, register_wait
from tests.fakes import World
from tests.unit.conftest import START, record

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
ASL = Path(__file__).resolve().parents[2] / "statemachine" / "case_workflow.asl.json"


def manual_screening(district: District, station: str = "JS-ZJ") -> District:
    stations = [s.model_copy(update={"manual_screening": s.code == station}) for s in district.stations]
    return district.model_copy(update={"stations": stations})


# --- screening and routing --------------------------------------------------------------------------------------


def test_screen_dispatches_an_odr_case_with_its_deadlines(world: World) -> None:
    world.seed(record(complaint_id="U-SCREEN-ODR-01"))

    result = screen_and_route("U-SCREEN-ODR-01", world.svc)

    assert result == {"decision": "odr", "calendar_fallback": False, "seconds": 64 * 3600}  # to 24:00 on 12-02
    case = world.case("U-SCREEN-ODR-01")
    assert (case.status, case.station_code) == ("dispatched", "JS-ZJ")
    assert case.enterprise is not None and case.enterprise.uscc == JINFENG
    assert case.deadlines["acceptance"].due_at.isoformat() == "2026-12-02T16:00:00+00:00"  # 24:00 on 12-02 +08:00
    assert case.deadlines["resolution"].due_at.isoformat() == "2026-12-07T16:00:00+00:00"
    assert world.events("U-SCREEN-ODR-01") == ["received", "dispatched"]


def test_a_retried_screen_step_changes_nothing(world: World) -> None:
    world.seed(record(complaint_id="U-SCREEN-RETRY-1"))
    assert screen_and_route("U-SCREEN-RETRY-1", world.svc)["decision"] == "odr"
    version = world.case("U-SCREEN-RETRY-1").version

    assert screen_and_route("U-SCREEN-RETRY-1", world.svc)["decision"] == "odr"
    assert world.case("U-SCREEN-RETRY-1").version == version


def test_screen_refuses_a_time_barred_case_and_routes_one_outside_the_directory(world: World) -> None:
    world.seed(record("time-barred", complaint_id="U-SCREEN-BARRED"))
    world.seed(record("not-in-directory", complaint_id="U-SCREEN-REGULAR"))

    assert screen_and_route("U-SCREEN-BARRED", world.svc)["decision"] == "rejected"
    assert screen_and_route("U-SCREEN-REGULAR", world.svc)["decision"] == "returned"

    assert world.case("U-SCREEN-BARRED").refusal_reason == "time_barred"
    # Retried, each says the same from what it recorded.
    assert screen_and_route("U-SCREEN-BARRED", world.svc)["decision"] == "rejected"
    assert screen_and_route("U-SCREEN-REGULAR", world.svc)["decision"] == "returned"


def test_screen_reapplies_over_a_writer_that_got_in_first(world: World, pauses: list[float]) -> None:
    world.seed(record(complaint_id="U-SCREEN-RACE-01"))
    world.cases.race("revision_applied", actor="12315", revision=2)  # the intake of a new revision, meanwhile

    assert screen_and_route("U-SCREEN-RACE-01", world.svc)["decision"] == "odr"

    case = world.case("U-SCREEN-RACE-01")
    assert world.events("U-SCREEN-RACE-01") == ["received", "revision_applied", "dispatched"]
    assert case.revision == 2 and case.version == 3  # nothing the other writer wrote was lost
    assert len(pauses) == 1  # one backoff before the second try


def test_a_withdrawal_that_lands_during_screening_stops_the_step(world: World) -> None:
    world.seed(record(complaint_id="U-SCREEN-WITHDR1"))
    world.cases.race("withdrawal_received", actor="12315", withdraw_requested=True)

    with pytest.raises(CaseWithdrawn):
        screen_and_route("U-SCREEN-WITHDR1", world.svc)

    case = world.case("U-SCREEN-WITHDR1")
    assert case.status == "received" and case.screening is None
    assert world.events("U-SCREEN-WITHDR1") == ["received", "withdrawal_received"]


def test_a_step_that_keeps_meeting_newer_versions_gives_up_loudly(world: World, pauses: list[float]) -> None:
    world.seed(record(complaint_id="U-SCREEN-STALE-1"))
    for n in range(ATTEMPTS):
        world.cases.race(f"writer_{n}")

    with pytest.raises(StaleCase):
        screen_and_route("U-SCREEN-STALE-1", world.svc)

    assert world.case("U-SCREEN-STALE-1").status == "received"
    assert len(pauses) == ATTEMPTS - 1  # a backoff between each try
    assert all(p <= MAX_PAUSE for p in pauses)
    assert world.events("U-SCREEN-STALE-1")[-1] == f"writer_{ATTEMPTS - 1}"


# --- screening by hand ------------------------------------------------------------------------------------------


def test_a_manual_station_gets_a_proposal_and_its_confirmation_dispatches(district: District) -> None:
    world = World(manual_screening(district), START)
    world.seed(record(complaint_id="U-MANUAL-ACCEPT1"))

    routed = screen_and_route("U-MANUAL-ACCEPT1", world.svc)
    waiting = world.case("U-MANUAL-ACCEPT1")
    assert (waiting.status, waiting.screening_proposal, waiting.screening) == ("screening", "odr", None)
    to_screen = waiting.deadlines["screening"].due_at - START  # AwaitScreening's timeout
    assert routed == {"decision": "manual", "seconds": int(to_screen.total_seconds())}
    assert screen_and_route("U-MANUAL-ACCEPT1", world.svc) == routed  # a retry waits on

    token = world.wait("U-MANUAL-ACCEPT1", "screening")
    perform("U-MANUAL-ACCEPT1", "confirm_screening", "station:JS-ZJ", {"decision": "accept"}, world.svc)
    until_due = world.case("U-MANUAL-ACCEPT1").deadlines["screening"].due_at - START
    assert world.executions.answered(token).output == {
        "action": "screening_confirmed",
        "seconds": int(until_due.total_seconds()),  # the wait for the station's decision runs to its deadline
    }

    assert apply_screening("U-MANUAL-ACCEPT1", world.svc)["decision"] == "odr"
    case = world.case("U-MANUAL-ACCEPT1")
    assert case.status == "dispatched" and case.screening is not None and case.screening.rule == "station_confirmed"
    assert case.history[-1].actor == "station:JS-ZJ" and not case.screening_overdue
    assert apply_screening("U-MANUAL-ACCEPT1", world.svc)["decision"] == "odr"  # retried: recorded already


def test_a_manual_refusal_rejects_with_the_stations_reason(district: District) -> None:
    world = World(manual_screening(district), START)
    world.seed(record(complaint_id="U-MANUAL-REFUSE1"))
    screen_and_route("U-MANUAL-REFUSE1", world.svc)
    world.wait("U-MANUAL-REFUSE1", "screening")
    refusal = {"decision": "refuse", "refusal_reason": "handled_elsewhere", "reason": "已由法院受理"}
    perform("U-MANUAL-REFUSE1", "confirm_screening", "station:JS-ZJ", refusal, world.svc)

    assert apply_screening("U-MANUAL-REFUSE1", world.svc)["decision"] == "rejected"

    case = world.case("U-MANUAL-REFUSE1")
    assert case.refusal_reason == "handled_elsewhere" and case.screening is not None
    assert (case.screening.rule, case.screening.reason) == ("station_refused", "已由法院受理")


def test_a_missed_screening_deadline_applies_the_proposal_flagged(district: District) -> None:
    world = World(manual_screening(district), START)
    world.seed(record(complaint_id="U-MANUAL-LATE-01"))
    screen_and_route("U-MANUAL-LATE-01", world.svc)

    assert apply_screening("U-MANUAL-LATE-01", world.svc)["decision"] == "odr"  # no confirmation came

    case = world.case("U-MANUAL-LATE-01")
    assert case.screening_overdue and case.status == "dispatched" and case.history[-1].actor == "adapter"


# --- waits ------------------------------------------------------------------------------------------------------


def test_a_wait_keeps_its_token_and_refuses_a_phase_the_case_is_not_in(world: World) -> None:
    world.seed(record(complaint_id="U-AWAIT-0000001"))
    screen_and_route("U-AWAIT-0000001", world.svc)

    register_wait("U-AWAIT-0000001", "acceptance", "tok-1", world.svc)
    pending = world.case("U-AWAIT-0000001").pending
    assert pending is not None and (pending.phase, pending.task_token, pending.open) == ("acceptance", "tok-1", True)
    assert world.case("U-AWAIT-0000001").history[-1].detail == {
        "phase": "acceptance",
        "due_at": "2026-12-02T16:00:00+00:00",
    }

    with pytest.raises(InvalidAction):
        register_wait("U-AWAIT-0000001", "review", "tok-2", world.svc)
    assert world.case("U-AWAIT-0000001").pending == pending


def test_a_withdrawn_case_never_waits(world: World) -> None:
    world.seed(record(complaint_id="U-AWAIT-WITHDRAW"), withdraw_requested=True)
    with pytest.raises(CaseWithdrawn):
        screen_and_route("U-AWAIT-WITHDRAW", world.svc)
    with pytest.raises(CaseWithdrawn):
        register_wait("U-AWAIT-WITHDRAW", "acceptance", "t", world.svc)
    assert world.case("U-AWAIT-WITHDRAW").pending is None


# --- escalation and closing -------------------------------------------------------------------------------------


def test_escalate_takes_an_acceptance_recorded_before_the_deadline_whose_callback_was_lost(world: World) -> None:
    _, token = world.dispatch(record(complaint_id="U-ESCALATE-TAKEN1"))
    world.executions.crash_next(TransientFault("ThrottlingException"))
    perform("U-ESCALATE-TAKEN1", "accept", f"enterprise:{JINFENG}", {}, world.svc)  # recorded, its callback owed
    world.executions.expire(token)  # the deadline came before the sweeper sent the callback again

    answer = escalate("U-ESCALATE-TAKEN1", "acceptance", world.svc)

    case = world.case("U-ESCALATE-TAKEN1")
    seconds = world.clock.timeout_seconds_until(case.deadlines["resolution"].due_at)
    assert answer == {"action": "accepted", "seconds": seconds}  # what the callback would have brought
    assert (case.status, case.overdue, case.overdue_phase) == ("accepted", False, None)
    assert world.events("U-ESCALATE-TAKEN1")[-2:] == ["accepted", "answer_taken_at_deadline"]
    assert case.history[-1].detail == {"phase": "acceptance", "action": "accepted"}
    assert escalate("U-ESCALATE-TAKEN1", "acceptance", world.svc) == answer  # retried: taken once
    assert world.case("U-ESCALATE-TAKEN1").version == case.version


def test_escalate_takes_an_approval_recorded_before_the_review_deadline(world: World) -> None:
    world.dispatch(record(complaint_id="U-ESCALATE-TAKEN2"))
    perform("U-ESCALATE-TAKEN2", "accept", f"enterprise:{JINFENG}", {}, world.svc)
    world.wait("U-ESCALATE-TAKEN2", "resolution")
    report = {"settled": True, "recovered_amount": "10.00", "summary": "退款"}
    perform("U-ESCALATE-TAKEN2", "report", f"enterprise:{JINFENG}", report, world.svc)
    token = world.wait("U-ESCALATE-TAKEN2", "review")
    world.executions.crash_next(TransientFault("ThrottlingException"))
    perform("U-ESCALATE-TAKEN2", "approve", "station:JS-ZJ", {}, world.svc)
    world.executions.expire(token)

    assert escalate("U-ESCALATE-TAKEN2", "review", world.svc)["action"] == "approved"
    assert not world.case("U-ESCALATE-TAKEN2").overdue
    link = ActionLink(
        key=link_key("review-link-taken"),
        complaint_id="U-ESCALATE-TAKEN2",
        phase="review",
        actions=["approve", "send_back"],
        role="station",
        recipient="310116101",
        expires_at=world.clock.now() + timedelta(days=3),
        created_at=world.clock.now(),
    )
    page = action_page(world.case("U-ESCALATE-TAKEN2"), link, world.directory.district(), world.clock.now())
    assert "answer_taken_at_deadline" not in page.html  # how the workflow ran is not the reviewer's history


def test_an_answer_taken_at_the_deadline_goes_where_its_callback_would_have_taken_the_workflow() -> None:
    states = json.loads(ASL.read_text(encoding="utf-8"))["States"]
    taken = {c["StringEquals"]: c["Next"] for c in states["AnsweredInTime"]["Choices"]}
    review = {c["StringEquals"]: c["Next"] for c in states["ReviewDecision"]["Choices"]}
    declined = [c["Next"] for c in states["AwaitAcceptance"]["Catch"] if c["ErrorEquals"] == ["EnterpriseDeclined"]]

    assert taken == {
        "accepted": states["AwaitAcceptance"]["Next"],
        "declined": declined[0],
        "result_reported": states["AwaitResult"]["Next"],
        **review,
    }
    assert states["Escalate"]["Next"] == "AnsweredInTime"
    assert states["AnsweredInTime"]["Default"] == "NotifyStationOverdue"
    assert states["Escalate"]["ResultPath"] == "$.next_wait"  # the seconds AwaitResult's timeout reads


def test_escalate_marks_overdue_a_wait_answered_by_nobody(world: World) -> None:
    _, token = world.dispatch(record(complaint_id="U-ESCALATE-NONE1"))
    world.executions.expire(token)

    assert escalate("U-ESCALATE-NONE1", "acceptance", world.svc) == {"action": "overdue", "seconds": 0}
    assert world.case("U-ESCALATE-NONE1").overdue


def test_escalate_then_close_returns_the_case_and_queues_its_report(world: World) -> None:
    world.dispatch(record(complaint_id="U-ESCALATE-00001"))
    world.clock.set(datetime.fromisoformat("2026-12-03T00:00:01+08:00"))

    escalate("U-ESCALATE-00001", "acceptance", world.svc)
    version = world.case("U-ESCALATE-00001").version
    escalate("U-ESCALATE-00001", "acceptance", world.svc)  # retried: already escalated
    assert world.case("U-ESCALATE-00001").version == version

    assert close("U-ESCALATE-00001", "returned", world.svc) == {"outcome": "returned"}

    case = world.case("U-ESCALATE-00001")
    assert (case.status, case.outcome, case.overdue, case.pending) == ("closed", "returned", True, None)
    assert world.events("U-ESCALATE-00001")[-2:] == ["overdue", "closed"]
    assert case.process_summary == "企业未在acceptance期限内反馈,退回监管部门常规处理"
    [report] = world.reports.take()
    assert report["idempotency_key"] == "U-ESCALATE-00001-returned"
    assert report["body"]["outcome"] == "returned" and report["body"]["closed_at"] == "2026-12-03T00:00:01+08:00"
    assert report["body"]["handled_by"] == "station:JS-ZJ"


def test_close_resolved_records_outcome_amount_and_cycle_and_a_retry_reports_again(world: World) -> None:
    world.seed(record(complaint_id="U-CLOSE-SETTLED"))
    feedback = Feedback(settled=True, recovered_amount=Decimal("150.50"), summary="部分退款", reported_at=START)
    world.change("U-CLOSE-SETTLED", "result_reported", status="under_review", feedback=feedback)
    world.clock.set(datetime.fromisoformat("2026-12-03T10:00:00+08:00"))

    assert close("U-CLOSE-SETTLED", "resolved", world.svc) == {"outcome": "settled"}
    closed = world.case("U-CLOSE-SETTLED")
    assert closed.recovered_amount == Decimal("150.50")
    assert closed.cycle_days == Decimal("3.03")  # registered 11-30 09:12:44, closed 12-03 10:00 (+08:00)
    assert closed.history[-1].detail == {"outcome": "settled", "recovered_amount": "150.50", "cycle_days": "3.03"}

    assert close("U-CLOSE-SETTLED", "resolved", world.svc) == {"outcome": "settled"}  # a retried step
    assert world.case("U-CLOSE-SETTLED").version == closed.version
    reports = world.reports.take()
    assert [r["idempotency_key"] for r in reports] == ["U-CLOSE-SETTLED-settled"] * 2
    assert reports[0] == reports[1] and reports[0]["body"]["recovered_amount"] == "150.50"


@pytest.mark.parametrize(
    ("hint", "outcome", "summary"),
    [
        ("withdrawn", "withdrawn", "消费者撤回投诉,处理终止"),
        ("declined", "returned", "企业拒绝通过ODR处理,退回监管部门常规处理"),
    ],
)
def test_close_after_a_withdrawal_or_a_decline(world: World, hint: str, outcome: str, summary: str) -> None:
    world.dispatch(record(complaint_id=f"U-CLOSE-{hint.upper()}"))

    assert close(f"U-CLOSE-{hint.upper()}", hint, world.svc) == {"outcome": outcome}

    case = world.case(f"U-CLOSE-{hint.upper()}")
    assert (case.outcome, case.process_summary, case.recovered_amount) == (outcome, summary, Decimal("0.00"))
    assert world.reports.take()[0]["idempotency_key"] == f"U-CLOSE-{hint.upper()}-{outcome}"


def test_close_over_a_concurrent_note_keeps_both_and_reports_once(world: World) -> None:
    world.dispatch(record(complaint_id="U-CLOSE-RACE-001"))
    world.cases.race("action_refused", actor="enterprise:x", detail={"action": "accept"})

    assert close("U-CLOSE-RACE-001", "returned", world.svc) == {"outcome": "returned"}

    assert world.events("U-CLOSE-RACE-001")[-2:] == ["action_refused", "closed"]
    assert len(world.reports.take()) == 1  # the refused first try queued nothing


def test_a_rejected_case_reports_its_refusal_reason(world: World) -> None:
    world.seed(record("time-barred", complaint_id="U-CLOSE-REJECTED"))
    screen_and_route("U-CLOSE-REJECTED", world.svc)

    assert close("U-CLOSE-REJECTED", "rejected", world.svc) == {"outcome": "rejected"}

    [report] = world.reports.take()
    assert report["body"]["refusal_reason"] == "time_barred" and report["body"]["handled_by"] == "station:intake"


# --- faults -----------------------------------------------------------------------------------------------------


def test_record_failure_keeps_the_fault_on_the_case(world: World) -> None:
    world.seed(record(complaint_id="U-FAILURE-000001"))

    record_failure("U-FAILURE-000001", {"Error": "States.TaskFailed", "Cause": "boom" * 200}, world.svc)

    last = world.case("U-FAILURE-000001").history[-1]
    assert (last.event, last.actor, last.detail["error"]) == ("workflow_failed", "adapter", "States.TaskFailed")
    assert len(last.detail["cause"]) == 500  # bounded: causes carry stack traces


def test_record_failure_for_a_case_that_never_was_does_nothing(world: World) -> None:
    record_failure("U-NO-SUCH-CASE", {"Error": "x"}, world.svc)
    assert world.cases.get("U-NO-SUCH-CASE") is None


def test_record_failure_survives_a_concurrent_writer(world: World) -> None:
    world.seed(record(complaint_id="U-FAILURE-RACE01"))
    world.cases.race("overdue", overdue=True)
    world.clock.advance(timedelta(minutes=1))

    record_failure("U-FAILURE-RACE01", {"Error": "States.Timeout"}, world.svc)

    assert world.events("U-FAILURE-RACE01") == ["received", "overdue", "workflow_failed"]
