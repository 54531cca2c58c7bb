"""The monthly scorecard message on in-memory ports: every enterprise with cases last month gets its own figures
against its class's, 红榜 or the flags by the stored rules, once per month, by e-mail first; a run that could not
deliver leaves it to the next run. tests/integration/test_monthly_scorecards.py runs the handler on moto, and
tests/e2e/test_paths.py sees the schedule fire on the local stack's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from odr_adapter.messages.monthly_scorecards import previous_month, send_monthly_scorecards
from odr_adapter.messages.texts import SMS_SEGMENT
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District
from odr_adapter.models.scorecard_rules import CommendationRule, ScorecardRules
from odr_adapter.stats.figures import PeriodInvalid
from tests.fakes import World

pytestmark = pytest.mark.usefixtures("pauses")

FIRST_OF_DECEMBER = datetime.fromisoformat("2026-12-01T09:00:00+08:00")
JINFENG, SHANYANG = "91310116MA1JK7Q26H", "91310116MA1H3N8W6F"  # class A
JINFENG_EMAIL, JINFENG_MOBILE = "odr@jinfeng-yungou.example.com", "13900000201"
SHANYANG_EMAIL = "odr@shanyang-youxuan.example.com"


def november(world: World) -> None:
    """November's counters: 金枫 on time and settling above class A; 山阳 late and settling below it."""
    values = {
        f"ENT#{JINFENG}": {"dispatched": 8, "accepted_on_time": 8, "handled": 6, "closed_on_time": 6, "settled": 5},
        f"ENT#{SHANYANG}": {"dispatched": 6, "accepted_on_time": 4, "handled": 5, "closed_on_time": 3, "settled": 2},
        "CLASS#A": {"dispatched": 14, "accepted_on_time": 12, "handled": 11, "closed_on_time": 9, "settled": 7},
    }
    for scope, counts in values.items():
        world.counters.values[(scope, "D#2026-11-20")] = {k: Decimal(v) for k, v in counts.items()}


@pytest.fixture
def december(district: District) -> World:
    world = World(district, FIRST_OF_DECEMBER)
    november(world)
    return world


def run(world: World, month: str | None = None) -> dict[str, object]:
    return send_monthly_scorecards(month, world.svc, world.counters, world.delivery)


def test_last_month_is_the_month_before_in_beijing_time() -> None:
    assert previous_month(FIRST_OF_DECEMBER) == "2026-11"
    assert previous_month(datetime.fromisoformat("2026-11-30T17:30:00+00:00")) == "2026-11"  # 12-01 01:30 Beijing
    assert previous_month(datetime.fromisoformat("2027-01-01T01:00:00+00:00")) == "2026-12"


def test_each_active_enterprise_gets_its_figures_against_its_class_by_email(december: World) -> None:
    result = run(december)

    assert result == {
        "month": "2026-11",
        "active": 2,
        "sent": 2,
        "failed": 0,
        "skipped": 0,
        "commended": 1,
        "exit_review": 1,
    }
    [mail] = december.email.to(JINFENG_EMAIL)
    assert mail.subject == "【金山ODR】2026年11月ODR办理情况 上海金枫云购电子商务有限公司"
    assert "括号内为A类企业合计" in mail.body
    assert "转ODR 8 件,办结 6 件(14 件,11 件)" in mail.body
    assert "按时办结率 100%(82%)" in mail.body and "和解成功率 83%(64%)" in mail.body
    assert "贵企业列入本月红榜" in mail.body and "和解成功率 83.3% (5/6) ≥ A类 63.6%" in mail.body
    [other] = december.email.to(SHANYANG_EMAIL)
    assert "红榜" not in other.body and "按时受理率 66.7% (4/6) 低于 90%" in other.body
    assert december.sms.sent == []  # e-mail delivered: no SMS
    assert len(december.email.sent) == 2  # nobody without cases in November is written to


def test_a_month_is_sent_once_however_often_the_function_runs(december: World) -> None:
    run(december)
    again = run(december)
    assert (again["sent"], again["skipped"]) == (0, 2) and len(december.email.sent) == 2


def test_sms_when_the_email_fails_and_a_later_run_sends_what_no_channel_delivered(december: World) -> None:
    december.email.fail("MessageRejected", permanent=True, to=JINFENG_EMAIL)
    december.sms.fail("Throttled", to=JINFENG_MOBILE)

    first = run(december)
    assert (first["sent"], first["failed"]) == (1, 1)

    december.sms.recover()
    december.clock.advance(timedelta(minutes=10))  # the failed claim's lease is over
    second = run(december)

    assert (second["sent"], second["skipped"]) == (1, 1)
    [sms] = december.sms.to(JINFENG_MOBILE)
    assert sms.body == "【金山ODR】11月ODR:办结6件,按时办结100%(同类82%),和解成功率83%(同类64%),列入红榜"
    assert len(sms.body) <= SMS_SEGMENT


def test_the_stored_rules_decide_who_is_commended(district: District) -> None:
    strict = DeadlinePolicies(scorecards=ScorecardRules(commend=CommendationRule(min_cases=7)))
    world = World(district, FIRST_OF_DECEMBER, policies=strict)
    november(world)

    result = run(world)

    assert result["commended"] == 0 and "红榜" not in world.email.to(JINFENG_EMAIL)[0].body


def test_an_operator_names_the_month_and_a_bad_one_is_refused(december: World) -> None:
    assert run(december, "2026-10")["active"] == 0 and december.email.sent == []
    with pytest.raises(PeriodInvalid):
        run(december, "2026-1")
