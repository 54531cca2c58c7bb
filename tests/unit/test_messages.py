"""Every message's text: one SMS segment with its link, no consumer data, deadlines as people read them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

import pytest

from odr_adapter.messages.links import link_url
from odr_adapter.messages.texts import SMS_SEGMENT, Template, context, deadline_text, render
from odr_adapter.models.case import Case, EnterpriseRef, Feedback, transition
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District
from odr_adapter.rules.calendars import compute_deadline

# A production base URL of the documented size (docs/notifications.md): a short custom domain.
BASE = "https://odr.jsamr.gov.cn"
NOW = datetime.fromisoformat("2026-11-30T09:30:00+08:00")


def _case(example: Callable[[str], dict[str, Any]], now: datetime) -> Case:
    raw = example("odr-by-uscc")
    raw["consumer"].update(email="linxiao@example.com", id_number="310116199001011234")
    policies = DeadlinePolicies()
    dispatched = Case(
        complaint_id=raw["complaint_id"],
        revision=1,
        status="under_review",
        registered_at=datetime.fromisoformat(raw["registered_at"]),
        received_at=now,
        record=raw,
        execution_name="case-x",
        station_code="JS-ZJ",
        enterprise=EnterpriseRef(uscc="91310116MA1JK7Q26H", name="上海金枫云购电子商务有限公司", enterprise_class="A"),
        deadlines={
            p: compute_deadline(p, now, "A", policies) for p in ("screening", "acceptance", "resolution", "review")
        },
        feedback=Feedback(settled=True, recovered_amount=Decimal("199.00"), summary="已退款", reported_at=now),
        review_comment="请补充退款凭证",
        overdue_phase="acceptance",
    )
    return transition(dispatched, "dispatched", "adapter", now)[0]


@pytest.fixture
def case(example: Callable[[str], dict[str, Any]]) -> Case:
    return _case(example, NOW)


@pytest.fixture
def late_in_december(example: Callable[[str], dict[str, Any]]) -> Case:
    """Two-digit months and days in every deadline: the longest dates an SMS carries."""
    return _case(example, datetime.fromisoformat("2026-12-20T09:30:00+08:00"))


@pytest.mark.parametrize("template", get_args(Template))
def test_every_sms_fits_one_segment_with_its_link(
    template: Template, late_in_december: Case, district: District
) -> None:
    link = link_url(BASE, secrets.token_urlsafe(12))
    message = render(template, context(late_in_december, district, link, {"failed_message": "新投诉派发通知"}))
    assert len(message.sms) <= SMS_SEGMENT, message.sms
    assert message.sms.startswith("【金山ODR】")
    links = ("dispatched", "accepted", "reminder", "sent_back", "review", "review_reminder", "screening")
    if template in links or template.startswith("note_"):  # a note: when the recipient acts in the phase
        assert link in message.sms and link in message.email
    else:
        assert "http" not in message.sms


@pytest.mark.parametrize("template", get_args(Template))
def test_no_consumer_data_in_any_message(template: Template, case: Case, district: District) -> None:
    message = render(template, context(case, district, link_url(BASE, "x" * 16), {"failed_message": "提醒"}))
    consumer = case.record["consumer"]
    for part in (message.subject, message.email, message.sms):
        for value in (consumer["name"], consumer["phone"], consumer["address"], consumer["email"], "310116199001"):
            assert value not in part


def test_deadlines_read_as_the_end_of_their_day_in_shanghai(case: Case, district: District) -> None:
    # Acceptance: 2 natural days after 2026-11-30 -> ends 24:00 on 12-02 (00:00 on 12-03 +08:00).
    assert deadline_text(case.deadlines["acceptance"].due_at) == "2026年12月2日24:00"
    assert deadline_text(case.deadlines["acceptance"].due_at, short=True) == "12月2日24:00"
    assert deadline_text(NOW + timedelta(hours=5)) == "2026年11月30日14:30"
    message = render("dispatched", context(case, district, link_url(BASE, "y" * 16)))
    assert "受理期限:2026年12月2日24:00(北京时间)" in message.email
    assert "办结期限:2026年12月7日24:00(北京时间)" in message.email
    assert "12月2日24:00前受理" in message.sms
