"""Progress to 12315 on the emulated AWS and the real HTTP simulator: a case's writes reach the table's stream,
ProgressFunction queues their stages on the FIFO queue, ReportProgressFunction posts them, each once and in
order; a platform fault is retried and holds back only its own case; a stage after the outcome is dropped."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from odr_adapter.clock import iso_z
from odr_adapter.models.case import Case, EnterpriseRef, Feedback, PendingWait, transition
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.rules.calendars import compute_deadline
from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import record, seed_case, sqs_event

JINFENG = EnterpriseRef(uscc="91310116MA1JK7Q26H", name="上海金枫云购电子商务有限公司", enterprise_class="A")


def write(stack: LocalStack, case: Case, event: str, minutes: int, **changes: Any) -> Case:
    """One transition of the case as the workflow writes it (a conditional PutItem), ``minutes`` after START."""
    updated, entry = transition(case, event, "test", stack.now() + timedelta(minutes=minutes), **changes)
    return stack.cases.save(updated, entry)


def wait(stack: LocalStack, case: Case, phase: Any, minutes: int) -> Case:
    at = stack.now() + timedelta(minutes=minutes)
    return write(
        stack,
        case,
        "waiting",
        minutes,
        pending=PendingWait(phase=phase, task_token="t", since=at),
        detail={"phase": phase, "due_at": iso_z(at + timedelta(days=2))},
    )


def under_review(stack: LocalStack, complaint_id: str) -> Case:
    """A case dispatched, accepted, its result reported and the station's review begun (4 stages)."""
    stack.simulator.publish(record(complaint_id=complaint_id))
    case = seed_case(stack, record(complaint_id=complaint_id))
    deadlines = {p: compute_deadline(p, stack.now(), "A", DeadlinePolicies()) for p in ("acceptance", "resolution")}
    due = deadlines["acceptance"].due_at
    case = write(
        stack,
        case,
        "dispatched",
        1,
        status="dispatched",
        enterprise=JINFENG,
        station_code="JS-ZJ",
        deadlines=deadlines,
        detail={"acceptance_due": iso_z(due)},
    )
    case = wait(stack, case, "acceptance", 2)
    case = write(stack, case, "accepted", 60, status="accepted")
    case = wait(stack, case, "resolution", 61)
    feedback = Feedback(settled=True, recovered_amount=Decimal("99.00"), summary="退款", reported_at=stack.now())
    case = write(
        stack, case, "result_reported", 600, status="under_review", feedback=feedback, detail={"settled": True}
    )
    return wait(stack, case, "review", 601)


def stream_records(stack: LocalStack, complaint_ids: set[str]) -> list[dict[str, Any]]:
    """The case table's stream records about these complaints, as Lambda's event carries them."""
    streams = stack.client("dynamodbstreams")
    arn = stack.deployment.att("CasesTable", "StreamArn")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    mine = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].removeprefix("CASE#") in complaint_ids]
    for r in mine:
        r["dynamodb"]["ApproximateCreationDateTime"] = int(r["dynamodb"]["ApproximateCreationDateTime"].timestamp())
        r["eventSourceARN"] = arn
    return json.loads(json.dumps(mine, default=_base64))  # a binary attribute (the stored record) as base64 text


def _base64(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} in a stream record")


def queued(stack: LocalStack) -> list[dict[str, Any]]:
    """Receive what the progress queue delivers now, as the SQS event source mapping would (FIFO: a group with
    a message in flight delivers nothing more)."""
    sqs = stack.client("sqs")
    got = sqs.receive_message(
        QueueUrl=stack.deployment.ref("ProgressQueue"),
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        VisibilityTimeout=360,
    )
    return got.get("Messages", [])


def deliver(stack: LocalStack, invoke: Invoker, messages: list[dict[str, Any]]) -> list[str]:
    """ReportProgressFunction on a batch; successes deleted, failures left in flight. The failed message ids."""
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": stack.deployment.att("ProgressQueue", "Arn"),
                "awsRegion": "cn-north-1",
            }
            for m in messages
        ]
    }
    ok, answer = invoke("ReportProgressFunction", event)
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]] if ok else [m["MessageId"] for m in messages]
    sqs, url = stack.client("sqs"), stack.deployment.ref("ProgressQueue")
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return failed


def expire(stack: LocalStack, messages: list[dict[str, Any]]) -> None:
    """The visibility timeout of these messages passes: the queue delivers them again."""
    sqs, url = stack.client("sqs"), stack.deployment.ref("ProgressQueue")
    for m in messages:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    stack.kernel.advance(timedelta(seconds=1))  # visible once the clock has moved past that instant


def keys(stack: LocalStack, complaint_id: str) -> list[str]:
    return [r["key"] for r in stack.simulator.progress_log if r["complaint_id"] == complaint_id]


