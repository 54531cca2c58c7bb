"""Progress stages (contract v1.1, 4a) read from a case's history, on in-memory ports: the real steps and actions
write the case, the stream's (old, new) images are read as the progress function reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from odr_adapter.data_access.case_items import case_change
from odr_adapter.feed.progress import queue_progress, stages
from odr_adapter.models.case import Case
from odr_adapter.people.actions import perform
from odr_adapter.workflow.screening import screen_and_route
from odr_adapter.workflow.steps import close
from tests.fakes import World
from tests.unit.conftest import load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
SPECIALIST = f"enterprise:{JINFENG}"
STATION = "station:JS-ZJ"
REPORT = {"settled": True, "recovered_amount": "150.50", "summary": "部分退款,消费者同意"}


class OrderedQueue:
    """The FIFO progress queue: every message kept in the order queued."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_in_order(self, messages: list[dict[str, Any]]) -> None:
        self.messages.extend(messages)


def sent_back_once(world: World, complaint_id: str) -> Case:
    """Dispatch, accept, report, review, send back, report again, review, approve, close: the whole round trip."""
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    world.dispatch(raw)
    world.clock.advance(timedelta(hours=3))
    perform(complaint_id, "accept", SPECIALIST, {}, world.svc)
    world.wait(complaint_id, "resolution")
    world.clock.advance(timedelta(days=1))
    perform(complaint_id, "report", SPECIALIST, REPORT, world.svc)
    world.wait(complaint_id, "review")
    perform(complaint_id, "send_back", STATION, {"comment": "请补充凭证"}, world.svc)
    world.wait(complaint_id, "resolution")
    perform(complaint_id, "report", SPECIALIST, {**REPORT, "settled": False, "not_settled_reason": "未达成"}, world.svc)
    world.wait(complaint_id, "review")
    perform(complaint_id, "approve", STATION, {"comment": "同意"}, world.svc)
    close(complaint_id, "resolved", world.svc)
    return world.case(complaint_id)


def stream_changes(world: World) -> list[tuple[Case | None, Case]]:
    changes = [case_change(old, new) for old, new in world.cases.stream]
    return [(c.old, c.new) for c in changes if c is not None]


def test_a_case_sent_back_reports_each_stage_once_per_round_in_order(world: World) -> None:
    case = sent_back_once(world, "U-PROGRESS-00001")

    assert [s.key(case.complaint_id) for s in stages(case)] == [
        "U-PROGRESS-00001-dispatched-1",
        "U-PROGRESS-00001-accepted-1",
        "U-PROGRESS-00001-result_reported-1",
        "U-PROGRESS-00001-under_review-1",
        "U-PROGRESS-00001-sent_back-1",
        "U-PROGRESS-00001-result_reported-2",
        "U-PROGRESS-00001-under_review-2",
    ]


def test_the_stream_queues_exactly_the_stages_of_the_final_history_with_their_bodies(world: World) -> None:
    case = sent_back_once(world, "U-PROGRESS-00002")
    queue = OrderedQueue()

    for change in stream_changes(world):  # one stream record at a time, as the mapping may deliver them
        queue_progress([change], world.directory, queue)

    assert [m["idempotency_key"] for m in queue.messages] == [s.key(case.complaint_id) for s in stages(case)]
    bodies = {m["body"]["stage"] + str(n): m["body"] for n, m in enumerate(queue.messages)}
    assert bodies["dispatched0"]["handled_by"] == {"name": case.enterprise.name, "uscc": JINFENG}  # type: ignore[union-attr]
    assert bodies["under_review3"]["handled_by"] == {"code": "JS-ZJ", "name": world.district.station("JS-ZJ").name}  # type: ignore[union-attr]
    assert bodies["dispatched0"]["at"].endswith("+08:00")
    assert bodies["result_reported2"]["note"].endswith("和解成功")
    assert bodies["result_reported5"]["note"].endswith("和解不成")
    assert bodies["sent_back4"]["note"].startswith("第1次退回企业重新处理")
    consumer = case.record["consumer"]
    assert all(
        consumer["name"] not in m["body"]["note"] and consumer["phone"] not in m["body"]["note"] for m in queue.messages
    )


def test_a_redelivered_batch_queues_the_same_messages_again(world: World) -> None:
    sent_back_once(world, "U-PROGRESS-00003")
    first, again = OrderedQueue(), OrderedQueue()

    queue_progress(stream_changes(world), world.directory, first)
    queue_progress(stream_changes(world), world.directory, again)

    assert first.messages == again.messages  # same keys and bodies: the queue dedupes, the platform answers 200


def test_a_review_wait_registered_twice_in_a_round_is_one_stage(world: World) -> None:
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = "U-PROGRESS-00004"
    world.dispatch(raw)
    perform("U-PROGRESS-00004", "accept", SPECIALIST, {}, world.svc)
    world.wait("U-PROGRESS-00004", "resolution")
    perform("U-PROGRESS-00004", "report", SPECIALIST, REPORT, world.svc)
    world.wait("U-PROGRESS-00004", "review")
    world.wait("U-PROGRESS-00004", "review")  # a retried AwaitAction task: a new token, the same stage

    names = [s.name for s in stages(world.case("U-PROGRESS-00004"))]

    assert names == ["dispatched", "accepted", "result_reported", "under_review"]


def test_a_case_that_never_reaches_an_enterprise_has_no_stages(world: World) -> None:
    case = world.seed(load_example("not-in-directory"))
    assert screen_and_route(case.complaint_id, world.svc)["decision"] == "returned"
    close(case.complaint_id, "returned", world.svc)
    queue = OrderedQueue()

    assert queue_progress(stream_changes(world), world.directory, queue) == [] and queue.messages == []
