"""Each path of a case on the real ASL, real handlers and the local stack (one run, see conftest)."""

from __future__ import annotations

from decimal import Decimal

from odr_adapter.clock import local
from odr_local.inbox import Inbox
from odr_local.stack import REGION, SES_REGION

from .conftest import PathsRun

HAPPY = "3101160000000202611300101"
NO_ACCEPT = "3101160000000202611300102"
NO_RESULT = "3101160000000202611300103"
SENT_BACK = "3101160000000202611300104"
WITHDRAWN = "3101160000000202611300105"
DECLINED = "3101160000000202611300106"
LATE = "3101160000000202611300107"
NOT_SETTLED = "3101160000000202611300108"
DELISTED = "3101160000000202611300109"
NOT_IN_DIRECTORY = "3101160000000202611300020"
TIME_BARRED = "3101160000000202611300031"
SHOP_NAME_ONLY = "3101160000000202611300013"
BAD_RECORD = "3101160000000202611300040"


def test_every_offered_complaint_is_a_closed_case_or_quarantined(paths: PathsRun) -> None:
    closed = [c for c in paths.result["cases"] if c["status"] == "closed"]
    assert len(closed) == len(paths.result["cases"]) == 12
    assert paths.result["quarantined"] == 1
    assert paths.result["summary"]["open"] == 0


def test_happy_path_settles_with_the_recovered_amount(paths: PathsRun) -> None:
    case = paths.case(HAPPY)
    assert (case.status, case.outcome, case.overdue) == ("closed", "settled", False)
    assert case.recovered_amount == Decimal("199.00")
    assert case.cycle_days is not None and Decimal("1") < case.cycle_days < Decimal("7")
    events = paths.events(HAPPY)
    # After acceptance the workflow's next wait and the confirmation (with the result link) race each other.
    assert sorted(events[5:7]) == ["notified", "waiting"]
    assert events[:5] + events[7:] == [
        "received",
        "dispatched",  # the first step's write also records that the workflow started
        "waiting",  # a wait is registered before the message that announces it goes
        "notified",
        "accepted",
        "result_reported",
        "waiting",
        "notified",
        "approved",
        "closed",
    ]
    notes = [h.detail["template"] for h in paths.case(HAPPY).history if h.event == "notified"]
    assert notes == ["dispatched", "accepted", "review"]
    status, states = paths.execution(HAPPY)
    assert status == "SUCCEEDED"
    assert states == [
        "ScreenAndRoute",
        "Route",
        "AwaitAcceptance",  # tells the enterprise, then waits
        "AwaitResult",
        "AwaitReview",  # tells the station, then waits
        "ReviewDecision",
        "CloseResolved",
    ]
    [report] = paths.reports(HAPPY)
    assert (report["outcome"], report["recovered_amount"]) == ("settled", "199.00")


def test_acceptance_timeout_escalates_and_returns_the_case(paths: PathsRun) -> None:
    case = paths.case(NO_ACCEPT)
    assert (case.outcome, case.overdue, case.overdue_phase) == ("returned", True, "acceptance")
    assert "accepted" not in paths.events(NO_ACCEPT)
    events = paths.events(NO_ACCEPT)
    # Reminded once before the deadline; then the enterprise and the station are told it went back.
    assert events.count("reminder_due") == 1
    assert events[events.index("reminder_due") + 1] == "notified"
    assert events[-4:] == ["overdue", "notified", "notified", "closed"]
    notes = [h.detail["template"] for h in paths.case(NO_ACCEPT).history if h.event == "notified"]
    assert notes == ["dispatched", "reminder", "overdue", "overdue_station"]
    closed_at = case.closed_at
    assert closed_at is not None and closed_at >= case.deadlines["acceptance"].due_at
    status, states = paths.execution(NO_ACCEPT)
    assert status == "SUCCEEDED"
    assert states[-6:] == [
        "AwaitAcceptance",
        "AcceptanceOverdue",
        "Escalate",
        "AnsweredInTime",  # nothing was answered in time: overdue
        "NotifyStationOverdue",
        "CloseReturned",
    ]
    assert [r["outcome"] for r in paths.reports(NO_ACCEPT)] == ["returned"]


def test_result_timeout_escalates_after_acceptance(paths: PathsRun) -> None:
    case = paths.case(NO_RESULT)
    assert (case.outcome, case.overdue, case.overdue_phase) == ("returned", True, "resolution")
    assert "accepted" in paths.events(NO_RESULT)
    _, states = paths.execution(NO_RESULT)
    assert "ResolutionOverdue" in states and "AwaitReview" not in states


def test_send_back_once_then_approve(paths: PathsRun) -> None:
    case = paths.case(SENT_BACK)
    assert (case.outcome, case.send_backs) == ("settled", 1)
    assert case.recovered_amount == Decimal("99.50")
    events = paths.events(SENT_BACK)
    assert events.count("result_reported") == 2 and events.count("sent_back") == 1
    assert events.index("sent_back") < events.index("approved")
    _, states = paths.execution(SENT_BACK)
    assert states.count("AwaitResult") == 1 and states.count("AwaitRework") == 1  # the rework: told, then waited
    assert states.count("AwaitReview") == 2


def test_not_for_odr_goes_to_the_station(paths: PathsRun) -> None:
    case = paths.case(NOT_IN_DIRECTORY)
    assert (case.outcome, case.station_code) == ("returned", "JS-TL")
    assert case.route is not None and case.route.rule == "not_in_directory"
    _, states = paths.execution(NOT_IN_DIRECTORY)
    assert states == ["ScreenAndRoute", "Route", "NotifyStationRegular", "CloseReturned"]
    assert [r["outcome"] for r in paths.reports(NOT_IN_DIRECTORY)] == ["returned"]


