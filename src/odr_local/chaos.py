"""The chaos suite: the product's promise under faults, measured on the local stack and printed as one table.

Each test starts a fresh stack in virtual time, so a run's figures do not depend on how busy the machine is:

1. deliveries: every complaint delivered three times (pulled, pushed, pushed again) with revisions out of order
   → exactly one case, one execution and one first notice per complaint;
2. platform: the simulated 12315 platform misbehaves on 30% of requests (5xx, 429, dropped answers, pages
   served twice, late and stale records) → nothing lost, the poller's cursor never moves back;
3. aws: 10% of the functions' AWS calls fail (throttling, 5xx, timeouts on DynamoDB, Step Functions, SQS, SES)
   and handlers crash between two AWS calls → nothing lost, nothing stuck, every case and its execution agree;
4. hostile: generated hostile inputs on the webhook, the feed, the link forms and the enterprise API → no 5xx,
   every rejection with its reason, every valid record a case;
5. concurrency: simultaneous submits of the same and of conflicting actions on one case → one effect, one
   confirmation, answers that say what happened;
6. pii: every log line of every function and the quarantine listing, scanned for the consumers' personal data.

``odr-local chaos`` runs the short form (part of ``make test``); ``--full`` the sizes of docs/reliability.md.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.models.case import Case
from odr_cli.pii import masked_raw

from .aws_faults import AwsFaults
from .inbox import Inbox, open_link
from .invoker import FunctionOutput
from .runner import ScenarioRun, stack_for
from .scenario import Behaviour, Complaints, Scenario, Timing
from .simulator import Faults, FeedOptions, sign
from .stack import REGION, SES_REGION, LocalStack

START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")
QUICK = Timing(accept_after_days=0.1, result_after_days=0.3, review_after_days=0.1)
SIZES = {
    "short": {"deliveries": 20, "platform": 20, "aws": 12, "hostile": 150, "concurrency": 20},
    "full": {"deliveries": 1000, "platform": 300, "aws": 200, "hostile": 10_000, "concurrency": 50},
}


@dataclass
class Outcome:
    """One line of the table; every count but ``inputs`` and ``faults`` must be 0."""

    test: str
    inputs: int
    faults: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    errors_5xx: int = 0
    pii_hits: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.errors_5xx or self.pii_hits)


@dataclass
class Run:
    """A finished scenario: its cases, their executions and what the stack saw (read before the stack stops)."""

    stack: LocalStack
    cases: list[Case]
    result: dict[str, Any]
    records: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    executions: dict[str, str]  # execution name -> status


def _scenario(name: str, count: int, feed: FeedOptions, seed: int, behaviours: list[Behaviour]) -> Scenario:
    return Scenario(
        name=name,
        start=START,
        complaints=Complaints(generate=count, seed=seed, spread_days=1.0),
        behaviours=behaviours,
        timing=QUICK,
        feed=feed,
        max_days=20.0,
        parameters={"FeedPollRate": "rate(5 minutes)"},
    )


@contextmanager
def _logs_into(folder: Path) -> Iterator[None]:
    """Each function's stdout (its JSON logs) into ``folder``, as CloudWatch keeps one log group per function."""
    saved = sys.stdout
    sys.stdout = FunctionOutput(folder, saved)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = saved


def _play(scenario: Scenario, logs: Path, during: Callable[[LocalStack], None] | None = None) -> Run:
    stack = stack_for(scenario)
    try:
        with _logs_into(logs / scenario.name):
            if during:
                during(stack)
            run = ScenarioRun(scenario, stack, io.StringIO())
            result = run.run()
        ids = sorted(run.people)
        cases = [c for c in (stack.cases.get(cid) for cid in ids) if c is not None]
        records = scenario.records(stack.district)
        return Run(stack, cases, result, records, stack.quarantine.all(), _executions(stack))
    finally:
        stack.stop()


def _executions(stack: LocalStack) -> dict[str, str]:
    """Execution name -> status, every execution of the case workflow."""
    sfn = stack.client("stepfunctions")
    arn = stack.deployment.ref("CaseWorkflow")
    out: dict[str, str] = {}
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        out.update({e["name"]: e["status"] for e in page["executions"]})
    return out


def _first_notices(case: Case) -> int:
    return sum(
        1
        for h in case.history
        if h.event == "notified" and h.detail.get("template") == "dispatched" and h.detail.get("to") == "enterprise"
    )


