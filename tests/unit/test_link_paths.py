"""Opening and submitting action links on in-memory ports (tests/integration/test_links.py proves the same over
HTTP): a link acts once, only on its own case, only for its recipient, only before its deadline; forged ids act
on nothing; a bad form or a workflow not ready yet leaves the link usable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from odr_adapter.messages.sending import send_message
from odr_adapter.models.case import Case
from odr_adapter.models.links import ActionLink, link_key
from odr_adapter.people.link_requests import open_link, submit_link
from odr_adapter.workflow.screening import screen_and_route
from tests.fakes import World
from tests.unit.conftest import load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
SHANYANG = "91310116MA1H3N8W6F"


def dispatched(world: World, complaint_id: str) -> tuple[Case, str, str]:
    """A case waiting for the acceptance and the link its dispatch message carried: (case, token, link id)."""
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    _, token = world.dispatch(raw)
    sent = send_message(complaint_id, "dispatched", world.svc, world.delivery)
    assert sent.delivered and sent.link_id is not None
    return world.case(complaint_id), token, sent.link_id


def put_link(
    world: World, link_id: str, case: Case, recipient: str = JINFENG, expires: timedelta = timedelta(days=1)
) -> None:
    world.links.put(
        ActionLink(
            key=link_key(link_id),
            complaint_id=case.complaint_id,
            phase="acceptance",
            actions=["accept", "decline"],
            role="enterprise",
            recipient=recipient,
            expires_at=world.clock.now() + expires,
            created_at=world.clock.now() - timedelta(days=2),
        )
    )


def test_opening_shows_the_case_and_changes_nothing(world: World) -> None:
    case, _, link_id = dispatched(world, "U-LINK-OPEN-0001")

    page = open_link(link_id, world.svc, world.delivery)

    assert page.status == 200 and 'value="accept"' in page.html and 'value="decline"' in page.html
    assert "林晓" in page.html and "13761234567" in page.html  # the specialist must reach the consumer
    assert "上海市金山区朱泾镇某路1号" not in page.html  # but not more than that
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert world.case(case.complaint_id).version == case.version
    link = world.links.get(link_key(link_id))
    assert link is not None and link.used_at is None


def test_submitting_ends_the_wait_and_offers_the_result_link(world: World) -> None:
    case, token, link_id = dispatched(world, "U-LINK-ACCEPT-01")

    page = submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)

    assert page.status == 200 and "提交成功" in page.html and "https://odr.example.gov.cn/l/" in page.html
    after = world.case(case.complaint_id)
    assert after.status == "accepted" and after.history[-2].actor == f"enterprise:{JINFENG}"
    assert world.executions.answered(token).state == "succeeded"
    link = world.links.get(link_key(link_id))
    assert link is not None and (link.used_action, link.result) == ("accept", "done")


@pytest.mark.parametrize("forged", ["AAAAAAAAAAAAAAAA", "x", "U-LINK-FORGED-01", "..%2F..%2Fapi", "a" * 65])
def test_a_forged_or_malformed_link_acts_on_nothing(world: World, forged: str) -> None:
    case, token, _ = dispatched(world, "U-LINK-FORGED-01")

    assert open_link(forged, world.svc, world.delivery).status == 404
    posted = submit_link(forged, {"action": "accept"}, world.svc, world.delivery)

    assert posted.status == 404 and "链接无效" in posted.html
    assert world.case(case.complaint_id).version == case.version
    assert world.executions.answered(token).state == "waiting"


def test_a_reused_link_is_answered_not_redone_and_cannot_do_something_else(world: World) -> None:
    case, _, link_id = dispatched(world, "U-LINK-REUSED-01")
    assert submit_link(link_id, {"action": "accept"}, world.svc, world.delivery).status == 200

    again = submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)
    other = submit_link(link_id, {"action": "decline"}, world.svc, world.delivery)
    shown = open_link(link_id, world.svc, world.delivery)

    assert again.status == 200 and "已经提交过" in again.html
    assert other.status == 409 and "链接已使用" in other.html
    assert shown.status == 200 and "已于" in shown.html and 'value="decline"' not in shown.html
    after = world.case(case.complaint_id)
    assert after.status == "accepted" and "declined" not in world.events(case.complaint_id)
    assert [h.detail for h in after.history if h.event in ("action_repeated", "action_refused")] == [
        {"action": "accept", "via": "link"},
        {"action": "decline", "via": "link", "reason": "link_used", "used_for": "accept"},
    ]


def test_an_expired_link_is_refused_recorded_and_not_used_up(world: World) -> None:
    case, token, _ = dispatched(world, "U-LINK-EXPIRED-1")
    put_link(world, "expired-link-0000000001", case, expires=-timedelta(minutes=1))

    shown = open_link("expired-link-0000000001", world.svc, world.delivery)
    posted = submit_link("expired-link-0000000001", {"action": "accept"}, world.svc, world.delivery)

    assert shown.status == 410 and "期限已过" in shown.html and 'value="accept"' not in shown.html
    assert posted.status == 409 and "期限已过" in posted.html
    after = world.case(case.complaint_id)
    assert after.status == "dispatched" and world.executions.answered(token).state == "waiting"
    assert (after.history[-1].event, after.history[-1].detail) == (
        "action_refused",
        {"action": "accept", "via": "link", "reason": "deadline_passed"},
    )
    link = world.links.get(link_key("expired-link-0000000001"))
    assert link is not None and link.used_at is None


def test_a_link_never_acts_for_another_enterprise(world: World) -> None:
    ours, token, _ = dispatched(world, "U-LINK-OURS-0001")
    put_link(world, "wrong-recipient-000000001", ours, recipient=SHANYANG)  # say, the case was re-routed

    assert open_link("wrong-recipient-000000001", world.svc, world.delivery).status == 404
    assert submit_link("wrong-recipient-000000001", {"action": "decline"}, world.svc, world.delivery).status == 404

    after = world.case(ours.complaint_id)
    assert after.status == "dispatched" and after.version == ours.version
    assert world.executions.answered(token).state == "waiting"


def test_a_form_naming_another_case_still_acts_on_the_links_own(world: World) -> None:
    theirs, _, their_link = dispatched(world, "U-LINK-THEIRS-01")
    ours, _, _ = dispatched(world, "U-LINK-OURS-0002")

    page = submit_link(their_link, {"action": "accept", "complaint_id": ours.complaint_id}, world.svc, world.delivery)

    assert page.status == 200
    assert world.case(theirs.complaint_id).status == "accepted"
    assert world.case(ours.complaint_id).version == ours.version


def test_a_link_of_one_phase_cannot_do_another_phases_action(world: World) -> None:
    case, _, link_id = dispatched(world, "U-LINK-PHASE-001")

    page = submit_link(link_id, {"action": "approve", "comment": "ok"}, world.svc, world.delivery)

    assert page.status == 400 and "不支持" in page.html
    assert world.case(case.complaint_id).version == case.version


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"settled": "yes", "recovered_amount": "199.00", "summary": ""}, "请填写处理经过"),
        ({"settled": "no", "summary": "沟通未果"}, "未和解时请填写原因"),
        ({"settled": "yes", "recovered_amount": "一百", "summary": "已退款"}, "请填写金额"),
        ({"recovered_amount": "1", "summary": "已退款"}, "请选择处理结果"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_the_link_stays_usable(
    world: World, fields: dict[str, str], error: str
) -> None:
    case, _, link_id = dispatched(world, "U-LINK-BADINPUT1")
    report_link = submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)
    token = world.wait(case.complaint_id, "resolution")
    [result_link] = [lk for lk in world.links.for_case(case.complaint_id) if lk.phase == "resolution"]
    report_id = report_link.html.split("https://odr.example.gov.cn/l/", 1)[1].split('"', 1)[0]
    assert link_key(report_id) == result_link.key

    got = submit_link(report_id, {"action": "report", **fields}, world.svc, world.delivery)

    assert got.status == 400 and error in got.html and 'value="report"' in got.html
    after = world.case(case.complaint_id)
    assert after.status == "accepted" and after.feedback is None
    fixed = {"action": "report", "settled": "yes", "recovered_amount": "199.00", "summary": "已退款"}
    assert submit_link(report_id, fixed, world.svc, world.delivery).status == 200
    assert world.case(case.complaint_id).feedback is not None
    assert world.executions.answered(token).state == "succeeded"


def test_a_submit_before_the_workflow_waits_asks_to_retry_and_keeps_the_link(world: World) -> None:
    raw = load_example("odr-by-uscc")
    case = world.seed(raw)
    screen_and_route(case.complaint_id, world.svc)
    put_link(world, "not-ready-link-00000001", world.case(case.complaint_id))

    page = submit_link("not-ready-link-00000001", {"action": "accept"}, world.svc, world.delivery)

    assert page.status == 503 and page.headers["Retry-After"] == "3"
    link = world.links.get(link_key("not-ready-link-00000001"))
    assert link is not None and link.used_at is None  # released: the retry may claim it
    token = world.wait(case.complaint_id, "acceptance")
    assert submit_link("not-ready-link-00000001", {"action": "accept"}, world.svc, world.delivery).status == 200
    assert world.executions.answered(token).state == "succeeded"


def test_a_submit_that_crashed_releases_the_link(world: World) -> None:
    case, token, link_id = dispatched(world, "U-LINK-CRASH-001")
    world.executions.crash_next()

    with pytest.raises(ConnectionError):  # the acceptance is written, its callback lost on the way
        submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)

    link = world.links.get(link_key(link_id))
    assert link is not None and link.used_at is None  # the person may submit again
    assert world.case(case.complaint_id).status == "accepted"
    assert world.executions.answered(token).state == "waiting"


def test_submitting_again_after_a_lost_callback_ends_the_wait(world: World) -> None:
    case, token, link_id = dispatched(world, "U-LINK-CRASH-002")
    world.executions.crash_next()
    with pytest.raises(ConnectionError):
        submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)

    page = submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)

    assert page.status == 200 and world.events(case.complaint_id).count("accepted") == 1
    assert world.executions.answered(token).state == "succeeded"


def test_a_submit_that_raced_the_timer_says_too_late_then_and_afterwards(world: World) -> None:
    case, token, link_id = dispatched(world, "U-LINK-RACED-001")
    world.executions.expire(token)

    page = submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)

    assert page.status == 409 and "期限已过" in page.html
    link = world.links.get(link_key(link_id))
    assert link is not None and (link.used_action, link.result) == ("accept", "too_late")
    assert world.case(case.complaint_id).status == "dispatched"
    assert open_link(link_id, world.svc, world.delivery).status == 410
    assert submit_link(link_id, {"action": "accept"}, world.svc, world.delivery).status == 409


def test_two_submits_of_one_link_at_once_act_once(world: World) -> None:
    case, token, link_id = dispatched(world, "U-LINK-DOUBLE-01")
    pages = []

    def second_tab(*_: object) -> None:  # the other submit claims and acts while the first one is writing
        pages.append(submit_link(link_id, {"action": "accept"}, world.svc, world.delivery))

    world.cases.before_next_save(second_tab)

    first = submit_link(link_id, {"action": "accept"}, world.svc, world.delivery)

    [second] = pages
    assert first.status == 200 and "提交成功" in first.html
    # The claim was taken by a submit still at work: said so (not "done"), nothing recorded for it.
    assert second.status == 409 and "正在处理" in second.html and second.headers["Retry-After"]
    assert world.events(case.complaint_id).count("accepted") == 1
    assert "action_repeated" not in world.events(case.complaint_id)
    assert world.executions.answered(token).state == "succeeded"
