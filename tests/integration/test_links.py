"""Secure action links on the emulated stack: the real workflow sends the message, the link is followed over
HTTP through the local API Gateway, and the form's POST ends the wait. Forged, expired, reused and other
enterprises' links act on nothing, and say so."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from odr_adapter.data_access.links import LinkStore
from odr_adapter.models.case import Case
from odr_adapter.models.links import ActionLink, link_key
from odr_local.inbox import Inbox, Seen, open_link, submit
from odr_local.stack import REGION, SES_REGION, LocalStack
from tests.waiting import wait_for_case

from .confirmations import send_confirmations
from .helpers import record, seed_case

JINFENG = "91310116MA1JK7Q26H"  # class A, SMS first (13900000201)
JINFENG_MOBILE = "13900000201"
SHANYANG = "91310116MA1H3N8W6F"
SHANYANG_MOBILE = "13900000202"


def start_case(stack: LocalStack, complaint_id: str, uscc: str = JINFENG) -> Case:
    """A case whose real workflow runs up to the enterprise's acceptance wait."""
    raw = record(complaint_id=complaint_id)
    if uscc != JINFENG:
        ent = stack.district.by_uscc(uscc)
        assert ent is not None
        raw["respondent"] = {**raw["respondent"], "uscc": uscc, "name": ent.name, "shop_name": ent.shop_names[0]}
    case = seed_case(stack, raw)
    stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=case.execution_name,
        input=json.dumps({"complaint_id": complaint_id}),
    )
    return wait_for_case(stack, complaint_id, lambda c: c.pending is not None and c.pending.phase == "acceptance")


def link_pages(stack: LocalStack, complaint_id: str, email: str | None, mobile: str | None) -> list[Seen]:
    """Every link page, among the messages this person received, that is about the case (newest last); queued
    confirmations are sent first (the confirmation function's trigger)."""
    send_confirmations(stack)
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    pages = [open_link(url) for m in inbox.received_by(email, mobile) for url in m.links]
    return [p for p in pages if p.complaint_id == complaint_id]


def events(stack: LocalStack, complaint_id: str) -> list[str]:
    case = stack.cases.get(complaint_id)
    assert case is not None
    return [h.event for h in case.history]


def test_the_message_link_opens_the_case_and_its_form_ends_the_wait(stack: LocalStack) -> None:
    case = start_case(stack, "IT-LINK-ACCEPT-001")
    [page] = link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)
    assert (page.status, page.kind, page.phase) == (200, "action", "acceptance")
    assert set(page.forms) == {"accept", "decline", "note"}  # a note to the station, beside the actions
    assert "林晓" in page.text and "13761234567" in page.text  # the specialist must reach the consumer
    assert "上海市金山区朱泾镇某路1号" not in page.text  # but not more than that
    link_id = page.url.rsplit("/", 1)[1]
    assert case.complaint_id not in page.url and case.pending is not None and link_id not in case.pending.task_token
    # Opening is not acting (mail scanners open links): nothing changed.
    assert stack.cases.get(case.complaint_id).version == case.version  # type: ignore[union-attr]

    done = submit(page, "accept", {})
    assert done.status == 200 and "提交成功" in done.text
    accepted = wait_for_case(
        stack, case.complaint_id, lambda c: c.pending is not None and c.pending.phase == "resolution"
    )
    assert accepted.status == "accepted"
    [stored] = [h for h in accepted.history if h.event == "accepted"]
    assert stored.actor == f"enterprise:{JINFENG}"
    # The confirmation carries the link for the result, also offered on the page.
    report_page = link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)[-1]
    assert report_page.phase == "resolution" and set(report_page.forms) == {"report", "note"}


def test_a_forged_or_malformed_link_acts_on_nothing(stack: LocalStack) -> None:
    case = start_case(stack, "IT-LINK-FORGED-01")
    base = f"{stack.api.url}/prod/l/"
    for forged in ("AAAAAAAAAAAAAAAA", "x", case.complaint_id, "..%2F..%2Fapi", case.pending.task_token[:40]):  # type: ignore[union-attr]
        got = requests.get(base + forged, timeout=10)
        assert got.status_code in (403, 404) and "accept" not in got.text
        posted = requests.post(base + forged, data={"action": "accept"}, timeout=10)
        assert posted.status_code in (403, 404)
    assert stack.cases.get(case.complaint_id).version == case.version  # type: ignore[union-attr]


def test_a_reused_link_is_answered_not_redone_and_cannot_do_something_else(stack: LocalStack) -> None:
    case = start_case(stack, "IT-LINK-REUSED-01")
    [page] = link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)
    assert submit(page, "accept", {}).status == 200
    wait_for_case(stack, case.complaint_id, lambda c: c.status == "accepted")
    again = submit(page, "accept", {})
    assert again.status == 200 and "已经提交过" in again.text
    other = submit(page, "decline", {})
    assert other.status == 409 and "链接已使用" in other.text
    shown = open_link(page.url)
    assert shown.kind == "notice" and "已于" in shown.text and not shown.forms
    final = wait_for_case(stack, case.complaint_id, lambda c: "action_refused" in [h.event for h in c.history])
    assert final.status == "accepted" and "declined" not in events(stack, case.complaint_id)
    repeated = [h.detail for h in final.history if h.event in ("action_repeated", "action_refused")]
    assert repeated == [
        {"action": "accept", "via": "link"},
        {"action": "decline", "via": "link", "reason": "link_used", "used_for": "accept"},
    ]