def _disagreeing(cases: list[Case], executions: dict[str, str]) -> list[str]:
    """Cases whose state and execution disagree: closed while it runs, or open while it has ended."""
    out = []
    for case in cases:
        status = executions.get(case.execution_name or "")
        if (case.status == "closed" and status == "RUNNING") or (
            case.status != "closed" and status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
        ):
            out.append(case.complaint_id)
    return out


# --- the tests ------------------------------------------------------------------------------------------------


def deliveries(count: int, logs: Path) -> tuple[Outcome, Run]:
    feed = FeedOptions(push=True, faults=Faults(seed=3, push_duplicate_rate=1.0, stale_revision_rate=0.3))
    run = _play(_scenario("chaos-deliveries", count, feed, 101, [Behaviour()]), logs)
    ingestion = run.result["ingestion"]
    executions = run.executions
    offered = {str(r["complaint_id"]) for r in run.records}
    quarantined = run.result["quarantined"]
    dispatched = [c for c in run.cases if any(h.event == "dispatched" for h in c.history)]
    notices = [_first_notices(c) for c in dispatched]
    outcome = Outcome(
        "deliveries ×3, revisions shuffled",
        inputs=ingestion["deliveries"],
        lost=ingestion["unaccounted"] + len(offered) - len(run.cases) - quarantined,
        duplicated=(len(executions) - len(run.cases)) + sum(n - 1 for n in notices if n > 1),
    )
    outcome.notes.append(
        f"{len(offered)} complaints, {len(run.cases)} cases, {len(executions)} executions, "
        f"{sum(1 for n in notices if n == 1)} first notices of {len(notices)} ODR cases"
    )
    return outcome, run


def platform(count: int, logs: Path) -> tuple[Outcome, Run]:
    faults = Faults(
        seed=11,
        error_rate=0.1,
        throttle_rate=0.05,
        drop_rate=0.05,
        duplicate_page_rate=0.05,
        late_rate=0.03,
        stale_revision_rate=0.02,
        push_duplicate_rate=0.3,
    )
    cursor: list[str] = []

    def watch_cursor(stack: LocalStack) -> None:
        def seen(records: list[dict[str, Any]]) -> None:
            for record in records:
                image = record["dynamodb"].get("NewImage") or {}
                if image.get("pk", {}).get("S") == "FEED" and "updated_after" in image:
                    cursor.append(image["updated_after"]["S"])

        stream = stack.deployment.att("CasesTable", "StreamArn")
        for pump in stack.stream_pumps:
            if pump.trigger.stream_arn == stream:
                pump.observers.append(seen)
                break  # each mapping on the stream reads every record: one is enough to watch it

    run = _play(
        _scenario("chaos-platform", count, FeedOptions(push=True, faults=faults), 202, [Behaviour()]),
        logs,
        watch_cursor,
    )
    feed = run.result["feed"]
    backwards = sum(1 for a, b in itertools.pairwise(cursor) if b < a)
    outcome = Outcome(
        "platform faults 30%",
        inputs=run.result["ingestion"]["offered"],
        faults=sum(feed["faults"].values()),
        lost=run.result["ingestion"]["unaccounted"],
        stuck=sum(1 for c in run.cases if c.status != "closed"),
    )
    outcome.notes.append(f"cursor moved {len(cursor)} times, backwards {backwards}")
    outcome.lost += backwards  # a cursor that moves back can skip records on a later page
    return outcome, run


def aws(count: int, logs: Path) -> tuple[Outcome, Run]:
    faults = AwsFaults(rate=0.1, crash_rate=0.01, seed=5)
    behaviours = [
        Behaviour(weight=6),
        Behaviour(weight=1, accept="never"),
        Behaviour(weight=1, station="send_back_once"),
        Behaviour(weight=1, withdraw="while_waiting_acceptance"),
    ]

    faults.install()  # before the stack makes its clients: a client keeps the handlers its session had
    try:
        run = _play(_scenario("chaos-aws", count, FeedOptions(push=True), 303, behaviours), logs)
    finally:
        faults.uninstall()
    executions = run.executions
    offered = {str(r["complaint_id"]) for r in run.records}
    outcome = Outcome(
        "AWS faults 10% + handler crashes",
        inputs=faults.calls,
        faults=faults.total,
        lost=run.result["ingestion"]["unaccounted"] + len(offered) - len(run.cases) - run.result["quarantined"],
        stuck=sum(1 for c in run.cases if c.status != "closed"),
    )
    disagree = _disagreeing(run.cases, executions)
    outcome.stuck += len(disagree)
    outcome.notes.append(f"{len(disagree)} cases disagree with their execution: {disagree[:5]}")
    return outcome, run


