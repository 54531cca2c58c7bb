"""A note's message goes after the answer, on in-memory ports wired as the deployed functions are (a queue): the
request keeps the note and queues its message, calling no SMS or e-mail provider; the confirmation function's
:func:`send_owed` sends it once (concurrent submits, redelivery, a sender that crashed), with the channels'
retries and fallback, and records it; the sweeper queues again what stayed owed. A note never makes the case's
``owes_since`` later: the sweeper's grace runs from the oldest debt. tests/integration/test_notes.py proves the
same with the real handlers on moto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from odr_adapter.clock import iso_z
from odr_adapter.data_access.case_items import case_item, case_of
from odr_adapter.models.case import Case, transition
from odr_adapter.models.notes import notes_of
from odr_adapter.people.actions import perform
from odr_adapter.people.confirmations import LEASE, SendingElsewhere, send_owed
from odr_adapter.people.enterprise_api import enterprise_note, note_answer
from odr_adapter.people.healing import GRACE, heal
from odr_adapter.people.notes import Author, add_note
from odr_adapter.people.submissions import act
from odr_adapter.ports import TransientFault
from tests.fakes import FakeQueue, World
from tests.unit.conftest import load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
JINFENG_MOBILE = "13900000201"
STATION_EMAIL = "zhujing.station@example.com"
STATION_MOBILE = "13800000102"
STATION = Author("station", "JS-ZJ")
SPECIALIST = Author("enterprise", JINFENG)
GUIDANCE = "请先核实订单的签收记录,再与消费者协商退款方式。"


def dispatched(world: World, complaint_id: str) -> Case:
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    case, _ = world.dispatch(raw)
    return case


def provider_calls(world: World) -> int:
    """Every call to an SMS or e-mail provider, taken or refused."""
    return len(world.sms.sent) + len(world.sms.refused) + len(world.email.sent) + len(world.email.refused)


def deliver(world: World, queue: FakeQueue, times: int = 1) -> int:
    """What the queue's consumer does: each queued body handed to send_owed (``times`` over: SQS may deliver a
    message more than once). Returns how many sends were not already done."""
    fresh = 0
    for body in queue.take() * times:
        sent = send_owed(body["complaint_id"], world.svc, world.delivery, body["key"])
        fresh += sent is not None and not sent.duplicate
    return fresh


def later(world: World) -> None:
    world.clock.advance(GRACE + timedelta(minutes=1))


def test_a_note_is_answered_without_calling_a_provider_and_its_message_is_sent_once_from_the_queue(
    world: World,
) -> None:
    case = dispatched(world, "U-NQ-ASYNC-00001")
    queue = world.queue_confirmations()
    world.sms.fail("HTTP 503")
    world.email.fail("HTTP 500")
    calls = provider_calls(world)

    status, body = note_answer(
        enterprise_note(JINFENG, case.complaint_id, "能否延长受理期限?", "erp-msg-0001", world.svc, world.delivery)
    )

    assert (status, body["result"]) == (201, "added")
    assert provider_calls(world) == calls  # the answer waited for no channel
    owed = world.case(case.complaint_id)
    assert owed.notes_owed == ["note:erp-msg-0001"] and owed.owes_since == world.clock.now()
    assert queue.bodies == [{"complaint_id": case.complaint_id, "key": "note:erp-msg-0001"}]
    world.sms.recover()
    world.email.recover()

    assert deliver(world, queue, times=2) == 1  # delivered twice by SQS, sent once

    [mail] = world.email.to(STATION_EMAIL)
    assert "能否延长受理期限?" in mail.body
    sent = world.case(case.complaint_id)
    assert (sent.history[-1].event, sent.history[-1].detail["key"]) == ("notified", "note:erp-msg-0001")
    assert sent.notes_owed == [] and sent.owes_since is None
    assert "owes_pk" not in world.cases.items[case.complaint_id]  # off ByOwed once the message is recorded


def test_concurrent_submits_of_one_note_queue_one_message(world: World) -> None:
    case = dispatched(world, "U-NQ-RACE-000001")
    queue = world.queue_confirmations()
    inner: list[str] = []

    def the_other_tab(*_: Any) -> None:  # the same form, submitted again, gets in first
        other = add_note(case.complaint_id, STATION, GUIDANCE, "race-key-001", "link", world.svc, world.delivery)
        inner.append(other.status)

    world.cases.before_next_save(the_other_tab)
    outcome = add_note(case.complaint_id, STATION, GUIDANCE, "race-key-001", "link", world.svc, world.delivery)
    repeat = add_note(case.complaint_id, STATION, GUIDANCE, "race-key-001", "link", world.svc, world.delivery)

    assert (inner, outcome.status, repeat.status) == (["added"], "repeated", "repeated")
    assert len(queue.bodies) == 1  # only the request whose write kept the note queues its message
    assert deliver(world, queue, times=3) == 1
    assert len(world.sms.to(JINFENG_MOBILE)) == 1 and len(notes_of(world.case(case.complaint_id))) == 1


def test_a_message_being_sent_elsewhere_waits_until_that_sender_is_presumed_dead(world: World) -> None:
    case = dispatched(world, "U-NQ-LEASE-00001")
    queue = world.queue_confirmations()
    add_note(case.complaint_id, STATION, GUIDANCE, "lease-key-01", "link", world.svc, world.delivery)
    [body] = queue.take()
    now = world.clock.now()
    assert world.links.reserve(f"note:{case.complaint_id}:lease-key-01", now, now + LEASE)  # a sender that crashed

    with pytest.raises(SendingElsewhere):  # the queue gives the message again later
        send_owed(case.complaint_id, world.svc, world.delivery, body["key"])
    assert world.sms.sent == [] and world.case(case.complaint_id).notes_owed == ["note:lease-key-01"]
    world.clock.advance(LEASE)

    sent = send_owed(case.complaint_id, world.svc, world.delivery, body["key"])

    assert sent is not None and sent.delivered and len(world.sms.to(JINFENG_MOBILE)) == 1


def test_a_notes_message_has_the_channels_retries_and_fallback_and_is_recorded(world: World) -> None:
    case = dispatched(world, "U-NQ-FALLBACK-01")
    perform(case.complaint_id, "accept", SPECIALIST.actor, {}, world.svc)
    world.wait(case.complaint_id, "resolution")  # the station has nothing to do: e-mail first, no link
    queue = world.queue_confirmations()
    add_note(
        case.complaint_id, SPECIALIST, "消费者要求三倍赔偿,是否支持?", "fallback-01", "api", world.svc, world.delivery
    )
    world.email.fail("HTTP 500")  # SES keeps failing when the consumer sends

    assert deliver(world, queue) == 1

    assert [code for _, code in world.email.refused] == ["HTTP 500"] * 3  # retried, then the other channel
    [sms] = world.sms.to(STATION_MOBILE)
    assert "三倍赔偿" not in sms.body  # the SMS says a note came; the text stays off it
    recorded = world.case(case.complaint_id).history[-1]
    assert (recorded.event, recorded.detail["channel"], recorded.detail["key"]) == (
        "notified",
        "sms",
        "note:fallback-01",
    )


def test_a_note_whose_message_the_queue_refused_is_queued_again_by_the_sweeper(world: World) -> None:
    case = dispatched(world, "U-NQ-REQUEUE-001")
    queue = world.queue_confirmations()
    queue.fail_next(TransientFault("SQS 503"))

    outcome = add_note(case.complaint_id, STATION, GUIDANCE, "requeue-key1", "link", world.svc, world.delivery)

    assert outcome.status == "added" and queue.bodies == []  # kept, answered, its message owed
    assert heal(world.svc, world.cases, world.delivery).candidates == 0  # within the grace
    later(world)
    healed = heal(world.svc, world.cases, world.delivery)
    assert (healed.notes, healed.healed) == (1, 1)
    assert deliver(world, queue) == 1 and len(world.sms.to(JINFENG_MOBILE)) == 1
    assert world.case(case.complaint_id).owes_since is None


def test_a_crash_after_the_note_was_kept_is_healed_by_the_sweeper_and_the_retry_sends_nothing_twice(
    world: World,
) -> None:
    case = dispatched(world, "U-NQ-CRASH-00001")
    queue = world.queue_confirmations()
    queue.fail_next(RuntimeError("the function died before it queued the message"))

    with pytest.raises(RuntimeError):
        add_note(case.complaint_id, STATION, GUIDANCE, "crash-key-01", "link", world.svc, world.delivery)
    retried = add_note(case.complaint_id, STATION, GUIDANCE, "crash-key-01", "link", world.svc, world.delivery)

    assert retried.status == "repeated" and queue.bodies == []  # the note was kept before the crash
    assert world.case(case.complaint_id).notes_owed == ["note:crash-key-01"]
    later(world)
    assert heal(world.svc, world.cases, world.delivery).notes == 1
    assert deliver(world, queue) == 1
    later(world)
    assert heal(world.svc, world.cases, world.delivery).candidates == 0  # nothing owed any more
    assert len(world.sms.to(JINFENG_MOBILE)) == 1


# --- owes_since: when the oldest debt began ------------------------------------------------------------------------


def test_a_note_written_while_the_case_owes_leaves_owes_since_at_the_oldest_debt(world: World) -> None:
    case = dispatched(world, "U-NQ-OLDEST-0001")
    queue = world.queue_confirmations()
    queue.fail_next(TransientFault("SQS 503"))
    act(case.complaint_id, "accept", SPECIALIST.actor, {}, "api", world.svc, world.delivery)
    world.wait(case.complaint_id, "resolution")  # the workflow took the callback
    began = world.clock.now()  # the confirmation is owed from the acceptance (its queueing failed)
    world.clock.advance(GRACE - timedelta(minutes=1))

    add_note(case.complaint_id, STATION, GUIDANCE, "late-note-01", "session", world.svc, world.delivery)
    world.clock.advance(timedelta(minutes=1))
    add_note(case.complaint_id, SPECIALIST, "收到,正在处理。", "late-note-02", "api", world.svc, world.delivery)

    owing = world.case(case.complaint_id)
    assert owing.owes_since == began and world.cases.items[case.complaint_id]["owes_since"] == iso_z(began)
    world.clock.advance(timedelta(minutes=1))  # the confirmation's grace is over, not the notes'
    healed = heal(world.svc, world.cases, world.delivery)
    assert (healed.candidates, healed.confirmations) == (1, 1)  # found by its oldest debt
    assert deliver(world, queue) == 3  # the confirmation and the two notes' messages, each once
    assert world.case(case.complaint_id).owes_since is None


def test_the_first_debt_starts_owes_since_and_the_last_one_paid_ends_it(world: World) -> None:
    case = dispatched(world, "U-NQ-FIRST-00001")
    queue = world.queue_confirmations()
    assert world.case(case.complaint_id).owes_since is None
    first = world.clock.now()
    add_note(case.complaint_id, STATION, GUIDANCE, "first-note-1", "link", world.svc, world.delivery)
    world.clock.advance(timedelta(minutes=2))
    add_note(case.complaint_id, STATION, "另附退款凭证要求。", "second-note", "link", world.svc, world.delivery)
    [one, two] = queue.take()

    send_owed(case.complaint_id, world.svc, world.delivery, two["key"])
    assert world.case(case.complaint_id).owes_since == first  # the first note's message is still owed
    send_owed(case.complaint_id, world.svc, world.delivery, one["key"])
    assert world.case(case.complaint_id).owes_since is None


def test_a_case_stored_before_the_debts_start_was_kept_keeps_the_start_it_had(world: World) -> None:
    case = dispatched(world, "U-NQ-LEGACY-0001")
    queue = world.queue_confirmations()
    queue.fail_next(TransientFault("SQS 503"))
    act(case.complaint_id, "accept", SPECIALIST.actor, {}, "api", world.svc, world.delivery)
    world.wait(case.complaint_id, "resolution")  # the confirmation is owed, from this write on
    stored = case_item(world.case(case.complaint_id))
    stored.pop("debt_began_at", None)  # as the release before stored it
    legacy = case_of(stored)
    began = legacy.history[-1].at
    world.clock.advance(timedelta(minutes=2))

    noted, _ = transition(legacy, "note_added", "station:JS-ZJ", world.clock.now(), detail={"key": "k"})

    assert legacy.owes_since == began and noted.owes_since == began
