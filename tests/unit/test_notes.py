"""Notes between the station and the enterprise's specialist on in-memory ports: each reaches the other side by
its channel, shows on the case page and in the history, is kept once per key however it is repeated, and never
changes a deadline or the workflow's state. Here the message is sent in the same call (no queue is wired);
tests/unit/test_notes_after_the_answer.py sends it from the queue, as the deployed functions do.
tests/integration/test_notes.py proves the same over HTTP on moto."""

from __future__ import annotations

from typing import Any

import pytest

from odr_adapter.messages.sending import send_message
from odr_adapter.models.case import Case
from odr_adapter.models.links import link_key
from odr_adapter.models.notes import notes_of
from odr_adapter.people.actions import perform
from odr_adapter.people.enterprise_api import CaseNotFound, enterprise_note, note_answer
from odr_adapter.people.link_requests import open_link, submit_link
from odr_adapter.people.notes import MAX_NOTE_CHARS, Author, NoteInvalid, NoteRefused, add_note
from odr_adapter.people.views import case_view
from odr_adapter.workflow.steps import close
from tests.fakes import World
from tests.unit.conftest import load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
SHANYANG = "91310116MA1H3N8W6F"
JINFENG_MOBILE = "13900000201"
JINFENG_EMAIL = "odr@jinfeng-yungou.example.com"
STATION_EMAIL = "zhujing.station@example.com"
STATION = Author("station", "JS-ZJ")
SPECIALIST = Author("enterprise", JINFENG)
GUIDANCE = "请先核实订单的签收记录,\n再与消费者协商退款方式。"
REPORT = {"settled": True, "recovered_amount": "150.50", "summary": "部分退款,消费者同意"}


def dispatched(world: World, complaint_id: str) -> tuple[Case, str]:
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    return world.dispatch(raw)


def workflow_state(case: Case) -> dict[str, Any]:
    """Everything of a case but its version, history and what it owes: what a note must leave as it was (its
    message is owed until the write that records it, which here is within the same call)."""
    return case.model_dump(exclude={"version", "history", "notes_owed", "debt_began_at"})


def test_the_stations_guidance_reaches_the_specialist_by_sms_with_a_link_to_the_page(world: World) -> None:
    before, token = dispatched(world, "U-NOTE-GUIDE-001")

    outcome = add_note(before.complaint_id, STATION, GUIDANCE, "page-key-0001", "link", world.svc, world.delivery)

    assert outcome.status == "added"
    after = world.case(before.complaint_id)
    assert workflow_state(after) == workflow_state(before)  # no deadline, status or wait changed
    assert after.notes_owed == [] and after.owes_since is None  # its message was sent: nothing is owed
    assert world.executions.answered(token).state == "waiting"
    note = after.history[-2]
    assert (note.event, note.actor) == ("note_added", "station:JS-ZJ")
    assert note.detail == {
        "key": "page-key-0001",
        "from": "station",
        "to": "enterprise",
        "text": GUIDANCE,
        "via": "link",
    }
    assert (after.history[-1].event, after.history[-1].detail["key"]) == ("notified", "note:page-key-0001")
    [sms] = world.sms.to(JINFENG_MOBILE)
    assert "指导意见" in sms.body and "核实" not in sms.body  # the SMS points to the page; the text stays off it
    link_id = sms.body.rsplit("/l/", 1)[1]
    link = world.links.get(link_key(link_id))
    assert link is not None and (link.phase, link.actions) == ("acceptance", ["accept", "decline"])
    page = open_link(link_id, world.svc, world.delivery)
    assert "监管所指导意见" in page.html and "请先核实订单的签收记录," in page.html
    assert world.email.sent == []