def test_refused_case_is_rejected_with_its_reason(paths: PathsRun) -> None:
    case = paths.case(TIME_BARRED)
    assert (case.outcome, case.refusal_reason) == ("rejected", "time_barred")
    assert case.screening is not None and "2026-08-15" in case.screening.reason
    [report] = paths.reports(TIME_BARRED)
    assert (report["outcome"], report["refusal_reason"]) == ("rejected", "time_barred")
    _, states = paths.execution(TIME_BARRED)
    assert states == ["ScreenAndRoute", "Route", "CloseRejected"]


def test_withdrawal_while_waiting_ends_the_wait(paths: PathsRun) -> None:
    case = paths.case(WITHDRAWN)
    assert (case.outcome, case.revision, case.pending) == ("withdrawn", 2, None)
    assert case.closed_at is not None and case.closed_at < case.deadlines["acceptance"].due_at
    events = paths.events(WITHDRAWN)
    assert events[-3:] == ["withdrawal_received", "notified", "closed"]
    status, states = paths.execution(WITHDRAWN)
    assert status == "SUCCEEDED"
    assert states[-3:] == ["AwaitAcceptance", "NotifyWithdrawn", "CloseWithdrawn"]


def test_declined_case_returns_to_the_regulator(paths: PathsRun) -> None:
    case = paths.case(DECLINED)
    assert (case.outcome, case.overdue) == ("returned", False)
    assert "declined" in paths.events(DECLINED)
    assert paths.execution(DECLINED)[1][-1] == "CloseDeclined"


def test_late_acceptance_is_refused(paths: PathsRun) -> None:
    case = paths.case(LATE)
    assert (case.outcome, case.overdue_phase) == ("returned", "acceptance")
    late = [a for a in paths.result["actions"] if a["complaint_id"] == LATE]
    assert late == [{"complaint_id": LATE, "action": "accept", "status": 409, "via": "link"}]
    [refused] = [h for h in paths.case(LATE).history if h.event == "action_refused"]
    assert refused.detail == {"action": "accept", "via": "link", "reason": "deadline_passed"}
    assert refused.at > case.deadlines["acceptance"].due_at


def test_not_settled_and_shop_name_match(paths: PathsRun) -> None:
    case = paths.case(NOT_SETTLED)
    assert case.enterprise is not None
    assert (case.enterprise.enterprise_class, case.enterprise.matched_by) == ("C", "shop_name")
    assert (case.outcome, case.recovered_amount) == ("not_settled", Decimal("0.00"))


def test_delisted_enterprise_is_not_odr(paths: PathsRun) -> None:
    case = paths.case(DELISTED)
    assert case.route is not None and case.route.rule == "not_listed_on_registration_day"
    assert case.outcome == "returned"


def test_shop_name_only_without_opt_in_is_regular_handling(paths: PathsRun) -> None:
    case = paths.case(SHOP_NAME_ONLY)
    assert case.route is not None and case.route.rule == "consumer_not_opted_in"
    assert case.enterprise is not None and case.enterprise.matched_by == "shop_name"
    assert case.station_code == "JS-LX"


def test_bad_record_is_quarantined_with_every_reason(paths: PathsRun) -> None:
    [entry] = [q for q in paths.stack.quarantine.all() if q["complaint_id"] == BAD_RECORD]
    assert {p["path"] for p in entry["problems"]} == {
        "consumer.name",
        "consumer.phone",
        "respondent.uscc",
        "transaction.amount",
    }
    assert paths.stack.cases.get(BAD_RECORD) is None


def test_summary_counts_the_odr_cases(paths: PathsRun) -> None:
    summary = paths.result["summary"]
    a = summary["by_class"]["A"]
    # A class: happy, no-accept, no-result, sent-back, declined, late (withdrawn excluded) = 6, 2 settled.
    assert (a["handled"], a["settled"]) == (6, 2)
    assert summary["by_class"]["C"]["handled"] == 1
    assert "三类电商ODR企业办理投诉分别为6件(和解成功率为33%)" in summary["sentence"]


def test_pull_and_push_make_one_case_and_one_execution_each_and_lose_nothing(paths: PathsRun) -> None:
    ingestion = paths.result["ingestion"]
    assert ingestion["unaccounted"] == 0
    assert ingestion["offered"] == 14  # 13 complaints + the withdrawal revision
    assert (ingestion["cases"], ingestion["quarantined"]) == (12, 1)
    assert paths.result["feed"]["records_pushed"] > 0 and paths.result["feed"]["items_served"] > 0
    sfn = paths.stack.client("stepfunctions")
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=paths.stack.state_machine_arn)["executions"]]
    assert sorted(names) == sorted(f"case-{c['complaint_id']}" for c in paths.result["cases"])


def test_the_monthly_scorecards_go_out_on_the_first_by_the_stacks_clock(paths: PathsRun) -> None:
    """ScorecardFunction's schedule, cron(0 1 1 * ? *), fires on the virtual clock at 2026-12-01 09:00 Beijing
    time: November's scorecard, once, to each enterprise with ODR cases dispatched in November."""
    cases = [paths.case(c["complaint_id"]) for c in paths.result["cases"]]
    active = {
        c.enterprise.uscc
        for c in cases
        if c.enterprise and any(h.event == "dispatched" and local(h.at).month == 11 for h in c.history)
    }
    expected = sorted(str(e.contact_email) for e in paths.stack.district.enterprises if e.uscc in active)
    inbox = Inbox(SES_REGION, REGION, paths.stack.sms_gateway)
    sent = sorted(m.to for m in inbox.emails() if "2026年11月ODR办理情况" in m.subject)
    assert expected and sent == expected
