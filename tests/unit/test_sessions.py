"""Sign-in to the worklists on in-memory ports: a login link goes only to a registered contact, is used once and
only while fresh; a session is bound to its holder, ends after 12 hours, at sign-out and at revocation; the
sign-in page answers the same whoever asks; POSTs need their session's CSRF token and our origin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from odr_adapter.models.sessions import (
    COOKIE_NAME,
    LOGIN_LINK_MINUTES,
    MAX_OPEN_LOGIN_LINKS,
    SESSION_HOURS,
    Holder,
    Token,
    parse_token,
    session_cookie,
)
from odr_adapter.people.sessions import (
    contact_of,
    csrf_ok,
    current_session,
    request_login,
    revoke_all,
    same_origin,
    sign_in,
    sign_out,
)
from odr_adapter.people.worklist_pages import Desk, Request, ask_for_login
from tests.fakes import BASE_URL, NO_BACKOFF, FakeCasePages, FakeSessions, World

JINFENG = "91310116MA1JK7Q26H"
JINFENG_MOBILE = "13900000201"
ZHUJING_EMAIL = "zhujing.station@example.com"
ZHUJING = Holder("station", "JS-ZJ")
LINK = re.compile(r"https://odr\.example\.gov\.cn/w/login/(\S+?)(?=\s|$)")
OURS = {"Origin": BASE_URL}


@pytest.fixture
def sessions() -> FakeSessions:
    return FakeSessions()


def ask(world: World, sessions: FakeSessions, typed: str) -> int:
    return request_login(typed, world.svc, sessions, BASE_URL, NO_BACKOFF)


def login_token(text: str) -> str:
    found = LINK.findall(text)
    assert len(found) == 1, text
    return str(found[0])


def signed_in(world: World, sessions: FakeSessions, typed: str = JINFENG_MOBILE) -> Token:
    assert ask(world, sessions, typed) == 1
    sent = world.sms.sent[-1] if "@" not in typed else world.email.sent[-1]
    session = sign_in(login_token(sent.body), world.svc, sessions)
    assert session is not None
    return session.token


def cookie(token: Token) -> str:
    return f"other=1; {COOKIE_NAME}={token.text}"


# --- who gets a link ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["13900000201", "+86 139 0000 0201", "8613900000201", " 139-0000-0201 "])
def test_a_mobile_number_is_one_number_however_it_is_written(typed: str) -> None:
    assert contact_of(typed) == contact_of("13900000201") is not None


def test_an_address_is_compared_without_case_and_nonsense_is_no_contact() -> None:
    assert contact_of("ZhuJing.Station@Example.com") == contact_of(ZHUJING_EMAIL)
    assert [contact_of(t) for t in ("", "not a contact", "12345", "a@b", "x" * 300)] == [None] * 5


def test_the_specialists_registered_mobile_gets_a_link_for_its_enterprise_and_only_its_hash_is_kept(
    world: World, sessions: FakeSessions
) -> None:
    assert ask(world, sessions, "+86 139 0000 0201") == 1
    (sms,) = world.sms.sent
    assert sms.to == JINFENG_MOBILE and f"{LOGIN_LINK_MINUTES}分钟内有效" in sms.body
    token = parse_token(login_token(sms.body))
    assert token is not None and token.holder == Holder("enterprise", JINFENG)
    stored = str(sessions.items)
    assert token.secret not in stored and token.key_hash in stored
    assert world.email.sent == []  # the link goes where the person said, not to the other channel


def test_the_stations_registered_address_gets_an_email_link_for_the_station(
    world: World, sessions: FakeSessions
) -> None:
    assert ask(world, sessions, "ZHUJING.station@example.com") == 1
    (mail,) = world.email.sent
    assert mail.to == ZHUJING_EMAIL and "登录链接" in mail.subject
    token = parse_token(login_token(mail.body))
    assert token is not None and token.holder == ZHUJING


def test_an_unregistered_contact_or_a_delisted_specialist_gets_nothing(world: World, sessions: FakeSessions) -> None:
    assert ask(world, sessions, "13912345678") == 0
    assert ask(world, sessions, "someone@example.com") == 0
    assert ask(world, sessions, "13900000211") == 0  # 朱泾数码: delisted on 2026-06-30
    assert (world.sms.sent, world.email.sent, sessions.items) == ([], [], {})


def test_asking_again_and_again_sends_at_most_a_few_links_until_they_expire(
    world: World, sessions: FakeSessions
) -> None:
    for _ in range(MAX_OPEN_LOGIN_LINKS + 2):
        ask(world, sessions, JINFENG_MOBILE)
    assert len(world.sms.sent) == MAX_OPEN_LOGIN_LINKS
    world.clock.advance(timedelta(minutes=LOGIN_LINK_MINUTES))
    assert ask(world, sessions, JINFENG_MOBILE) == 1


def test_the_sign_in_page_answers_the_same_whoever_asks(world: World, sessions: FakeSessions) -> None:
    desk = Desk(world.svc, world.delivery, sessions, FakeCasePages(world.cases), lambda: b"k")
    answers = {
        typed: ask_for_login(desk, Request(OURS, form={"contact": typed}))
        for typed in (JINFENG_MOBILE, ZHUJING_EMAIL, "13912345678", "nobody@example.com")
    }
    assert len(world.sms.sent) + len(world.email.sent) == 2
    assert {(p.status, p.html) for p in answers.values()} == {(200, answers[JINFENG_MOBILE].html)}
    assert "如该联系方式已登记,登录链接已发送" in answers["13912345678"].html


# --- the link and the session ---------------------------------------------------------------------------------------


def test_a_login_link_opens_one_session_once(world: World, sessions: FakeSessions) -> None:
    ask(world, sessions, JINFENG_MOBILE)
    link = login_token(world.sms.sent[0].body)
    session = sign_in(link, world.svc, sessions)
    assert session is not None and session.holder == Holder("enterprise", JINFENG) and session.csrf
    assert session.token.text != link  # the session's secret is not the link's
    assert sign_in(link, world.svc, sessions) is None
    assert current_session(cookie(session.token), world.svc, sessions) == session


def test_a_login_link_expires_after_its_minutes(world: World, sessions: FakeSessions) -> None:
    ask(world, sessions, JINFENG_MOBILE)
    world.clock.advance(timedelta(minutes=LOGIN_LINK_MINUTES))
    assert sign_in(login_token(world.sms.sent[0].body), world.svc, sessions) is None


def test_a_link_to_a_contact_no_longer_registered_opens_nothing(world: World, sessions: FakeSessions) -> None:
    ask(world, sessions, JINFENG_MOBILE)
    district = world.district.model_copy(deep=True)
    district.enterprises[0].contact_mobile = "13900009999"  # the specialist changed meanwhile
    world.directory.replace(district)
    assert sign_in(login_token(world.sms.sent[0].body), world.svc, sessions) is None


def test_a_token_whose_holder_was_changed_finds_nothing(world: World, sessions: FakeSessions) -> None:
    token = signed_in(world, sessions)
    forged = Token(Holder("enterprise", "91310116MA1H3N8W6F"), token.secret)
    assert current_session(cookie(forged), world.svc, sessions) is None
    altered = token.secret[:-1] + ("B" if token.secret.endswith("A") else "A")
    assert current_session(cookie(Token(token.holder, altered)), world.svc, sessions) is None
    assert current_session(f"{COOKIE_NAME}=garbage", world.svc, sessions) is None


def test_a_session_ends_after_its_hours(world: World, sessions: FakeSessions) -> None:
    token = signed_in(world, sessions)
    world.clock.advance(timedelta(hours=SESSION_HOURS) - timedelta(seconds=1))
    assert current_session(cookie(token), world.svc, sessions) is not None
    world.clock.advance(timedelta(seconds=1))
    assert current_session(cookie(token), world.svc, sessions) is None


def test_signing_out_ends_only_that_session(world: World, sessions: FakeSessions) -> None:
    first, second = signed_in(world, sessions), signed_in(world, sessions)
    session = current_session(cookie(first), world.svc, sessions)
    assert session is not None
    sign_out(session, world.svc, sessions)
    assert current_session(cookie(first), world.svc, sessions) is None
    assert current_session(cookie(second), world.svc, sessions) is not None


def test_revoking_a_holder_ends_its_sessions_and_links_and_no_one_elses(world: World, sessions: FakeSessions) -> None:
    specialist = signed_in(world, sessions)
    station = signed_in(world, sessions, ZHUJING_EMAIL)
    ask(world, sessions, JINFENG_MOBILE)  # a link not used yet
    unused = login_token(world.sms.sent[-1].body)
    assert revoke_all(Holder("enterprise", JINFENG), sessions, world.clock.now()) == 2
    assert current_session(cookie(specialist), world.svc, sessions) is None
    assert sign_in(unused, world.svc, sessions) is None
    assert current_session(cookie(station), world.svc, sessions) is not None
    assert revoke_all(Holder("enterprise", JINFENG), sessions, world.clock.now()) == 0


def test_a_delisted_enterprises_session_stops(world: World, sessions: FakeSessions) -> None:
    token = signed_in(world, sessions)
    district = world.district.model_copy(deep=True)
    district.enterprises[0].delisted_on = world.clock.now().date() - timedelta(days=1)
    world.directory.replace(district)
    assert current_session(cookie(token), world.svc, sessions) is None


def test_the_cookie_is_http_only_secure_strict_and_lives_as_long_as_the_session(world: World) -> None:
    token = Token(ZHUJING, "s" * 43)
    now = world.clock.now()
    value = session_cookie(token, now + timedelta(hours=SESSION_HOURS), now)
    attributes = {a.strip() for a in value.split(";")[1:]}
    assert value.startswith(f"__Host-odr_session={token.text};")
    assert attributes == {"Path=/", f"Max-Age={SESSION_HOURS * 3600}", "Secure", "HttpOnly", "SameSite=Strict"}


def test_a_post_needs_its_sessions_csrf_token_and_our_origin(world: World, sessions: FakeSessions) -> None:
    session = current_session(cookie(signed_in(world, sessions)), world.svc, sessions)
    assert session is not None
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, None) and not csrf_ok(session, "") and not csrf_ok(session, session.csrf + "x")
    assert same_origin({"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}, BASE_URL + "/prod")
    assert same_origin({}, BASE_URL)  # not a browser: it holds no one's cookie
    assert not same_origin({"Origin": "https://evil.example.com"}, BASE_URL)
    assert not same_origin({"Sec-Fetch-Site": "cross-site"}, BASE_URL)
    assert not same_origin({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, BASE_URL)  # a sandboxed frame
    assert same_origin({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, BASE_URL)  # our no-referrer pages