def test_the_specialists_question_reaches_the_station_by_email_with_its_text(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-ASK-00001")
    perform(case.complaint_id, "accept", SPECIALIST.actor, {}, world.svc)
    world.wait(case.complaint_id, "resolution")
    before = world.case(case.complaint_id)

    outcome = add_note(
        case.complaint_id, SPECIALIST, "消费者要求三倍赔偿,是否支持?", None, "api", world.svc, world.delivery
    )

    assert outcome.status == "added" and workflow_state(world.case(case.complaint_id)) == workflow_state(before)
    [mail] = world.email.to(STATION_EMAIL)
    assert "企业ODR专员提问" in mail.subject and "消费者要求三倍赔偿,是否支持?" in mail.body
    assert "/l/" not in mail.body  # the station has nothing to do in the resolution phase: no link


def test_guidance_while_the_enterprise_has_nothing_to_do_goes_by_email_which_carries_the_text(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-REVIEW-01")
    perform(case.complaint_id, "accept", SPECIALIST.actor, {}, world.svc)
    world.wait(case.complaint_id, "resolution")
    perform(case.complaint_id, "report", SPECIALIST.actor, REPORT, world.svc)
    world.wait(case.complaint_id, "review")

    add_note(case.complaint_id, STATION, "退款凭证请补充到系统。", None, "session", world.svc, world.delivery)

    [mail] = world.email.to(JINFENG_EMAIL)
    assert "退款凭证请补充到系统。" in mail.body and "/l/" not in mail.body
    assert world.sms.to(JINFENG_MOBILE) == []  # e-mail first: an SMS would have nothing to point to


def test_the_same_key_is_one_note_and_one_message(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-TWICE-001")

    first = add_note(case.complaint_id, STATION, GUIDANCE, "double-tap-01", "link", world.svc, world.delivery)
    again = add_note(case.complaint_id, STATION, GUIDANCE, "double-tap-01", "link", world.svc, world.delivery)
    keyless = [add_note(case.complaint_id, STATION, "同一句话", None, "api", world.svc, world.delivery) for _ in "ab"]

    assert (first.status, again.status) == ("added", "repeated")
    assert [k.status for k in keyless] == ["added", "repeated"]  # no key: the author and text are the key
    assert [n.text for n in notes_of(world.case(case.complaint_id))] == [GUIDANCE, "同一句话"]
    assert len(world.sms.to(JINFENG_MOBILE)) == 2


def test_concurrent_submits_of_one_note_keep_one(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-RACE-0001")
    inner: list[str] = []

    def the_other_tab(store: Any, mine: Case) -> None:  # the same form, submitted again, gets in first
        other = add_note(case.complaint_id, STATION, GUIDANCE, "race-key-001", "link", world.svc, world.delivery)
        inner.append(other.status)

    world.cases.before_next_save(the_other_tab)
    outcome = add_note(case.complaint_id, STATION, GUIDANCE, "race-key-001", "link", world.svc, world.delivery)

    assert (inner, outcome.status) == (["added"], "repeated") and world.cases.stale == 1
    assert len(notes_of(world.case(case.complaint_id))) == 1
    assert len(world.sms.to(JINFENG_MOBILE)) == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("  \r\n ", "empty"),
        ("字" * (MAX_NOTE_CHARS + 1), "too_long"),
        ("请核实\x00订单", "not_text"),
        ("半个表情\ud83d", "not_text"),
    ],
)
def test_a_note_that_is_not_plain_text_within_the_bound_is_refused_and_keeps_nothing(
    world: World, text: str, code: str
) -> None:
    case, _ = dispatched(world, "U-NOTE-BAD-00001")

    with pytest.raises(NoteInvalid) as refused:
        add_note(case.complaint_id, STATION, text, None, "api", world.svc, world.delivery)

    assert refused.value.code == code and world.case(case.complaint_id).version == case.version
    assert world.sms.sent == [] and world.email.sent == []


def test_the_bound_counts_a_line_break_as_one_character(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-BOUND-001")
    text = ("字" * 9 + "\r\n") * 50  # 500 characters as a browser sends them (CRLF), 550 code points

    add_note(case.complaint_id, STATION, text, None, "link", world.svc, world.delivery)

    assert notes_of(world.case(case.complaint_id))[0].text == ("字" * 9 + "\n") * 49 + "字" * 9
    with pytest.raises(NoteInvalid) as refused:
        add_note(case.complaint_id, STATION, text, "bad key!", "api", world.svc, world.delivery)
    assert refused.value.code == "bad_key"


def test_only_the_cases_own_station_and_enterprise_write_while_it_is_open_and_dispatched(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-WHO-00001")
    for stranger in (Author("station", "JS-SY"), Author("enterprise", SHANYANG)):
        with pytest.raises(NoteRefused) as refused:
            add_note(case.complaint_id, stranger, GUIDANCE, None, "session", world.svc, world.delivery)
        assert refused.value.code == "not_party"

    screening = world.seed(load_example("odr-by-uscc") | {"complaint_id": "U-NOTE-SCREEN-01"}, station_code="JS-ZJ")
    with pytest.raises(NoteRefused) as refused:
        add_note(screening.complaint_id, STATION, GUIDANCE, None, "session", world.svc, world.delivery)
    assert refused.value.code == "not_dispatched"

    perform(case.complaint_id, "decline", SPECIALIST.actor, {}, world.svc)
    close(case.complaint_id, "returned", world.svc)
    with pytest.raises(NoteRefused) as refused:
        add_note(case.complaint_id, SPECIALIST, "还能留言吗?", None, "api", world.svc, world.delivery)
    assert refused.value.code == "closed"
    assert notes_of(world.case(case.complaint_id)) == []


def test_a_note_leaves_the_action_to_come(world: World) -> None:
    case, token = dispatched(world, "U-NOTE-THEN-ACT1")
    add_note(case.complaint_id, STATION, GUIDANCE, None, "session", world.svc, world.delivery)

    accepted = perform(case.complaint_id, "accept", SPECIALIST.actor, {}, world.svc)

    assert accepted.status == "accepted" and world.executions.answered(token).state == "succeeded"


# --- the case page and the API ------------------------------------------------------------------------------------


def page_link(world: World, complaint_id: str) -> str:
    sent = send_message(complaint_id, "dispatched", world.svc, world.delivery)
    assert sent.link_id is not None
    return sent.link_id


def test_the_page_takes_a_note_shows_it_escaped_and_keeps_its_forms(world: World) -> None:
    case, token = dispatched(world, "U-NOTE-PAGE-0001")
    link_id = page_link(world, case.complaint_id)
    shown = open_link(link_id, world.svc, world.delivery)
    assert 'id="form-note"' in shown.html and 'id="no-notes"' in shown.html and "向监管所提问" in shown.html

    form = {"action": "note", "note": "<script>alert(1)</script>\r\n能否分期退款?", "note_key": "form-key-0001"}
    page = submit_link(link_id, form, world.svc, world.delivery)
    again = submit_link(link_id, form, world.svc, world.delivery)  # the browser sends the form again

    assert page.status == again.status == 200 and 'id="note-sent"' in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\n能否分期退款?" in page.html and "<script>" not in page.html
    assert 'value="accept"' in page.html and 'value="form-key-0001"' not in page.html  # a new key for a new note
    assert len(notes_of(world.case(case.complaint_id))) == 1
    link = world.links.get(link_key(link_id))
    assert link is not None and link.used_at is None and world.executions.answered(token).state == "waiting"
    [mail] = world.email.to(STATION_EMAIL)
    assert "<script>alert(1)</script>" in mail.body  # plain text, as typed


def test_the_page_explains_a_bad_note_next_to_the_field_and_keeps_what_was_typed(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-PAGE-BAD1")
    link_id = page_link(world, case.complaint_id)
    version = world.case(case.complaint_id).version

    page = submit_link(
        link_id, {"action": "note", "note": "字" * 501, "note_key": "form-key-0002"}, world.svc, world.delivery
    )

    assert page.status == 400 and 'id="error-note"' in page.html and "不超过500字" in page.html
    assert 'value="form-key-0002"' in page.html and world.case(case.complaint_id).version == version


def test_an_expired_or_used_link_takes_no_note_after_its_deadline(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-PAGE-OLD1")
    link_id = page_link(world, case.complaint_id)
    assert submit_link(link_id, {"action": "accept"}, world.svc, world.delivery).status == 200
    used = submit_link(link_id, {"action": "note", "note": "已受理,何时回访?"}, world.svc, world.delivery)
    assert used.status == 200 and "留言已发送" in used.html  # a used link's recipient may still write

    world.clock.set(case.deadlines["acceptance"].due_at)
    late = submit_link(link_id, {"action": "note", "note": "还有一个问题"}, world.svc, world.delivery)
    assert late.status == 409 and "期限已过" in late.html
    assert [n.text for n in notes_of(world.case(case.complaint_id))] == ["已受理,何时回访?"]


def test_the_api_takes_notes_only_on_the_enterprises_own_cases_and_shows_them(world: World) -> None:
    case, _ = dispatched(world, "U-NOTE-API-00001")
    with pytest.raises(CaseNotFound):
        enterprise_note(SHANYANG, case.complaint_id, "问题", None, world.svc, world.delivery)

    outcome = enterprise_note(
        JINFENG, case.complaint_id, "能否延长受理期限?", "api-key-0001", world.svc, world.delivery
    )
    status, body = note_answer(outcome)
    repeat_status, _ = note_answer(
        enterprise_note(JINFENG, case.complaint_id, "能否延长受理期限?", "api-key-0001", world.svc, world.delivery)
    )

    assert (status, repeat_status, body["result"]) == (201, 200, "added")
    assert body["note"]["from"] == "enterprise" and body["note"]["text"] == "能否延长受理期限?"
    assert case_view(world.case(case.complaint_id))["notes"] == [body["note"]]
    assert world.case(case.complaint_id).deadlines == case.deadlines
