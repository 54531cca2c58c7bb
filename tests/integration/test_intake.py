"""Intake: each complaint becomes exactly one case and one execution; revisions apply once and in order."""

from __future__ import annotations

from odr_adapter.models.case import transition
from odr_local.stack import LocalStack
from tests.waiting import wait_for_case

from .conftest import Invoker
from .helpers import record, seed_case, sqs_event


def _executions(stack: LocalStack, complaint_id: str) -> list[str]:
    sfn = stack.client("stepfunctions")
    runs = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    return [e["name"] for e in runs if e["name"] == f"case-{complaint_id}"]


def test_the_same_record_twice_makes_one_case_and_one_execution(stack: LocalStack, invoke: Invoker) -> None:
    raw = record(complaint_id="IT-INTAKE-ONCE-01")
    ok, response = invoke(
        "IntakeFunction", sqs_event([{"record": raw, "source": "poll"}, {"record": raw, "source": "push"}])
    )
    assert ok and response == {"batchItemFailures": []}
    ok, _ = invoke("IntakeFunction", sqs_event([{"record": raw, "source": "poll"}]))
    case = wait_for_case(stack, "IT-INTAKE-ONCE-01", lambda c: c.execution_started)  # its first step ran
    assert [h.event for h in case.history][:2] == ["received", "dispatched"]
    assert _executions(stack, "IT-INTAKE-ONCE-01") == ["case-IT-INTAKE-ONCE-01"]


def test_an_older_revision_never_overwrites_a_newer_one(stack: LocalStack, invoke: Invoker) -> None:
    newer = record(complaint_id="IT-INTAKE-ORDER-1", revision=3, demand="换货")
    older = record(complaint_id="IT-INTAKE-ORDER-1", revision=2, demand="退款")
    invoke("IntakeFunction", sqs_event([{"record": newer, "source": "push"}]))
    invoke("IntakeFunction", sqs_event([{"record": older, "source": "poll"}]))
    case = stack.cases.get("IT-INTAKE-ORDER-1")
    assert case is not None and case.revision == 3 and case.record["demand"] == "换货"


def test_a_crash_between_case_written_and_execution_started_heals(stack: LocalStack, invoke: Invoker) -> None:
    raw = record(complaint_id="IT-INTAKE-HEAL-01")
    # The crash: the case was written, its execution never started.
    broken, event = transition(seed_case(stack, raw), "crash", "test", stack.now(), execution_started=False)
    stack.cases.save(broken, event)
    assert _executions(stack, "IT-INTAKE-HEAL-01") == []
    ok, _ = invoke("IntakeFunction", sqs_event([{"record": raw, "source": "poll"}]))  # redelivery
    assert ok and _executions(stack, "IT-INTAKE-HEAL-01") == ["case-IT-INTAKE-HEAL-01"]
    wait_for_case(stack, "IT-INTAKE-HEAL-01", lambda c: c.execution_started)


def test_a_withdrawal_ends_the_running_wait(stack: LocalStack, invoke: Invoker) -> None:
    raw = record(complaint_id="IT-INTAKE-WITHDRAW")
    invoke("IntakeFunction", sqs_event([{"record": raw, "source": "poll"}]))
    assert stack.wait_for(lambda: (c := stack.cases.get("IT-INTAKE-WITHDRAW")) is not None and c.pending is not None)
    withdrawn = record(complaint_id="IT-INTAKE-WITHDRAW", revision=2, status="withdrawn")
    invoke("IntakeFunction", sqs_event([{"record": withdrawn, "source": "push"}]))
    assert stack.wait_for(lambda: stack.cases.get("IT-INTAKE-WITHDRAW").outcome == "withdrawn")  # type: ignore[union-attr]
    sfn = stack.client("stepfunctions")
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":case-IT-INTAKE-WITHDRAW"
    assert stack.wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")


def test_bad_records_are_quarantined_and_the_rest_processed(stack: LocalStack, invoke: Invoker) -> None:
    good = record(complaint_id="IT-INTAKE-GOOD-01")
    bad = record("bad-record", complaint_id="IT-INTAKE-BAD-001")
    ok, response = invoke(
        "IntakeFunction",
        sqs_event([{"record": bad, "source": "poll"}, {"record": good, "source": "poll"}, {"record": 7}]),
    )
    assert ok and response == {"batchItemFailures": []}
    assert stack.cases.get("IT-INTAKE-GOOD-01") is not None
    quarantined = {q["complaint_id"]: q for q in stack.quarantine.all()}
    assert {p["path"] for p in quarantined["IT-INTAKE-BAD-001"]["problems"]} == {
        "consumer.name",
        "consumer.phone",
        "respondent.uscc",
        "transaction.amount",
    }
    assert quarantined[""]["problems"] == [{"path": "(record)", "reason": "a record must be a JSON object"}]
