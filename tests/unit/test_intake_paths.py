"""Intake and polling on in-memory ports (tests/integration/test_intake.py and test_poller.py prove the same on
moto): a record becomes exactly one case and one execution, revisions apply once and in order, a withdrawal
ends the running wait (and heals when that was lost), bad records are quarantined; the poller queues each
record once and never moves its cursor past what it did not queue."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from odr_adapter.feed.intake import ingest, parse_message
from odr_adapter.feed.polling import poll
from odr_adapter.models.case import CaseWithdrawn
from odr_adapter.workflow.screening import screen_and_route
from tests.fakes import FakeFeed, FakeFeedState, FakeQueue, World
from tests.unit.conftest import START, record

# --- intake -----------------------------------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("pauses")


def test_a_new_record_becomes_a_case_owing_its_workflows_start_and_starts_its_execution(world: World) -> None:
    assert ingest(record(complaint_id="U-INTAKE-NEW-001"), world.svc) == "created"

    case = world.case("U-INTAKE-NEW-001")
    assert (case.version, case.revision, case.execution_started) == (1, 1, False)
    assert world.events("U-INTAKE-NEW-001") == ["received"]
    assert case.received_at == START and case.history[0].actor == "12315"
    assert world.executions.started == {"case-U-INTAKE-NEW-001": {"complaint_id": "U-INTAKE-NEW-001"}}
    assert case.owes_since == START and world.cases.items["U-INTAKE-NEW-001"]["owes_pk"] == "OWES"


def test_the_workflows_first_step_records_that_it_started(world: World) -> None:
    ingest(record(complaint_id="U-INTAKE-FIRST-01"), world.svc)

    screen_and_route("U-INTAKE-FIRST-01", world.svc)

    case = world.case("U-INTAKE-FIRST-01")
    assert case.execution_started and case.owes_since is None
    assert world.events("U-INTAKE-FIRST-01") == ["received", "dispatched"]  # in the step's own write
    assert "owes_pk" not in world.cases.items["U-INTAKE-FIRST-01"]


def test_a_new_complaint_costs_one_conditional_write_and_one_start_and_no_read(world: World) -> None:
    reads, creates, saves, starts = world.cases.reads, world.cases.creates, world.cases.saves, world.executions.starts

    ingest(record(complaint_id="U-INTAKE-FLOOR-01"), world.svc)

    cost = (world.cases.reads - reads, world.cases.creates - creates, world.cases.saves - saves)
    assert cost == (0, 1, 1) and world.executions.starts - starts == 1


def test_a_newer_revision_is_learnt_from_the_failed_create_not_read_before_it(world: World) -> None:
    ingest(record(complaint_id="U-INTAKE-FLOOR-02", revision=1), world.svc)
    screen_and_route("U-INTAKE-FLOOR-02", world.svc)
    reads, creates, saves, starts = world.cases.reads, world.cases.creates, world.cases.saves, world.executions.starts

    assert ingest(record(complaint_id="U-INTAKE-FLOOR-02", revision=2, demand="换货"), world.svc) == "revised"

    cost = (world.cases.reads - reads, world.cases.creates - creates, world.cases.saves - saves)
    assert cost == (0, 1, 1) and world.executions.starts == starts  # the failed create, then the revision
    case = world.case("U-INTAKE-FLOOR-02")
    assert (case.revision, case.record["demand"], case.status) == (2, "换货", "dispatched")  # the rest kept


def test_the_same_record_again_is_a_duplicate_and_starts_nothing(world: World) -> None:
    raw = record(complaint_id="U-INTAKE-ONCE-01")
    assert ingest(raw, world.svc) == "created"
    screen_and_route("U-INTAKE-ONCE-01", world.svc)  # the workflow's first step ran
    version = world.case("U-INTAKE-ONCE-01").version

    assert [ingest(raw, world.svc) for _ in range(2)] == ["duplicate", "duplicate"]

    assert world.case("U-INTAKE-ONCE-01").version == version
    assert world.executions.starts == 1


def test_a_newer_revision_updates_and_an_older_one_never_overwrites_it(world: World) -> None:
    ingest(record(complaint_id="U-INTAKE-ORDER-1", revision=1, demand="退款"), world.svc)

    assert ingest(record(complaint_id="U-INTAKE-ORDER-1", revision=3, demand="换货"), world.svc) == "revised"
    assert ingest(record(complaint_id="U-INTAKE-ORDER-1", revision=2, demand="维修"), world.svc) == "stale"

    case = world.case("U-INTAKE-ORDER-1")
    assert (case.revision, case.record["demand"]) == (3, "换货")
    assert case.history[-1].event == "revision_applied"
    assert case.history[-1].detail == {"revision": 3, "status": "submitted"}


def test_two_intakes_of_one_record_at_once_make_one_case(world: World) -> None:
    raw = record(complaint_id="U-INTAKE-RACE-01")
    results: list[str] = []
    world.cases.before_next_save(lambda *_: results.append(ingest(raw, world.svc)))  # the other consumer wins

    results.append(ingest(raw, world.svc))

    assert results == ["created", "duplicate"]
    assert world.events("U-INTAKE-RACE-01") == ["received"]
    assert set(world.executions.started) == {"case-U-INTAKE-RACE-01"}  # one execution, however often started


def test_a_crash_between_case_written_and_execution_started_heals_on_redelivery(world: World) -> None:
    raw = record(complaint_id="U-INTAKE-HEAL-01")
    world.seed(raw, execution_started=False)
    world.executions.started.clear()

    assert ingest(raw, world.svc) == "duplicate"  # SQS redelivers the record

    assert world.executions.started == {"case-U-INTAKE-HEAL-01": {"complaint_id": "U-INTAKE-HEAL-01"}}
    assert world.case("U-INTAKE-HEAL-01").owes_since is not None  # until the first step records the start


# --- withdrawals ------------------------------------------------------------------------------------------------


def test_a_withdrawal_ends_the_running_wait(world: World) -> None:
    _, token = world.dispatch(record(complaint_id="U-INTAKE-WITHDRAW"))

    outcome = ingest(record("withdrawn", complaint_id="U-INTAKE-WITHDRAW"), world.svc)

    assert outcome == "withdrawn"
    after = world.case("U-INTAKE-WITHDRAW")
    assert after.withdraw_requested and after.revision == 2 and after.history[-1].event == "withdrawal_received"
    wait = world.executions.answered(token)
    assert (wait.state, wait.error) == ("failed", ("CaseWithdrawn", "consumer withdrew the complaint"))
    # Redelivered: nothing more to do, and the wait already over is no error.
    assert ingest(record("withdrawn", complaint_id="U-INTAKE-WITHDRAW"), world.svc) == "duplicate"
    assert world.case("U-INTAKE-WITHDRAW").version == after.version


def test_a_withdrawal_whose_wait_was_not_ended_heals_on_redelivery(world: World) -> None:
    _, token = world.dispatch(record(complaint_id="U-INTAKE-WDHEAL-1"))
    withdrawn = record("withdrawn", complaint_id="U-INTAKE-WDHEAL-1")
    # The withdrawal was written, then the process died before failing the wait's token.
    world.change("U-INTAKE-WDHEAL-1", "withdrawal_received", "12315", revision=2, withdraw_requested=True)
    assert world.executions.answered(token).state == "waiting"

    assert ingest(withdrawn, world.svc) == "duplicate"

    assert world.executions.answered(token).error == ("CaseWithdrawn", "consumer withdrew the complaint")


def test_a_withdrawal_after_the_wait_timed_out_is_still_recorded(world: World) -> None:
    _, token = world.dispatch(record(complaint_id="U-INTAKE-WDLATE-1"))
    world.executions.expire(token)

    assert ingest(record("withdrawn", complaint_id="U-INTAKE-WDLATE-1"), world.svc) == "withdrawn"
    assert world.case("U-INTAKE-WDLATE-1").withdraw_requested


def test_a_record_withdrawn_before_it_arrived_never_reaches_the_enterprise(world: World) -> None:
    assert ingest(record("withdrawn", complaint_id="U-INTAKE-WDFIRST"), world.svc) == "created"

    with pytest.raises(CaseWithdrawn):
        screen_and_route("U-INTAKE-WDFIRST", world.svc)
    assert world.case("U-INTAKE-WDFIRST").enterprise is None


# --- quarantine -------------------------------------------------------------------------------------------------


def test_bad_records_are_quarantined_with_every_reason_and_the_rest_processed(world: World) -> None:
    bad = record("bad-record", complaint_id="U-INTAKE-BAD-001")

    outcomes = [ingest(raw, world.svc) for raw in (bad, record(complaint_id="U-INTAKE-GOOD-01"), 7, bad)]

    assert outcomes == ["quarantined", "created", "quarantined", "quarantined"]
    entries = {q["complaint_id"]: q for q in world.quarantine.all()}
    assert len(world.quarantine.all()) == 2  # the same bad record twice is one entry
    assert {p["path"] for p in entries["U-INTAKE-BAD-001"]["problems"]} == {
        "consumer.name",
        "consumer.phone",
        "respondent.uscc",
        "transaction.amount",
    }
    assert entries[""]["problems"] == [{"path": "(record)", "reason": "a record must be a JSON object"}]
    assert entries[""]["quarantined_at"] == START.isoformat()
    assert world.cases.get("U-INTAKE-BAD-001") is None


def test_an_unreadable_message_is_quarantined_not_retried(world: World) -> None:
    message = parse_message("{not json")

    assert ingest(message.get("record"), world.svc) == "quarantined"

    [entry] = world.quarantine.all()
    assert entry["raw"] == "{not json"


# --- polling ----------------------------------------------------------------------------------------------------


def _feed_record(complaint_id: str, updated: datetime, revision: int = 1) -> dict[str, Any]:
    return record(complaint_id=complaint_id, revision=revision, updated_at=updated.isoformat())


def test_the_overlap_window_serves_records_again_but_they_are_queued_once(world: World) -> None:
    feed = FakeFeed([_feed_record(f"U-POLL-{n:010d}", START - timedelta(minutes=30 - n)) for n in range(5)])
    queue, state = FakeQueue(), FakeFeedState()

    first = poll(feed, queue, state, world.clock, "run-1", budget_seconds=60, page_size=2)
    world.clock.advance(timedelta(minutes=1))
    feed.records.append(_feed_record("U-POLL-LATE00001", START + timedelta(seconds=30)))
    second = poll(feed, queue, state, world.clock, "run-2", budget_seconds=60, page_size=2)

    assert (first.pages, first.new, first.queued, first.complete) == (3, 5, 5, True)
    assert (second.new, second.queued) == (1, 1)  # the window served the last ones again; only the new is queued
    assert [b["record"]["complaint_id"] for b in queue.bodies] == [
        *(f"U-POLL-{n:010d}" for n in range(5)),
        "U-POLL-LATE00001",
    ]
    assert state.read().updated_after == START + timedelta(seconds=30)
    # What was queued is what intake takes: one case each.
    assert {ingest(b["record"], world.svc) for b in queue.take()} == {"created"}
    assert len(world.cases.all()) == 6


def test_a_page_that_could_not_be_queued_is_read_again_next_run(world: World) -> None:
    feed = FakeFeed([_feed_record("U-POLL-FAIL00001", START - timedelta(minutes=5))])
    queue, state = FakeQueue(), FakeFeedState()
    queue.fail_next()

    with pytest.raises(ConnectionError):
        poll(feed, queue, state, world.clock, "run-1", budget_seconds=60)
    assert state.read().updated_after is None and state.lease is None  # the cursor stayed; the lease is free

    report = poll(feed, queue, state, world.clock, "run-2", budget_seconds=60)

    assert report.queued == 1 and [b["record"]["complaint_id"] for b in queue.bodies] == ["U-POLL-FAIL00001"]


def test_a_second_poller_does_nothing_while_the_lease_is_held(world: World) -> None:
    feed = FakeFeed([_feed_record("U-POLL-LEASE0001", START - timedelta(minutes=5))])
    queue, state = FakeQueue(), FakeFeedState()
    assert state.acquire("run-1", START, START + timedelta(minutes=2))

    report = poll(feed, queue, state, world.clock, "run-2", budget_seconds=60)

    assert report.held_elsewhere and not queue.bodies and not feed.calls
    world.clock.advance(timedelta(minutes=3))  # the first run's lease ran out
    assert poll(feed, queue, state, world.clock, "run-2", budget_seconds=60).queued == 1
    assert json.loads(json.dumps(queue.bodies))[0]["source"] == "poll"


class Killed(BaseException):
    """The run's process dies (a Lambda timeout, an out-of-memory): nothing after it runs, not even ``finally``."""


