"""The pull path under the webhook's limits (issue 20), through the real parts: the stack's 12315 simulator over
HTTP, the deployed poller and intake functions, SQS and DynamoDB on the local stack's AWS emulation.

A pulled record the webhook would refuse (nested 300 levels deep, a 40-digit number) is quarantined with its
reason as a digest, a lone surrogate with the intake's reason, and the records beside them become cases; records
quarantined as digests are counted as quarantined by the reconciliation; a record intake cannot store (its case
would pass DynamoDB's 400 KB) is quarantined with the reason instead of being retried into the dead-letter queue.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import timedelta
from typing import Any

import pytest

from odr_adapter.models.case import transition
from odr_adapter.models.record import LONE_SURROGATE
from odr_local.reconciliation import reconcile
from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import record, seed_case
from .test_hostile_feed import intake, quarantined, take_raw

SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def new_id(tag: str) -> str:
    return f"IT-PULL-{tag}-{uuid.uuid4().hex[:10]}"


def nested(levels: int) -> Any:
    value: Any = "底"
    for _ in range(levels):
        value = {"next": value}
    return value


def pull_and_ingest(stack: LocalStack, invoke: Invoker, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Publish on the stack's simulator, run the deployed poller, then the deployed intake on what it queued."""
    now = stack.now()
    for n, item in enumerate(items):
        stack.simulator.publish({**item, "updated_at": (now - timedelta(seconds=len(items) - n)).isoformat()})
    ok, report = invoke("PollerFunction", SCHEDULED)
    assert ok and report["complete"], report
    texts = take_raw(stack, {i["complaint_id"] for i in items})
    assert len(texts) == len(items)  # every record of the page queued, the bad ones too
    assert intake(invoke, texts) == {"batchItemFailures": []}  # nothing left to retry
    return report


CUT = "\ud83d"  # the first half of 😀: a lone surrogate, served as the JSON escape "\\ud83d"
BAD = {
    "deep": ({"platform_extra": nested(300)}, "record is nested 301 levels deep; at most 30"),  # the webhook's 32
    "long number": ({"platform_score": int("9" * 40)}, "a number in the record is 40 characters long; at most 32"),
    "lone surrogate": ({"description": f"收到的水壶漏电{CUT}"}, LONE_SURROGATE),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_a_pulled_record_the_webhook_refuses_is_quarantined_and_its_page_mates_become_cases(
    stack: LocalStack, invoke: Invoker, kind: str
) -> None:
    fields, reason = BAD[kind]
    first, last = record(complaint_id=new_id("OK1")), record(complaint_id=new_id("OK2"))
    bad = record(complaint_id=new_id("BAD"), **fields)
    pull_and_ingest(stack, invoke, [first, bad, last])

    assert stack.cases.get(first["complaint_id"]) is not None and stack.cases.get(last["complaint_id"]) is not None
    assert stack.cases.get(bad["complaint_id"]) is None
    (entry,) = quarantined(stack, bad["complaint_id"])
    assert [p["reason"] for p in entry["problems"]] == [reason]
    if kind == "lone surrogate":  # within the feed's limits: kept whole, quarantined by intake
        assert entry["problems"][0]["path"] == "description" and entry["raw"]["description"] == bad["description"]
    else:  # over them: kept as its digest (identity, size, SHA-256 of the text as sent)
        kept = entry["raw"]["_odr_truncated"]
        assert kept["complaint_id"] == bad["complaint_id"] and kept["revision"] == 1 and len(kept["sha256"]) == 64


def test_records_quarantined_as_digests_are_counted_as_quarantined(stack: LocalStack, invoke: Invoker) -> None:
    over_queue = record(complaint_id=new_id("Q"), platform_notes="很" * 100_000)  # 300 KB: digest at the edge
    over_store = record(complaint_id=new_id("S"), platform_notes="x" * (200 * 1024))  # digest in the store
    innocent = record(complaint_id=new_id("OK"))
    items = [over_queue, over_store, innocent]
    pull_and_ingest(stack, invoke, items)
    ids = {i["complaint_id"] for i in items}
    entries = [q for q in stack.quarantine.all() if q["complaint_id"] in ids]
    assert len(entries) == 2 and all("_odr_truncated" in q["raw"] for q in entries)
    cases = [c for c in (stack.cases.get(cid) for cid in ids) if c is not None]
    got = reconcile({(cid, 1) for cid in ids}, cases, entries, deliveries=3)
    assert (got.offered, got.cases, got.quarantined, got.unaccounted, got.duplicates_dropped) == (3, 1, 2, 0, 0)


def test_a_record_its_case_cannot_store_is_quarantined_not_retried(stack: LocalStack, invoke: Invoker) -> None:
    """Revision 2 of a case whose history is already large: the item would pass DynamoDB's 400 KB. The table
    refuses it (ValidationException): trying again cannot help, so the record is quarantined with that reason."""
    first = record(complaint_id=new_id("FULL"))
    case = seed_case(stack, first)
    full, event = transition(case, "note_added", "test", stack.now(), detail={"text": "注" * 120_000})
    stack.cases.save(full, event)  # about 360 KB of history
    noise = base64.b64encode(os.urandom(90 * 1024)).decode()  # 120 KB that hardly compresses
    second = {**first, "revision": 2, "updated_at": stack.now().isoformat(), "platform_notes": noise}
    assert intake(invoke, [json.dumps({"record": second, "source": "poll"})]) == {"batchItemFailures": []}
    stored = stack.cases.get(first["complaint_id"])
    assert stored is not None and stored.revision == 1
    (entry,) = quarantined(stack, first["complaint_id"])
    assert "ValidationException" in entry["problems"][0]["reason"]
    assert "size" in entry["problems"][0]["reason"]


def test_a_record_too_deep_to_serialise_that_reaches_intake_is_quarantined_not_retried(
    stack: LocalStack, invoke: Invoker
) -> None:
    """Defence in depth: a message that did not pass the edge's limits (an older poller's, a hand-made redrive)
    holding a record nested 300 deep. Before, intake's model_dump raised "Circular reference detected (depth
    exceeded)" at every delivery until the dead-letter queue."""
    deep = record(complaint_id=new_id("DEEPQ"), platform_extra=nested(300))
    assert intake(invoke, [json.dumps({"record": deep, "source": "poll"})]) == {"batchItemFailures": []}
    assert stack.cases.get(deep["complaint_id"]) is None
    (entry,) = quarantined(stack, deep["complaint_id"])
    assert "cannot be serialised" in entry["problems"][0]["reason"]
    assert entry["raw"] == deep  # kept whole: it is within what the store takes
