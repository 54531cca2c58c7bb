"""The differential test's machinery: generate timelines with hypothesis, run them as one scenario on the local
stack, and compare each case with the reference model (src/odr_model; docs/reference-model.md).

``python -m tests.e2e.model_harness --cases 1000`` (``make model``) runs a batch and prints a summary;
``--seed S --only I`` replays case I of seed S's batch alone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from odr_adapter.data_access.stats import StatsStore
from odr_adapter.messages import sending
from odr_adapter.messages.texts import Template
from odr_adapter.models.case import Case as StackCase
from odr_adapter.models.counters import ALL
from odr_adapter.models.links import LinkPhase
from odr_adapter.stats.counters import facts
from odr_local.runner import ScenarioRun, stack_for
from odr_local.scenario import Scenario
from odr_local.timelines import wait_of
from odr_model import Case, Environment, Expected, Policies, Policy, load_district, simulate, steps_from
from odr_model.days import SHANGHAI
from odr_model.steps import duration

ROOT = Path(__file__).resolve().parents[2]
DISTRICT = load_district(ROOT / "data" / "district")
START = datetime(2026, 9, 29, 8, 0, tzinfo=SHANGHAI)  # National Day (1-7 October) falls in the run
SWEEP_EVERY = timedelta(hours=3)  # ReminderRate below
PARAMETERS = {  # few idle schedules: each firing costs a Lambda invocation, over three weeks of virtual time
    "FeedPollRate": "rate(12 hours)",  # the push is on and no fault is injected: the poll is only the safety net
    "SweepRate": "rate(12 hours)",  # nothing is owed for long without faults
    "ReminderRate": "rate(3 hours)",  # each sweep queries every open case's deadline: the run's largest cost
}
# Class A natural days, B working days (the holiday), C one-day periods (reminders halfway).
POLICIES: dict[str, Any] = {
    "default": {
        "acceptance": {"days": 2},
        "resolution": {"days": 3},
        "review": {"days": 2},
        "rework": {"days": 2},
        "screening": {"days": 1},
    },
    "by_class": {
        "B": {
            "acceptance": {"days": 2, "kind": "working"},
            "resolution": {"days": 3, "kind": "working"},
            "review": {"days": 1, "kind": "working"},
            "rework": {"days": 2, "kind": "working"},
        },
        "C": {"acceptance": {"days": 1}, "resolution": {"days": 2}, "review": {"days": 1}, "rework": {"days": 1}},
    },
}
MODEL_POLICIES = Policies(
    default={p: Policy(**v) for p, v in POLICIES["default"].items() if p != "screening"},
    by_class={k: {p: Policy(**v) for p, v in c.items()} for k, c in POLICIES["by_class"].items()},
)
ENTERPRISES = sorted(DISTRICT.enterprises.values(), key=lambda e: e.uscc)
CLAIMS = ("199.00", "88.50", "1299.00", "59.00")


# -- generating timelines ---------------------------------------------------------------------------------------

SAME_MINUTE = st.integers(1, 59).map(lambda s: f"PT{s}S")
SAME_DAY = st.tuples(st.integers(1, 11), st.integers(0, 59), st.integers(1, 59)).map(
    lambda t: f"PT{t[0]}H{t[1]}M{t[2]}S"
)
DAYS = st.tuples(st.integers(1, 3), st.integers(0, 23), st.integers(1, 59)).map(lambda t: f"P{t[0]}DT{t[1]}H{t[2]}S")
AFTER = st.one_of(SAME_MINUTE, SAME_DAY, DAYS)
AT_DEADLINE = st.sampled_from(["-PT1S", "PT0S", "PT1H", "-PT1H", "-PT10M", "-P1D"])


@st.composite
def timing(draw: st.DrawFn, deadline_ok: bool = True) -> dict[str, str]:
    if deadline_ok and draw(st.integers(0, 3)) == 0:
        return {"at_deadline": draw(AT_DEADLINE)}
    return {"after": draw(AFTER)}


@st.composite
def extras(draw: st.DrawFn, wait: str, round_: int) -> list[dict[str, Any]]:
    """A note, a revision or a withdrawal interleaved with a wait's main action, now and then."""
    out: list[dict[str, Any]] = []
    if draw(st.integers(0, 2)) == 0:
        out.append({"do": "note", "by": draw(st.sampled_from(["enterprise", "station"])), "of": wait, "round": round_})
        out[-1].update(draw(timing(deadline_ok=False)))
    if draw(st.integers(0, 2)) == 0:
        out.append({"do": draw(st.sampled_from(["withdraw", "revise", "withdraw"])), "of": wait, "round": round_})
        out[-1].update(draw(timing(deadline_ok=False)))
    return out


