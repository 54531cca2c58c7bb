"""The monthly scorecard function on the emulated stack: counters in the StatsTable, the rules and directory in the
DirectoryTable, one claim per enterprise and month in the CasesTable, the message through SES."""

from __future__ import annotations

from decimal import Decimal

from odr_adapter.data_access.stats import StatsStore
from odr_adapter.messages.monthly_scorecards import previous_month
from odr_local.inbox import Inbox
from odr_local.stack import REGION, SES_REGION, LocalStack

from .conftest import Invoker

JINFENG, JINFENG_EMAIL = "91310116MA1JK7Q26H", "odr@jinfeng-yungou.example.com"


def test_the_function_sends_a_months_scorecard_once_to_each_active_enterprise(
    stack: LocalStack, invoke: Invoker
) -> None:
    counts = {"dispatched": 5, "accepted_on_time": 5, "handled": 5, "closed_on_time": 5, "settled": 4}
    StatsStore(stack.deployment.ref("StatsTable")).add(
        {(scope, "D#2026-09-15"): {k: Decimal(v) for k, v in counts.items()} for scope in (f"ENT#{JINFENG}", "CLASS#A")}
    )

    ok, first = invoke("ScorecardFunction", {"month": "2026-09"})
    again_ok, again = invoke("ScorecardFunction", {"month": "2026-09"})

    assert ok and again_ok
    assert (first["active"], first["sent"], first["commended"]) == (1, 1, 1)
    assert (again["sent"], again["skipped"]) == (0, 1)
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    [mail] = [m for m in inbox.received_by(JINFENG_EMAIL, None) if "2026年9月ODR办理情况" in m.subject]
    assert "和解成功率 80%(80%)" in mail.body and "贵企业列入本月红榜" in mail.body
    claim = stack.client("dynamodb").get_item(
        TableName=stack.deployment.ref("CasesTable"),
        Key={"pk": {"S": f"CLAIM#scorecard:2026-09:{JINFENG}"}, "sk": {"S": "CLAIM"}},
    )
    assert "done_at" in claim["Item"]


def test_the_scheduled_event_sends_the_month_before_the_stacks_today(stack: LocalStack, invoke: Invoker) -> None:
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    ok, result = invoke("ScorecardFunction", scheduled)
    assert ok and result["month"] == previous_month(stack.now())  # 2026-10 on the stack's first day, 2026-11-30
