"""The poller against the real simulator (faults on), real SQS queues and DynamoDB tables on the local stack's
AWS emulation, and the deployed poller function end to end."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from odr_adapter.clock import Clock
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.feed_state import FeedState
from odr_adapter.data_access.queues import Queue
from odr_adapter.feed.client import FeedClient, PlatformError, PlatformUnavailable
from odr_adapter.feed.polling import PollReport, poll
from odr_adapter.models.case import Case, transition
from odr_adapter.models.feed import Checkpoint
from odr_local.kernel import Kernel
from odr_local.simulator import Simulator
from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import take_intake

START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")


def rec(complaint_id: str, at: datetime, revision: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "complaint_id": complaint_id,
        "revision": revision,
        "status": "submitted",
        "updated_at": at.isoformat(),
        **extra,
    }


@dataclass
class Parts:
    """A queue and a state table of the test's own, so runs do not see each other."""

    sqs: Any
    queue_url: str
    table: str

    @property
    def queue(self) -> Queue:
        return Queue(self.queue_url)

    @property
    def state(self) -> FeedState:
        return FeedState(self.table)

    def take(self) -> list[dict[str, Any]]:
        """Every message queued since the last call (taken off the queue)."""
        bodies: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900)
            if not got.get("Messages"):
                return bodies
            bodies += [json.loads(m["Body"]) for m in got["Messages"]]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got["Messages"])]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)


@pytest.fixture
def parts(stack: LocalStack) -> Parts:
    name = f"poller-test-{uuid.uuid4().hex[:8]}"
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    stack.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    return Parts(sqs, url, name)


def client(sim: Simulator, **kw: Any) -> FeedClient:
    return FeedClient(sim.url, sim.token, **{"base_delay": 0.01, "max_delay": 0.05, "timeout": 2.0, **kw})


def keys(bodies: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(b["record"]["complaint_id"], b["record"]["revision"]) for b in bodies}


def run(sim: Simulator, parts: Parts, page_size: int = 20, **kw: Any) -> PollReport:
    owner = f"run-{uuid.uuid4().hex[:8]}"
    return poll(client(sim, **kw), parts.queue, parts.state, Clock(), owner, 30, page_size=page_size)


