"""People's actions on in-memory ports: each action ends the wait it answers exactly once; a repeat is answered,
not redone (and heals a callback lost in transit); an action that raced the deadline is taken back, unless the
deadline's step took its answer first; what changed nothing is still recorded. The moto suites
(test_actions_delivery, test_links_api) prove the same end to end."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from odr_adapter.models.case import Case, InvalidAction
from odr_adapter.models.links import link_key
from odr_adapter.people.actions import DeadlinePassed, NotYetWaiting, perform
from odr_adapter.people.enterprise_api import CaseNotFound, Unauthorised, api_answer, authenticate, enterprise_act
from odr_adapter.people.submissions import act
from odr_adapter.workflow.screening import screen_and_route
from odr_adapter.workflow.steps import close, escalate
from tests.fakes import World
from tests.unit.conftest import START, load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
SHANYANG = "91310116MA1H3N8W6F"
SPECIALIST = f"enterprise:{JINFENG}"
JINFENG_MOBILE = "13900000201"
RESOLUTION_DUE = datetime.fromisoformat("2026-12-07T16:00:00+00:00")
REPORT = {"settled": True, "recovered_amount": "150.50", "summary": "部分退款,消费者同意"}


def dispatched(world: World, complaint_id: str) -> tuple[Case, str]:
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    return world.dispatch(raw)


def accepted(world: World, complaint_id: str) -> str:
    """A case accepted and waiting for the result: the resolution wait's token."""
    _, token = dispatched(world, complaint_id)
    perform(complaint_id, "accept", SPECIALIST, {}, world.svc)
    assert world.executions.answered(token).state == "succeeded"
    return world.wait(complaint_id, "resolution")


def under_review(world: World, complaint_id: str) -> str:
    """A case whose result was reported, waiting for the station's review: the review wait's token."""
    accepted(world, complaint_id)
    perform(complaint_id, "report", SPECIALIST, REPORT, world.svc)
    return world.wait(complaint_id, "review")


# --- perform: each action ends its wait once --------------------------------------------------------------------


def test_an_acceptance_is_recorded_then_ends_the_wait_with_the_next_timer(world: World) -> None:
    before, token = dispatched(world, "U-ACT-ACCEPT-001")

    after = perform("U-ACT-ACCEPT-001", "accept", SPECIALIST, {}, world.svc)

    assert after.status == "accepted" and after.version == before.version + 1
    assert after.pending is not None and after.pending.answer == {"action": "accepted"}
    assert after.history[-1].actor == SPECIALIST
    assert world.executions.answered(token).output == {
        "action": "accepted",
        "seconds": int((RESOLUTION_DUE - START).total_seconds()),  # the next wait runs to the resolution deadline
    }
    assert world.case("U-ACT-ACCEPT-001") == after


def test_a_decline_fails_the_wait_so_the_workflow_returns_the_case(world: World) -> None:
    _, token = dispatched(world, "U-ACT-DECLINE-01")

    after = perform("U-ACT-DECLINE-01", "decline", SPECIALIST, {}, world.svc)

    assert after.status == "dispatched" and after.history[-1].event == "declined"  # the workflow closes it
    wait = world.executions.answered(token)
    assert (wait.state, wait.error) == ("failed", ("EnterpriseDeclined", "the enterprise declined the case"))


def test_a_report_keeps_the_feedback_and_starts_the_review_deadline(world: World) -> None:
    token = accepted(world, "U-ACT-REPORT-001")
    world.clock.set(datetime.fromisoformat("2026-12-03T10:00:00+08:00"))

    after = perform("U-ACT-REPORT-001", "report", SPECIALIST, REPORT, world.svc)

    assert after.status == "under_review" and after.feedback is not None
    assert (after.feedback.settled, after.feedback.recovered_amount) == (True, Decimal("150.50"))
    assert after.deadlines["review"].due_at.isoformat() == "2026-12-05T16:00:00+00:00"  # two days, to 24:00
    assert after.history[-1].detail == {"settled": True, "recovered_amount": "150.50"}
    review_wait = after.deadlines["review"].due_at - world.clock.now()
    assert world.executions.answered(token).output == {
        "action": "result_reported",
        "seconds": int(review_wait.total_seconds()),
    }


