"""Notifications on the emulated stack: the real notify and reminder handlers, SES and SNS in moto, SMS
through the simulated HTTPS gateway. Channel order by recipient, retries with backoff, the other channel
when one fails for good, the station told when the enterprise cannot be reached, nothing sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from odr_adapter.data_access.messaging import Sms
from odr_adapter.models.case import Case, transition
from odr_adapter.ports import DeliveryFailed
from odr_local.inbox import Inbox
from odr_local.stack import REGION, SES_REGION, LocalStack

from .conftest import Invoker
from .helpers import record, seed_case

JINFENG_MOBILE = "+8613900000201"
JINFENG_EMAIL = "odr@jinfeng-yungou.example.com"
ZHUJING_EMAIL = "zhujing.station@example.com"  # the station of 金枫云购
ZHUJING_MOBILE = "+8613800000102"
DOMAIN = "jinshan.example.gov.cn"


def dispatched(stack: LocalStack, invoke: Invoker, complaint_id: str, **changes: object) -> Case:
    raw = record(complaint_id=complaint_id)
    for key, value in changes.items():
        raw[key] = value
    seed_case(stack, raw)
    assert invoke("ScreenFunction", {"complaint_id": complaint_id})[1]["decision"] == "odr"
    case = stack.cases.get(complaint_id)
    assert case is not None
    return case


def notes(stack: LocalStack, complaint_id: str) -> list[tuple[str, dict[str, object]]]:
    case = stack.cases.get(complaint_id)
    assert case is not None
    return [(h.event, h.detail) for h in case.history if h.event in ("notified", "notification_failed")]


@pytest.fixture
def ses_down(stack: LocalStack) -> Iterator[None]:
    """SES rejects every message (the sender's identity is no longer verified), until the test ends."""
    ses = stack.client("ses", SES_REGION)
    ses.delete_identity(Identity=DOMAIN)
    yield
    ses.verify_domain_identity(Domain=DOMAIN)


@pytest.fixture
def inbox(stack: LocalStack) -> Inbox:
    return Inbox(SES_REGION, REGION, stack.sms_gateway)


def test_the_specialist_gets_an_sms_with_a_link(stack: LocalStack, invoke: Invoker, inbox: Inbox) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-SMS-001")
    before = len(inbox.received_by(None, JINFENG_MOBILE))
    ok, result = invoke("NotifyFunction", {"complaint_id": case.complaint_id, "kind": "dispatched"})
    assert ok and (result["sent"], result["failed"]) == (1, 0) and result["seconds"] > 0
    [sms] = inbox.received_by(None, JINFENG_MOBILE)[before:]
    assert sms.links and "受理" in sms.body
    [(event, detail)] = notes(stack, case.complaint_id)
    assert event == "notified"
    assert detail["attempts"] == [{"channel": "sms", "try": 1, "ok": True}]
    assert (detail["template"], detail["to"], detail["channel"], detail["link"]) == (
        "dispatched",
        "enterprise",
        "sms",
        True,
    )


def test_email_when_the_sms_gateway_keeps_failing(stack: LocalStack, invoke: Invoker, inbox: Inbox) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-FALLBK1")
    stack.sms_gateway.fail_number(JINFENG_MOBILE, 503)
    try:
        invoke("NotifyFunction", {"complaint_id": case.complaint_id, "kind": "dispatched"})
    finally:
        stack.sms_gateway.recover()
    [(event, detail)] = notes(stack, case.complaint_id)
    assert event == "notified" and detail["channel"] == "email"
    assert detail["attempts"] == [
        {"channel": "sms", "try": 1, "ok": False, "error": "HTTP 503"},
        {"channel": "sms", "try": 2, "ok": False, "error": "HTTP 503"},
        {"channel": "sms", "try": 3, "ok": False, "error": "HTTP 503"},
        {"channel": "email", "try": 1, "ok": True},
    ]
    [mail] = [m for m in inbox.emails() if m.to == JINFENG_EMAIL and case.complaint_id in m.subject]
    assert mail.links and "受理期限" in mail.body


def test_a_passing_gateway_fault_is_retried_on_the_same_channel(stack: LocalStack, invoke: Invoker) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-RETRY01")
    stack.sms_gateway.fail_next(1, 502)
    invoke("NotifyFunction", {"complaint_id": case.complaint_id, "kind": "dispatched"})
    [(_, detail)] = notes(stack, case.complaint_id)
    assert detail["attempts"] == [
        {"channel": "sms", "try": 1, "ok": False, "error": "HTTP 502"},
        {"channel": "sms", "try": 2, "ok": True},
    ]


def test_sms_when_email_fails_for_the_station(stack: LocalStack, invoke: Invoker, inbox: Inbox, ses_down: None) -> None:
    seed_case(stack, record("not-in-directory", complaint_id="IT-NOTIFY-STATION"))
    assert invoke("ScreenFunction", {"complaint_id": "IT-NOTIFY-STATION"})[1]["decision"] == "returned"
    before = len(inbox.sms())
    invoke("NotifyFunction", {"complaint_id": "IT-NOTIFY-STATION", "kind": "regular"})
    [(event, detail)] = notes(stack, "IT-NOTIFY-STATION")
    # E-mail first for a station; a rejected sender is final (no retry), then SMS.
    assert event == "notified" and detail["to"] == "station"
    assert detail["attempts"] == [
        {"channel": "email", "try": 1, "ok": False, "error": "MessageRejected"},
        {"channel": "sms", "try": 1, "ok": True},
    ]
    [sms] = inbox.sms()[before:]
    assert sms.to == "+8613800000105" and "常规处理" in sms.body  # 亭林所's reviewer


def test_an_email_only_specialist_gets_an_email(stack: LocalStack, invoke: Invoker, inbox: Inbox) -> None:
    raw = record(complaint_id="IT-NOTIFY-EMAIL01")
    raw["respondent"] = {
        "name": "上海金山卫服饰商贸有限公司",  # its specialist has no mobile number
        "uscc": "91310116MA1N5G2J9D",
        "division_code": "310116109",
    }
    seed_case(stack, raw)
    assert invoke("ScreenFunction", {"complaint_id": "IT-NOTIFY-EMAIL01"})[1]["decision"] == "odr"
    invoke("NotifyFunction", {"complaint_id": "IT-NOTIFY-EMAIL01", "kind": "dispatched"})
    [(_, detail)] = notes(stack, "IT-NOTIFY-EMAIL01")
    assert detail["attempts"] == [{"channel": "email", "try": 1, "ok": True}]
    assert [m for m in inbox.emails() if m.to == "jsw.fushi@example.com" and "IT-NOTIFY-EMAIL01" in m.subject]


def test_when_the_enterprise_cannot_be_reached_the_station_is_told(
    stack: LocalStack, invoke: Invoker, inbox: Inbox, ses_down: None
) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-NOBODY1")
    stack.sms_gateway.fail_number(JINFENG_MOBILE, 400)  # a number the provider refuses: final
    try:
        ok, result = invoke("NotifyFunction", {"complaint_id": case.complaint_id, "kind": "dispatched"})
    finally:
        stack.sms_gateway.recover()
    assert ok and (result["sent"], result["failed"]) == (0, 1) and result["seconds"] > 0  # the wait still runs
    [(failed, enterprise), (told, station)] = notes(stack, case.complaint_id)
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
    [sms] = [m for m in inbox.sms() if m.to == ZHUJING_MOBILE and "未能通知企业" in m.body][-1:]
    assert case.complaint_id[-4:] in sms.body


def test_a_retried_notify_step_sends_nothing_twice(stack: LocalStack, invoke: Invoker, inbox: Inbox) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-TWICE01")
    before = len(inbox.received_by(None, JINFENG_MOBILE))
    for _ in range(2):
        invoke("NotifyFunction", {"complaint_id": case.complaint_id, "kind": "dispatched"})
    assert len(inbox.received_by(None, JINFENG_MOBILE)) == before + 1
    assert len(notes(stack, case.complaint_id)) == 1


def test_overdue_tells_the_enterprise_and_the_station(stack: LocalStack, invoke: Invoker) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-OVERDUE")
    invoke("EscalateFunction", {"complaint_id": case.complaint_id, "phase": "acceptance"})
    ok, result = invoke("NotifyFunction", {"complaint_id": case.complaint_id, "kind": "overdue"})
    assert ok and result["sent"] == 2
    assert [(d["template"], d["to"]) for _, d in notes(stack, case.complaint_id)] == [
        ("overdue", "enterprise"),
        ("overdue_station", "station"),
    ]


def test_a_reminder_goes_out_once_when_it_is_due(stack: LocalStack, invoke: Invoker, inbox: Inbox) -> None:
    case = dispatched(stack, invoke, "IT-NOTIFY-REMIND1")
    later = dispatched(stack, invoke, "IT-NOTIFY-REMIND2")
    now = stack.now()
    # As if dispatched two days ago: the deadline is hours away and its reminder time has just passed.
    soon = {"due_at": now + timedelta(hours=2), "remind_at": now - timedelta(minutes=1)}
    deadline = case.deadlines["acceptance"].model_copy(update=soon)
    moved = {**case.deadlines, "acceptance": deadline}
    updated, event = transition(case, "deadline_moved", "test", now, deadlines=moved)
    stack.cases.save(updated, event)
    before = len(inbox.received_by(None, JINFENG_MOBILE))
    first = invoke("ReminderFunction", {})[1]
    second = invoke("ReminderFunction", {})[1]
    assert first["reminded"] >= 1 and second["reminded"] == 0
    reminded = stack.cases.get(case.complaint_id)
    assert reminded is not None and reminded.reminders_sent == ["acceptance:0"]
    assert [h.event for h in reminded.history][-2:] == ["reminder_due", "notified"]
    assert reminded.history[-1].detail["template"] == "reminder"
    [sms] = inbox.received_by(None, JINFENG_MOBILE)[before:]
    assert "受理将于" in sms.body and sms.links
    assert reminded.history[-1].detail["link"] is True
    # A case whose reminder time has not come is left alone.
    assert stack.cases.get(later.complaint_id).reminders_sent == []  # type: ignore[union-attr]


def test_sms_through_amazon_sns_where_there_is_no_gateway(stack: LocalStack, inbox: Inbox) -> None:
    sns = Sms()
    sns.send("13900000299", "【金山ODR】测试")
    assert inbox.received_by(None, "13900000299")[-1].body == "【金山ODR】测试"
    with pytest.raises(DeliveryFailed) as failed:
        sns.send("not-a-number", "x")
    assert failed.value.permanent