def test_each_stage_reaches_the_platform_once_and_in_order(stack: LocalStack, invoke: Invoker) -> None:
    under_review(stack, "IT-PROGRESS-00001")
    records = stream_records(stack, {"IT-PROGRESS-00001"})

    assert invoke("ProgressFunction", {"Records": records}) == (True, {"queued": 4})
    assert invoke("ProgressFunction", {"Records": records}) == (True, {"queued": 4})  # the stream redelivers
    messages = queued(stack)
    assert [json.loads(m["Body"])["idempotency_key"] for m in messages] == [  # deduplicated by key
        "IT-PROGRESS-00001-dispatched-1",
        "IT-PROGRESS-00001-accepted-1",
        "IT-PROGRESS-00001-result_reported-1",
        "IT-PROGRESS-00001-under_review-1",
    ]
    invalid_before = stack.simulator.counters()["progress_invalid"]

    assert deliver(stack, invoke, messages) == []

    assert keys(stack, "IT-PROGRESS-00001") == [json.loads(m["Body"])["idempotency_key"] for m in messages]
    assert stack.simulator.counters()["progress_invalid"] == invalid_before  # every body met the contract
    repeated = stack.simulator.counters()["progress_repeated"]
    assert deliver(stack, invoke, messages) == []  # a redelivery after a lost delete: 200, nothing new
    assert stack.simulator.counters()["progress_repeated"] == repeated + 4
    assert len(keys(stack, "IT-PROGRESS-00001")) == 4


def test_a_platform_fault_is_retried_and_holds_back_only_its_own_case(stack: LocalStack, invoke: Invoker) -> None:
    under_review(stack, "IT-PROGRESS-00002")
    under_review(stack, "IT-PROGRESS-00003")
    invoke("ProgressFunction", {"Records": stream_records(stack, {"IT-PROGRESS-00002", "IT-PROGRESS-00003"})})
    stack.simulator.faults.update(targets=["progress"], script=["error", "error"])  # both tries of the first stage
    try:
        first = queued(stack)
        assert [json.loads(m["Body"])["complaint_id"] for m in first] == ["IT-PROGRESS-00002"] * 4 + [
            "IT-PROGRESS-00003"
        ] * 4

        failed = deliver(stack, invoke, first)

        assert failed == [m["MessageId"] for m in first[:4]]  # the failed stage and the rest of its case, untried
        assert keys(stack, "IT-PROGRESS-00002") == []
        assert len(keys(stack, "IT-PROGRESS-00003")) == 4  # the other case went on
        assert queued(stack) == []  # the group waits for its head's visibility timeout
        expire(stack, first[:4])
        again = queued(stack)
        assert [m["MessageId"] for m in again] == [m["MessageId"] for m in first[:4]]  # in the same order

        assert deliver(stack, invoke, again) == []

        assert keys(stack, "IT-PROGRESS-00002") == [json.loads(m["Body"])["idempotency_key"] for m in first[:4]]
        assert stack.simulator.counters()["faults"].get("error", 0) >= 2
    finally:
        stack.simulator.faults.update(targets=["pull"], script=[])


def test_the_stream_side_never_waits_on_the_platform(stack: LocalStack, invoke: Invoker) -> None:
    """The platform down for good: the case's writes and ProgressFunction go on; only the queue holds the stages."""
    stack.simulator.faults.update(targets=["progress"], error_rate=1.0)
    try:
        case = under_review(stack, "IT-PROGRESS-00004")
        ok, answer = invoke("ProgressFunction", {"Records": stream_records(stack, {"IT-PROGRESS-00004"})})
        assert (ok, answer) == (True, {"queued": 4})
        write(stack, case, "approved", 700)  # the case moves on while its stages wait
        messages = queued(stack)
        assert len(deliver(stack, invoke, messages)) == 4 and keys(stack, "IT-PROGRESS-00004") == []
    finally:
        stack.simulator.faults.update(targets=["pull"], error_rate=0.0)
    expire(stack, messages)
    assert deliver(stack, invoke, queued(stack)) == []
    assert len(keys(stack, "IT-PROGRESS-00004")) == 4


def test_a_stage_after_the_outcome_is_superseded_and_not_retried(stack: LocalStack, invoke: Invoker) -> None:
    under_review(stack, "IT-PROGRESS-00005")
    invoke("ProgressFunction", {"Records": stream_records(stack, {"IT-PROGRESS-00005"})})
    outcome = {
        "complaint_id": "IT-PROGRESS-00005",
        "idempotency_key": "IT-PROGRESS-00005-settled",
        "body": {
            "outcome": "settled",
            "recovered_amount": "99.00",
            "closed_at": "2026-12-01T10:00:00+08:00",
            "handled_by": "x",
            "process_summary": "退款",
        },
    }
    assert invoke("ReportBackFunction", sqs_event([outcome])) == (True, {"batchItemFailures": []})

    assert deliver(stack, invoke, queued(stack)) == []  # 422: dropped, not redelivered

    assert keys(stack, "IT-PROGRESS-00005") == []
    superseded = [r["key"] for r in stack.simulator.superseded_log if r["complaint_id"] == "IT-PROGRESS-00005"]
    assert len(superseded) == 4 and queued(stack) == []