def test_an_invalid_report_changes_nothing(world: World) -> None:
    token = accepted(world, "U-ACT-BADREPORT1")
    version = world.case("U-ACT-BADREPORT1").version

    with pytest.raises(ValidationError, match="not_settled_reason is required"):
        perform("U-ACT-BADREPORT1", "report", SPECIALIST, {"settled": False, "summary": "未谈拢"}, world.svc)

    assert world.case("U-ACT-BADREPORT1").version == version
    assert world.executions.answered(token).state == "waiting"


def test_send_back_reopens_the_resolution_with_a_rework_deadline_at_most_twice(world: World) -> None:
    token = under_review(world, "U-ACT-SENDBACK01")
    for round_ in (1, 2):
        after = perform("U-ACT-SENDBACK01", "send_back", "station:JS-ZJ", {"comment": "请补充凭证"}, world.svc)
        assert (after.status, after.send_backs, after.review_comment) == ("accepted", round_, "请补充凭证")
        assert after.deadlines["resolution"].due_at.isoformat() == "2026-12-02T16:00:00+00:00"  # rework: 2 days
        assert world.executions.answered(token).output == {"action": "sent_back", "seconds": 230400}
        world.wait("U-ACT-SENDBACK01", "resolution")
        perform("U-ACT-SENDBACK01", "report", SPECIALIST, REPORT, world.svc)
        token = world.wait("U-ACT-SENDBACK01", "review")

    with pytest.raises(InvalidAction, match="already sent back 2 times"):
        perform("U-ACT-SENDBACK01", "send_back", "station:JS-ZJ", {"comment": "再补充"}, world.svc)
    assert world.executions.answered(token).state == "waiting"


def test_approve_ends_the_review_and_leaves_closing_to_the_workflow(world: World) -> None:
    token = under_review(world, "U-ACT-APPROVE-01")

    after = perform("U-ACT-APPROVE-01", "approve", "station:JS-ZJ", {"comment": "同意"}, world.svc)

    assert after.status == "under_review" and after.history[-1].detail == {"comment": "同意"}
    review_wait = after.deadlines["review"].due_at - START
    assert world.executions.answered(token).output == {"action": "approved", "seconds": review_wait.total_seconds()}
    assert close("U-ACT-APPROVE-01", "resolved", world.svc) == {"outcome": "settled"}
    assert world.case("U-ACT-APPROVE-01").recovered_amount == Decimal("150.50")


def test_an_action_before_the_workflow_waits_is_not_yet_possible(world: World) -> None:
    world.seed(load_example("odr-by-uscc"))
    screen_and_route("3101160000000202611300012", world.svc)  # dispatched, but the wait is not registered yet

    with pytest.raises(NotYetWaiting):
        perform("3101160000000202611300012", "accept", SPECIALIST, {}, world.svc)
    assert world.case("3101160000000202611300012").status == "dispatched"


def test_an_action_after_the_deadline_is_refused(world: World) -> None:
    _, token = dispatched(world, "U-ACT-DEADLINE01")
    world.clock.set(datetime.fromisoformat("2026-12-03T00:00:00+08:00"))  # the acceptance deadline, exactly

    with pytest.raises(DeadlinePassed):
        perform("U-ACT-DEADLINE01", "accept", SPECIALIST, {}, world.svc)

    assert world.case("U-ACT-DEADLINE01").status == "dispatched"
    assert world.executions.answered(token).state == "waiting"


# --- perform: repeats and lost callbacks ------------------------------------------------------------------------


def test_a_repeated_action_delivers_a_callback_that_was_lost(world: World) -> None:
    _, token = dispatched(world, "U-ACT-LOST-00001")
    world.executions.crash_next()

    with pytest.raises(ConnectionError):  # written, but the callback never reached Step Functions
        perform("U-ACT-LOST-00001", "accept", SPECIALIST, {}, world.svc)
    written = world.case("U-ACT-LOST-00001")
    assert written.status == "accepted" and world.executions.answered(token).state == "waiting"

    again = perform("U-ACT-LOST-00001", "accept", SPECIALIST, {}, world.svc)  # the specialist taps again

    assert again.version == written.version
    assert world.executions.answered(token).output == {
        "action": "accepted",
        "seconds": int((RESOLUTION_DUE - START).total_seconds()),
    }
    assert world.events("U-ACT-LOST-00001").count("accepted") == 1


