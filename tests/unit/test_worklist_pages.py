"""The worklist pages on in-memory ports: a case opened from a list shows a link's forms and acts through the same
code, as its session's holder; every POST needs the session's CSRF token; another holder's case is not found
and takes no action; no session means the sign-in page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from odr_adapter.models.links import ActionLink
from odr_adapter.models.sessions import COOKIE_NAME, Holder, new_token, session_record
from odr_adapter.people.actions import perform
from odr_adapter.people.pages import ACTION_NAMES, action_page
from odr_adapter.people.sessions import Session
from odr_adapter.people.worklist_pages import Desk, Request, case_page, log_out, submit_case, worklist_page
from tests.fakes import BASE_URL, FakeCasePages, FakeSessions, World
from tests.unit.conftest import START, load_example

pytestmark = pytest.mark.usefixtures("pauses")

JINFENG = "91310116MA1JK7Q26H"
SHANYANG = "91310116MA1H3N8W6F"
ZHUJING = Holder("station", "JS-ZJ")
CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
POST_FORM = re.compile(r'<form\b[^>]*method="post"[^>]*>(?!<input type="hidden" name="csrf")')


@pytest.fixture
def desk(world: World) -> Desk:
    world.queue_confirmations()
    return Desk(world.svc, world.delivery, FakeSessions(), FakeCasePages(world.cases), lambda: b"key")


def session_of(desk: Desk, holder: Holder) -> Session:
    token = new_token(holder)
    record = session_record(token, desk.svc.clock.now())
    desk.sessions.put(record)
    return Session(token, record)


def headers(session: Session | None) -> dict[str, str]:
    base = {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}
    return {**base, "Cookie": f"{COOKIE_NAME}={session.token.text}"} if session else base


def post(desk: Desk, session: Session, complaint_id: str, **form: str) -> tuple[int, str]:
    page = submit_case(desk, complaint_id, Request(headers(session), form={"csrf": session.csrf, **form}))
    return page.status, page.html


def dispatched(world: World, complaint_id: str) -> str:
    raw = load_example("odr-by-uscc")
    raw["complaint_id"] = complaint_id
    _, token = world.dispatch(raw)
    return token


def test_the_specialist_accepts_from_the_list_as_from_the_link(world: World, desk: Desk) -> None:
    token = dispatched(world, "WLP-ACCEPT-0001")
    specialist = session_of(desk, Holder("enterprise", JINFENG))
    page = case_page(desk, "WLP-ACCEPT-0001", Request(headers(specialist)))
    assert page.status == 200 and 'id="accept"' in page.html and 'id="decline"' in page.html
    assert POST_FORM.search(page.html) is None  # every POST form carries the CSRF token
    assert set(CSRF.findall(page.html)) == {specialist.csrf}
    assert 'id="back-to-list"' in page.html
    status, answer = post(desk, specialist, "WLP-ACCEPT-0001", action="accept")
    assert status == 200 and "提交成功" in answer
    assert world.executions.answered(token).state == "succeeded"
    accepted = [h for h in world.case("WLP-ACCEPT-0001").history if h.event == "accepted"]
    assert [h.actor for h in accepted] == [f"enterprise:{JINFENG}"]
    again = post(desk, specialist, "WLP-ACCEPT-0001", action="accept")
    assert again[0] == 200 and "已提交" in again[1]  # a repeat is answered, not redone


def test_every_form_the_case_page_can_show_carries_the_sessions_token(world: World) -> None:
    """Each POST form of the action page template, all at once (a phase shows only some): one the template gains
    later fails here until it carries the token."""
    dispatched(world, "WLP-ALLFORMS-01")
    link = ActionLink(
        key="",
        complaint_id="WLP-ALLFORMS-01",
        phase="acceptance",
        actions=list(ACTION_NAMES),  # type: ignore[arg-type]  # more than any phase allows: every form
        role="enterprise",
        recipient=JINFENG,
        expires_at=START + timedelta(days=3),
        created_at=START,
    )
    page = action_page(world.case("WLP-ALLFORMS-01"), link, world.directory.district(), START, csrf="t0k")
    forms = re.findall(r'<form\b[^>]*method="post"', page.html)
    assert len(forms) == len(ACTION_NAMES) + 1  # and the note's
    assert POST_FORM.search(page.html) is None and CSRF.findall(page.html) == ["t0k"] * len(forms)
    assert (
        'id="back-to-list"'
        not in action_page(world.case("WLP-ALLFORMS-01"), link, world.directory.district(), START).html
    )


def test_the_station_reviews_its_case_from_the_list(world: World, desk: Desk) -> None:
    dispatched(world, "WLP-REVIEW-0001")
    perform("WLP-REVIEW-0001", "accept", f"enterprise:{JINFENG}", {}, world.svc)
    world.wait("WLP-REVIEW-0001", "resolution")
    report = {"settled": True, "recovered_amount": "199.00", "summary": "全额退款"}
    perform("WLP-REVIEW-0001", "report", f"enterprise:{JINFENG}", report, world.svc)
    token = world.wait("WLP-REVIEW-0001", "review")
    station = session_of(desk, ZHUJING)
    page = case_page(desk, "WLP-REVIEW-0001", Request(headers(station)))
    assert 'id="approve"' in page.html and 'id="send_back"' in page.html
    status, _ = post(desk, station, "WLP-REVIEW-0001", action="send_back")  # no comment
    assert status == 400
    status, _ = post(desk, station, "WLP-REVIEW-0001", action="approve", comment="同意办结")
    assert status == 200 and world.executions.answered(token).state == "succeeded"
    assert [h.actor for h in world.case("WLP-REVIEW-0001").history if h.event == "approved"] == ["station:JS-ZJ"]


def test_a_post_without_the_sessions_token_or_from_another_origin_changes_nothing(world: World, desk: Desk) -> None:
    token = dispatched(world, "WLP-CSRF-000001")
    specialist = session_of(desk, Holder("enterprise", JINFENG))
    version = world.case("WLP-CSRF-000001").version
    other = session_of(desk, Holder("enterprise", JINFENG))
    for request in (
        Request(headers(specialist), form={"action": "accept"}),
        Request(headers(specialist), form={"action": "accept", "csrf": other.csrf}),
        Request(
            {**headers(specialist), "Origin": "https://evil.example.com"},
            form={"action": "accept", "csrf": specialist.csrf},
        ),
    ):
        assert submit_case(desk, "WLP-CSRF-000001", request).status == 403
    assert world.case("WLP-CSRF-000001").version == version
    assert world.executions.answered(token).state == "waiting"


def test_another_holders_case_is_not_found_and_takes_no_action(world: World, desk: Desk) -> None:
    token = dispatched(world, "WLP-OTHER-00001")  # 金枫云购's, at 朱泾所
    version = world.case("WLP-OTHER-00001").version
    for holder in (Holder("enterprise", SHANYANG), Holder("station", "JS-SY")):
        session = session_of(desk, holder)
        assert case_page(desk, "WLP-OTHER-00001", Request(headers(session))).status == 404
        for action in ("accept", "decline", "approve", "confirm_screening"):
            assert post(desk, session, "WLP-OTHER-00001", action=action)[0] == 404
        listed = worklist_page(desk, Request(headers(session), query={"q": "WLP-OTHER-00001"}))
        assert listed.status == 200 and re.findall(r"data-complaint-id=\"([^\"]+)\"", listed.html) == []
    assert world.case("WLP-OTHER-00001").version == version  # not even a refusal recorded on it
    assert world.executions.answered(token).state == "waiting"


def test_the_station_cannot_take_the_enterprises_action_on_its_own_case(world: World, desk: Desk) -> None:
    token = dispatched(world, "WLP-ROLE-000001")
    station = session_of(desk, ZHUJING)
    page = case_page(desk, "WLP-ROLE-000001", Request(headers(station)))
    assert page.status == 200 and 'id="accept"' not in page.html and 'id="not-your-turn"' in page.html
    assert post(desk, station, "WLP-ROLE-000001", action="accept")[0] == 400  # never a station's action
    assert world.executions.answered(token).state == "waiting"


def test_without_a_session_the_pages_lead_to_sign_in(world: World, desk: Desk) -> None:
    dispatched(world, "WLP-NOSESSION-01")
    for page in (
        worklist_page(desk, Request(headers(None))),
        case_page(desk, "WLP-NOSESSION-01", Request(headers(None))),
        submit_case(desk, "WLP-NOSESSION-01", Request(headers(None), form={"action": "accept"})),
    ):
        assert page.status == 303 and page.headers["Location"] == f"{BASE_URL}/w/signin"


def test_signing_out_ends_the_session_and_clears_the_cookie(world: World, desk: Desk) -> None:
    station = session_of(desk, ZHUJING)
    assert log_out(desk, Request(headers(station), form={})).status == 403  # a sign-out needs its token too
    page = log_out(desk, Request(headers(station), form={"csrf": station.csrf}))
    assert page.status == 303 and "Max-Age=0" in page.headers["Set-Cookie"]
    after = worklist_page(desk, Request(headers(station)))
    assert after.status == 303 and after.headers["Location"].endswith("/w/signin")


def test_the_list_shows_the_holders_rows_and_refuses_bad_filters_and_cursors(world: World, desk: Desk) -> None:
    dispatched(world, "WLP-LIST-000001")
    station = session_of(desk, ZHUJING)
    page = worklist_page(desk, Request(headers(station)))
    assert page.status == 200 and re.findall(r'data-complaint-id="([^"]+)"', page.html) == ["WLP-LIST-000001"]
    assert "待受理" in page.html and "剩余" in page.html
    assert POST_FORM.search(page.html) is None  # the sign-out form carries the token
    assert worklist_page(desk, Request(headers(station), query={"phase": "nonsense"})).status == 400
    assert worklist_page(desk, Request(headers(station), query={"cursor": "forged.cursor"})).status == 400
    specialist = session_of(desk, Holder("enterprise", JINFENG))
    assert worklist_page(desk, Request(headers(specialist), query={"enterprise": SHANYANG})).status == 400


def test_a_note_from_the_list_reaches_the_other_side_as_from_a_link(world: World, desk: Desk) -> None:
    dispatched(world, "WLP-NOTE-000001")
    station = session_of(desk, ZHUJING)
    page = case_page(desk, "WLP-NOTE-000001", Request(headers(station)))
    assert 'id="form-note"' in page.html and POST_FORM.search(page.html) is None
    key = re.findall(r'name="note_key" value="([^"]+)"', page.html)[0]
    status, answer = post(desk, station, "WLP-NOTE-000001", action="note", note="请尽快联系消费者", note_key=key)
    assert status == 200 and "已发送" in answer
    [kept] = [h for h in world.case("WLP-NOTE-000001").history if h.event == "note_added"]
    assert kept.actor == "station:JS-ZJ" and kept.detail["via"] == "session"
    assert post(desk, station, "WLP-NOTE-000001", action="note", note="", note_key="k" * 16)[0] == 400
