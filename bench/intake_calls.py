"""Intake cost and speed on the local stack (prints figures, asserts nothing).

- AWS calls per new complaint made by the intake handler, as the local stack records every function's calls
  (odr_local.aws_calls): one conditional PutItem and one StartExecution at the floor;
- complaints per second through the intake handler, against a floor measured in the same run: the least any
  intake must do for a new complaint delivered by the intake queue.

What the floor does, and why it is an honest minimum (neither lighter nor heavier than any intake can be):
each SQS message of the same batch event is read (``json.loads`` of its body: the record arrives as JSON), and
the record is stored with one conditional PutItem (``attribute_not_exists(pk)``, ``ALL_OLD`` on failure: what
makes a duplicate delivery harmless) of its keys, its revision and the record itself as it came (its JSON text,
0.9 KB for the sample record), then its workflow is started by an idempotent name with the same input as ours
(``{"complaint_id": ...}``). Same batches, same moto stack, same table, same state machine. It leaves out what
the ratio is meant to price: validating the record, the case item's history, index attributes and lost-answer
mark (ours: 16 attributes, about 1.1 KB with the record compressed; the floor's: 4, about 1.0 KB), metrics and
logs (the handler logs as in Lambda, here to /dev/null; an earlier version switched logging off). An earlier
floor stored only the two keys, an item no intake could make do with (the record must be kept), so part of
what it priced was item size.

Measured interleaved, batch by batch, the order swapped every round; between batches the stack settles
(untimed), so the executions a batch started do their work outside both measurements and neither runs beside
the other's leftovers. Both sides are warmed by one batch first, untimed: the intake's first batch is its cold
start (imports, settings, clients: bench/cold_start.py's figure), which an earlier version of this bench timed
as intake work. Two clocks: wall time, and the CPU time of the bench's thread, which does all of both sides'
work (the handler runs in it, and moto answers its calls in it, in-process); CPU time is the one to read on a
shared machine, where wall time also counts the waits for a core. Even CPU time swings with the neighbours (a
batch beside another test run can take twice as long), so the median of the batches' ratios is printed with its
quartiles: the total's ratio moves with a few slow batches on either side.

Run: .venv/bin/python bench/intake_calls.py [N]
"""

from __future__ import annotations

import json
import statistics
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
    sys.stdout = sys.stderr = open("/dev/null", "w")  # noqa: SIM115 - the handlers' and moto's logs, written
    out = sys.__stdout__
    assert out is not None
    stack = LocalStack(datetime.fromisoformat("2026-11-30T08:00:00+08:00")).start()
    try:
        intake = next(f for f in FUNCTIONS.values() if f.logical_id == "IntakeFunction")
        db, sfn = stack.client("dynamodb"), stack.client("stepfunctions")
        table, machine = stack.deployment.ref("CasesTable"), stack.state_machine_arn

        def floor(event: dict[str, Any]) -> None:
            for message in event["Records"]:
                record = json.loads(message["body"])["record"]
                complaint_id = record["complaint_id"]
                db.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": f"FLOOR#{complaint_id}"},
                        "sk": {"S": "CASE"},
                        "revision": {"N": str(record["revision"])},
                        "record": {"S": json.dumps(record, ensure_ascii=False)},
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                sfn.start_execution(
                    stateMachineArn=machine,
                    name=f"floor-{complaint_id}",
                    input=json.dumps({"complaint_id": complaint_id}),
                )

        wall = {"intake": 0.0, "floor": 0.0}
        cpu: dict[str, list[float]] = {"intake": [], "floor": []}

        def measure(label: str, work: Callable[[], Any]) -> None:
            started, cpu_started = time.perf_counter(), time.thread_time()
            work()
            cpu[label].append(time.thread_time() - cpu_started)
            wall[label] += time.perf_counter() - started
            stack.settle()  # the executions it started run now, outside every measurement

        run(intake, _sqs_event(_records("BENCH-WARM-INTAKE-", BATCH)))  # cold start: not intake work
        floor(_sqs_event(_records("BENCH-WARM-FLOOR-", BATCH)))
        stack.settle()
        before = _intake_calls()
        mine, floors = _records("BENCH-INTAKE-", n), _records("BENCH-FLOOR-", n)
        for round_number, i in enumerate(range(0, n, BATCH)):
            batch, floor_batch = _sqs_event(mine[i : i + BATCH]), _sqs_event(floors[i : i + BATCH])
            steps = [
                ("intake", lambda b=batch: run(intake, b)),
                ("floor", lambda b=floor_batch: floor(b)),
            ]
            for label, work in steps if round_number % 2 == 0 else reversed(steps):
                measure(label, work)
        calls = _intake_calls() - before
    finally:
        stack.stop()
    per_complaint = {k: round(v / n, 2) for k, v in sorted(calls.items())}
    print(f"complaints: {n}, in batches of {BATCH}, intake and floor interleaved, each warmed first", file=out)
    print(f"AWS calls per new complaint at intake: {sum(calls.values()) / n:.2f} {per_complaint}", file=out)
    print("floor: 2 calls (a conditional put_item of keys, revision and the record's JSON + start_execution)", file=out)
    intake_rate, floor_rate = n / wall["intake"], n / wall["floor"]
    print(
        f"wall: intake {intake_rate:.1f} complaints/s; floor {floor_rate:.1f} complaints/s; "
        f"ratio intake/floor: {intake_rate / floor_rate:.2f}",
        file=out,
    )
    rounds = sorted(f / i for i, f in zip(cpu["intake"], cpu["floor"], strict=True))
    quartiles = statistics.quantiles(rounds, n=4) if len(rounds) > 1 else rounds * 3
    print(
        f"CPU: intake {n / sum(cpu['intake']):.1f} complaints/s; floor {n / sum(cpu['floor']):.1f} complaints/s; "
        f"ratio intake/floor: {sum(cpu['floor']) / sum(cpu['intake']):.2f} "
        f"(batches: median {statistics.median(rounds):.2f}, quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f})",
        file=out,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
