"""Worklists on the emulated stack, over HTTP through the local API Gateway: sign-in by a login link sent by the
real gateway and SES, a session bound to its holder (only the hashes stored, with a TTL attribute), pages of a
holder's cases read by Query on the index and walked with a signed cursor (the worklist and the enterprise API
alike), expiry, sign-out and the operator's revocation, and another holder's case out of reach."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.data_access.case_pages import CasePageStore
from odr_adapter.data_access.sessions import SessionStore
from odr_adapter.models.case import Case, EnterpriseRef, transition
from odr_adapter.models.sessions import COOKIE_NAME, Holder, new_token, session_record
from odr_adapter.people.worklists import Filters, listing
from odr_cli.main import main as odr
from odr_local.inbox import Inbox
from odr_local.stack import REGION, SES_REGION, LocalStack

from .conftest import Invoker
from .helpers import record, seed_case

FENGJING = "91310116MA1FL2T66W"  # 枫泾文创, station JS-FJ: no other test files a case there
FENGJING_MOBILE = "13900000203"
FENGJING_STATION_EMAIL = "fengjing.station@example.com"
TINGLIN = "91310116MA1G9P4C45"  # 亭林家电, station JS-TL
ROOT = Path(__file__).resolve().parents[2]
LOGIN = re.compile(r"https?://\S+/w/login/[A-Za-z0-9._-]+")


def base(stack: LocalStack) -> str:
    return f"{stack.api.url}/prod"


def headers(stack: LocalStack, cookie: str | None = None) -> dict[str, str]:
    """What a browser on our pages sends with a POST (the cookie is Secure: requests would not send it over
    http, so it is given by hand, as the browser does on a secure context)."""
    sent = {"Origin": stack.api.url, "Sec-Fetch-Site": "same-origin"}
    return {**sent, "Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else sent


def filed(stack: LocalStack, complaint_id: str, uscc: str, station: str, hours_ago: float, status: str) -> Case:
    """A case of the holder, written straight to the table as the workflow leaves it (routed, then in ``status``)."""
    at = (stack.now() - timedelta(hours=hours_ago)).isoformat()
    case = seed_case(stack, record(complaint_id=complaint_id, registered_at=at, updated_at=at))
    enterprise = stack.district.by_uscc(uscc)
    assert enterprise is not None
    ref = EnterpriseRef(uscc=uscc, name=enterprise.name, enterprise_class=enterprise.enterprise_class)
    changes: dict[str, Any] = {"station_code": station, "enterprise": ref, "status": status}
    if status == "closed":
        changes.update(outcome="settled", closed_at=stack.now())
    routed, event = transition(case, "dispatched", "test", stack.now(), **changes)
    return stack.cases.save(routed, event)


@pytest.fixture(scope="module")
def fengjing(stack: LocalStack) -> list[str]:
    """枫泾所's cases: six open and three closed (one of them 亭林家电's, bought through 枫泾)."""
    ids = []
    for n in range(6):
        ids.append(filed(stack, f"IT-WL-FJ-OPEN-{n}", FENGJING, "JS-FJ", 60 - n * 5, "dispatched").complaint_id)
    for n in range(3):
        uscc = TINGLIN if n == 1 else FENGJING
        ids.append(filed(stack, f"IT-WL-FJ-CLOSED-{n}", uscc, "JS-FJ", 90 - n * 5, "closed").complaint_id)
    filed(stack, "IT-WL-TL-OPEN-0", TINGLIN, "JS-TL", 30, "dispatched")
    return ids


def sign_in(stack: LocalStack, contact: str) -> str:
    """Ask for a login link, follow the newest one that reached the contact, press the button: the cookie."""
    asked = requests.post(f"{base(stack)}/w/signin", data={"contact": contact}, headers=headers(stack), timeout=30)
    assert asked.status_code == 200 and "如该联系方式已登记,登录链接已发送" in asked.text
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    email, mobile = (contact.lower(), None) if "@" in contact else (None, contact)  # sent to the address registered
    links = [u for m in inbox.received_by(email, mobile) for u in LOGIN.findall(m.body)]
    assert links, f"no login link reached {contact}"
    shown = requests.get(links[-1], timeout=30)
    assert shown.status_code == 200 and 'id="log-in"' in shown.text
    used = requests.post(links[-1], headers=headers(stack), allow_redirects=False, timeout=30)
    assert used.status_code == 303 and used.headers["Location"] == f"{base(stack)}/w/cases"
    cookie = used.headers["Set-Cookie"]
    assert {"Secure", "HttpOnly", "SameSite=Strict", "Path=/"} <= {a.strip() for a in cookie.split(";")}
    again = requests.post(links[-1], headers=headers(stack), allow_redirects=False, timeout=30)
    assert again.status_code == 410  # used once
    return cookie.split(";", 1)[0].split("=", 1)[1]


def rows(page: requests.Response) -> list[str]:
    return re.findall(r'data-complaint-id="([^"]+)"', page.text)


def worklist(stack: LocalStack, cookie: str, **query: str) -> requests.Response:
    return requests.get(
        f"{base(stack)}/w/cases", params=query, headers=headers(stack, cookie), allow_redirects=False, timeout=30
    )


def test_the_station_signs_in_by_e_mail_and_walks_its_list_page_by_page(stack: LocalStack, fengjing: list[str]) -> None:
    cookie = sign_in(stack, "FengJing.Station@example.com")
    seen: list[str] = []
    page = worklist(stack, cookie, limit="4")
    while True:
        assert page.status_code == 200
        seen += rows(page)
        nxt = re.search(r'id="next-page" href="([^"]+)"', page.text)
        if nxt is None:
            break
        page = requests.get(nxt.group(1).replace("&amp;", "&"), headers=headers(stack, cookie), timeout=30)
    opened = [f"IT-WL-FJ-OPEN-{n}" for n in range(6)]
    closed = [f"IT-WL-FJ-CLOSED-{n}" for n in (2, 1, 0)]
    assert seen == opened + closed  # open first (oldest first), then closed (newest first), each once
    assert rows(worklist(stack, cookie, phase="closed", enterprise=TINGLIN)) == ["IT-WL-FJ-CLOSED-1"]
    assert rows(worklist(stack, cookie, q="IT-WL-FJ-CLOSED-0")) == ["IT-WL-FJ-CLOSED-0"]
    assert rows(worklist(stack, cookie, q="IT-WL-TL-OPEN-0")) == []  # 亭林所's
    for query, named in (
        ({"from": "0001-01-01"}, "起始日期"),
        ({"to": "9999-12-31"}, "截止日期"),
        ({"limit": "500"}, "每页条数"),
    ):
        refused = worklist(stack, cookie, **query)  # the dates were a 502; the limit was reported as the period
        assert refused.status_code == 400 and f"筛选条件无效({named})" in refused.text, query


def test_the_listing_reads_by_query_on_the_index_and_its_cursor_walks_every_case_once(
    stack: LocalStack, fengjing: list[str]
) -> None:
    pages = CasePageStore(stack.deployment.ref("CasesTable"))
    key, holder, got, cursor = b"integration", Holder("station", "JS-FJ"), [], ""
    for _ in range(20):
        found = listing(holder, Filters(limit=2, cursor=cursor), pages, stack.cases, key)
        got += [c.complaint_id for c in found.cases]
        if found.next_cursor is None:
            break
        cursor = found.next_cursor
    assert sorted(got) == sorted(fengjing) and len(got) == len(set(got))


def test_the_enterprise_api_lists_with_the_same_filters_and_cursor(stack: LocalStack, fengjing: list[str]) -> None:
    key = ApiKeyStore(stack.deployment.ref("DirectoryTable")).issue(FENGJING, "integration", stack.now())

    def api(**query: str) -> requests.Response:
        return requests.get(
            f"{base(stack)}/api/v1/cases", params=query, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    got, cursor = [], ""
    for _ in range(20):
        body = api(limit="3", **({"cursor": cursor} if cursor else {})).json()
        got += [c["complaint_id"] for c in body["cases"]]
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert got == [f"IT-WL-FJ-OPEN-{n}" for n in range(6)] + ["IT-WL-FJ-CLOSED-2", "IT-WL-FJ-CLOSED-0"]
    first = api(limit="3").json()["cases"][0]
    assert first["phase"] == "acceptance" and {"hours_left", "deadline_passed", "reminders_sent"} <= set(first)
    assert [c["complaint_id"] for c in api(phase="closed").json()["cases"]] == [
        "IT-WL-FJ-CLOSED-2",
        "IT-WL-FJ-CLOSED-0",
    ]
    assert api(cursor=cursor + "x").status_code == 400
    assert api(limit="3", phase="closed", cursor=api(limit="3").json()["next_cursor"]).status_code == 400
    assert api(phase="everything").status_code == 422
    assert api(q="x' OR 1=1").status_code == 422
    assert api(**{"from": "2026-12-02", "to": "2026-12-01"}).status_code == 422
    for bound, day in (("from", "0001-01-01"), ("to", "9999-12-31"), ("from", "1999-12-31"), ("to", "2100-01-01")):
        refused = api(**{bound: day})  # was a 502 at either end of what a date holds (OverflowError)
        assert refused.status_code == 422 and [p["field"] for p in refused.json()["problems"]] == [bound], day
    assert api(**{"from": "2000-01-01", "to": "2099-12-31"}).status_code == 200


def test_only_hashes_are_stored_with_a_ttl_and_the_session_ends_when_it_expires(
    stack: LocalStack, fengjing: list[str]
) -> None:
    cookie = sign_in(stack, FENGJING_MOBILE)
    table = stack.deployment.ref("SessionsTable")
    items = stack.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"HOLDER#enterprise#{FENGJING}"}},
    )["Items"]
    stored = json.dumps(items)
    assert cookie.rsplit(".", 1)[1] not in stored and all("expires_epoch" in i for i in items)
    assert {i["kind"]["S"] for i in items} == {"login", "session"}
    assert worklist(stack, cookie).status_code == 200
    # A session signed in 12 hours ago (the stack's clock is shared by other tests: not moved here).
    store = SessionStore(table)
    token = new_token(Holder("enterprise", FENGJING))
    store.put(session_record(token, stack.now() - timedelta(hours=12)))
    gone = worklist(stack, token.text)
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/w/signin")
    assert "Max-Age=0" in gone.headers["Set-Cookie"]


def test_sign_out_and_the_operators_revocation_end_sessions(
    stack: LocalStack, fengjing: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = sign_in(stack, FENGJING_STATION_EMAIL), sign_in(stack, FENGJING_STATION_EMAIL)
    specialist = sign_in(stack, FENGJING_MOBILE)
    csrf = re.findall(r'name="csrf" value="([^"]+)"', worklist(stack, first).text)[0]
    out = requests.post(
        f"{base(stack)}/w/signout",
        data={"csrf": csrf},
        headers=headers(stack, first),
        allow_redirects=False,
        timeout=30,
    )
    assert out.status_code == 303 and worklist(stack, first).status_code == 303
    assert worklist(stack, second).status_code == 200
    assert odr(["sessions", "revoke", "--station", "JS-FJ"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert worklist(stack, second).status_code == 303
    assert worklist(stack, specialist).status_code == 200  # the enterprise's session is not the station's


def test_another_stations_session_sees_and_does_nothing_of_this_one(stack: LocalStack, fengjing: list[str]) -> None:
    tinglin = sign_in(stack, "tinglin.station@example.com")
    shown = rows(worklist(stack, tinglin))  # the suite's other tests may have cases at this station too
    assert "IT-WL-TL-OPEN-0" in shown and not set(shown) & set(fengjing)
    own = stack.cases.get("IT-WL-TL-OPEN-0")
    assert own is not None
    assert {c.station_code for c in map(stack.cases.get, shown) if c} == {own.station_code}
    case_id = "IT-WL-FJ-OPEN-0"
    before = stack.cases.get(case_id)
    csrf = re.findall(r'name="csrf" value="([^"]+)"', worklist(stack, tinglin).text)[0]
    url = f"{base(stack)}/w/cases/{case_id}"
    assert requests.get(url, headers=headers(stack, tinglin), timeout=30).status_code == 404
    for action in ("approve", "send_back", "confirm_screening"):
        posted = requests.post(
            url, data={"action": action, "csrf": csrf, "comment": "x"}, headers=headers(stack, tinglin), timeout=30
        )
        assert posted.status_code == 404
    assert stack.cases.get(case_id) == before


def test_a_forged_cookie_or_a_cross_site_post_is_refused(stack: LocalStack, fengjing: list[str]) -> None:
    cookie = sign_in(stack, FENGJING_STATION_EMAIL)
    role, _, secret = cookie.split(".", 2)
    assert worklist(stack, f"{role}.JS-TL.{secret}").status_code == 303  # the holder part changed
    csrf = re.findall(r'name="csrf" value="([^"]+)"', worklist(stack, cookie).text)[0]
    evil = {**headers(stack, cookie), "Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}
    posted = requests.post(f"{base(stack)}/w/signout", data={"csrf": csrf}, headers=evil, timeout=30)
    assert posted.status_code == 403 and worklist(stack, cookie).status_code == 200


def test_the_sample_event_runs_through_the_real_handler(stack: LocalStack, invoke: Invoker) -> None:
    event = json.loads((ROOT / "events" / "worklists_list.json").read_text(encoding="utf-8"))
    ok, page = invoke("WorklistsFunction", event)
    assert ok and page["statusCode"] == 303  # the sample's session was never opened: to the sign-in page
    assert page["multiValueHeaders"]["Location"][0].endswith("/w/signin")