@contextmanager
def _waiting_case(name: str, logs: Path) -> Iterator[tuple[LocalStack, Case]]:
    """A stack with one ODR case waiting for its enterprise's acceptance (its specialist never acts)."""
    scenario = _scenario(name, 6, FeedOptions(), 404, [Behaviour(accept="never")])
    stack = stack_for(scenario)
    try:
        with _logs_into(logs / name):
            for record in scenario.records(stack.district):
                stack.simulator.publish(record)
            stack.run_triggers()
            ids = [str(r["complaint_id"]) for r in scenario.records(stack.district)]
            found: list[Case] = []

            def waiting() -> bool:
                cases = [c for c in (stack.cases.get(cid) for cid in ids) if c is not None]
                found[:] = [c for c in cases if c.enterprise and c.pending and c.pending.phase == "acceptance"]
                return bool(found)

            if not stack.wait_for(waiting, 120):
                raise RuntimeError("no case came to wait for acceptance")
            yield stack, found[0]
    finally:
        stack.stop()


def _api(stack: LocalStack, key: str | None, path: str, **request: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(f"{stack.api.url}/prod/api/v1{path}", headers=headers, timeout=120, **request)


def concurrency(count: int, logs: Path) -> Outcome:
    """``count`` simultaneous submits on one case: accepts, and declines that conflict with them."""
    with _waiting_case("chaos-concurrency", logs) as (stack, case):
        assert case.enterprise is not None
        key = ApiKeyStore(stack.deployment.ref("DirectoryTable")).issue(case.enterprise.uscc, "chaos", stack.now())

        def submit(i: int) -> tuple[int, str]:
            action = "decline" if i % 4 == 3 else "accept"
            got = _api(stack, key, f"/cases/{case.complaint_id}/{action}")
            body = got.json() if got.headers.get("Content-Type", "").startswith("application/json") else {}
            return got.status_code, str(body.get("result") or body.get("code") or "")

        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(pool.map(submit, range(count)))
        stack.kernel.run_until(lambda: False, until=stack.now() + timedelta(hours=1))  # confirmations go out
        final = stack.cases.get(case.complaint_id)
    assert final is not None
    effects = sum(1 for h in final.history if h.event in ("accepted", "declined"))
    confirmations = sum(
        1 for h in final.history if h.event == "notified" and h.detail.get("template") in ("accepted", "declined")
    )
    done = sum(1 for status, result in answers if status == 200 and result == "done")
    outcome = Outcome(
        "concurrent submits on one case",
        inputs=count,
        lost=int(effects == 0),
        duplicated=max(0, effects - 1) + max(0, confirmations - 1) + max(0, done - 1) + int(done == 0),
        errors_5xx=sum(1 for status, _ in answers if status >= 500),
    )
    outcome.notes.append(
        f"{effects} effect, {confirmations} confirmation, {done} answered done, answers {answers[:4]}…"
    )
    return outcome


def _hostile_values() -> st.SearchStrategy[Any]:
    text = st.text() | st.sampled_from(["\ud83d", "\x00", "\u202e", "𝕏" * 600, "<script>", "9" * 400, "1E+11", "NaN"])
    leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | text
    return st.recursive(leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4))


def _examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples, the same every run (hypothesis derandomised, no example database)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:count]


