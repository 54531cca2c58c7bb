"""The worklists in a real browser: sign-in by a login link sent by SMS or e-mail, the list with its filters, a case
opened from the list and acted on, another enterprise that sees none of these cases and whose tampered form acts on
nothing, the operator's revocation, and a session that ends after 12 hours of virtual time.

The last test leaps the stack's clock forward 12 hours; it runs last in this module (and this module last in
the package), so the other pages' cases keep their deadlines.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from odr_cli.main import main as odr
from odr_local.inbox import Inbox
from odr_local.stack import REGION, SES_REGION, LocalStack
from tests.waiting import wait_for_case

from .conftest import publish, screenshot
from .test_pages import SPECIALIST_MOBILE, STATION_EMAIL, press, text

SHANYANG = "91310116MA1H3N8W6F"
SHANYANG_MOBILE = "13900000202"
LOGIN = re.compile(r"https?://\S+/w/login/[A-Za-z0-9._-]+")


def publish_for_shanyang(stack: LocalStack, cid: str) -> None:
    respondent = {
        "name": "上海山阳优选网络科技有限公司",
        "uscc": SHANYANG,
        "platform": "京东",
        "division_code": "310116113",
    }
    publish(stack, cid, respondent=respondent)


def login_link(stack: LocalStack, email: str | None, mobile: str | None, seen: int) -> str:
    """The login link in the newest message to this person after the ``seen`` ones."""
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        links = [u for m in inbox.received_by(email, mobile) for u in LOGIN.findall(m.body)]
        if len(links) > seen:
            return links[-1]
        time.sleep(0.2)
    raise AssertionError(f"no login link reached {email or mobile}")


def sign_in(stack: LocalStack, browser: webdriver.Chrome, typed: str, email: str | None, mobile: str | None) -> None:
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    seen = len([u for m in inbox.received_by(email, mobile) for u in LOGIN.findall(m.body)])
    browser.delete_all_cookies()
    browser.get(f"{stack.api.url}/prod/w/signin")
    assert browser.find_element(By.TAG_NAME, "h1").text == "登录工作台"
    browser.find_element(By.ID, "contact").send_keys(typed)
    press(browser, "send-link")
    sent = browser.find_elements(By.ID, "sent")
    assert sent and "如该联系方式已登记,登录链接已发送" in sent[0].text, browser.find_element(By.TAG_NAME, "main").text
    browser.get(login_link(stack, email, mobile, seen))
    assert browser.find_element(By.TAG_NAME, "h1").text == "确认登录"
    press(browser, "log-in")


def rows(browser: webdriver.Chrome) -> list[str]:
    return [str(e.get_attribute("data-complaint-id")) for e in browser.find_elements(By.CSS_SELECTOR, "#rows a.row")]


def test_the_specialist_signs_in_by_sms_filters_its_list_and_accepts_from_it(
    stack: LocalStack, browser: webdriver.Chrome
) -> None:
    cid = "BR-WL-ACCEPT-0000001"
    publish(stack, cid)
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    sign_in(stack, browser, "+86 139 0000 0201", None, SPECIALIST_MOBILE)
    assert browser.find_element(By.TAG_NAME, "h1").text == "本企业案件"
    assert "金枫云购" in text(browser, "#holder")
    assert cid in rows(browser)
    row = browser.find_element(By.CSS_SELECTOR, f'a.row[data-complaint-id="{cid}"]')
    assert "待您处理" in row.text and "剩余" in row.text and "受理阶段" in row.text
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(browser, "8-worklist")

    Select(browser.find_element(By.ID, "phase")).select_by_value("closed")
    press(browser, "apply")
    assert cid not in rows(browser) and "phase=closed" in browser.current_url
    Select(browser.find_element(By.ID, "phase")).select_by_value("acceptance")
    press(browser, "apply")
    listed = rows(browser)
    assert cid in listed
    assert all(stack.cases.get(c).status == "dispatched" for c in listed)  # type: ignore[union-attr]

    browser.find_element(By.CSS_SELECTOR, f'a.row[data-complaint-id="{cid}"]').click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "受理投诉"
    assert text(browser, "#consumer-phone") == "13761234567"
    screenshot(browser, "9-worklist-case")
    press(browser, "accept")
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"
    accepted = wait_for_case(stack, cid, lambda c: c.status == "accepted")
    assert [h.actor for h in accepted.history if h.event == "accepted"] == ["enterprise:91310116MA1JK7Q26H"]
    browser.find_element(By.ID, "back-to-list").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "本企业案件"


def test_another_enterprise_sees_none_of_these_cases_and_its_tampered_form_acts_on_nothing(
    stack: LocalStack, browser: webdriver.Chrome
) -> None:
    own, theirs = "BR-WL-SHANYANG-00001", "BR-WL-JINFENG-000001"
    publish_for_shanyang(stack, own)
    publish(stack, theirs)
    wait_for_case(stack, own, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    before = wait_for_case(stack, theirs, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    sign_in(stack, browser, SHANYANG_MOBILE, None, SHANYANG_MOBILE)
    listed = rows(browser)
    assert own in listed
    assert [c for c in listed if stack.cases.get(c).enterprise.uscc != SHANYANG] == []  # type: ignore[union-attr]
    browser.find_element(By.ID, "q").send_keys(theirs)
    press(browser, "apply")
    assert rows(browser) == [] and text(browser, "#no-rows") == "没有符合条件的案件。"

    browser.get(f"{stack.api.url}/prod/w/cases/{theirs}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "未找到"
    browser.get(f"{stack.api.url}/prod/w/cases/{own}")
    assert browser.find_element(By.ID, "accept")
    browser.execute_script(  # a form of its own page, with its valid token, aimed at the other enterprise's case
        "document.getElementById('form-accept').action = arguments[0]", f"{stack.api.url}/prod/w/cases/{theirs}"
    )
    press(browser, "accept")
    assert browser.find_element(By.TAG_NAME, "h1").text == "未找到"
    after = stack.cases.get(theirs)
    assert after is not None and after.version == before.version and after.status == "dispatched"
    assert stack.cases.get(own).status == "dispatched"  # type: ignore[union-attr]


def test_the_operators_revocation_ends_the_stations_session(stack: LocalStack, browser: webdriver.Chrome) -> None:
    sign_in(stack, browser, STATION_EMAIL, STATION_EMAIL, None)
    assert browser.find_element(By.TAG_NAME, "h1").text == "本所案件"
    assert browser.find_elements(By.ID, "enterprise")  # a station filters by enterprise
    assert odr(["sessions", "revoke", "--station", "JS-ZJ"]) == 0
    browser.refresh()
    assert browser.find_element(By.TAG_NAME, "h1").text == "登录工作台"


def test_sign_out_ends_the_session(stack: LocalStack, browser: webdriver.Chrome) -> None:
    sign_in(stack, browser, SPECIALIST_MOBILE, None, SPECIALIST_MOBILE)
    list_url = browser.current_url
    press(browser, "sign-out")
    assert browser.find_element(By.TAG_NAME, "h1").text == "登录工作台"
    browser.get(list_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "登录工作台"


def test_zz_a_session_ends_after_12_hours_of_virtual_time(stack: LocalStack, browser: webdriver.Chrome) -> None:
    sign_in(stack, browser, SHANYANG_MOBILE, None, SHANYANG_MOBILE)
    assert browser.find_element(By.TAG_NAME, "h1").text == "本企业案件"
    stack.kernel.leap(timedelta(hours=11, minutes=50))
    browser.refresh()
    assert browser.find_element(By.TAG_NAME, "h1").text == "本企业案件"  # still within its 12 hours
    stack.kernel.leap(timedelta(minutes=11))
    browser.refresh()
    assert browser.find_element(By.TAG_NAME, "h1").text == "登录工作台"