def test_repeating_a_delivered_action_changes_nothing(world: World) -> None:
    dispatched(world, "U-ACT-REPEAT-001")
    first = perform("U-ACT-REPEAT-001", "accept", SPECIALIST, {}, world.svc)

    again = perform("U-ACT-REPEAT-001", "accept", SPECIALIST, {}, world.svc)  # TokenGone: it did arrive

    assert again.version == first.version == world.case("U-ACT-REPEAT-001").version
    # Once the next wait replaced the token, a double submit is still answered as done.
    world.wait("U-ACT-REPEAT-001", "resolution")
    assert perform("U-ACT-REPEAT-001", "accept", SPECIALIST, {}, world.svc).status == "accepted"


def test_another_answer_to_the_same_wait_is_refused(world: World) -> None:
    dispatched(world, "U-ACT-OTHER-0001")
    perform("U-ACT-OTHER-0001", "decline", SPECIALIST, {}, world.svc)

    with pytest.raises(InvalidAction, match="already answered"):
        perform("U-ACT-OTHER-0001", "accept", SPECIALIST, {}, world.svc)
    assert world.events("U-ACT-OTHER-0001")[-1] == "declined"


# --- perform: the deadline raced the action (undo) --------------------------------------------------------------


def test_an_action_whose_wait_already_timed_out_is_taken_back(world: World) -> None:
    before, token = dispatched(world, "U-ACT-UNDO-00001")
    world.executions.expire(token)  # the deadline's timer fired, the case write had not yet seen it

    with pytest.raises(DeadlinePassed, match="wait ended before the action arrived"):
        perform("U-ACT-UNDO-00001", "accept", SPECIALIST, {}, world.svc)

    case = world.case("U-ACT-UNDO-00001")
    assert (case.status, case.pending) == ("dispatched", None)  # as before, and no longer waiting
    assert case.deadlines == before.deadlines
    assert world.events("U-ACT-UNDO-00001")[-2:] == ["accepted", "action_too_late"]  # the attempt is kept
    assert case.history[-1].detail == {"action": "accept"} and case.history[-1].actor == SPECIALIST


def test_an_action_recorded_before_the_deadline_stands_when_the_deadline_step_took_its_answer(world: World) -> None:
    _, token = dispatched(world, "U-ACT-UNDO-RACE1")
    # The timer fired while the action was between its write and its callback: Escalate found the answer.
    world.executions.expire(token, meanwhile=lambda: escalate("U-ACT-UNDO-RACE1", "acceptance", world.svc))

    perform("U-ACT-UNDO-RACE1", "accept", SPECIALIST, {}, world.svc)  # no DeadlinePassed: the workflow went on

    case = world.case("U-ACT-UNDO-RACE1")
    assert world.events("U-ACT-UNDO-RACE1")[-2:] == ["accepted", "answer_taken_at_deadline"]
    assert (case.status, case.overdue) == ("accepted", False)


def test_an_undo_that_meets_the_deadline_step_taking_the_answer_leaves_the_action_standing(world: World) -> None:
    _, token = dispatched(world, "U-ACT-UNDO-TAKEN")
    world.executions.expire(token)
    # Escalate takes the recorded answer between the undo's read and its write.
    world.cases.before_next_save(lambda *_: escalate("U-ACT-UNDO-TAKEN", "acceptance", world.svc), skip=1)

    perform("U-ACT-UNDO-TAKEN", "accept", SPECIALIST, {}, world.svc)

    case = world.case("U-ACT-UNDO-TAKEN")
    assert world.events("U-ACT-UNDO-TAKEN")[-2:] == ["accepted", "answer_taken_at_deadline"]
    assert (case.status, case.overdue, world.cases.stale) == ("accepted", False, 1)


def test_an_action_taken_back_first_leaves_the_deadline_step_to_escalate(world: World) -> None:
    _, token = dispatched(world, "U-ACT-UNDO-FIRST")
    world.executions.expire(token)
    with pytest.raises(DeadlinePassed):
        perform("U-ACT-UNDO-FIRST", "accept", SPECIALIST, {}, world.svc)

    assert escalate("U-ACT-UNDO-FIRST", "acceptance", world.svc) == {"action": "overdue", "seconds": 0}

    assert world.events("U-ACT-UNDO-FIRST")[-3:] == ["accepted", "action_too_late", "overdue"]
    assert world.case("U-ACT-UNDO-FIRST").overdue


