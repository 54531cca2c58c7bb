"""Faults of AWS and of people's concurrency on in-memory ports: no fault loses an action, leaves a case stuck
or tells a person something untrue (docs/reliability.md, "Faults of AWS")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from odr_adapter.clock import iso_z
from odr_adapter.feed.intake import ingest
from odr_adapter.messages.sending import send_message
from odr_adapter.models.case import Case
from odr_adapter.models.links import link_key
from odr_adapter.people.confirmations import LEASE, SendingElsewhere, send_owed
from odr_adapter.people.enterprise_api import api_answer
from odr_adapter.people.healing import GRACE, MAX_RESTARTS, backfill, heal
from odr_adapter.people.link_requests import submit_link
from odr_adapter.people.submissions import Outcome, act
from odr_adapter.ports import TransientFault
from odr_adapter.workflow.retry import ATTEMPTS
from odr_adapter.workflow.screening import screen_and_route
from tests.fakes import World
from tests.unit.conftest import START, load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
SPECIALIST = f"enterprise:{JINFENG}"
JINFENG_MOBILE = "13900000201"


def record_of(complaint_id: str) -> dict[str, Any]:
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    return raw


def dispatched(world: World, complaint_id: str) -> tuple[Case, str]:
    return world.dispatch(record_of(complaint_id))


def later(world: World) -> None:
    world.clock.advance(GRACE + timedelta(minutes=1))


# --- item 2: case and execution never disagree for long ----------------------------------------------------------


def test_a_throttled_callback_keeps_the_action_answers_done_and_the_sweeper_delivers_it(world: World) -> None:
    _, token = dispatched(world, "U-AWS-CALLBACK-01")
    world.executions.crash_next(TransientFault("ThrottlingException"))

    outcome = act("U-AWS-CALLBACK-01", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "done" and world.case("U-AWS-CALLBACK-01").status == "accepted"
    assert world.executions.answered(token).state == "waiting"  # the callback is owed
    assert world.case("U-AWS-CALLBACK-01").owes_since == START
    assert heal(world.svc, world.cases, world.delivery).candidates == 0  # within the grace: a step may be at work
    later(world)

    healed = heal(world.svc, world.cases, world.delivery)

    assert healed.callbacks == 1 and world.executions.answered(token).state == "succeeded"
    assert world.executions.answered(token).output == {"action": "accepted", "seconds": pytest.approx(0, abs=1e9)}


def test_a_repeat_delivers_a_lost_callback_and_is_answered_as_a_repeat(world: World) -> None:
    _, token = dispatched(world, "U-AWS-REPEAT-001")
    world.executions.crash_next(TransientFault("InternalServerError"))
    act("U-AWS-REPEAT-001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    again = act("U-AWS-REPEAT-001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert again.status == "repeated" and world.executions.answered(token).state == "succeeded"


def test_a_withdrawal_whose_wait_was_not_ended_is_ended_by_the_sweeper(world: World) -> None:
    _, token = dispatched(world, "U-AWS-WITHDRAW-1")
    world.change("U-AWS-WITHDRAW-1", "withdrawal_received", "12315", withdraw_requested=True)  # fail() was lost
    later(world)

    healed = heal(world.svc, world.cases, world.delivery)

    assert healed.withdrawals == 1
    wait = world.executions.answered(token)
    assert wait.state == "failed" and wait.error is not None and wait.error[0] == "CaseWithdrawn"


def test_the_sweeper_leaves_alone_what_owes_nothing_and_counts_a_wait_already_over(world: World) -> None:
    dispatched(world, "U-AWS-NOTHING-01")
    _, token = dispatched(world, "U-AWS-GONE-00001")
    world.executions.crash_next(TransientFault("ThrottlingException"))
    act("U-AWS-GONE-00001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)
    world.executions.expire(token)  # the deadline came first
    later(world)

    healed = heal(world.svc, world.cases, world.delivery)

    assert (healed.candidates, healed.callbacks, healed.gone) == (1, 0, 1)


def test_only_a_case_that_owes_is_on_the_owing_index(world: World) -> None:
    dispatched(world, "U-AWS-SPARSE-001")
    assert "owes_pk" not in world.cases.items["U-AWS-SPARSE-001"]  # waiting on a deadline owes nothing
    world.executions.crash_next(TransientFault("ThrottlingException"))
    act("U-AWS-SPARSE-001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    item = world.cases.items["U-AWS-SPARSE-001"]
    assert (item["owes_pk"], item["owes_since"]) == ("OWES", iso_z(START))
    later(world)
    assert world.cases.owing(world.clock.now()) == ["U-AWS-SPARSE-001"]
    world.wait("U-AWS-SPARSE-001", "resolution")  # the callback arrived: the workflow's next wait is kept

    assert "owes_pk" not in world.cases.items["U-AWS-SPARSE-001"]
    assert "owes_since" not in world.cases.items["U-AWS-SPARSE-001"]
    assert world.cases.owing(world.clock.now()) == []


# --- limit B: a workflow that never reached its first step -------------------------------------------------------


def received(world: World, complaint_id: str) -> Case:
    assert ingest(record_of(complaint_id), world.svc) == "created"
    return world.case(complaint_id)


def test_a_workflow_whose_execution_ended_before_its_first_step_is_restarted_under_the_next_name(
    world: World,
) -> None:
    received(world, "U-AWS-RESTART-01")
    world.executions.end("case-U-AWS-RESTART-01")  # it failed before ScreenAndRoute recorded anything
    assert heal(world.svc, world.cases, world.delivery).candidates == 0  # within the grace: it may be starting
    later(world)

    healed = heal(world.svc, world.cases, world.delivery)

    assert (healed.restarts, healed.healed) == (1, 1)
    case = world.case("U-AWS-RESTART-01")
    assert (case.execution_name, case.workflow_restarts) == ("case-U-AWS-RESTART-01-r1", 1)
    assert world.events("U-AWS-RESTART-01") == ["received", "workflow_restarted"]
    assert "case-U-AWS-RESTART-01-r1" in world.executions.started
    assert heal(world.svc, world.cases, world.delivery).candidates == 0  # the grace again, for the restart
    screen_and_route("U-AWS-RESTART-01", world.svc)  # the restarted workflow's first step
    assert world.case("U-AWS-RESTART-01").owes_since is None and world.cases.owing(world.clock.now()) == []


def test_a_workflow_never_started_is_started_and_one_still_running_is_left_to_its_retries(world: World) -> None:
    received(world, "U-AWS-NEVER-0001")
    world.executions.started.pop("case-U-AWS-NEVER-0001")  # intake died before StartExecution, the DLQ kept it
    received(world, "U-AWS-RUNNING-01")  # started; its first step is still being retried
    later(world)

    healed = heal(world.svc, world.cases, world.delivery)

    assert (healed.candidates, healed.starts, healed.running, healed.restarts) == (2, 1, 1, 0)
    assert "case-U-AWS-NEVER-0001" in world.executions.started
    assert world.case("U-AWS-RUNNING-01").execution_name == "case-U-AWS-RUNNING-01"  # no new name


def test_a_workflow_that_keeps_ending_before_its_first_step_is_left_to_the_operators(world: World) -> None:
    received(world, "U-AWS-STUCK-0001")
    for n in range(MAX_RESTARTS + 1):
        world.executions.end(world.case("U-AWS-STUCK-0001").execution_name)
        later(world)
        healed = heal(world.svc, world.cases, world.delivery)
        assert healed.restarts == (n < MAX_RESTARTS)

    assert healed.stuck == ["U-AWS-STUCK-0001"] and healed.failing == 0
    assert world.case("U-AWS-STUCK-0001").workflow_restarts == MAX_RESTARTS


def test_the_backfill_puts_on_the_index_cases_stored_before_it(world: World) -> None:
    # Stored before ByOwed: its execution failed before its first step, when executions marked their start.
    old = world.seed(record_of("U-AWS-BACKFILL01"))
    world.executions.end(old.execution_name)
    dispatched(world, "U-AWS-BACKFILL02")  # past its first step: owes nothing
    assert world.cases.owing(world.clock.now() + GRACE) == []

    done = backfill(world.cases, world.cases.all(), world.clock)

    assert (done.read, done.start_owed, done.indexed) == (2, 1, 0)
    assert world.events("U-AWS-BACKFILL01")[-1] == "workflow_start_owed"
    later(world)
    assert heal(world.svc, world.cases, world.delivery).restarts == 1
    assert world.case("U-AWS-BACKFILL01").execution_name == "case-U-AWS-BACKFILL01-r1"


# --- items 6, 7, 8: concurrent people are told the truth, and act once -------------------------------------------


def test_twenty_accepts_at_once_act_once_and_confirm_once(world: World) -> None:
    _, token = dispatched(world, "U-AWS-TWENTY-001")
    queue = world.queue_confirmations()
    others: list[Outcome] = []

    def nineteen_more(*_: Any) -> None:  # they all land between the first one's read and its write
        for _n in range(19):
            others.append(act("U-AWS-TWENTY-001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery))

    world.cases.before_next_save(nineteen_more)

    first = act("U-AWS-TWENTY-001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    statuses = [o.status for o in [first, *others]]
    assert statuses.count("done") == 1 and statuses.count("repeated") == 19
    assert world.events("U-AWS-TWENTY-001").count("accepted") == 1
    assert world.executions.answered(token).state == "succeeded"
    assert len(queue.bodies) == 1
    for body in queue.bodies * 2:  # SQS may deliver a message twice
        send_owed(body["complaint_id"], world.svc, world.delivery, body["key"])
    assert len(world.sms.to(JINFENG_MOBILE)) == 1  # one confirmation
    resolution_links = [link for link in world.links.for_case("U-AWS-TWENTY-001") if link.phase == "resolution"]
    assert len(resolution_links) == 1


def test_write_contention_that_outlasts_the_retries_is_answered_busy_and_changes_nothing(world: World) -> None:
    _, token = dispatched(world, "U-AWS-BUSY-00001")
    for n in range(ATTEMPTS):
        world.cases.race(f"writer_{n}")

    outcome = act("U-AWS-BUSY-00001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "busy" and world.case("U-AWS-BUSY-00001").status == "dispatched"
    status, body, headers = api_answer(outcome)
    assert (status, body["code"], headers["Retry-After"]) == (409, "busy", "2")
    assert world.executions.answered(token).state == "waiting"


def test_a_link_submit_under_contention_says_nothing_was_done_and_keeps_the_link(world: World) -> None:
    dispatched(world, "U-AWS-BUSY-LINK1")
    sent = send_message("U-AWS-BUSY-LINK1", "dispatched", world.svc, world.delivery)
    assert sent.link_id is not None
    for n in range(ATTEMPTS):
        world.cases.race(f"writer_{n}")

    page = submit_link(sent.link_id, {"action": "accept"}, world.svc, world.delivery)

    assert page.status == 409 and "未生效" in page.html and page.headers["Retry-After"]
    link = world.links.get(link_key(sent.link_id))
    assert link is not None and link.used_at is None
    assert submit_link(sent.link_id, {"action": "accept"}, world.svc, world.delivery).status == 200


def test_an_action_done_by_someone_else_is_refused_saying_so_not_called_a_repeat(world: World) -> None:
    dispatched(world, "U-AWS-OTHER-0001")
    act("U-AWS-OTHER-0001", "accept", "enterprise:SOMEONE-ELSE", {}, "api", world.svc, world.delivery)

    outcome = act("U-AWS-OTHER-0001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "refused" and "already done" in outcome.reason
    assert "action_repeated" not in world.events("U-AWS-OTHER-0001")


# --- item 10: the answer never waits for SMS or e-mail -------------------------------------------------------------


def test_an_accept_is_answered_before_its_confirmation_which_is_sent_once_and_recorded(world: World) -> None:
    dispatched(world, "U-AWS-ASYNC-0001")
    queue = world.queue_confirmations()
    world.sms.fail("HTTP 503")
    world.email.fail("HTTP 500")
    refused = len(world.sms.refused) + len(world.email.refused)

    outcome = act("U-AWS-ASYNC-0001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "done" and outcome.next_link_id is None
    assert len(world.sms.refused) + len(world.email.refused) == refused  # no provider was called before the answer
    [body] = queue.take()
    world.sms.recover()
    sent = send_owed(body["complaint_id"], world.svc, world.delivery, body["key"])
    assert sent is not None and sent.delivered and str(sent.link_id) in world.sms.to(JINFENG_MOBILE)[-1].body
    case = world.case("U-AWS-ASYNC-0001")
    assert case.confirmation_pending is None
    assert world.events("U-AWS-ASYNC-0001")[-2:] == ["accepted", "notified"]
    assert send_owed(body["complaint_id"], world.svc, world.delivery, body["key"]) is None


def test_a_confirmation_being_sent_elsewhere_is_not_sent_twice_until_that_sender_is_presumed_dead(
    world: World,
) -> None:
    dispatched(world, "U-AWS-LEASE-0001")
    queue = world.queue_confirmations()
    act("U-AWS-LEASE-0001", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)
    [body] = queue.take()
    owed = world.case("U-AWS-LEASE-0001").confirmation_pending
    assert owed == body["key"]
    claim = f"confirmation:U-AWS-LEASE-0001:{owed}"
    assert world.links.reserve(claim, world.clock.now(), world.clock.now() + LEASE)  # a sender that then crashed

    with pytest.raises(SendingElsewhere):  # the queue retries the message later
        send_owed("U-AWS-LEASE-0001", world.svc, world.delivery, body["key"])
    world.clock.advance(LEASE)

    sent = send_owed("U-AWS-LEASE-0001", world.svc, world.delivery, body["key"])

    assert sent is not None and sent.delivered and len(world.sms.to(JINFENG_MOBILE)) == 1


def test_a_confirmation_the_queue_did_not_take_is_queued_again_by_the_sweeper(world: World) -> None:
    dispatched(world, "U-AWS-REQUEUE-01")
    queue = world.queue_confirmations()
    queue.fail_next(TransientFault("SQS 503"))

    outcome = act("U-AWS-REQUEUE-01", "accept", SPECIALIST, {}, "api", world.svc, world.delivery)

    assert outcome.status == "done" and not queue.bodies
    later(world)
    assert heal(world.svc, world.cases, world.delivery).confirmations == 1
    assert queue.bodies == [
        {"complaint_id": "U-AWS-REQUEUE-01", "key": world.case("U-AWS-REQUEUE-01").confirmation_pending}
    ]