@st.composite
def wait_steps(draw: st.DrawFn, wait: str, round_: int, claimed: str) -> list[dict[str, Any]]:
    """The main action of one wait (or none), how and when, with its repeats."""
    choices = {
        "acceptance": ["accept", "accept", "accept", "accept", "accept", "decline", None],
        "resolution": ["report", "report", "report", None],
        "rework": ["report", "report", None],
        "review": ["approve", "send_back", "send_back", None] if round_ <= 2 else ["approve", None],
    }[wait]
    do = draw(st.sampled_from(choices))
    steps = draw(extras(wait, round_))
    if do is None:
        return steps
    step: dict[str, Any] = {"do": do, "of": wait, "round": round_}
    worklist = do in ("accept", "approve", "send_back") and draw(st.integers(0, 4)) == 0
    step.update(draw(timing(deadline_ok=not worklist)))
    if worklist:
        step["via"] = "worklist"
    elif draw(st.integers(0, 3)) == 0:
        step["repeat"] = draw(st.integers(1, 2))
        step["repeat_after"] = draw(st.sampled_from(["PT5S", "PT10M", "PT3H"]))
    other = {"accept": "decline", "send_back": "approve", "approve": "send_back"}.get(do)
    if other and not worklist and "after" in step and draw(st.integers(0, 4)) == 0:  # second thoughts, same link
        later = iso_duration((duration(step["after"]) or timedelta(0)) + timedelta(seconds=37))
        steps.append({"do": other, "of": wait, "round": round_, "after": later})
    if do == "report":
        step["settled"] = draw(st.booleans())
        if step["settled"]:
            step["recovered"] = draw(st.sampled_from([claimed, "0.00", f"{Decimal(claimed) / 2:.2f}"]))
    steps.insert(draw(st.integers(0, len(steps))), step)
    return steps


@st.composite
def generated_case(draw: st.DrawFn) -> dict[str, Any]:
    ent = draw(st.sampled_from(ENTERPRISES))
    day = draw(st.integers(0, 2))
    if draw(st.booleans()):  # just before midnight: the next wait's first day is tomorrow
        clock = timedelta(hours=23, minutes=draw(st.integers(30, 59)), seconds=draw(st.integers(1, 59)))
    else:
        clock = timedelta(
            hours=draw(st.integers(8, 22)), minutes=draw(st.integers(0, 59)), seconds=draw(st.integers(1, 59))
        )
    registered = START.replace(hour=0, minute=0) + timedelta(days=day) + clock
    if registered <= START:
        registered += timedelta(days=1)
    claimed = draw(st.sampled_from(CLAIMS))
    opt_in = draw(st.integers(0, 19)) > 0  # now and then a consumer who did not choose ODR
    steps = draw(wait_steps("acceptance", 1, claimed)) + draw(wait_steps("resolution", 1, claimed))
    for r in (1, 2, 3):
        steps += draw(wait_steps("review", r, claimed))
        if r <= 2:
            steps += draw(wait_steps("rework", r, claimed))
    return {
        "uscc": ent.uscc,
        "registered_at": registered.isoformat(),
        "claimed": claimed,
        "opt_in": opt_in,
        "steps": steps,
    }


