"""A note in a real browser: the specialist asks the station a question on the case page; the note shows as typed
(never as HTML), reaches the station's e-mail (sent after the answer by the confirmation function's queue), and
the page's action still works afterwards."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By

from odr_local.inbox import Inbox
from odr_local.stack import REGION, SES_REGION, LocalStack
from tests.waiting import wait_for_case

from .conftest import link_in_messages, publish, screenshot
from .test_pages import SPECIALIST_MOBILE, STATION_EMAIL, press, text

QUESTION = "消费者要求<b>上门</b>换货,\n能否改为退款?"


def test_the_specialist_asks_the_station_on_the_page_then_accepts(stack: LocalStack, browser: webdriver.Chrome) -> None:
    cid = "BR-NOTE-000000000001"
    publish(stack, cid)
    before = wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "acceptance"))
    assert text(browser, "#no-notes") == "暂无。"

    browser.find_element(By.ID, "note").send_keys(QUESTION)
    press(browser, "send-note")

    assert text(browser, "#note-sent") == "已发送,对方将收到通知。"
    [shown] = browser.find_elements(By.CSS_SELECTOR, "#notes .note-text")
    assert shown.text == QUESTION and not browser.find_elements(By.CSS_SELECTOR, "#notes b")  # text, not HTML
    assert browser.find_element(By.ID, "note").get_attribute("value") == ""  # ready for another note
    screenshot(browser, "7-note")
    after = stack.cases.get(cid)
    assert after is not None and after.deadlines == before.deadlines and after.status == "dispatched"
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)  # the message goes after the answer, from the queue
    assert stack.wait_for(lambda: any(QUESTION in m.body for m in inbox.received_by(STATION_EMAIL, None)))

    press(browser, "accept")  # the note did not use up the link
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"
    wait_for_case(stack, cid, lambda c: c.status == "accepted")