def test_undo_retries_over_a_writer_that_got_in_first(world: World) -> None:
    _, token = dispatched(world, "U-ACT-UNDO-STALE")
    world.executions.expire(token)
    world.cases.race("overdue", skip=1, overdue=True, overdue_phase="acceptance", pending=None)  # before the undo

    with pytest.raises(DeadlinePassed):
        perform("U-ACT-UNDO-STALE", "accept", SPECIALIST, {}, world.svc)

    assert world.events("U-ACT-UNDO-STALE")[-3:] == ["accepted", "overdue", "action_too_late"]
    assert world.case("U-ACT-UNDO-STALE").overdue and world.cases.stale == 1


# --- act: what people see and the history keeps -----------------------------------------------------------------


def test_an_acceptance_is_confirmed_with_a_link_to_report_the_result(world: World) -> None:
    dispatched(world, "U-SUB-ACCEPT-001")

    outcome = act("U-SUB-ACCEPT-001", "accept", SPECIALIST, {}, "link", world.svc, world.delivery)

    assert outcome.status == "done" and outcome.next_link_id is not None
    link = world.links.get(link_key(outcome.next_link_id))
    assert link is not None and (link.phase, link.actions, link.recipient) == ("resolution", ["report"], JINFENG)
    assert link.expires_at == RESOLUTION_DUE
    [sms] = world.sms.to(JINFENG_MOBILE)[-1:]
    assert outcome.next_link_id in sms.body
    assert world.events("U-SUB-ACCEPT-001")[-2:] == ["accepted", "notified"]