class DiesAtSave(FakeFeedState):
    """A state store whose run dies at the ``n``-th checkpoint save: after that page was queued, before it was saved;
    the dead run's lease is left to expire, as a killed process leaves it."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.saves_left, self.dead = n, False

    def save(self, checkpoint: Any) -> None:
        self.saves_left -= 1
        if self.saves_left == 0:
            self.dead = True
            raise Killed
        super().save(checkpoint)

    def release(self, owner: str) -> None:
        if not self.dead:
            super().release(owner)


@pytest.mark.parametrize("dies_at", [1, 2, 3])
def test_a_run_that_dies_between_queueing_and_saving_loses_nothing(world: World, dies_at: int) -> None:
    records = [_feed_record(f"U-POLL-DIES{n:05d}", START - timedelta(minutes=30 - n)) for n in range(5)]
    feed, queue, state = FakeFeed(records), FakeQueue(), DiesAtSave(dies_at)

    with pytest.raises(Killed):
        poll(feed, queue, state, world.clock, "run-1", budget_seconds=60, page_size=2)
    died_after = [b["record"]["complaint_id"] for b in queue.bodies]
    assert len(died_after) == min(2 * dies_at, 5)  # the page it died on was queued, its keys and cursor not saved
    world.clock.advance(timedelta(minutes=5))  # the dead run's lease ran out
    report = poll(feed, queue, state, world.clock, "run-2", budget_seconds=60, page_size=2)

    queued = [b["record"]["complaint_id"] for b in queue.bodies]
    assert report.complete and set(queued) == {r["complaint_id"] for r in records}  # nothing lost
    # Queued twice: only the page the run died on (its keys were not saved); the pages saved before it are not.
    twice = sorted(cid for cid in set(queued) if queued.count(cid) > 1)
    assert twice == died_after[2 * (dies_at - 1) :]
    assert state.read().updated_after == datetime.fromisoformat(records[-1]["updated_at"])


def test_records_intake_already_holds_are_not_queued_again(world: World) -> None:
    pushed = _feed_record("U-POLL-PUSHED001", START - timedelta(minutes=5))
    owing = _feed_record("U-POLL-OWING0001", START - timedelta(minutes=4))
    newer = _feed_record("U-POLL-PUSHED001", START - timedelta(minutes=3), revision=2)
    assert ingest(pushed, world.svc) == "created"  # the push brought it first, and its workflow started
    screen_and_route("U-POLL-PUSHED001", world.svc)
    assert ingest(owing, world.svc) == "created"  # pushed too, but its case still owes the workflow's start
    feed, queue, state = FakeFeed([pushed, owing, newer]), FakeQueue(), FakeFeedState()

    report = poll(feed, queue, state, world.clock, "run-1", budget_seconds=60, held=world.cases)

    assert (report.new, report.held, report.queued) == (3, 1, 2)
    queued = [(b["record"]["complaint_id"], b["record"]["revision"]) for b in queue.bodies]
    assert queued == [("U-POLL-OWING0001", 1), ("U-POLL-PUSHED001", 2)]  # intake heals the one, revises the other
    again = poll(feed, queue, state, world.clock, "run-2", budget_seconds=60, held=world.cases)
    assert (again.held, again.queued) == (0, 0)  # the window's keys: not even looked up again
