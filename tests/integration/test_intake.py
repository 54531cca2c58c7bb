"""Intake: each complaint becomes exactly one case and one execution; revisions apply once and in order; a new
complaint costs two AWS calls (the conditional write and the start), counted by the local stack's recorder."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from odr_adapter.models.case import transition
from odr_local import aws_calls, invoker
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
    _intake(sqs_event([{"record": newer, "source": "push"}]))
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


def _intake_calls(stack: LocalStack) -> Counter[str]:
    """What IntakeFunction asked of AWS so far, by IAM action (the local stack records every function's calls)."""
    segment = aws_calls.segment_for(stack.endpoint)
    assert segment is not None
    return Counter({c.action: n for c, n in segment.calls.items() if c.function == "IntakeFunction"})


def _intake(event: dict[str, Any]) -> None:
    """The intake handler run as its SQS event source runs it (the recorder leaves out calls made while the
    emulator answers a Lambda Invoke)."""
    intake = next(f for f in invoker.FUNCTIONS.values() if f.logical_id == "IntakeFunction")
    _, failed, _ = invoker.run(intake, event)
    assert not failed


def test_a_new_complaint_costs_two_aws_calls_a_duplicate_one_and_a_revision_two(stack: LocalStack) -> None:
    ids = [f"IT-INTAKE-FLOOR-{n:02d}" for n in range(3)]
    before = _intake_calls(stack)
    _intake(sqs_event([{"record": record(complaint_id=i), "source": "poll"} for i in ids]))
    assert _intake_calls(stack) - before == Counter({"dynamodb:PutItem": 3, "states:StartExecution": 3})
    for complaint_id in ids:  # their workflows' first steps ran
        wait_for_case(stack, complaint_id, lambda c: c.execution_started)

    before = _intake_calls(stack)
    _intake(sqs_event([{"record": record(complaint_id=ids[0]), "source": "push"}]))
    assert _intake_calls(stack) - before == Counter({"dynamodb:PutItem": 1})  # the create that found it

    before = _intake_calls(stack)
    newer = record(complaint_id=ids[1], revision=2, demand="换货")
    _intake(sqs_event([{"record": newer, "source": "push"}]))
    assert _intake_calls(stack) - before == Counter({"dynamodb:PutItem": 2})  # the create, then the revision
    case = stack.cases.get(ids[1])
    assert case is not None and (case.revision, case.record["demand"], case.status) == (2, "换货", "dispatched")


def test_a_batch_reports_its_outcomes_once_as_metric_sums_and_one_log_line_without_personal_data(
    stack: LocalStack,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = record(complaint_id="IT-INTAKE-METRIC-1"), record(complaint_id="IT-INTAKE-METRIC-2")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    caplog.clear()
    _intake(
        sqs_event(
            [
                {"record": first, "source": "push"},
                {"record": second, "source": "poll"},
                {"record": first, "source": "poll"},  # a duplicate delivery
                {"record": record("bad-record", complaint_id="IT-INTAKE-METRIC-3"), "source": "poll"},
            ]
        )
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    assert len(emf) == 1  # the batch's metrics, flushed once
    values = {m["Name"]: emf[0][m["Name"]] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert values == {  # one value each
        "CasesCreated": [2.0],
        "IntakeDuplicates": [1.0],
        "RecordsQuarantined": [1.0],
        "IntakeRetried": [0.0],
    }
    ingested = [r for r in caplog.records if r.name == "intake" and r.getMessage() == "ingested"]
    assert len(ingested) == 1  # one line for the batch
    assert vars(ingested[0])["outcomes"] == {"created": 2, "duplicate": 1, "quarantined": 1}
    assert vars(ingested[0])["sources"] == {"push": 1, "poll": 3}
    text = json.dumps([lines, [vars(r) for r in ingested]], ensure_ascii=False, default=str)
    assert first["consumer"]["name"] not in text and first["consumer"]["phone"] not in text