def test_a_repeated_submit_is_answered_as_done_and_recorded(world: World) -> None:
    dispatched(world, "U-SUB-REPEAT-001")
    act("U-SUB-REPEAT-001", "accept", SPECIALIST, {}, "link", world.svc, world.delivery)
    sent = len(world.sms.sent)

    again = act("U-SUB-REPEAT-001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert again.status == "repeated" and again.next_link_id is None
    assert again.case.history[-1].event == "action_repeated"
    assert again.case.history[-1].detail == {"action": "accept", "via": "api"}
    assert len(world.sms.sent) == sent  # no second confirmation
    assert world.events("U-SUB-REPEAT-001").count("accepted") == 1


def test_a_report_after_a_send_back_is_due_again_not_a_repeat(world: World) -> None:
    under_review(world, "U-SUB-ROUND-0001")
    perform("U-SUB-ROUND-0001", "send_back", "station:JS-ZJ", {"comment": "补充"}, world.svc)
    world.wait("U-SUB-ROUND-0001", "resolution")

    outcome = act("U-SUB-ROUND-0001", "report", SPECIALIST, REPORT, "api", world.svc, world.delivery)

    assert outcome.status == "done" and world.events("U-SUB-ROUND-0001").count("result_reported") == 2


def test_a_submit_before_the_wait_is_not_ready_and_records_nothing(world: World) -> None:
    world.seed(load_example("odr-by-uscc"))
    screen_and_route("3101160000000202611300012", world.svc)
    version = world.case("3101160000000202611300012").version

    outcome = act("3101160000000202611300012", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "not_ready" and world.case("3101160000000202611300012").version == version


def test_a_submit_after_the_deadline_is_too_late_and_recorded(world: World) -> None:
    dispatched(world, "U-SUB-LATE-00001")
    world.clock.set(datetime.fromisoformat("2026-12-03T00:00:01+08:00"))

    outcome = act("U-SUB-LATE-00001", "accept", SPECIALIST, {}, "link", world.svc, world.delivery)

    assert outcome.status == "too_late"
    last = outcome.case.history[-1]
    assert (last.event, last.detail) == (
        "action_refused",
        {"action": "accept", "via": "link", "reason": "deadline_passed"},
    )


def test_a_submit_that_raced_the_timer_is_too_late_and_the_attempt_kept(world: World) -> None:
    _, token = dispatched(world, "U-SUB-RACED-0001")
    world.executions.expire(token)

    outcome = act("U-SUB-RACED-0001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "too_late" and outcome.next_link_id is None
    assert world.events("U-SUB-RACED-0001")[-3:] == ["accepted", "action_too_late", "action_refused"]
    assert world.case("U-SUB-RACED-0001").status == "dispatched" and not world.sms.to(JINFENG_MOBILE)[1:]


def test_a_submit_after_the_case_went_back_is_too_late(world: World) -> None:
    dispatched(world, "U-SUB-RETURNED01")
    escalate("U-SUB-RETURNED01", "acceptance", world.svc)
    close("U-SUB-RETURNED01", "returned", world.svc)

    outcome = act("U-SUB-RETURNED01", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "too_late" and outcome.case.history[-1].detail["reason"] == "deadline_passed"


def test_an_action_the_case_no_longer_allows_is_refused_and_recorded(world: World) -> None:
    dispatched(world, "U-SUB-REFUSED-01")
    act("U-SUB-REFUSED-01", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    outcome = act("U-SUB-REFUSED-01", "decline", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "refused" and "already answered" in outcome.reason
    last = outcome.case.history[-1]
    assert (last.event, last.detail["reason"], last.detail["action"]) == ("action_refused", "not_allowed", "decline")
    assert world.case("U-SUB-REFUSED-01").status == "accepted"


def test_two_concurrent_submits_end_the_wait_once_and_confirm_once(world: World) -> None:
    _, token = dispatched(world, "U-SUB-CONCUR-001")

    def other_tab(*_: Any) -> None:  # the same submit, from a second tab, lands between our read and our write
        act("U-SUB-CONCUR-001", "accept", SPECIALIST, {}, "link", world.svc, world.delivery)

    world.cases.before_next_save(other_tab)

    outcome = act("U-SUB-CONCUR-001", "accept", SPECIALIST, {}, "link", world.svc, world.delivery)

    assert outcome.status == "repeated"  # the other tab's got there first: this one is answered as its repeat
    assert world.events("U-SUB-CONCUR-001")[-2:] == ["accepted", "notified"]  # the race's loser records nothing
    assert world.events("U-SUB-CONCUR-001").count("accepted") == 1
    assert world.executions.answered(token).state == "succeeded"
    [confirmation] = world.sms.to(JINFENG_MOBILE)  # one confirmation with the result link, not two
    assert "/l/" in confirmation.body
    assert world.events("U-SUB-CONCUR-001").count("notified") == 1


# --- the enterprise API -----------------------------------------------------------------------------------------


def test_an_api_key_reaches_only_its_own_enterprises_cases(world: World) -> None:
    dispatched(world, "U-API-OWN-000001")
    ours, theirs = world.api_keys.issue(JINFENG), world.api_keys.issue(SHANYANG)

    assert authenticate(f"Bearer {ours}", world.api_keys) == JINFENG
    for bad in (None, "Basic abc", "Bearer odr_not-a-real-key", f"Bearer {ours}x"):
        with pytest.raises(Unauthorised):
            authenticate(bad, world.api_keys)
    other = authenticate(f"Bearer {theirs}", world.api_keys)
    with pytest.raises(CaseNotFound):
        enterprise_act(other, "U-API-OWN-000001", "accept", {}, world.svc, world.delivery)
    assert world.case("U-API-OWN-000001").status == "dispatched"

    status, body, _ = api_answer(enterprise_act(JINFENG, "U-API-OWN-000001", "accept", {}, world.svc, world.delivery))
    assert (status, body["result"]) == (200, "done")
    status, body, _ = api_answer(enterprise_act(JINFENG, "U-API-OWN-000001", "decline", {}, world.svc, world.delivery))
    assert (status, body["code"]) == (409, "not_allowed")


def test_the_api_says_when_to_retry_and_when_it_is_too_late(world: World) -> None:
    world.seed(load_example("odr-by-uscc"))
    cid = "3101160000000202611300012"
    screen_and_route(cid, world.svc)
    status, body, headers = api_answer(enterprise_act(JINFENG, cid, "accept", {}, world.svc, world.delivery))
    assert (status, body["code"], headers) == (409, "not_ready", {"Retry-After": "2"})

    world.wait(cid, "acceptance")
    world.clock.advance(timedelta(days=5))
    status, body, _ = api_answer(enterprise_act(JINFENG, cid, "accept", {}, world.svc, world.delivery))
    assert (status, body["code"]) == (409, "deadline_passed")
