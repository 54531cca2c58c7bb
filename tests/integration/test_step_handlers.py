"""Each state-machine step handler against the emulated AWS resources of template.yaml."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from odr_adapter.data_access.case_pages import CasePageStore
from odr_adapter.models.case import Feedback, StaleCase, transition
from odr_adapter.models.sessions import Holder
from odr_adapter.models.worklists import CaseQuery
from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import record, seed_case


def test_screen_dispatches_an_odr_case_with_deadlines(stack: LocalStack, invoke: Invoker) -> None:
    seed_case(stack, record(complaint_id="IT-SCREEN-ODR-01"))
    ok, result = invoke("ScreenFunction", {"complaint_id": "IT-SCREEN-ODR-01"})
    assert ok and (result["decision"], result["calendar_fallback"]) == ("odr", False)
    case = stack.cases.get("IT-SCREEN-ODR-01")
    assert case is not None and case.status == "dispatched"
    assert case.enterprise is not None and case.enterprise.uscc == "91310116MA1JK7Q26H"
    assert case.station_code == "JS-ZJ"
    assert case.deadlines["acceptance"].due_at.isoformat() == "2026-12-02T16:00:00+00:00"  # 24:00 on 12-02 +08:00
    assert case.deadlines["resolution"].due_at.isoformat() == "2026-12-07T16:00:00+00:00"
    # The index of open cases by deadline finds it.
    assert "IT-SCREEN-ODR-01" in [
        c.complaint_id for c in stack.cases.due_before(case.deadlines["acceptance"].due_at.replace(hour=17))
    ]
    pages = CasePageStore(stack.deployment.ref("CasesTable"))
    listed: list[str] = []
    start: dict[str, str] | None = None
    while True:  # the suite's other tests share this enterprise: walk its whole list
        page = pages.page(Holder("enterprise", "91310116MA1JK7Q26H"), CaseQuery("open"), start, 20)
        listed += [c.complaint_id for c in page.cases]
        if (start := page.next_key) is None:
            break
    assert "IT-SCREEN-ODR-01" in listed  # the enterprise's worklist finds it


def test_screen_is_idempotent_when_retried(stack: LocalStack, invoke: Invoker) -> None:
    seed_case(stack, record(complaint_id="IT-SCREEN-RETRY-1"))
    assert invoke("ScreenFunction", {"complaint_id": "IT-SCREEN-RETRY-1"})[1]["decision"] == "odr"
    version = stack.cases.get("IT-SCREEN-RETRY-1").version  # type: ignore[union-attr]
    assert invoke("ScreenFunction", {"complaint_id": "IT-SCREEN-RETRY-1"})[1]["decision"] == "odr"
    assert stack.cases.get("IT-SCREEN-RETRY-1").version == version  # type: ignore[union-attr]


def test_screen_refuses_and_routes_regular(stack: LocalStack, invoke: Invoker) -> None:
    seed_case(stack, record("time-barred", complaint_id="IT-SCREEN-BARRED"))
    seed_case(stack, record("not-in-directory", complaint_id="IT-SCREEN-REGULAR"))
    assert invoke("ScreenFunction", {"complaint_id": "IT-SCREEN-BARRED"})[1]["decision"] == "rejected"
    assert invoke("ScreenFunction", {"complaint_id": "IT-SCREEN-REGULAR"})[1]["decision"] == "returned"
    assert stack.cases.get("IT-SCREEN-BARRED").refusal_reason == "time_barred"  # type: ignore[union-attr]


def test_await_keeps_the_token_and_stops_for_a_withdrawn_case(stack: LocalStack, invoke: Invoker) -> None:
    seed_case(stack, record(complaint_id="IT-AWAIT-0000001"))
    invoke("ScreenFunction", {"complaint_id": "IT-AWAIT-0000001"})
    ok, _ = invoke(
        "AwaitActionFunction", {"complaint_id": "IT-AWAIT-0000001", "phase": "acceptance", "task_token": "tok-1"}
    )
    case = stack.cases.get("IT-AWAIT-0000001")
    assert ok and case is not None and case.pending is not None
    assert (case.pending.phase, case.pending.task_token) == ("acceptance", "tok-1")
    # A wait for a phase the case is not in is an error, not a silent token.
    ok, error = invoke(
        "AwaitActionFunction", {"complaint_id": "IT-AWAIT-0000001", "phase": "review", "task_token": "t2"}
    )
    assert not ok and error["errorType"] == "InvalidAction"

    withdrawn = seed_case(stack, record(complaint_id="IT-AWAIT-WITHDRAW"))
    updated, event = transition(withdrawn, "withdrawal_received", "12315", stack.now(), withdraw_requested=True)
    stack.cases.save(updated, event)
    ok, error = invoke(
        "AwaitActionFunction", {"complaint_id": "IT-AWAIT-WITHDRAW", "phase": "acceptance", "task_token": "t"}
    )
    assert not ok and error["errorType"] == "CaseWithdrawn"


def test_escalate_then_close_returns_and_queues_the_report(stack: LocalStack, invoke: Invoker) -> None:
    seed_case(stack, record(complaint_id="IT-ESCALATE-00001"))
    invoke("ScreenFunction", {"complaint_id": "IT-ESCALATE-00001"})
    assert invoke("EscalateFunction", {"complaint_id": "IT-ESCALATE-00001", "phase": "acceptance"})[0]
    ok, result = invoke("CloseFunction", {"complaint_id": "IT-ESCALATE-00001", "outcome": "returned"})
    assert ok and result == {"outcome": "returned"}
    case = stack.cases.get("IT-ESCALATE-00001")
    assert case is not None and (case.status, case.outcome, case.overdue) == ("closed", "returned", True)
    assert [h.event for h in case.history][-2:] == ["overdue", "closed"]
    reports = _drain(stack, "ReportQueue")
    [mine] = [r for r in reports if r["complaint_id"] == "IT-ESCALATE-00001"]
    assert mine["idempotency_key"] == "IT-ESCALATE-00001-returned"
    assert mine["body"]["outcome"] == "returned" and mine["body"]["closed_at"].endswith("+08:00")


def test_close_resolved_records_outcome_amount_and_cycle(stack: LocalStack, invoke: Invoker) -> None:
    case = seed_case(stack, record(complaint_id="IT-CLOSE-SETTLED"))
    now = stack.now()
    updated, event = transition(
        case,
        "result_reported",
        "enterprise:x",
        now,
        status="under_review",
        feedback=Feedback(settled=True, recovered_amount=Decimal("150.50"), summary="部分退款", reported_at=now),
    )
    stack.cases.save(updated, event)
    ok, result = invoke("CloseFunction", {"complaint_id": "IT-CLOSE-SETTLED", "outcome": "resolved"})
    closed = stack.cases.get("IT-CLOSE-SETTLED")
    assert ok and result == {"outcome": "settled"}
    assert closed is not None and closed.recovered_amount == Decimal("150.50") and closed.cycle_days is not None
    # Closing again (a retried step) changes nothing and reports again under the same key.
    assert invoke("CloseFunction", {"complaint_id": "IT-CLOSE-SETTLED", "outcome": "resolved"})[1] == {
        "outcome": "settled"
    }
    assert stack.cases.get("IT-CLOSE-SETTLED").version == closed.version  # type: ignore[union-attr]
    keys = [r["idempotency_key"] for r in _drain(stack, "ReportQueue") if r["complaint_id"] == "IT-CLOSE-SETTLED"]
    assert keys == ["IT-CLOSE-SETTLED-settled", "IT-CLOSE-SETTLED-settled"]


def test_record_failure_keeps_the_fault_on_the_case(stack: LocalStack, invoke: Invoker) -> None:
    seed_case(stack, record(complaint_id="IT-FAILURE-000001"))
    error = {"Error": "States.TaskFailed", "Cause": "boom"}
    assert invoke("RecordFailureFunction", {"complaint_id": "IT-FAILURE-000001", "error": error})[0]
    last = stack.cases.get("IT-FAILURE-000001").history[-1]  # type: ignore[union-attr]
    assert (last.event, last.detail["error"]) == ("workflow_failed", "States.TaskFailed")


def test_stale_writer_fails_loudly(stack: LocalStack) -> None:
    case = seed_case(stack, record(complaint_id="IT-STALE-0000001"))
    first, e1 = transition(case, "a", "test", stack.now())
    second, e2 = transition(case, "b", "test", stack.now())
    stack.cases.save(first, e1)
    with pytest.raises(StaleCase):
        stack.cases.save(second, e2)
    assert [h.event for h in stack.cases.get("IT-STALE-0000001").history] == ["received", "a"]  # type: ignore[union-attr]


def _drain(stack: LocalStack, queue: str) -> list[dict]:
    sqs = stack.client("sqs")
    url = stack.deployment.ref(queue)
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return out
        for m in messages:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
