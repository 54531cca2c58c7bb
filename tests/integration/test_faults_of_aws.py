"""Faults of AWS on the real state machine (moto's interpreter) and the real index: a throttled step is retried,
never failing the case; the sweeper's Query on ByOwed finds and heals a case whose callback was lost; a callback
lost just before the deadline is taken at the deadline instead of escalating the case; a workflow that failed
before its first step is restarted under the next name; an intake batch left whole to the queue is counted."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from odr_adapter.models.case import Case, transition
from odr_adapter.people.healing import GRACE
from odr_local import invoker
from odr_local.stack import LocalStack
from tests.waiting import wait_for_case

from .conftest import Invoker
from .helpers import record, seed_case, sqs_event


def _waiting(phase: str) -> Callable[[Case], bool]:
    return lambda c: c.pending is not None and c.pending.open and c.pending.phase == phase


@contextmanager
def throttled(stack: LocalStack, function: str, operation: str, times: int) -> Iterator[list[str]]:
    """DynamoDB refuses ``operation`` with ProvisionedThroughputExceededException when ``function`` calls it,
    ``times`` times (each an invocation's attempt that botocore's retries did not get through)."""
    name = stack.deployment.ref(function)
    refused: list[str] = []
    real = getattr(BaseClient, "_make_api_call")  # noqa: B009  (botocore's private, untyped)

    def call(self: BaseClient, operation_name: str, params: dict[str, Any]) -> Any:
        running = invoker.current()
        if operation_name == operation and running is not None and running.name == name and len(refused) < times:
            refused.append(operation_name)
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation_name)  # type: ignore[typeddict-item]
        return real(self, operation_name, params)

    setattr(BaseClient, "_make_api_call", call)  # noqa: B010
    try:
        yield refused
    finally:
        setattr(BaseClient, "_make_api_call", real)  # noqa: B010


def test_a_step_throttled_past_botocores_attempts_is_retried_by_the_state_machine(
    stack: LocalStack, invoke: Invoker
) -> None:
    cid = "IT-AWS-THROTTLED-1"
    with throttled(stack, "ScreenFunction", "PutItem", times=2) as refused:
        invoke("IntakeFunction", sqs_event([{"record": record(complaint_id=cid), "source": "poll"}]))
        case = wait_for_case(stack, cid, _waiting("acceptance"))
    assert refused == ["PutItem", "PutItem"]  # two invocations failed, the third went through
    assert case.status == "dispatched" and "acceptance" in case.deadlines
    assert "workflow_failed" not in [h.event for h in case.history]


def test_the_sweeper_finds_a_lost_callback_on_the_index_and_ends_the_wait(stack: LocalStack, invoke: Invoker) -> None:
    cid = "IT-AWS-SWEEP-00001"
    invoke("IntakeFunction", sqs_event([{"record": record(complaint_id=cid), "source": "poll"}]))
    case = wait_for_case(stack, cid, _waiting("acceptance"))
    assert case.pending is not None
    # The acceptance was written; its callback never reached Step Functions, and nobody repeats it.
    now = stack.now()
    answered = case.pending.model_copy(update={"answer": {"action": "accepted"}, "answered_at": now})
    lost, event = transition(case, "accepted", "enterprise:test", now, status="accepted", pending=answered)
    stack.cases.save(lost, event)
    assert cid in stack.cases.owing(stack.now() + timedelta(seconds=1))  # on the sparse index while it owes
    ok, early = invoke("SweeperFunction", {})
    assert ok and early["callbacks"] == 0  # within the grace a step may still be at work
    stack.kernel.advance(GRACE + timedelta(minutes=1))

    ok, swept = invoke("SweeperFunction", {})

    assert ok and swept["callbacks"] >= 1 and swept["healed"] >= 1
    resumed = wait_for_case(stack, cid, _waiting("resolution"))
    assert [h.event for h in resumed.history].count("accepted") == 1 and resumed.owes_since is None
    assert cid not in stack.cases.owing(stack.now() + timedelta(seconds=1))  # and off it once settled


def test_a_callback_lost_before_the_deadline_is_taken_at_the_deadline_not_escalated(
    stack: LocalStack, invoke: Invoker
) -> None:
    cid = "IT-AWS-LATE-CALLBK1"
    seed_case(stack, record(complaint_id=cid))
    assert invoke("ScreenFunction", {"complaint_id": cid})[0]  # dispatched: the workflow's first step ran
    screened = stack.cases.get(cid)
    assert screened is not None
    # An acceptance deadline an hour away (the package's clock must not move by days), then the workflow itself.
    soon = screened.deadlines["acceptance"].model_copy(
        update={"due_at": stack.now() + timedelta(hours=1), "remind_at": stack.now() + timedelta(minutes=30)}
    )
    short, event = transition(
        screened, "deadline_moved", "test", stack.now(), deadlines={**screened.deadlines, "acceptance": soon}
    )
    stack.cases.save(short, event)
    stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn, name=short.execution_name, input=json.dumps({"complaint_id": cid})
    )
    case = wait_for_case(stack, cid, _waiting("acceptance"))
    assert case.pending is not None
    # The acceptance was written in time; its callback never reached Step Functions and no sweep came before the
    # deadline: the wait's timeout fires and routes to Escalate, which finds the answer on the case.
    now = stack.now()
    answered = case.pending.model_copy(update={"answer": {"action": "accepted"}, "answered_at": now})
    lost, event = transition(case, "accepted", "enterprise:test", now, status="accepted", pending=answered)
    stack.cases.save(lost, event)

    resumed = wait_for_case(stack, cid, _waiting("resolution"))

    assert stack.now() >= soon.due_at  # it went on at the deadline, not before
    assert not resumed.overdue and resumed.status == "accepted"
    assert [h.event for h in resumed.history][-3:] == ["accepted", "answer_taken_at_deadline", "waiting"]
    sfn = stack.client("stepfunctions")
    arn = f"{stack.state_machine_arn.replace(':stateMachine:', ':execution:')}:{resumed.execution_name}"
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[-4:] == ["AcceptanceOverdue", "Escalate", "AnsweredInTime", "AwaitResult"]
    assert "NotifyStationOverdue" not in entered


def test_a_workflow_that_failed_before_its_first_step_is_restarted_by_the_sweeper(
    stack: LocalStack, invoke: Invoker
) -> None:
    cid = "IT-AWS-RESTART-0001"
    sfn = stack.client("stepfunctions")
    executions = stack.state_machine_arn.replace(":stateMachine:", ":execution:")
    # An execution by the case's name ran before the case could be read, and failed in its first step.
    sfn.start_execution(
        stateMachineArn=stack.state_machine_arn, name=f"case-{cid}", input=f'{{"complaint_id": "{cid}"}}'
    )
    assert stack.wait_for(lambda: sfn.describe_execution(executionArn=f"{executions}:case-{cid}")["status"] == "FAILED")
    # Intake writes the case owing its workflow's start; starting the ended execution's name again does nothing.
    invoke("IntakeFunction", sqs_event([{"record": record(complaint_id=cid), "source": "poll"}]))
    stack.settle()
    owing = stack.cases.get(cid)
    assert owing is not None and not owing.execution_started and owing.status == "received"
    stack.kernel.advance(GRACE + timedelta(minutes=1))

    ok, swept = invoke("SweeperFunction", {})

    assert ok and swept["restarts"] >= 1
    resumed = wait_for_case(stack, cid, _waiting("acceptance"))
    assert (resumed.execution_name, resumed.workflow_restarts) == (f"case-{cid}-r1", 1)
    assert resumed.execution_started and resumed.owes_since is None
    assert sfn.describe_execution(executionArn=f"{executions}:case-{cid}-r1")["status"] == "RUNNING"


def test_a_batch_left_whole_to_the_queue_says_so_in_its_metrics(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    intake = next(f for f in invoker.FUNCTIONS.values() if f.logical_id == "IntakeFunction")
    bodies = [{"record": record(complaint_id=f"IT-AWS-RETRIED-{i}"), "source": "poll"} for i in (1, 2)]
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as warned, throttled(stack, "IntakeFunction", "PutItem", 2) as refused:
        warnings.simplefilter("always")
        _, failed, _ = invoker.run(intake, sqs_event(bodies))
    assert failed and len(refused) == 2  # every record is left for the queue to deliver again
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf["IntakeRetried"] == [2.0]
    assert not [w for w in warned if "No application metrics" in str(w.message)]
