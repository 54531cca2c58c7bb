"""The whole loop in a browser: message sent -> link opened -> form submitted -> the workflow advances."""

from __future__ import annotations

from decimal import Decimal

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from odr_local.stack import LocalStack
from tests.waiting import wait_for_case

from .conftest import link_in_messages, publish, screenshot

SPECIALIST_MOBILE = "13900000201"  # 金枫云购's ODR specialist (SMS first)
STATION_EMAIL = "zhujing.station@example.com"  # 朱泾所's responsible person (e-mail first)


def text(driver: webdriver.Chrome, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def press(driver: webdriver.Chrome, button_id: str) -> None:
    """Click a submit button and wait for the page it leads to (a new document, without the old one's mark)."""
    driver.execute_script("window.odrOldPage = true")
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, 30, ignored_exceptions=[WebDriverException]).until(
        lambda d: d.execute_script("return document.readyState === 'complete' && window.odrOldPage !== true")
    )


def test_accept_report_and_close_in_the_browser(stack: LocalStack, browser: webdriver.Chrome) -> None:
    cid = "BR-HAPPY-00000000001"
    publish(stack, cid)
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "acceptance"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "受理投诉"
    assert text(browser, "#consumer-phone") == "13761234567"
    assert "2026年" in text(browser, ".due") and "北京时间" in text(browser, ".due")
    screenshot(browser, "1-accept")
    press(browser, "accept")
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"
    assert "短信或邮件" in text(browser, "main")  # the page says where the result link will come
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "resolution")

    # the result link comes by SMS once the confirmation is sent (after the answer, never holding it up)
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "resolution"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "反馈处理结果"
    browser.find_element(By.ID, "settled-yes").click()
    browser.find_element(By.ID, "recovered_amount").send_keys("199.00")
    browser.find_element(By.ID, "summary").send_keys("已与消费者协商一致,全额退款199元")
    screenshot(browser, "2-report")
    press(browser, "report")
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "review")

    browser.get(link_in_messages(stack, cid, STATION_EMAIL, None, "review"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "审核办结"
    assert text(browser, "#feedback-result") == "和解成功"
    assert text(browser, "#feedback-amount") == "199.00 元"
    history = text(browser, "#history")
    assert "企业受理" in history and "企业反馈处理结果" in history
    screenshot(browser, "3-review")
    browser.find_element(By.ID, "approve-comment").send_keys("同意办结")
    press(browser, "approve")
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"

    closed = wait_for_case(stack, cid, lambda c: c.status == "closed")
    assert (closed.outcome, closed.recovered_amount) == ("settled", Decimal("199.00"))
    assert [h.actor for h in closed.history if h.event == "approved"] == ["station:JS-ZJ"]
    WebDriverWait(stack.simulator, 30).until(lambda sim: any(r["complaint_id"] == cid for r in sim.result_log))
    assert [r["outcome"] for r in stack.simulator.result_log if r["complaint_id"] == cid] == ["settled"]


def test_bad_input_is_explained_and_kept_then_the_station_sends_back(
    stack: LocalStack, browser: webdriver.Chrome
) -> None:
    cid = "BR-SENDBACK-00000001"
    publish(stack, cid)
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "acceptance"))
    press(browser, "accept")
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "resolution")
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "resolution"))

    browser.find_element(By.ID, "settled-no").click()
    browser.find_element(By.ID, "summary").send_keys("电话沟通两次")
    press(browser, "report")
    assert text(browser, "#error-not_settled_reason") == "未和解时请填写原因"
    assert browser.find_element(By.ID, "summary").get_attribute("value") == "电话沟通两次"  # nothing lost
    assert browser.find_element(By.ID, "settled-no").is_selected()
    screenshot(browser, "4-report-error")
    browser.find_element(By.ID, "not_settled_reason").send_keys("消费者要求三倍赔偿")
    press(browser, "report")
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "review")

    browser.get(link_in_messages(stack, cid, STATION_EMAIL, None, "review"))
    assert text(browser, "#feedback-result") == "和解不成"
    press(browser, "send_back")  # without a comment
    assert text(browser, "#error-comment") == "退回时请填写意见,企业将据此重新处理"
    browser.find_element(By.ID, "send-back-comment").send_keys("请再次联系消费者协商")
    press(browser, "send_back")
    assert browser.find_element(By.TAG_NAME, "h1").text == "提交成功"

    # The enterprise is told, with a new link for the rework, and sees the station's comment.
    wait_for_case(stack, cid, lambda c: c.send_backs == 1 and c.pending is not None and c.pending.phase == "resolution")
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "resolution"))
    assert "请再次联系消费者协商" in text(browser, "#sent-back")
    screenshot(browser, "5-rework")


def test_a_used_link_shows_what_was_done_and_a_forged_one_says_it_is_invalid(
    stack: LocalStack, browser: webdriver.Chrome
) -> None:
    cid = "BR-USED-000000000001"
    publish(stack, cid)
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    url = link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "acceptance")
    browser.get(url)
    press(browser, "accept")
    browser.get(url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "已处理"
    assert "受理" in text(browser, "#message") and not browser.find_elements(By.TAG_NAME, "form")
    screenshot(browser, "6-used")
    browser.get(url.rsplit("/", 1)[0] + "/AAAAAAAAAAAAAAAAAAAAAA")
    assert browser.find_element(By.TAG_NAME, "h1").text == "链接无效"


def test_pages_fit_a_phone_screen(stack: LocalStack, browser: webdriver.Chrome) -> None:
    cid = "BR-MOBILE-0000000001"
    publish(stack, cid)
    wait_for_case(stack, cid, lambda c: c.pending is not None and c.pending.phase == "acceptance")
    browser.get(link_in_messages(stack, cid, None, SPECIALIST_MOBILE, "acceptance"))
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    button = browser.find_element(By.ID, "accept")
    assert button.size["height"] >= 40 and button.size["width"] >= 300  # a thumb-sized target