def test_an_expired_link_is_refused_and_says_the_case_went_back(stack: LocalStack) -> None:
    case = start_case(stack, "IT-LINK-EXPIRED-1")
    links = LinkStore(stack.deployment.ref("CasesTable"))
    link_id = "expired-link-0000000001"
    now = stack.now()
    links.put(
        ActionLink(
            key=link_key(link_id),
            complaint_id=case.complaint_id,
            phase="acceptance",
            actions=["accept", "decline"],
            role="enterprise",
            recipient=JINFENG,
            expires_at=now - timedelta(minutes=1),
            created_at=now - timedelta(days=2),
        )
    )
    url = f"{stack.api.url}/prod/l/{link_id}"
    shown = open_link(url)
    assert shown.status == 410 and "期限已过" in shown.text and not shown.forms
    posted = requests.post(url, data={"action": "accept"}, timeout=10)
    assert posted.status_code == 409 and "期限已过" in posted.text
    after = stack.cases.get(case.complaint_id)
    assert after is not None and after.status == "dispatched"
    assert after.history[-1].event == "action_refused"
    assert after.history[-1].detail == {"action": "accept", "via": "link", "reason": "deadline_passed"}
    assert links.get(link_key(link_id)).used_at is None  # type: ignore[union-attr]


def test_one_enterprises_link_never_acts_on_another_enterprises_case(stack: LocalStack) -> None:
    theirs = start_case(stack, "IT-LINK-THEIRS-01", SHANYANG)
    ours = start_case(stack, "IT-LINK-OURS-0001", JINFENG)
    [their_page] = link_pages(stack, theirs.complaint_id, None, SHANYANG_MOBILE)
    # A form field naming another case is not how a link chooses its case: it acts on its own only.
    got = requests.post(their_page.url, data={"action": "accept", "complaint_id": ours.complaint_id}, timeout=10)
    assert got.status_code == 200
    wait_for_case(stack, theirs.complaint_id, lambda c: c.status == "accepted")
    assert stack.cases.get(ours.complaint_id).status == "dispatched"  # type: ignore[union-attr]
    # A link made out to one enterprise for a case that names another (say, re-routed) acts on nothing.
    links = LinkStore(stack.deployment.ref("CasesTable"))
    link_id = "wrong-recipient-000000001"
    links.put(
        ActionLink(
            key=link_key(link_id),
            complaint_id=ours.complaint_id,
            phase="acceptance",
            actions=["accept", "decline"],
            role="enterprise",
            recipient=SHANYANG,
            expires_at=ours.deadlines["acceptance"].due_at,
            created_at=stack.now(),
        )
    )
    url = f"{stack.api.url}/prod/l/{link_id}"
    assert open_link(url).status == 404
    assert requests.post(url, data={"action": "decline"}, timeout=10).status_code == 404
    after = stack.cases.get(ours.complaint_id)
    assert after is not None and after.status == "dispatched" and after.version == ours.version


def test_a_link_of_one_phase_cannot_do_another_phases_action(stack: LocalStack) -> None:
    case = start_case(stack, "IT-LINK-PHASE-001")
    [page] = link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)
    got = requests.post(page.url, data={"action": "approve", "comment": "ok"}, timeout=10)
    assert got.status_code == 400 and "不支持" in got.text
    assert stack.cases.get(case.complaint_id).version == case.version  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cid", "fields", "error"),
    [
        ("IT-LINK-BAD-SUMMARY", {"settled": "yes", "recovered_amount": "199.00", "summary": ""}, "请填写处理经过"),
        ("IT-LINK-BAD-REASON1", {"settled": "no", "summary": "沟通未果"}, "未和解时请填写原因"),
        ("IT-LINK-BAD-AMOUNT1", {"settled": "yes", "recovered_amount": "一百", "summary": "已退款"}, "请填写金额"),
        ("IT-LINK-BAD-CHOICE1", {"recovered_amount": "1", "summary": "已退款"}, "请选择处理结果"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_loses_nothing(
    stack: LocalStack, cid: str, fields: dict[str, str], error: str
) -> None:
    start_case(stack, cid)
    [page] = link_pages(stack, cid, None, JINFENG_MOBILE)
    submit(page, "accept", {})
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "resolution")
    report_page = link_pages(stack, cid, None, JINFENG_MOBILE)[-1]
    got = submit(report_page, "report", fields)
    assert got.status == 400 and error in got.text and got.forms  # the form again, with the error
    assert {k: got.forms["report"].fields.get(k) for k in fields} == fields  # what was typed is still there
    after = stack.cases.get(cid)
    assert after is not None and after.status == "accepted" and after.feedback is None
    # The link was not used up by the bad submit: the corrected form goes through.
    fixed = submit(report_page, "report", {"settled": "yes", "recovered_amount": "199.00", "summary": "已退款"})
    assert fixed.status == 200
    settled = wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "review")
    assert settled.feedback is not None  # and the workflow has told the station (no step left running)
