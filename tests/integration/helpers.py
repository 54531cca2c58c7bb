"""Building records and cases for handler tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from odr_adapter.feed.intake import execution_name
from odr_adapter.models.case import Case, transition
from odr_adapter.models.record import parse_record
from odr_local.stack import LocalStack

RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "records"


def record(name: str = "odr-by-uscc", **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((RECORDS / f"{name}.json").read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    raw.update(changes)
    return raw


def seed_case(stack: LocalStack, raw: dict[str, Any]) -> Case:
    """A received case written straight to the table (no execution): steps are then invoked by hand."""
    complaint = parse_record(raw)
    case, event = transition(
        Case(
            complaint_id=complaint.complaint_id,
            revision=complaint.revision,
            registered_at=complaint.registered_at,
            received_at=stack.now(),
            record=complaint.to_raw(),
            execution_name=execution_name(complaint.complaint_id),
            execution_started=True,
        ),
        "received",
        "test",
        stack.now(),
    )
    return stack.cases.save(case, event)


def sqs_event(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": json.dumps(body, ensure_ascii=False),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:123456789012:queue",
                "awsRegion": "cn-north-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def take_intake(stack: LocalStack, complaint_ids: set[str]) -> list[dict[str, Any]]:
    """The intake queue's messages about these complaints; other tests' messages are put back."""
    sqs, url = stack.client("sqs"), stack.deployment.ref("IntakeQueue")
    mine: list[dict[str, Any]] = []
    others: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            break
        for m in got:
            body = json.loads(m["Body"])
            if body.get("record", {}).get("complaint_id") in complaint_ids:
                mine.append(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            else:
                others.append(m["ReceiptHandle"])
    for handle in others:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return mine