def hostile(count: int, logs: Path) -> Outcome:
    """Hostile inputs, a quarter each: signed pushes of broken records, unsigned or garbled webhook bodies, API
    bodies (with and without a key), and link-form fields."""
    nasty = [b"[" * 20000, b'{"records": [' + b"1" * 5000 + b"]}", b"x" * (1024 * 1024), b"\xff\xfe", b""]
    with _waiting_case("chaos-hostile", logs) as (stack, case):
        assert case.enterprise is not None
        key = ApiKeyStore(stack.deployment.ref("DirectoryTable")).issue(case.enterprise.uscc, "chaos", stack.now())
        inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
        link = next(
            (u for m in inbox.messages() for u in m.links if open_link(u).complaint_id == case.complaint_id), None
        )
        template = dict(case.record)
        values = _examples(_hostile_values(), count)
        webhook = f"{stack.api.url}/prod/feed/complaints"
        statuses: list[int] = []
        pushed: set[str] = set()
        for i, value in enumerate(values):
            kind = i % 4
            if kind == 0:  # a signed push of a record with one field made hostile
                field = sorted(set(template) - {"complaint_id"})[i % (len(template) - 1)]
                record = {**template, "complaint_id": f"HOSTILE-{i:05d}", field: value}
                body = json.dumps({"items": [record]}, ensure_ascii=True, allow_nan=True).encode()
                stamp = str(int(stack.now().timestamp()))
                got = requests.post(
                    webhook,
                    data=body,
                    headers={
                        "X-12315-Timestamp": stamp,
                        "X-12315-Signature": sign(stack.simulator.push_secret, stamp, body),
                        "Content-Type": "application/json",
                    },
                    timeout=120,
                )
                if got.status_code == 202:
                    pushed.add(f"HOSTILE-{i:05d}")
            elif kind == 1:  # whatever reaches the webhook unsigned
                raw = nasty[i % len(nasty)] if i % 8 == 1 else json.dumps(value, allow_nan=True).encode()
                got = requests.post(webhook, data=raw, timeout=120)
            elif kind == 2:  # the enterprise API: hostile bodies, every other one without a key
                fields = json.dumps({"settled": value, "recovered_amount": value, "summary": value}, allow_nan=True)
                got = _api(stack, key if i % 8 == 2 else None, f"/cases/{case.complaint_id}/result", data=fields)
            else:  # a link form's fields
                form = {"action": str(value)[:50], "recovered_amount": str(value), "settled": str(value)}
                encoded = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in form.items()})  # raw bytes
                got = requests.post(
                    link or f"{stack.api.url}/prod/l/unknown",
                    data=encoded,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=120,
                )
            statuses.append(got.status_code)
        stack.kernel.run_until(lambda: False, until=stack.now() + timedelta(hours=1))  # intake of the pushes
        quarantined = {str(q.get("complaint_id")) for q in stack.quarantine.all()}
        kept = {cid for cid in pushed if stack.cases.get(cid) is not None or cid in quarantined}
    outcome = Outcome(
        "hostile inputs (webhook, API, link forms)",
        inputs=len(values),
        lost=len(pushed - kept),
        errors_5xx=sum(1 for s in statuses if s >= 500),
    )
    counts: dict[int, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    outcome.notes.append(f"answers {dict(sorted(counts.items()))}; {len(pushed)} accepted pushes, all kept")
    return outcome


def pii(runs: list[Run], logs: Path) -> Outcome:
    """Every consumer's name, phone, ID number, e-mail and address, searched for in every log line and in the
    quarantine listing."""
    secrets: set[str] = set()
    for run in runs:
        for record in run.records:
            consumer = record.get("consumer") or {}
            for key in ("name", "phone", "mobile", "id_number", "email", "address"):
                value = consumer.get(key)
                if isinstance(value, str) and len(value) >= 2:
                    secrets.add(value)
    hits = 0
    lines = 0
    for path in logs.rglob("*.log"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            lines += 1
            hits += sum(1 for s in secrets if s in line)
    listing = "".join(_quarantine_listing(run) for run in runs)
    hits += sum(1 for s in secrets if s in listing)
    outcome = Outcome("PII in logs and quarantine listing", inputs=lines, pii_hits=hits)
    outcome.notes.append(f"{len(secrets)} personal values searched in {lines} log lines")
    return outcome


def _quarantine_listing(run: Run) -> str:
    """What ``odr quarantine show`` prints for each entry: the record masked for the operator."""
    return "\n".join(json.dumps(masked_raw(q.get("raw")), ensure_ascii=False) for q in run.quarantine)


# --- the table ------------------------------------------------------------------------------------------------

COLUMNS = ("test", "inputs", "faults injected", "lost", "duplicated", "stuck", "5xx", "PII hits")


def table(outcomes: list[Outcome]) -> str:
    rows = [COLUMNS] + [
        (
            o.test,
            str(o.inputs),
            str(o.faults),
            str(o.lost),
            str(o.duplicated),
            str(o.stuck),
            str(o.errors_5xx),
            str(o.pii_hits),
        )
        for o in outcomes
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def run(full: bool = False, out: TextIO = sys.stdout) -> list[Outcome]:
    sizes = SIZES["full" if full else "short"]
    outcomes: list[Outcome] = []
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="odr-chaos-") as folder:
        logs = Path(folder)
        for test in (deliveries, platform, aws):
            outcome, played = test(sizes[test.__name__], logs)
            outcomes.append(outcome)
            runs.append(played)
            print(f"{outcome.test}: {'; '.join(outcome.notes)}", file=out, flush=True)
        for alone in (hostile, concurrency):
            outcomes.append(alone(sizes[alone.__name__], logs))
            print(f"{outcomes[-1].test}: {'; '.join(outcomes[-1].notes)}", file=out, flush=True)
        outcomes.append(pii(runs, logs))
    print(table(outcomes), file=out)
    return outcomes
