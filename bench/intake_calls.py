"""Intake cost and speed on the local stack (prints figures, asserts nothing).

- AWS calls per new complaint made by the intake handler (counted on this thread's boto3 calls only);
- complaints per second through the intake handler, against a floor measured in the same run: the bare
  put_item + start_execution that any intake must make for a new complaint.

Run: .venv/bin/python bench/intake_calls.py [N]
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]

from odr_adapter import wiring  # noqa: E402
from odr_adapter.data_access.clients import client as boto_client  # noqa: E402
from odr_local.invoker import FUNCTIONS, run  # noqa: E402
from odr_local.stack import LocalStack  # noqa: E402

CALLS: Counter[str] = Counter()
COUNTING = threading.local()


def _count(event_name: str, **_: Any) -> None:
    if getattr(COUNTING, "on", False):
        CALLS[event_name.split(".", 1)[1]] += 1


def _records(prefix: str, n: int) -> list[dict[str, Any]]:
    base = json.loads((ROOT / "tests/fixtures/records/odr-by-uscc.json").read_text(encoding="utf-8"))
    return [{**base, "complaint_id": f"{prefix}{i:08d}"} for i in range(n)]


def _sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(i),
                "receiptHandle": str(i),
                "body": json.dumps({"record": r, "source": "bench"}),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:123456789012:q",
                "awsRegion": "cn-north-1",
            }
            for i, r in enumerate(records)
        ]
    }


def main(n: int = 100) -> None:
    logging.disable(logging.WARNING)
    sys.stdout = sys.stderr = open("/dev/null", "w")  # noqa: SIM115 - the handlers' and moto's logs
    out = sys.__stdout__
    assert out is not None
    # Virtual time, never advanced: the executions intake starts wait their turn, so only intake is measured.
    stack = LocalStack(datetime.fromisoformat("2026-11-30T08:00:00+08:00")).start()
    try:
        boto3.DEFAULT_SESSION.events.register("before-call", _count)  # type: ignore[union-attr]
        boto_client.cache_clear()  # handlers' clients are made again, with the counter attached
        wiring.cache_clear()
        intake = next(f for f in FUNCTIONS.values() if f.logical_id == "IntakeFunction")
        records = _records("BENCH-INTAKE-", n)
        COUNTING.on = True
        started = time.perf_counter()
        for i in range(0, n, 10):
            run(intake, _sqs_event(records[i : i + 10]))
        intake_seconds = time.perf_counter() - started
        COUNTING.on = False
        per_complaint = {k: round(v / n, 2) for k, v in sorted(CALLS.items())}

        db, sfn = stack.client("dynamodb"), stack.client("stepfunctions")
        table, machine = stack.deployment.ref("CasesTable"), stack.state_machine_arn
        started = time.perf_counter()
        for r in _records("BENCH-FLOOR-", n):
            db.put_item(
                TableName=table,
                Item={"pk": {"S": f"FLOOR#{r['complaint_id']}"}, "sk": {"S": "CASE"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            sfn.start_execution(
                stateMachineArn=machine,
                name=f"floor-{r['complaint_id']}",
                input=json.dumps({"complaint_id": r["complaint_id"]}),
            )
        floor_seconds = time.perf_counter() - started
    finally:
        stack.stop()
    print(f"complaints: {n}", file=out)
    print(f"AWS calls per new complaint at intake: {sum(CALLS.values()) / n:.2f} {per_complaint}", file=out)
    print("floor: 2 calls (put_item + start_execution)", file=out)
    print(
        f"intake: {n / intake_seconds:.1f} complaints/s; floor: {n / floor_seconds:.1f} complaints/s; "
        f"ratio intake/floor: {(n / intake_seconds) / (n / floor_seconds):.2f}",
        file=out,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
