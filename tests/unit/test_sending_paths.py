"""Messages and reminders on in-memory channels (tests/integration/test_notify.py proves the same with SES, SNS
and the SMS gateway in moto): channel order by recipient, retries then the other channel, the station told when
the enterprise cannot be reached, each message and each reminder sent and recorded once, whatever races."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from odr_adapter.messages.sending import notify, send_message
from odr_adapter.models.case import Case
from odr_adapter.models.links import link_key
from odr_adapter.people.actions import perform
from odr_adapter.people.reminders import remind, send_reminders
from odr_adapter.workflow.screening import screen_and_route
from odr_adapter.workflow.steps import escalate
from tests.fakes import World
from tests.unit.conftest import START, record

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
JINFENG_MOBILE = "13900000201"
JINFENG_EMAIL = "odr@jinfeng-yungou.example.com"
ZHUJING_EMAIL = "zhujing.station@example.com"  # the station of 金枫云购
ZHUJING_MOBILE = "13800000102"
ACCEPTANCE_DUE = datetime.fromisoformat("2026-12-02T16:00:00+00:00")


def notes(world: World, complaint_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (h.event, h.detail) for h in world.case(complaint_id).history if h.event in ("notified", "notification_failed")
    ]


# --- notify: channels, retries, fallbacks -----------------------------------------------------------------------


def test_the_specialist_gets_an_sms_with_a_link_to_the_acceptance(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-SMS-001"))

    result = notify("U-NOTIFY-SMS-001", "dispatched", world.svc, world.delivery)

    assert result == {"sent": 1, "failed": 0, "seconds": int((ACCEPTANCE_DUE - START).total_seconds())}
    [sms] = world.sms.sent
    assert sms.to == JINFENG_MOBILE and "受理" in sms.body and not world.email.sent
    link_id = sms.body.rsplit("/l/", 1)[1]
    link = world.links.get(link_key(link_id))
    assert link is not None and link.complaint_id == "U-NOTIFY-SMS-001"
    assert (link.phase, link.recipient, link.expires_at) == ("acceptance", JINFENG, ACCEPTANCE_DUE)
    [(event, detail)] = notes(world, "U-NOTIFY-SMS-001")
    assert event == "notified"
    assert detail == {
        "key": "dispatched:acceptance:0",
        "template": "dispatched",
        "to": "enterprise",
        "channel": "sms",
        "attempts": [{"channel": "sms", "try": 1, "ok": True}],
        "link": True,
    }


def test_email_when_the_sms_gateway_keeps_failing(world: World, pauses: list[float]) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-FALLBK1"))
    world.sms.fail("HTTP 503", to=JINFENG_MOBILE)

    notify("U-NOTIFY-FALLBK1", "dispatched", world.svc, world.delivery)

    [(event, detail)] = notes(world, "U-NOTIFY-FALLBK1")
    assert event == "notified" and detail["channel"] == "email"
    assert detail["attempts"] == [
        {"channel": "sms", "try": 1, "ok": False, "error": "HTTP 503"},
        {"channel": "sms", "try": 2, "ok": False, "error": "HTTP 503"},
        {"channel": "sms", "try": 3, "ok": False, "error": "HTTP 503"},
        {"channel": "email", "try": 1, "ok": True},
    ]
    assert len(pauses) == 2  # a backoff between the SMS tries, none before switching channel
    [mail] = world.email.to(JINFENG_EMAIL)
    assert "U-NOTIFY-FALLBK1" in mail.subject and "受理期限" in mail.body and "/l/" in mail.body


def test_a_passing_gateway_fault_is_retried_on_the_same_channel(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-RETRY01"))
    world.sms.fail("HTTP 502", times=1)

    notify("U-NOTIFY-RETRY01", "dispatched", world.svc, world.delivery)

    [(_, detail)] = notes(world, "U-NOTIFY-RETRY01")
    assert detail["attempts"] == [
        {"channel": "sms", "try": 1, "ok": False, "error": "HTTP 502"},
        {"channel": "sms", "try": 2, "ok": True},
    ]
    assert len(world.sms.sent) == 1 and not world.email.sent


def test_a_station_gets_email_first_and_sms_when_the_sender_is_refused(world: World) -> None:
    world.seed(record("not-in-directory", complaint_id="U-NOTIFY-STATION"))
    assert screen_and_route("U-NOTIFY-STATION", world.svc)["decision"] == "returned"
    world.email.fail("MessageRejected", permanent=True)

    assert notify("U-NOTIFY-STATION", "regular", world.svc, world.delivery)["sent"] == 1

    [(event, detail)] = notes(world, "U-NOTIFY-STATION")
    assert event == "notified" and detail["to"] == "station" and detail["link"] is False
    assert detail["attempts"] == [  # a rejected sender is final: no retry, then SMS
        {"channel": "email", "try": 1, "ok": False, "error": "MessageRejected"},
        {"channel": "sms", "try": 1, "ok": True},
    ]
    [sms] = world.sms.sent
    assert sms.to == "13800000105" and "常规处理" in sms.body  # 亭林所's reviewer


def test_an_email_only_specialist_gets_an_email(world: World) -> None:
    respondent = {"name": "上海金山卫服饰商贸有限公司", "uscc": "91310116MA1N5G2J9D", "division_code": "310116109"}
    world.dispatch(record(complaint_id="U-NOTIFY-EMAIL01", respondent=respondent))

    notify("U-NOTIFY-EMAIL01", "dispatched", world.svc, world.delivery)

    [(_, detail)] = notes(world, "U-NOTIFY-EMAIL01")
    assert detail["attempts"] == [{"channel": "email", "try": 1, "ok": True}]
    assert [m.to for m in world.email.sent] == ["jsw.fushi@example.com"] and not world.sms.sent


def test_when_the_enterprise_cannot_be_reached_the_station_is_told(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-NOBODY1"))
    world.sms.fail("HTTP 400", permanent=True, to=JINFENG_MOBILE)  # a number the provider refuses: final
    world.email.fail("MessageRejected", permanent=True)

    result = notify("U-NOTIFY-NOBODY1", "dispatched", world.svc, world.delivery)

    assert (result["sent"], result["failed"]) == (0, 1) and result["seconds"] > 0  # the wait still runs
    [(failed, enterprise), (told, station)] = notes(world, "U-NOTIFY-NOBODY1")
    assert (failed, enterprise["to"], enterprise["channel"]) == ("notification_failed", "enterprise", None)
    assert enterprise["attempts"] == [
        {"channel": "sms", "try": 1, "ok": False, "error": "HTTP 400"},
        {"channel": "email", "try": 1, "ok": False, "error": "MessageRejected"},
    ]
    assert (told, station["template"], station["to"], station["channel"]) == (
        "notified",
        "undeliverable",
        "station",
        "sms",
    )
    [sms] = world.sms.sent
    assert sms.to == ZHUJING_MOBILE and "未能通知企业" in sms.body and "投诉尾号ODY1" in sms.body


def test_a_retried_notify_step_sends_nothing_twice(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-TWICE01"))

    results = [notify("U-NOTIFY-TWICE01", "dispatched", world.svc, world.delivery) for _ in range(2)]

    assert [r["sent"] for r in results] == [1, 1]  # the second is answered from the history
    assert len(world.sms.sent) == 1 and len(notes(world, "U-NOTIFY-TWICE01")) == 1
    assert len(world.links.for_case("U-NOTIFY-TWICE01")) == 1


def test_the_history_is_recorded_once_over_a_concurrent_writer(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-RACE-01"))
    world.cases.race("action_refused", actor="enterprise:x", detail={"action": "report"})

    assert notify("U-NOTIFY-RACE-01", "dispatched", world.svc, world.delivery)["sent"] == 1

    assert world.events("U-NOTIFY-RACE-01")[-2:] == ["action_refused", "notified"]
    assert len(world.sms.sent) == 1  # recording again did not send again


def test_a_resent_message_after_a_send_back_has_a_new_key(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-ROUND-1"))
    perform("U-NOTIFY-ROUND-1", "accept", f"enterprise:{JINFENG}", {}, world.svc)
    world.wait("U-NOTIFY-ROUND-1", "resolution")
    report = {"settled": True, "recovered_amount": "10.00", "summary": "已退款"}
    for round_ in range(2):
        perform("U-NOTIFY-ROUND-1", "report", f"enterprise:{JINFENG}", report, world.svc)
        world.wait("U-NOTIFY-ROUND-1", "review")
        world.clock.advance(timedelta(days=1))
        perform("U-NOTIFY-ROUND-1", "send_back", "station:JS-ZJ", {"comment": f"第{round_ + 1}次"}, world.svc)
        notify("U-NOTIFY-ROUND-1", "sent_back", world.svc, world.delivery)
        world.wait("U-NOTIFY-ROUND-1", "resolution")

    sent_back = [d for e, d in notes(world, "U-NOTIFY-ROUND-1") if d["template"] == "sent_back"]
    assert len(sent_back) == 2 and sent_back[0]["key"] != sent_back[1]["key"]
    assert len(world.sms.to(JINFENG_MOBILE)) == 2


def test_a_second_review_begun_the_same_day_is_told_and_reminded_once_again(world: World) -> None:
    """Both review waits end at the same 24:00 (day-counted policy): each is still a wait of its own."""
    cid, ent, station = "U-NOTIFY-SAMEDAY", f"enterprise:{JINFENG}", "station:JS-ZJ"
    world.dispatch(record(complaint_id=cid))
    perform(cid, "accept", ent, {}, world.svc)
    world.wait(cid, "resolution")
    report = {"settled": True, "recovered_amount": "199.00", "summary": "已退款"}
    review_dues = []
    for round_ in range(2):
        world.clock.advance(timedelta(minutes=30))
        perform(cid, "report", ent, report, world.svc)
        notify(cid, "review", world.svc, world.delivery, wait=("review", f"token-review-{round_}"))
        review_dues.append(world.case(cid).deadlines["review"].due_at)
        due_soon(world, cid, "review")
        assert send_reminders(world.svc, world.cases, world.delivery)["reminded"] == 1
        if round_ == 0:
            world.clock.advance(timedelta(minutes=30))
            perform(cid, "send_back", station, {"comment": "请补充退款凭证"}, world.svc)
            notify(cid, "sent_back", world.svc, world.delivery, wait=("resolution", "token-rework-0"))

    assert review_dues[0] == review_dues[1]  # the same deadline: the old key (template and due time) told it once
    told = [d["template"] for _, d in notes(world, cid) if d["to"] == "station"]
    assert told == ["review", "review_reminder", "review", "review_reminder"]
    assert len(world.email.to(ZHUJING_EMAIL)) == 4
    assert world.case(cid).reminders_sent == ["review:0", "review:1"]  # each wait's identity: phase and round


def test_overdue_tells_the_enterprise_and_the_station(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-OVERDUE"))
    escalate("U-NOTIFY-OVERDUE", "acceptance", world.svc)

    assert notify("U-NOTIFY-OVERDUE", "overdue", world.svc, world.delivery)["sent"] == 2

    assert [(d["template"], d["to"]) for _, d in notes(world, "U-NOTIFY-OVERDUE")] == [
        ("overdue", "enterprise"),
        ("overdue_station", "station"),
    ]
    assert [s.to for s in world.sms.sent] == [JINFENG_MOBILE] and [m.to for m in world.email.sent] == [ZHUJING_EMAIL]


def test_a_withdrawal_is_told_only_to_an_enterprise_that_heard_of_the_case(world: World) -> None:
    world.dispatch(record(complaint_id="U-NOTIFY-WDRAWN1"))
    world.seed(record("not-in-directory", complaint_id="U-NOTIFY-WDRAWN2"))
    screen_and_route("U-NOTIFY-WDRAWN2", world.svc)

    told = notify("U-NOTIFY-WDRAWN1", "withdrawn", world.svc, world.delivery)
    never = notify("U-NOTIFY-WDRAWN2", "withdrawn", world.svc, world.delivery)

    assert (told["sent"], never["sent"], never["failed"]) == (1, 0, 0)
    assert [s.to for s in world.sms.sent] == [JINFENG_MOBILE] and notes(world, "U-NOTIFY-WDRAWN2") == []


# --- reminders --------------------------------------------------------------------------------------------------


def due_soon(world: World, complaint_id: str, phase: str = "acceptance") -> Case:
    """As if dispatched two days ago: the deadline is hours away and its reminder time has just passed."""
    case = world.case(complaint_id)
    now = world.clock.now()
    deadline = case.deadlines[phase].model_copy(
        update={"due_at": now + timedelta(hours=2), "remind_at": now - timedelta(minutes=1)}
    )
    return world.change(complaint_id, "deadline_moved", deadlines={**case.deadlines, phase: deadline})


def test_a_reminder_goes_out_once_when_it_is_due(world: World) -> None:
    world.dispatch(record(complaint_id="U-REMIND-DUE-001"))
    world.dispatch(record(complaint_id="U-REMIND-LATER01"))
    moved = due_soon(world, "U-REMIND-DUE-001")
    due = moved.deadlines["acceptance"].due_at

    first = send_reminders(world.svc, world.cases, world.delivery)
    second = send_reminders(world.svc, world.cases, world.delivery)

    assert first == {"candidates": 1, "reminded": 1, "failed": 0}
    assert second == {"candidates": 0, "reminded": 0, "failed": 0}
    reminded = world.case("U-REMIND-DUE-001")
    assert reminded.reminders_sent == ["acceptance:0"] and due > world.clock.now()
    assert world.events("U-REMIND-DUE-001")[-2:] == ["reminder_due", "notified"]
    assert reminded.history[-1].detail["template"] == "reminder"
    assert reminded.history[-1].detail["key"] == "reminder:acceptance:0"
    [sms] = world.sms.sent
    assert sms.to == JINFENG_MOBILE and "受理将于" in sms.body and "/l/" in sms.body
    assert world.case("U-REMIND-LATER01").reminders_sent == []  # its reminder time has not come


def test_overlapping_sweeps_send_a_reminder_once(world: World) -> None:
    world.dispatch(record(complaint_id="U-REMIND-RACE-01"))
    due_soon(world, "U-REMIND-RACE-01")
    other: list[object] = []
    # The other sweep claims and sends the same reminder between this one's read and its claim.
    world.cases.before_next_save(lambda *_: other.append(remind("U-REMIND-RACE-01", world.svc, world.delivery)))

    result = send_reminders(world.svc, world.cases, world.delivery)

    assert result == {"candidates": 1, "reminded": 0, "failed": 0} and other[0] is not None
    assert len(world.sms.sent) == 1 and world.events("U-REMIND-RACE-01").count("reminder_due") == 1


def test_a_reminder_that_cannot_be_delivered_counts_as_failed_and_the_station_is_told(world: World) -> None:
    world.dispatch(record(complaint_id="U-REMIND-FAIL-01"))
    due_soon(world, "U-REMIND-FAIL-01")
    world.sms.fail("HTTP 400", permanent=True, to=JINFENG_MOBILE)
    world.email.fail("MessageRejected", permanent=True, to=JINFENG_EMAIL)

    assert send_reminders(world.svc, world.cases, world.delivery) == {"candidates": 1, "reminded": 0, "failed": 1}

    assert send_reminders(world.svc, world.cases, world.delivery)["candidates"] == 0  # claimed: not tried again
    [(failed, _), (told, station)] = notes(world, "U-REMIND-FAIL-01")
    assert (failed, told, station["template"]) == ("notification_failed", "notified", "undeliverable")
    assert [m.to for m in world.email.sent] == [ZHUJING_EMAIL]


def test_a_review_reminder_goes_to_the_station_with_a_review_link(world: World) -> None:
    world.dispatch(record(complaint_id="U-REMIND-REVIEW1"))
    perform("U-REMIND-REVIEW1", "accept", f"enterprise:{JINFENG}", {}, world.svc)
    world.wait("U-REMIND-REVIEW1", "resolution")
    perform("U-REMIND-REVIEW1", "report", f"enterprise:{JINFENG}", {"settled": True, "summary": "已退"}, world.svc)
    world.wait("U-REMIND-REVIEW1", "review")
    due_soon(world, "U-REMIND-REVIEW1", "review")

    assert send_reminders(world.svc, world.cases, world.delivery)["reminded"] == 1

    last = world.case("U-REMIND-REVIEW1").history[-1]
    assert (last.detail["template"], last.detail["to"], last.detail["link"]) == ("review_reminder", "station", True)
    [mail] = world.email.to(ZHUJING_EMAIL)
    [link] = [lk for lk in world.links.for_case("U-REMIND-REVIEW1") if lk.phase == "review"]
    assert (link.actions, link.recipient) == (["approve", "send_back"], "JS-ZJ")
    assert "/l/" in mail.body


def test_a_message_sent_straight_is_deduplicated_by_its_key(world: World) -> None:
    world.dispatch(record(complaint_id="U-SEND-KEY-00001"))

    first = send_message("U-SEND-KEY-00001", "dispatched", world.svc, world.delivery)
    again = send_message("U-SEND-KEY-00001", "dispatched", world.svc, world.delivery)

    assert first.delivered and not first.duplicate and first.link_id is not None
    assert again.duplicate and again.link_id is None and len(world.sms.sent) == 1
