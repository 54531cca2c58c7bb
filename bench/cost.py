"""What 1 million complaints cost to run, from per-case counts measured on the local stack (prints figures,
asserts nothing).

One scenario run (default scenarios/jinshan-week.yaml: every path, the platform's push and faults) counts, per
case: state transitions (StateEntered events of every execution's history) and waits (Await* states entered),
each function's invocations and the AWS calls it made (odr_local.aws_calls), e-mails and SMS delivered, API
Gateway requests (invocations of the functions behind it), and the bytes each function logged. The scheduled
functions (poller, sweeper, reminders, scorecards) work by the clock, not per complaint: they are counted per
simulated hour and priced as one stack's monthly cost spread over the national volume (1.09M complaints a
month). DynamoDB write units per case come from bench/write_units.py (the same scenario; its printed figure, or
build/bench/write_units.json, or --write-units), less the scheduled functions' small writes; without them the
DynamoDB line is n/a and so is the total.

Prices are list prices, on-demand, free tiers left out, as published for us-east-1 (USD) when this was written;
the PRICES table says each one. cn-north-1 (Beijing, CNY) is NOT priced here: AWS China publishes its own price
lists; the figures to compare with are noted in docs/scaling.md, not used in this sum. Two estimates, not
measurements, are marked as such: Lambda's billed duration (a model: a fixed part plus a part per AWS call; the
local stack's handler times include the emulator's own work) and DynamoDB read units (one per read call).

Designs priced from the same counts:

- standard: as built, a Standard workflow (transitions billed), each wait a task token, deadlines the task's timeout;
- express + scheduler: the workflow cut at each wait into Express executions (billed per request and duration,
  no transitions), the task token kept on the case item as now, each deadline a one-time EventBridge Scheduler
  schedule that starts the timeout's branch; one more write per wait (the schedule's name on the case);
- either on arm64 Lambda (20 % less per GB-second; the layer builds for it without a container: README).

Run: .venv/bin/python bench/cost.py [SCENARIO] [--write-units N] [--counts FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench"
COMPLAINTS = 1_000_000
NATIONAL_PER_MONTH = 13.1e6 / 12  # complaints a month at the national volume (docs/scaling.md)
HOURS_PER_MONTH = 730

# USD, us-east-1, on-demand list prices, free tiers left out.
PRICES = {
    "sfn_standard_transition": 0.025 / 1000,  # Step Functions Standard: $0.025 per 1,000 state transitions
    "sfn_express_request": 1.00 / 1e6,  # Express: $1.00 per million executions (requests)
    "sfn_express_gb_second": 0.00001667,  # Express duration: $0.00001667 per GB-second (first 1,000 GB-hours)
    "lambda_request": 0.20 / 1e6,  # Lambda: $0.20 per million requests
    "lambda_gb_second_x86": 0.0000166667,  # Lambda x86_64: $0.0000166667 per GB-second (first 6 billion)
    "lambda_gb_second_arm": 0.0000133334,  # Lambda arm64: $0.0000133334 per GB-second (first 7.5 billion)
    "dynamodb_write_unit": 0.625 / 1e6,  # DynamoDB on-demand: $0.625 per million write request units
    "dynamodb_read_unit": 0.125 / 1e6,  # DynamoDB on-demand: $0.125 per million read request units
    "sqs_request": 0.40 / 1e6,  # SQS standard: $0.40 per million requests (FIFO $0.50; 64 KB chunks)
    "ses_email": 0.10 / 1000,  # SES: $0.10 per 1,000 e-mails
    "sms": 0.00581,  # SMS: Amazon SNS's US price per message, a stand-in for the domestic gateway's contract
    "api_request": 3.50 / 1e6,  # API Gateway REST: $3.50 per million requests (first 333 million a month)
    "scheduler_invocation": 1.00 / 1e6,  # EventBridge Scheduler: $1.00 per million invocations
    "logs_gb": 0.50,  # CloudWatch Logs: $0.50 per GB ingested (standard class)
    "xray_trace": 5.00 / 1e6,  # X-Ray: $5.00 per million traces recorded
}
# Estimates (see the docstring): Lambda billed duration = BASE_MS + PER_CALL_MS x AWS calls of the invocation.
BASE_MS, PER_CALL_MS = 20.0, 10.0
EXPRESS_SEGMENT = (0.064, 1.0)  # an Express segment: 64 MB billed for about a second (its Lambda tasks)
XRAY_SAMPLED = 0.05  # X-Ray's default rule samples 5% of requests beyond the first each second
SMS_LINE = "SMS (the provider's bill, not in the total)"
API_FUNCTIONS = ("ActionsFunction", "WorklistsFunction", "StatsFunction", "WebhookFunction")


@dataclass
class Counts:
    """Per case, from one run."""

    cases: int
    transitions: float
    waits: float
    invocations: dict[str, float]  # per function
    calls: dict[str, float]  # per function: AWS calls its invocations made
    memory_mb: dict[str, int]
    actions: dict[str, float]  # AWS call counts by IAM action
    emails: float
    sms: float
    api_requests: float
    log_bytes: float
    # Scheduled functions (poller, sweeper, reminders, scorecards) work by the clock, not per complaint: their
    # invocations, AWS calls, small writes (leases, markers) and log bytes are counted per simulated hour.
    scheduled_per_hour: dict[str, float]
    scheduled_calls_per_hour: dict[str, float]
    scheduled_writes_per_hour: float
    scheduled_log_bytes_per_hour: float
    hours: float  # simulated hours the run covered
    deliveries_per_record: float | None = None  # the platform's deliveries (push and poll) per record offered
    write_units: float | None = None  # per case, bench/write_units.py's
    write_units_include_scheduled: bool = True  # then the scheduled functions' writes are estimated and taken out

    @property
    def dynamodb_reads(self) -> float:
        reads = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem")
        return sum(v for k, v in self.actions.items() if k in reads)

    @property
    def sqs_requests(self) -> float:
        """Each message sent is also received and deleted (Lambda's event source; batches of one at this rate)."""
        return 3 * sum(v for k, v in self.actions.items() if k == "sqs:SendMessage")


def scheduled_functions() -> set[str]:
    """Functions that a schedule invokes (template.yaml: an event of Type Schedule)."""
    from odr_local.template import load_template

    resources = load_template()["Resources"]
    return {
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
        and any(e.get("Type") == "Schedule" for e in r["Properties"].get("Events", {}).values())
    }


def measure(scenario_path: Path) -> Counts:
    """Run the scenario on the local stack and count what it used: per case, and per hour for the scheduled."""
    from odr_local import aws_calls, invoker
    from odr_local.invoker import FunctionOutput
    from odr_local.runner import ScenarioRun, stack_for
    from odr_local.scenario import Scenario
    from odr_local.template import load_template

    logging.disable(logging.WARNING)
    logs = OUT / "cost-logs"
    shutil.rmtree(logs, ignore_errors=True)
    screen = sys.stdout
    sys.stdout = FunctionOutput(logs, io.StringIO())
    scenario = Scenario.load(scenario_path)
    stack = stack_for(scenario)
    try:
        run = ScenarioRun(scenario, stack, io.StringIO())
        result = run.run()
        hours = (stack.now() - scenario.start).total_seconds() / 3600
        cases = len(result["cases"])
        ingestion = result.get("ingestion", {})
        sfn = stack.client("stepfunctions")
        transitions = waits = 0
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn):
            for execution in page["executions"]:
                history = sfn.get_paginator("get_execution_history").paginate(executionArn=execution["executionArn"])
                for events in history:
                    for event in events["events"]:
                        if event["type"].endswith("StateEntered"):
                            transitions += 1
                            waits += event["stateEnteredEventDetails"]["name"].startswith("Await")
        segment = aws_calls.segment_for(stack.endpoint)
        calls = Counter(segment.calls if segment else {})
        emails, sms = len(run.inbox.emails()), len(run.inbox.sms())
        functions = {fn.logical_id: fn.invocations for fn in invoker.FUNCTIONS.values()}
    finally:
        stack.stop()
        sys.stdout = screen
    scheduled = scheduled_functions()
    by_function: Counter[str] = Counter()
    by_action: Counter[str] = Counter()
    scheduled_writes = 0
    for call, n in calls.items():
        by_function[call.function] += n
        if call.function in scheduled:
            scheduled_writes += n if call.action.split(":")[1] in ("PutItem", "UpdateItem", "DeleteItem") else 0
        else:
            by_action[call.action] += n
    template = load_template()
    memory_default = int(template["Globals"]["Function"].get("MemorySize", 128))
    memory = {
        logical_id: int(resource["Properties"].get("MemorySize", memory_default))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    log_bytes = {p.stem: p.stat().st_size for p in logs.glob("*.log")}
    return Counts(
        cases=cases,
        transitions=transitions / cases,
        waits=waits / cases,
        invocations={k: v / cases for k, v in functions.items() if v and k not in scheduled},
        calls={k: v / cases for k, v in by_function.items() if k not in scheduled},
        memory_mb=memory,
        actions={k: v / cases for k, v in by_action.items()},
        emails=emails / cases,
        sms=sms / cases,
        api_requests=sum(functions.get(f, 0) for f in API_FUNCTIONS) / cases,
        log_bytes=sum(v for k, v in log_bytes.items() if k not in scheduled) / cases,
        scheduled_per_hour={k: functions.get(k, 0) / hours for k in scheduled},
        scheduled_calls_per_hour={k: by_function.get(k, 0) / hours for k in scheduled},
        scheduled_writes_per_hour=scheduled_writes / hours,
        scheduled_log_bytes_per_hour=sum(v for k, v in log_bytes.items() if k in scheduled) / hours,
        hours=hours,
        deliveries_per_record=ingestion["deliveries"] / ingestion["offered"] if ingestion.get("offered") else None,
    )


def write_units_per_case(scenario_path: Path) -> tuple[float | None, bool]:
    """bench/write_units.py's figure, and whether the scheduled functions' writes are still in it: its JSON's
    per-complaint figure if a run left one (they are out), else run it and read its printed line (they are in)."""
    saved = OUT / "write_units.json"
    if not saved.exists() and (ROOT / "bench" / "write_units.py").exists():
        script = [sys.executable, str(ROOT / "bench" / "write_units.py"), str(scenario_path)]
        done = subprocess.run(script, capture_output=True, text=True)
        if done.returncode == 0 and not saved.exists():
            found = re.search(r"write units per case: ([\d.]+)", done.stdout or "")
            return (float(found.group(1)) if found else None), True
    if not saved.exists():
        return None, True
    figures = json.loads(saved.read_text(encoding="utf-8"))
    if "per_complaint" in figures:
        return float(figures["per_complaint"]), False
    return float(figures["write_units_per_case"]), True


def _lambda(c: Counts, gb_second: float) -> tuple[float, float]:
    """(requests, duration) in USD per case."""
    requests = sum(c.invocations.values()) * PRICES["lambda_request"]
    duration = 0.0
    for fn, n in c.invocations.items():
        calls_each = c.calls.get(fn, 0.0) / n
        seconds = (BASE_MS + PER_CALL_MS * calls_each) / 1000
        duration += n * seconds * c.memory_mb.get(fn, 512) / 1024 * gb_second
    return requests, duration


def scheduled_per_month(c: Counts, gb_second: float) -> float:
    """USD a month for one stack's scheduled functions (whatever the number of complaints)."""
    p = PRICES
    usd_per_hour = c.scheduled_writes_per_hour * p["dynamodb_write_unit"]  # leases and markers: 1 unit each
    usd_per_hour += c.scheduled_log_bytes_per_hour / 1e9 * p["logs_gb"]
    for fn, n in c.scheduled_per_hour.items():
        if n:
            calls = c.scheduled_calls_per_hour.get(fn, 0.0)
            seconds = (BASE_MS + PER_CALL_MS * calls / n) / 1000
            usd_per_hour += n * (p["lambda_request"] + seconds * c.memory_mb.get(fn, 512) / 1024 * gb_second)
            usd_per_hour += calls * p["dynamodb_read_unit"]  # most of them are reads (estimate)
    return usd_per_hour * HOURS_PER_MONTH


def breakdown(c: Counts, design: str, arm: bool = False) -> dict[str, float | None]:
    """USD per 1M complaints, by line."""
    p = PRICES
    gb_second = p["lambda_gb_second_arm" if arm else "lambda_gb_second_x86"]
    requests, duration = _lambda(c, gb_second)
    extra_writes = c.waits if design == "express" else 0.0  # the deadline schedule's name kept on the case
    # write_units.py counts every write of the run: the scheduled functions' are priced in their own line.
    scheduled_writes = c.scheduled_writes_per_hour * c.hours / c.cases if c.write_units_include_scheduled else 0.0
    writes = None if c.write_units is None else max(0.0, c.write_units - scheduled_writes) + extra_writes
    fixed = scheduled_per_month(c, gb_second) / (NATIONAL_PER_MONTH / COMPLAINTS)
    lines: dict[str, float | None] = {
        "DynamoDB writes": None if writes is None else writes * p["dynamodb_write_unit"],
        "DynamoDB reads (estimate)": c.dynamodb_reads * p["dynamodb_read_unit"],
        "Lambda requests": requests,
        "Lambda duration (estimate)": duration,
        "SQS": c.sqs_requests * p["sqs_request"],
        "SES e-mail": c.emails * p["ses_email"],
        SMS_LINE: c.sms * p["sms"],
        "API Gateway": c.api_requests * p["api_request"],
        "CloudWatch Logs": c.log_bytes / 1e9 * p["logs_gb"],
        "X-Ray": sum(c.invocations.values()) * XRAY_SAMPLED * p["xray_trace"],
    }
    if design == "standard":
        lines["Step Functions transitions"] = c.transitions * p["sfn_standard_transition"]
    else:
        segments = 1 + c.waits
        gb, seconds = EXPRESS_SEGMENT
        lines["Step Functions Express"] = segments * (
            p["sfn_express_request"] + gb * seconds * p["sfn_express_gb_second"]
        )
        lines["EventBridge Scheduler deadlines"] = c.waits * p["scheduler_invocation"]
    per_1m: dict[str, float | None] = {k: None if v is None else v * COMPLAINTS for k, v in lines.items()}
    per_1m["scheduled functions, one stack at the national volume"] = fixed
    return per_1m


def total(lines: dict[str, float | None]) -> float | None:
    """The AWS bill: every line but SMS, which the SMS provider bills (and which dwarfs the rest)."""
    values = [v for k, v in lines.items() if k != SMS_LINE]
    return None if None in values else sum(v for v in values if v is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "jinshan-week.yaml")
    parser.add_argument(
        "--write-units", type=float, help="DynamoDB write units per case, scheduled functions' writes included"
    )
    parser.add_argument("--counts", type=Path, help="per-case counts saved by an earlier run (build/bench/counts.json)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.counts:
        counts = Counts(**json.loads(args.counts.read_text(encoding="utf-8")))
    else:
        counts = measure(args.scenario)
        (OUT / "counts.json").write_text(json.dumps(counts.__dict__, indent=2) + "\n", encoding="utf-8")
    if args.write_units is not None:
        counts.write_units, counts.write_units_include_scheduled = args.write_units, True
    else:
        counts.write_units, counts.write_units_include_scheduled = write_units_per_case(args.scenario)
    designs = {
        "standard": breakdown(counts, "standard"),
        "standard, arm64": breakdown(counts, "standard", arm=True),
        "express + scheduler": breakdown(counts, "express"),
        "express + scheduler, arm64": breakdown(counts, "express", arm=True),
    }
    summary = {name: total(lines) for name, lines in designs.items()}
    (OUT / "cost.json").write_text(
        json.dumps({"per_1m_usd": summary, "lines": designs, "counts": counts.__dict__}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(
        f"per case ({counts.cases} cases): transitions {counts.transitions:.1f}, waits {counts.waits:.2f}, "
        f"invocations {sum(counts.invocations.values()):.1f}, write units "
        f"{'n/a' if counts.write_units is None else f'{counts.write_units:.1f}'}, read calls "
        f"{counts.dynamodb_reads:.1f}, SQS requests {counts.sqs_requests:.1f}, e-mails {counts.emails:.2f}, "
        f"SMS {counts.sms:.2f}, API requests {counts.api_requests:.1f}, log KB {counts.log_bytes / 1e3:.1f}"
    )
    names = list(designs)
    print(f"\n{'USD per 1M complaints, us-east-1 list prices':<55} {'  '.join(f'{n:>26}' for n in names)}")
    lines = list(designs["standard"]) + [k for k in designs["express + scheduler"] if k not in designs["standard"]]
    for line in lines:
        cells = [designs[n].get(line, 0.0) for n in names]
        print(f"{line:<55} " + "  ".join(f"{'n/a' if v is None else f'{v:,.0f}':>26}" for v in cells))
    totals = [summary[n] for n in names]
    print(f"{'total, AWS':<55} " + "  ".join(f"{'n/a' if v is None else f'{v:,.0f}':>26}" for v in totals))


if __name__ == "__main__":
    main()
