"""Intake cost and speed on the local stack (prints figures, asserts nothing).

- AWS calls per new complaint made by the intake handler, as the local stack records every function's calls
  (odr_local.aws_calls): one conditional PutItem and one StartExecution at the floor;
- complaints per second through the intake handler, against a floor measured in the same run: the bare
  conditional put_item + start_execution that any intake must make for a new complaint.

The two are measured interleaved, batch by batch, with the order swapped every round; between batches the stack
settles (untimed), so the executions a batch started do their work outside both measurements and neither runs
beside the other's leftovers.

Run: .venv/bin/python bench/intake_calls.py [N]
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from odr_local import aws_calls  # noqa: E402
from odr_local.invoker import FUNCTIONS, run  # noqa: E402
from odr_local.stack import LocalStack  # noqa: E402

BATCH = 10  # the intake queue's BatchSize


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


def _intake_calls() -> Counter[str]:
    segment = aws_calls.SEGMENTS[-1]
    return Counter({c.action: n for c, n in segment.calls.items() if c.function == "IntakeFunction"})


def main(n: int = 100) -> None:
    logging.disable(logging.WARNING)
    sys.stdout = sys.stderr = open("/dev/null", "w")  # noqa: SIM115 - the handlers' and moto's logs
    out = sys.__stdout__
    assert out is not None
    stack = LocalStack(datetime.fromisoformat("2026-11-30T08:00:00+08:00")).start()
    try:
        intake = next(f for f in FUNCTIONS.values() if f.logical_id == "IntakeFunction")
        db, sfn = stack.client("dynamodb"), stack.client("stepfunctions")
        table, machine = stack.deployment.ref("CasesTable"), stack.state_machine_arn

        def floor(records: list[dict[str, Any]]) -> None:
            for r in records:
                db.put_item(
                    TableName=table,
                    Item={"pk": {"S": f"FLOOR#{r['complaint_id']}"}, "sk": {"S": "CASE"}},
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                sfn.start_execution(
                    stateMachineArn=machine,
                    name=f"floor-{r['complaint_id']}",
                    input=json.dumps({"complaint_id": r["complaint_id"]}),
                )

        timed = {"intake": 0.0, "floor": 0.0}

        def measure(label: str, work: Callable[[], Any]) -> None:
            started = time.perf_counter()
            work()
            timed[label] += time.perf_counter() - started
            stack.settle()  # the executions it started run now, outside every measurement

        before = _intake_calls()
        mine, floors = _records("BENCH-INTAKE-", n), _records("BENCH-FLOOR-", n)
        for round_number, i in enumerate(range(0, n, BATCH)):
            batch, floor_batch = mine[i : i + BATCH], floors[i : i + BATCH]
            steps = [
                ("intake", lambda b=batch: run(intake, _sqs_event(b))),
                ("floor", lambda b=floor_batch: floor(b)),
            ]
            for label, work in steps if round_number % 2 == 0 else reversed(steps):
                measure(label, work)
        calls = _intake_calls() - before
    finally:
        stack.stop()
    per_complaint = {k: round(v / n, 2) for k, v in sorted(calls.items())}
    print(f"complaints: {n}, in batches of {BATCH}, intake and floor interleaved", file=out)
    print(f"AWS calls per new complaint at intake: {sum(calls.values()) / n:.2f} {per_complaint}", file=out)
    print("floor: 2 calls (a conditional put_item + start_execution)", file=out)
    intake_rate, floor_rate = n / timed["intake"], n / timed["floor"]
    print(
        f"intake: {intake_rate:.1f} complaints/s; floor: {floor_rate:.1f} complaints/s; "
        f"ratio intake/floor: {intake_rate / floor_rate:.2f}",
        file=out,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
