"""An action is never lost between the case write and the Step Functions callback, nor a withdrawal."""

from __future__ import annotations

from collections.abc import Callable

from odr_adapter.models.case import Case, transition
from odr_adapter.people.actions import perform
from odr_adapter.settings import MessagingSettings
from odr_adapter.wiring import services
from odr_local.stack import LocalStack
from tests.waiting import wait_for_case

from .conftest import Invoker
from .helpers import record, sqs_event


def _waiting(phase: str) -> Callable[[Case], bool]:
    return lambda c: c.pending is not None and c.pending.open and c.pending.phase == phase


def test_a_repeated_action_delivers_a_callback_that_was_lost(stack: LocalStack, invoke: Invoker) -> None:
    cid = "IT-ACT-LOST-00001"
    invoke("IntakeFunction", sqs_event([{"record": record(complaint_id=cid), "source": "poll"}]))
    case = wait_for_case(stack, cid, _waiting("acceptance"))
    assert case.pending is not None
    # The acceptance was written but its callback never reached Step Functions (a crash in between).
    lost, event = transition(
        case,
        "accepted",
        "enterprise:test",
        stack.now(),
        status="accepted",
        pending=case.pending.model_copy(update={"answer": {"action": "accepted"}}),
    )
    stack.cases.save(lost, event)
    stack.settle()
    assert stack.cases.get(cid).pending.phase == "acceptance"  # type: ignore[union-attr]  # the workflow still waits
    # the specialist taps "accept" again
    perform(cid, "accept", "enterprise:test", {}, services(MessagingSettings.load()))
    resumed = wait_for_case(stack, cid, _waiting("resolution"))
    assert [h.event for h in resumed.history].count("accepted") == 1


def test_repeating_an_action_that_was_delivered_changes_nothing(stack: LocalStack, invoke: Invoker) -> None:
    cid = "IT-ACT-REPEAT-001"
    invoke("IntakeFunction", sqs_event([{"record": record(complaint_id=cid), "source": "poll"}]))
    wait_for_case(stack, cid, _waiting("acceptance"))
    perform(cid, "accept", "enterprise:test", {}, services(MessagingSettings.load()))
    first = wait_for_case(stack, cid, _waiting("resolution"))
    again = perform(cid, "accept", "enterprise:test", {}, services(MessagingSettings.load()))
    assert again.version == first.version and stack.cases.get(cid).version == first.version  # type: ignore[union-attr]


def test_a_withdrawal_whose_wait_was_not_ended_heals_on_redelivery(stack: LocalStack, invoke: Invoker) -> None:
    cid = "IT-ACT-WITHDRAW-1"
    invoke("IntakeFunction", sqs_event([{"record": record(complaint_id=cid), "source": "poll"}]))
    case = wait_for_case(stack, cid, _waiting("acceptance"))
    withdrawn = record(complaint_id=cid, revision=2, status="withdrawn")
    # The withdrawal revision was written, then the process died before failing the wait's token.
    crashed, event = transition(
        case, "withdrawal_received", "12315", stack.now(), revision=2, record=withdrawn, withdraw_requested=True
    )
    stack.cases.save(crashed, event)
    invoke("IntakeFunction", sqs_event([{"record": withdrawn, "source": "push"}]))  # SQS redelivers it
    assert wait_for_case(stack, cid, lambda c: c.outcome is not None).outcome == "withdrawn"


def test_an_unreadable_message_is_quarantined_not_retried(stack: LocalStack, invoke: Invoker) -> None:
    event = sqs_event([])
    event["Records"] = [{**sqs_event([{}])["Records"][0], "body": "{not json"}]
    ok, response = invoke("IntakeFunction", event)
    assert ok and response == {"batchItemFailures": []}
    assert any(q["raw"] == "{not json" for q in stack.quarantine.all())
