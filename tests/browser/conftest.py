"""A real headless browser (Debian's chromium through its chromedriver, never a downloaded one) on the pages
of a running local stack: the 12315 simulator publishes, the workflow sends messages, people follow links."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from odr_adapter.clock import local
from odr_local.inbox import Inbox, open_link
from odr_local.stack import REGION, SES_REGION, LocalStack

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "tests" / "fixtures" / "records" / "odr-by-uscc.json"
SCREENSHOTS = ROOT / "build" / "screenshots"
START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=390,844",  # a phone: specialists act from the SMS
)


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # One simulated day = ten real minutes: deadlines do not pass while a person clicks through.
    local_stack = LocalStack(START, seconds_per_day=600).start()
    local_stack.run_triggers()
    try:
        yield local_stack
    finally:
        local_stack.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[webdriver.Chrome]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="odr-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


def publish(stack: LocalStack, complaint_id: str, **changes: Any) -> None:
    """A complaint appears on the simulated 12315 platform; the poller picks it up."""
    raw = json.loads(RECORD.read_text(encoding="utf-8"))
    at = local(stack.now() - timedelta(minutes=5)).isoformat()
    raw.update(complaint_id=complaint_id, registered_at=at, updated_at=at, **changes)
    stack.simulator.publish(raw)


def link_in_messages(
    stack: LocalStack, complaint_id: str, email: str | None, mobile: str | None, phase: str, seconds: float = 60
) -> str:
    """The newest link this person received whose page acts on the case in ``phase``."""
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in reversed(inbox.received_by(email, mobile)):
            for url in message.links:
                page = open_link(url)
                if page.complaint_id == complaint_id and page.phase == phase:
                    return url
        time.sleep(0.3)
    raise AssertionError(f"no {phase} link for {complaint_id} in the messages to {email or mobile}")


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """Kept under build/screenshots for people to look at (full page height)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(390, max(844, int(height) + 40))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(390, 844)