def test_every_record_is_queued_with_every_fault_on(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    sim.faults.update(
        seed=3,
        error_rate=0.15,
        throttle_rate=0.05,
        retry_after_seconds=0,
        drop_rate=0.1,
        slow_rate=0.05,
        slow_seconds=0.05,
        duplicate_page_rate=0.2,
        repeat_items_rate=0.3,
        late_rate=0.2,
        late_seconds=300,
        stale_revision_rate=0.2,
    )
    t0 = kernel.now()
    records = [rec(f"P-{n:010d}", t0 + timedelta(minutes=n)) for n in range(120)]  # over two simulated hours
    records += [rec(f"P-{n:010d}", t0 + timedelta(minutes=n + 15), 2, status="withdrawn") for n in range(0, 120, 4)]
    for record in records:
        sim.publish(record)
    newest = max(datetime.fromisoformat(r["updated_at"]) for r in records)
    late = timedelta(seconds=sim.faults.late_seconds)
    queued: list[dict[str, Any]] = []
    cursors: list[datetime] = []
    done, failed_runs, end = False, 0, newest + late + timedelta(hours=1)
    while not done and kernel.now() < end:
        kernel.advance(timedelta(minutes=7))  # between scheduled runs
        after_last = kernel.now() > newest + late
        try:
            done = (
                run(sim, parts, page_size=10, attempts=2).complete and after_last
            )  # few retries: some runs fail midway
        except PlatformUnavailable:
            failed_runs += 1
        queued += parts.take()
        cursor = parts.state.read().updated_after
        if cursor is None:
            continue
        cursors.append(cursor)
        # Whatever was visible when a run began and is not newer than the cursor is queued, failed run or not.
        behind = {
            (r["complaint_id"], r["revision"])
            for r in records
            if datetime.fromisoformat(r["updated_at"]) <= cursor - late
        }
        assert behind <= keys(queued)
    assert done and failed_runs > 0
    assert keys(queued) == {(r["complaint_id"], r["revision"]) for r in records}  # every record at least once
    assert {b["source"] for b in queued} == {"poll"}
    assert len(queued) > len(records)  # the faults did serve some more than once
    assert cursors == sorted(cursors) and cursors[-1] == newest
    faults = sim.counters()["faults"]
    kinds = {"error", "throttle", "drop", "slow", "duplicate_page", "repeat_items", "late", "stale_revision"}
    assert kinds <= set(faults), faults


def test_the_cursor_never_passes_a_record_that_was_not_queued(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    t0 = kernel.now() - timedelta(hours=1)
    records = [rec(f"Q-{n:010d}", t0 + timedelta(minutes=n)) for n in range(30)]
    records[14]["attachment_text"] = "x" * 5000  # larger than the queue takes (below)
    for record in records:
        sim.publish(record)
    parts.sqs.set_queue_attributes(QueueUrl=parts.queue_url, Attributes={"MaximumMessageSize": "4096"})
    with pytest.raises(ClientError):
        run(sim, parts, page_size=10)  # page 2 was fetched, then could not be queued
    checkpoint = parts.state.read()
    assert keys(parts.take()) == {(r["complaint_id"], 1) for r in records[:10]}
    assert checkpoint.updated_after == datetime.fromisoformat(records[9]["updated_at"])
    # The queue is fixed (an operator raises the limit): the next run reads page 2 again, and on.
    parts.sqs.set_queue_attributes(QueueUrl=parts.queue_url, Attributes={"MaximumMessageSize": "1048576"})
    report = run(sim, parts, page_size=10)
    assert report.complete and report.pages == 3
    # Page 1 is served again (the overlap) but not queued again: its keys were saved with the cursor.
    assert keys(parts.take()) == {(r["complaint_id"], 1) for r in records[10:]}
    assert parts.state.read().updated_after == datetime.fromisoformat(records[-1]["updated_at"])


class Killed(BaseException):
    """The run's process dies (a Lambda timeout): nothing after it runs, not even ``finally``."""


class DiesAtSave(FeedState):
    """The stored checkpoint, with a run that dies at its ``n``-th save: the page is in SQS, its checkpoint is not
    in DynamoDB; the dead run's lease is left to expire."""

    def __init__(self, table: str, n: int) -> None:
        super().__init__(table)
        self.saves_left, self.dead = n, False

    def save(self, checkpoint: Checkpoint) -> None:
        self.saves_left -= 1
        if self.saves_left == 0:
            self.dead = True
            raise Killed
        super().save(checkpoint)

    def release(self, owner: str) -> None:
        if not self.dead:
            super().release(owner)


def test_a_run_that_dies_after_queueing_a_page_loses_nothing(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    t0 = kernel.now() - timedelta(minutes=40)
    records = [rec(f"K-{n:010d}", t0 + timedelta(minutes=n)) for n in range(25)]
    for record in records:
        sim.publish(record)
    dying = DiesAtSave(parts.table, 2)
    with pytest.raises(Killed):
        poll(client(sim), parts.queue, dying, Clock(), "dies", 30, page_size=10)
    first = keys(parts.take())
    assert first == {(r["complaint_id"], 1) for r in records[:20]}  # pages 1 and 2 queued; only page 1 saved
    assert parts.state.read().updated_after == datetime.fromisoformat(records[9]["updated_at"])

    kernel.advance(timedelta(minutes=5))  # the next scheduled run, once the dead run's lease expired
    assert run(sim, parts, page_size=10).complete
    again = parts.take()
    # Page 2 is queued again (its keys were never saved) with page 3; page 1 is not: nothing lost, few twice.
    assert keys(again) == {(r["complaint_id"], 1) for r in records[10:]} and len(again) == 15
    assert parts.state.read().updated_after == datetime.fromisoformat(records[-1]["updated_at"])


def test_records_the_push_brought_are_not_queued_again(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    now = kernel.now()
    pushed, owing = rec("H-0000000001", now - timedelta(minutes=3)), rec("H-0000000002", now - timedelta(minutes=2))
    cases = CaseStore(parts.table)
    for record, started in ((pushed, True), (owing, False)):  # intake has both; one's workflow start is owed
        sim.publish(record)
        case = Case(
            complaint_id=record["complaint_id"],
            revision=1,
            registered_at=now,
            received_at=now,
            record=record,
            execution_name=f"case-{record['complaint_id']}",
            execution_started=started,
        )
        cases.save(*transition(case, "received", "12315", now))
    report = poll(client(sim), parts.queue, parts.state, Clock(), "held", 30, held=cases)
    assert (report.new, report.held, report.queued) == (2, 1, 1)
    assert keys(parts.take()) == {("H-0000000002", 1)}  # delivered again: intake heals the start it owes


class LongRun:
    """A feed whose pages come ``between`` apart, as in a run that takes that long (time moves meanwhile)."""

    def __init__(self, feed: FeedClient, kernel: Kernel, between: timedelta) -> None:
        self.feed, self.kernel, self.between, self.pages = feed, kernel, between, 0

    def page(self, updated_after: str, cursor: str | None, limit: int = 200) -> dict[str, Any]:
        if self.pages:
            self.kernel.advance(self.between)
        self.pages += 1
        return self.feed.page(updated_after, cursor, limit)


def test_a_long_run_does_not_carry_the_cursor_past_a_late_record(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    now = kernel.now()
    sim.publish(rec("A-00000001", now - timedelta(minutes=1)))
    sim.publish(rec("A-00000002", now - timedelta(seconds=30)))
    sim.faults.update(late_rate=1.0, late_seconds=300)
    sim.publish(rec("A-0000LATE", now - timedelta(minutes=2)))  # committed late: shows 3 minutes from now
    sim.faults.update(late_rate=0.0)
    sim.publish(rec("A-00000003", now + timedelta(minutes=20)))
    slow = LongRun(client(sim), kernel, timedelta(minutes=30))  # each page 30 minutes after the one before
    first = poll(slow, parts.queue, parts.state, Clock(), "long-run", 30, page_size=1)
    # The late record showed up meanwhile, but at a place in the order the run had already passed.
    assert first.complete and keys(parts.take()) == {("A-00000001", 1), ("A-00000002", 1), ("A-00000003", 1)}
    run(sim, parts, page_size=1)
    assert ("A-0000LATE", 1) in keys(parts.take())  # the cursor stayed at the run's start, within reach


def test_new_duplicate_and_lag_are_counted_against_the_window(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    now = kernel.now()
    for n in range(5):
        sim.publish(rec(f"N-{n:010d}", now - timedelta(hours=2) + timedelta(minutes=n)))  # well before the overlap
    for n in range(5, 8):
        sim.publish(rec(f"N-{n:010d}", now - timedelta(minutes=3 - n % 5)))  # inside the overlap
    first = run(sim, parts)
    assert (first.seen, first.new, first.duplicate) == (8, 8, 0)
    assert first.lag_seconds == 60  # the newest record is a minute old
    second = run(sim, parts)
    assert (second.seen, second.new, second.duplicate) == (3, 0, 3)  # the overlap served them again
    sim.publish(rec("N-0000000001", now - timedelta(minutes=1), 2))
    sim.faults.update(stale_revision_rate=1.0)
    third = run(sim, parts)
    assert third.seen == 5 and third.new == 1 and third.duplicate == 4  # revision 2 new; revision 1 a stale copy


def test_transient_faults_are_retried_with_backoff_and_retry_after(sim: Simulator) -> None:
    sim.publish(rec("R-0000000001", START - timedelta(minutes=1)))
    since = (START - timedelta(days=1)).isoformat()
    sim.faults.update(script=["error", "drop", "slow"], slow_seconds=1.0)
    feed = client(sim, timeout=0.3)
    assert [r["complaint_id"] for r in feed.page(since, None)["items"]] == ["R-0000000001"]
    assert feed.retries == 3  # 503, a dropped connection and a timeout

    pauses: list[float] = []
    sim.faults.update(script=["throttle"], retry_after_seconds=1)
    client(sim, sleep=pauses.append).page(since, None)
    assert pauses == [1.0]  # Retry-After outweighs the short backoff

    sim.faults.update(script=["throttle"], retry_after_seconds=120)
    with pytest.raises(PlatformUnavailable, match="rate limited"):
        client(sim, sleep=pauses.append).page(since, None)  # longer than a run can wait: left to the next run
    assert pauses == [1.0]

    sim.faults.update(error_rate=1.0)
    with pytest.raises(PlatformUnavailable):
        client(sim, attempts=3).page(since, None)
    with pytest.raises(PlatformError) as refused:
        FeedClient(sim.url, "wrong-token").page(since, None)
    assert refused.value.status == 401


def test_only_one_run_at_a_time_holds_the_lease(sim: Simulator, parts: Parts, kernel: Kernel) -> None:
    sim.publish(rec("L-0000000001", START - timedelta(minutes=1)))
    now = kernel.now()
    assert parts.state.acquire("another-run", now, now + timedelta(hours=1))
    assert run(sim, parts) == PollReport(held_elsewhere=True)
    assert parts.take() == []
    parts.state.release("another-run")

    sim.faults.update(script=["slow"], slow_seconds=0.5)
    results: list[PollReport] = []
    first = threading.Thread(target=lambda: results.append(run(sim, parts)))
    first.start()
    time.sleep(0.2)  # the first run waits on its slow page, holding the lease
    assert run(sim, parts) == PollReport(held_elsewhere=True)
    first.join()
    assert results[0].complete and results[0].seen == 1
    later = kernel.now()
    assert parts.state.acquire("next-run", later, later + timedelta(minutes=5))  # released at the end of the run
    # A lease left by a run that died is taken over once expired.
    expired = kernel.now() + timedelta(hours=2)
    assert parts.state.acquire("after-expiry", expired, expired + timedelta(minutes=5))


def test_the_poller_function_queues_the_feed_and_emits_metrics(
    stack: LocalStack, invoke: Invoker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = stack.now()
    ids = [f"IT-POLL-{uuid.uuid4().hex[:12]}" for _ in range(3)]
    for n, complaint_id in enumerate(ids):
        stack.simulator.publish(rec(complaint_id, now - timedelta(minutes=3 - n)))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    ok, first = invoke("PollerFunction", scheduled)
    assert ok and first["complete"] and first["new"] >= 3
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    emf = metrics[-1]
    values = {m["Name"]: emf[m["Name"]] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert set(values) == {"RecordsSeen", "RecordsNew", "RecordsDuplicate", "RecordsHeld", "FeedLagSeconds"}
    assert values["RecordsNew"] == [first["new"]] and values["RecordsSeen"] == [first["seen"]]
    assert values["RecordsDuplicate"] == [first["duplicate"]] and values["FeedLagSeconds"] == [first["lag_seconds"]]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OdrAdapter"

    ok, second = invoke("PollerFunction", scheduled)  # the lease was released; the overlap serves them again
    assert ok and second["new"] == 0 and second["duplicate"] >= 3
    queued = take_intake(stack, set(ids))
    assert sorted(b["record"]["complaint_id"] for b in queued) == sorted(ids)  # but queues them only once
    assert {b["source"] for b in queued} == {"poll"}