def draw_batch(seed: int, count: int) -> list[dict[str, Any]]:
    """The anchors, then ``count`` generated cases, the same for the same seed (hypothesis, its seed)."""
    drawn: list[dict[str, Any]] = []

    @settings(
        max_examples=count * 2,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(generated_case())
    def collect(case: dict[str, Any]) -> None:
        if len(drawn) < count:
            drawn.append(case)

    collect()
    if len(drawn) < count:
        raise RuntimeError(f"hypothesis gave {len(drawn)} cases, not {count}")
    return anchors() + drawn


def anchors() -> list[dict[str, Any]]:
    """Hand-written cases every batch starts with, so that each run reaches each path the issue lists whatever
    the seed draws: the same-day rework, a withdrawal and a revision in every phase, notes in every phase, a second
    action on a used link, an action a second before and at a deadline, late and repeated submits, the holiday
    under working days and a wait begun just before midnight."""
    a = next(e.uscc for e in ENTERPRISES if e.enterprise_class == "A")
    b = next(e.uscc for e in ENTERPRISES if e.enterprise_class == "B")
    accept: dict[str, Any] = {"do": "accept", "of": "acceptance", "after": "PT30M17S"}
    report: dict[str, Any] = {"do": "report", "of": "resolution", "after": "PT1H3S", "recovered": "199.00"}
    back: dict[str, Any] = {"do": "send_back", "of": "review", "after": "PT30M11S"}
    rework: dict[str, Any] = {"do": "report", "of": "rework", "after": "PT20M9S", "recovered": "199.00"}
    approve2: dict[str, Any] = {"do": "approve", "of": "review", "round": 2, "after": "PT10M7S"}
    reworked = [accept, report, back, rework, approve2]

    def extra(do: str, wait: str, round_: int = 1, **more: Any) -> dict[str, Any]:
        return {"do": do, "of": wait, "round": round_, "after": "PT5M3S", **more}

    cases: list[list[dict[str, Any]]] = [reworked]
    for wait, before in (("acceptance", 0), ("resolution", 1), ("review", 2), ("rework", 3)):
        cases.append([*reworked[: before + 1], extra("withdraw", wait), *reworked[before + 1 :]])
    cases.append(
        [
            *reworked,
            *(extra("revise", w) for w in ("acceptance", "resolution", "review", "rework")),
            *(
                extra("note", w, by=by)
                for w in ("acceptance", "resolution", "review", "rework")
                for by in ("enterprise", "station")
            ),
        ]
    )
    cases.append(
        [
            accept,
            {**accept, "do": "decline", "after": "PT31M5S"},
            report,
            {**back, "do": "approve", "after": None, "at_deadline": "-PT1S"},
        ]
    )
    cases.append([{**accept, "after": None, "at_deadline": "PT0S"}])
    cases.append([accept, {**report, "after": None, "at_deadline": "PT1H", "repeat": 1, "repeat_after": "PT5S"}])
    cases.append([{**accept, "repeat": 2, "repeat_after": "PT10M"}, {**report, "repeat": 1}, back, rework])
    specs: list[dict[str, Any]] = [
        {"uscc": a, "registered_at": f"2026-09-29T{9 + n:02d}:12:44+08:00", "claimed": "199.00", "steps": steps}
        for n, steps in enumerate(cases)
    ]
    holiday = [{**accept, "after": None, "at_deadline": "-PT1S"}, report, {**back, "do": "approve"}]
    specs.append({"uscc": b, "registered_at": "2026-09-30T16:40:21+08:00", "claimed": "199.00", "steps": holiday})
    midnight = [{**accept, "after": "PT45S"}, {**report, "after": "PT23H59M"}, {**back, "do": "approve"}]
    specs.append({"uscc": a, "registered_at": "2026-09-30T23:59:30+08:00", "claimed": "199.00", "steps": midnight})
    for spec in specs:
        spec["steps"] = [{k: v for k, v in step.items() if v is not None} for step in spec["steps"]]
    return specs


def record_for(index: int, spec: dict[str, Any]) -> dict[str, Any]:
    """A complaint in the 12315 contract for the generated case (an ODR case: a directory enterprise, opted in)."""
    ent = DISTRICT.enterprises[spec["uscc"]]
    registered = datetime.fromisoformat(spec["registered_at"])
    return {
        "complaint_id": f"31011600000{registered:%Y%m%d}{index + 1:06d}",
        "revision": 1,
        "status": "submitted",
        "registered_at": spec["registered_at"],
        "updated_at": spec["registered_at"],
        "channel": "app",
        "odr_opt_in": spec.get("opt_in", True),
        "consumer": {"name": "林晓", "phone": "13761234567"},
        "respondent": {"name": f"被投诉企业{ent.uscc[-4:]}", "uscc": ent.uscc},
        "transaction": {"item_name": "电热水壶", "amount": spec["claimed"], "quantity": 1, "online": True},
        "category": "quality",
        "description": "收到的商品存在质量问题,联系客服未获解决。",
        "demand_type": "refund",
        "demand": "退货退款",
        "claimed_amount": spec["claimed"],
    }


def env_for(dispatched_at: datetime) -> Environment:
    return Environment(dispatched_at, START + SWEEP_EVERY, SWEEP_EVERY)


def untie(specs: list[dict[str, Any]]) -> None:
    """Move a step off an instant where the kernel's order of equal times would decide (a sweep, a deadline,
    another step with a withdrawal), as the model finds them, a second at a time."""
    for index, spec in enumerate(specs):
        record = record_for(index, spec)
        for _ in range(10):
            expected = model_of(record, spec["steps"], datetime.fromisoformat(spec["registered_at"]))
            if not expected.ties:
                break
            for n in set(expected.ties):
                step = spec["steps"][n]
                key = "after" if "after" in step else "at_deadline"
                step[key] = iso_duration(
                    (duration(step[key]) or timedelta(0)) + timedelta(seconds=1 if key == "after" else -1)
                )


def iso_duration(value: timedelta) -> str:
    """A timedelta in the scenarios' ISO 8601 form (``-PT1S``, ``P1DT2H3M4S``)."""
    sign, value = ("-", -value) if value < timedelta(0) else ("", value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    days = f"{value.days}D" if value.days else ""
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return f"{sign}P{days}" + (f"T{clock}" if clock or not days else "") + ("0S" if not clock and not days else "")


def model_of(record: dict[str, Any], steps: list[dict[str, Any]], dispatched_at: datetime) -> Expected:
    return simulate(Case.from_record(record), DISTRICT, MODEL_POLICIES, steps_from(steps), env_for(dispatched_at))


# -- running them -----------------------------------------------------------------------------------------------


@dataclass
class Observed:
    """What the stack did with one case, in the model's terms."""

    case: StackCase
    results: list[dict[str, Any]]
    stages: list[str]
    steps: list[tuple[int, int, datetime]]


@dataclass
class Run:
    specs: list[dict[str, Any]]
    records: list[dict[str, Any]]
    observed: dict[str, Observed]
    seconds: float
    counters: dict[str, str] = field(default_factory=dict)  # the stack's ALL-scope day counters, "metric@day"
    output: str = ""


def scenario_for(records: list[dict[str, Any]], specs: list[dict[str, Any]], folder: Path) -> Scenario:
    (folder / "complaints.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    data = {
        "name": "reference-model",
        "start": START.isoformat(),
        "parameters": PARAMETERS,
        "complaints": {"file": "complaints.jsonl"},
        "feed": {"push": True},
        "max_days": 40,
        "deadline_policies": POLICIES,
        "timelines": {r["complaint_id"]: s["steps"] for r, s in zip(records, specs, strict=True)},
    }
    scenario = Scenario.model_validate(data)
    scenario.path = folder / "scenario.yaml"
    return scenario


def run_batch(specs: list[dict[str, Any]], indexes: list[int] | None = None) -> Run:
    """One scenario on a fresh local stack for the given cases (their indexes keep their complaint ids)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    indexes = indexes if indexes is not None else list(range(len(specs)))
    chosen = [specs[i] for i in indexes]
    records = [record_for(i, specs[i]) for i in indexes]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        scenario = scenario_for(records, chosen, Path(folder))
        stack = stack_for(scenario)
        out = io.StringIO()
        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # the functions' own logs
                result = ScenarioRun(scenario, stack, out).run()
            sim = stack.simulator
            observed = {}
            for r in records:
                cid = r["complaint_id"]
                case = stack.cases.get(cid)
                assert case is not None, f"no case {cid}"
                stage_keys = [e["key"] for e in [*sim.progress_log, *sim.superseded_log] if e["complaint_id"] == cid]
                observed[cid] = Observed(
                    case,
                    [e for e in sim.result_log if e["complaint_id"] == cid],
                    [k.removeprefix(f"{cid}-") for k in stage_keys],
                    [
                        (s["step"], s["repeat"], datetime.fromisoformat(s["at"]))
                        for s in result["timeline_steps"]
                        if s["complaint_id"] == cid
                    ],
                )
            counters = {
                f"{metric}@{bucket.removeprefix('D#')}": str(value)
                for (scope, bucket), values in StatsStore(stack.deployment.ref("StatsTable")).everything().items()
                if scope == ALL and bucket.startswith("D#")
                for metric, value in values.items()
                if value
            }
        finally:
            stack.stop()
    return Run(chosen, records, observed, time.perf_counter() - began, counters, out.getvalue())


# -- comparing --------------------------------------------------------------------------------------------------

PEOPLE_EVENTS = {"accepted", "declined", "result_reported", "approved", "sent_back", "note_added"}
PEOPLE_EVENTS |= {"action_refused", "action_repeated"}


def _t(at: datetime | None) -> str | None:
    return at.astimezone(SHANGHAI).isoformat() if at else None


def history_of(obs: Observed) -> dict[str, Any]:
    """The stack's case in the model's terms."""
    case = obs.case
    waits, seen = [], set()
    messages: Counter[tuple[str, int | None]] = Counter()
    reminders, people = [], []
    escalation = None
    backs = 0
    for index, h in enumerate(case.history):
        wait = wait_of(case, index)
        if wait is not None and wait not in seen:
            seen.add(wait)
            waits.append((*wait, _t(h.at), _t(datetime.fromisoformat(str(h.detail["due_at"])))))
        if h.event in ("notified", "notification_failed"):
            template = str(h.detail.get("template"))
            messages[(template, None if template.startswith("note_") else 1 + backs)] += 1
        elif h.event == "reminder_due":
            reminders.append((str(h.detail["key"]).split(":", 1)[0], _round_of(case, index), _t(h.at)))
        elif h.event == "overdue" and escalation is None:
            escalation = (str(h.detail.get("phase")), _t(h.at))
        if h.event in PEOPLE_EVENTS and h.actor.split(":", 1)[0] in ("enterprise", "station"):
            reason = str(h.detail.get("reason", "")) if h.event == "action_refused" else ""
            reason = str(h.detail.get("action", "")) if h.event == "action_repeated" else reason
            people.append((h.event, h.actor.split(":", 1)[0], reason))
        if h.event == "sent_back":
            backs += 1
    return {
        "waits": waits,
        "messages": dict(sorted(messages.items(), key=str)),
        "reminders": reminders,
        "escalation": escalation,
        "people": people,
        "steps": sorted((n, r, _t(at)) for n, r, at in obs.steps),
        "status": case.status,
        "outcome": case.outcome,
        "recovered": str(case.recovered_amount) if case.recovered_amount is not None else None,
        "overdue": case.overdue,
        "overdue_phase": case.overdue_phase,
        "closed_at": _t(case.closed_at),
        "cycle_days": str(case.cycle_days) if case.cycle_days is not None else None,
        "revision": case.revision,
        "stages": sorted(obs.stages),
        "reported": [(r.get("outcome"), str(r.get("recovered_amount"))) for r in obs.results],
        "facts": {
            f"{f.metric}@{f.day.isoformat() if f.day else '-'}": str(v)
            for f, v in sorted(facts(case).items(), key=str)
            if v  # a zero adds nothing
        },
    }


def _round_of(case: StackCase, index: int) -> int:
    """The reminder's wait round: a review's is 1 + the send-backs before it, a rework's the send-backs."""
    backs = sum(1 for h in case.history[:index] if h.event == "sent_back")
    phase = str(case.history[index].detail["key"]).split(":", 1)[0]
    return backs + 1 if phase == "review" or not backs else backs


def expected_of(e: Expected) -> dict[str, Any]:
    return {
        "waits": [(w.name, w.round, _t(w.start), _t(w.due)) for w in e.waits],
        "messages": dict(sorted(e.message_counts().items(), key=str)),
        "reminders": [(p, r, _t(at)) for p, r, at in e.reminders],
        "escalation": (e.escalation[0], _t(e.escalation[1])) if e.escalation else None,
        "people": e.people,
        "steps": sorted((n, r, _t(at)) for n, r, at in e.steps),
        "status": e.status,
        "outcome": e.outcome,
        "recovered": str(e.recovered) if e.recovered is not None else None,
        "overdue": e.overdue,
        "overdue_phase": e.overdue_phase,
        "closed_at": _t(e.closed_at),
        "cycle_days": str(e.cycle_days) if e.cycle_days is not None else None,
        "revision": e.revision,
        "stages": sorted(e.stages),
        "reported": [(e.report[0], str(e.report[1]))] if e.report else [],
        "facts": {f"{m}@{d or '-'}": str(v) for (m, d), v in sorted(e.facts.items(), key=str)},
    }


def differences(record: dict[str, Any], spec: dict[str, Any], obs: Observed) -> list[str]:
    """Every way the stack's case departs from the model's, one line each (empty: the same)."""
    received = next((h.at for h in obs.case.history if h.event == "received"), None)
    if received is None:
        return ["the case has no received event"]
    want = expected_of(model_of(record, spec["steps"], received))
    got = history_of(obs)
    out = []
    for key, value in want.items():
        if got[key] != value:
            out.append(f"{key}: model {value} | stack {got[key]}")
    return out


@dataclass
class Verdict:
    compared: int
    failing: dict[int, list[str]] = field(default_factory=dict)  # batch index -> differences
    seconds: float = 0.0
    figures: list[str] = field(default_factory=list)  # the stored counters against the sum of the model's facts


def compare(run: Run, indexes: list[int] | None = None) -> Verdict:
    indexes = indexes if indexes is not None else list(range(len(run.specs)))
    verdict = Verdict(len(run.records), seconds=run.seconds)
    for index, record, spec in zip(indexes, run.records, run.specs, strict=True):
        found = differences(record, spec, run.observed[record["complaint_id"]])
        if found:
            verdict.failing[index] = found
    verdict.figures = figure_differences(run)
    return verdict


def figure_differences(run: Run) -> list[str]:
    """The bureau's day counters (StatsTable, as the counters function kept them from the stream) against the sum
    of the model's facts over the batch."""
    want: dict[str, Decimal] = {}
    for record, spec in zip(run.records, run.specs, strict=True):
        obs = run.observed[record["complaint_id"]]
        received = next((h.at for h in obs.case.history if h.event == "received"), None)
        if received is None:
            continue
        for (metric, day), value in model_of(record, spec["steps"], received).facts.items():
            if day is not None:
                want[f"{metric}@{day}"] = want.get(f"{metric}@{day}", Decimal(0)) + value
    got = {k: Decimal(v) for k, v in run.counters.items()}
    return [
        f"counter {k}: model {want.get(k, 0)} | stack {got.get(k, 0)}"
        for k in sorted(want.keys() | got.keys())
        if want.get(k, 0) != got.get(k, 0)
    ]


def shrink(
    specs: list[dict[str, Any]], index: int, budget: int = 8, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Re-run the failing case alone, then drop its steps one at a time while it still fails (at most ``budget``
    stack runs); the smallest failing timeline found."""
    spec = json.loads(json.dumps(specs[index]))

    def fails(candidate: dict[str, Any]) -> list[str]:
        trial = list(specs)
        trial[index] = candidate
        return compare(run_batch(trial, [index]), [index]).failing.get(index, [])

    found = fails(spec)
    runs = 1
    if not found:
        say(f"case {index} does not fail when run alone")
        return spec
    n = 0
    while n < len(spec["steps"]) and runs < budget:
        candidate = {**spec, "steps": spec["steps"][:n] + spec["steps"][n + 1 :]}
        runs += 1
        if fails(candidate):
            spec = candidate
        else:
            n += 1
    return spec


def report(seed: int, verdict: Verdict, specs: list[dict[str, Any]], say: Callable[[str], None] = print) -> None:
    say(
        f"reference model: {verdict.compared} cases compared, {len(verdict.failing)} with differences, "
        f"{len(verdict.figures)} counters differing (seed {seed}, {verdict.seconds:.0f} s on the stack)"
    )
    for line in verdict.figures[:10]:
        say(f"- {line}")
    for index, found in list(verdict.failing.items())[:5]:
        say(f"- case {index} ({record_for(index, specs[index])['complaint_id']}):")
        for line in found:
            say(f"    {line}")


def timeline_yaml(index: int, spec: dict[str, Any]) -> str:
    cid = record_for(index, spec)["complaint_id"]
    return yaml.safe_dump(
        {"registered_at": spec["registered_at"], "uscc": spec["uscc"], "timelines": {cid: spec["steps"]}},
        allow_unicode=True,
        sort_keys=False,
    )


def old_message_key(template: Template, case: StackCase, link_phase: LinkPhase | None) -> str:
    """The mutant: the message key before issue 20, the template and the deadline of the phase it acts in."""
    deadline = case.deadlines.get(link_phase) if link_phase else None
    return f"{template}:{deadline.due_at.isoformat() if deadline else 'once'}"


MUTANTS = {"old-message-key": (sending, "message_key", old_message_key)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261208)
    parser.add_argument("--only", type=int, help="replay this case of the seed's batch alone")
    parser.add_argument("--shrink", type=int, default=8, help="stack runs to shrink a failing case with (0: none)")
    parser.add_argument("--mutant", choices=sorted(MUTANTS), help="run with a known defect put back (must fail)")
    args = parser.parse_args(argv)
    if args.mutant:  # the handlers run in this process: the patched function is the one they call
        module, name, replacement = MUTANTS[args.mutant]
        setattr(module, name, replacement)
        print(f"mutant: {args.mutant}")
    began = time.perf_counter()
    specs = draw_batch(args.seed, args.cases)
    untie(specs)
    indexes = [args.only] if args.only is not None else None
    run = run_batch(specs, indexes)
    verdict = compare(run, indexes)
    report(args.seed, verdict, specs)
    if verdict.failing:
        first = next(iter(verdict.failing))
        if args.shrink:
            small = shrink(specs, first, args.shrink)
            print(f"shrunk timeline of case {first} (replay: --seed {args.seed} --cases {args.cases} --only {first}):")
            print(timeline_yaml(first, small))
    print(f"differences {len(verdict.failing) + len(verdict.figures)}; {time.perf_counter() - began:.0f} s in all")
    return 1 if verdict.failing or verdict.figures else 0


if __name__ == "__main__":
    sys.exit(main())
