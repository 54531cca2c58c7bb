"""The differential test (issue 20): generated timelines, run as one scenario on the local stack, each case
compared with the reference model (src/odr_model, docs/reference-model.md). ``make model`` runs 1,000."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from odr_adapter.messages import sending
from odr_model.days import SHANGHAI

from .model_harness import (
    Run,
    anchors,
    compare,
    draw_batch,
    model_of,
    old_message_key,
    record_for,
    report,
    run_batch,
    shrink,
    timeline_yaml,
    untie,
)

SEED = 20261208
CASES = 100  # generated, after the anchors


@pytest.fixture(scope="module")
def batch() -> Iterator[tuple[list[dict[str, Any]], Run]]:
    specs = draw_batch(SEED, CASES)
    untie(specs)
    yield specs, run_batch(specs)


def test_every_case_is_as_the_model_says(batch: tuple[list[dict[str, Any]], Run]) -> None:
    specs, run = batch
    verdict = compare(run)
    assert verdict.compared >= CASES + len(anchors())
    if verdict.failing or verdict.figures:
        lines: list[str] = []
        report(SEED, verdict, specs, lines.append)
        if not verdict.failing:
            pytest.fail("\n".join(lines), pytrace=False)
        first = next(iter(verdict.failing))
        small = shrink(specs, first, budget=4, say=lines.append)
        lines.append(f"shrunk timeline of case {first}, replay: .venv/bin/python -m tests.e2e.model_harness ")
        lines.append(f"  --seed {SEED} --cases {CASES} --only {first}\n{timeline_yaml(first, small)}")
        pytest.fail("\n".join(lines), pytrace=False)


def test_the_timelines_reach_what_the_issue_lists(batch: tuple[list[dict[str, Any]], Run]) -> None:
    """Same minute and same day, a second before a deadline and at it, across midnight, the holiday under working
    days, notes, withdrawals and revisions in every phase, late and repeated submits: each happens in the batch."""
    specs, _ = batch
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        record = record_for(index, spec)
        got = model_of(record, spec["steps"], datetime.fromisoformat(spec["registered_at"]))
        times = sorted(at for _, _, at in got.steps)
        if any(b - a < timedelta(minutes=1) for a, b in itertools.pairwise(times)):
            seen.add("same minute")
        if any(timedelta(minutes=1) <= b - a < timedelta(hours=12) for a, b in itertools.pairwise(times)):
            seen.add("same day")
        for wait in got.waits:
            for _, _, at in got.steps:
                seen |= {"a second before a deadline"} if at == wait.due - timedelta(seconds=1) else set()
                seen |= {"at a deadline"} if at == wait.due else set()
                start, when = wait.start.astimezone(SHANGHAI), at.astimezone(SHANGHAI)
                if wait.start <= at < wait.start + timedelta(hours=3) and start.date() != when.date():
                    seen.add("across midnight")
            if (
                got.enterprise_class == "B"
                and wait.start.date() < date(2026, 10, 1) < date(2026, 10, 7) < wait.due.date()
            ):
                seen.add("holiday under working days")
        for (number, _, _), taken_in in zip(got.steps, got.taken_in, strict=True):
            do = spec["steps"][number]["do"]
            if do in ("withdraw", "revise", "note"):
                seen.add(f"{do} in {taken_in}")
        seen |= {f"{event} {reason}".strip() for event, _, reason in got.people if event.startswith("action_")}
    wanted = {"same minute", "same day", "a second before a deadline", "at a deadline", "across midnight"}
    wanted |= {"holiday under working days", "action_refused deadline_passed", "action_repeated accept"}
    wanted |= {"action_repeated report", "action_refused link_used"}
    wanted |= {f"{do} in {wait}" for do in ("withdraw", "revise", "note") for wait in ("acceptance", "resolution")}
    wanted |= {f"{do} in {wait}" for do in ("withdraw", "note") for wait in ("review", "rework")}
    assert wanted <= seen, sorted(wanted - seen)


def test_the_old_message_key_fails_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutant: a station that sends a result back and gets the rework the same day is never sent the second
    `review` message. The handlers run in this process, so the old key is in force for the whole run."""
    monkeypatch.setattr(sending, "message_key", old_message_key)
    same_day = anchors()[:1]  # accepted, reported, sent back, reworked and approved within three hours
    verdict = compare(run_batch(same_day))
    messages = next(line for line in verdict.failing.get(0, []) if line.startswith("messages:"))
    model, stack = messages.split(" | ")
    assert "('review', 2): 1" in model and "('review', 2)" not in stack, messages
