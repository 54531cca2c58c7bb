"""Scenario runs whose feed holds what a platform may send, or makes no progress at all (issue 20).

A JSON Lines scenario with a lone-surrogate escape, a record nested 300 deep and a 40-digit number runs to its end:
the simulator serves them (before, it raised UnicodeEncodeError and the run polled for its whole max_days) and each
is quarantined. A feed that never answers stops the run after a simulated day with the cause and the complaint ids.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from odr_adapter.models.record import LONE_SURROGATE
from odr_local.runner import ScenarioRun, run_scenario, stack_for
from odr_local.scenario import Scenario

HERE = Path(__file__).parent


def test_a_scenario_of_hostile_records_runs_to_its_end_with_each_quarantined() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scenario = Scenario.load(HERE / "hostile_records.yaml")
    ids = {json.loads(line)["complaint_id"] for line in (HERE / "hostile_records.jsonl").read_text().splitlines()}
    stack = stack_for(scenario)
    try:
        result = ScenarioRun(scenario, stack, io.StringIO()).run()
        reasons = {q["complaint_id"]: [p["reason"] for p in q["problems"]] for q in stack.quarantine.all()}
        assert stack.now() < scenario.start + timedelta(hours=2)  # ended when quarantined, not at max_days
        assert stack.simulator.serving_errors == []
    finally:
        stack.stop()
    assert set(reasons) == ids
    assert reasons["E2E-HOSTILE-CUT-0001"] == [LONE_SURROGATE]
    assert reasons["E2E-HOSTILE-DEEP-0002"] == ["record is nested 301 levels deep; at most 30"]
    assert reasons["E2E-HOSTILE-NUMBER-0003"] == ["a number in the record is 40 characters long; at most 32"]
    ingestion = result["ingestion"]
    assert (ingestion["offered"], ingestion["cases"], ingestion["quarantined"], ingestion["unaccounted"]) == (
        3,
        0,
        3,
        0,
    )
    assert result["feed"]["pushes_rejected"] >= 1  # the webhook refused the push holding them (400)


def test_a_feed_that_makes_no_progress_stops_the_run_with_the_cause_and_the_complaints() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    out = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        run_scenario(HERE / "stalled_feed.yaml", out=out)
    message = str(stopped.value.code)
    assert message.startswith("odr-local: the feed makes no progress: complaints ")
    named = re.search(r"complaints (.+?) are neither cases nor quarantined", message)
    assert named is not None and len(named.group(1).split(", ")) == 2  # both complaints the scenario generates
    pulls = int(re.search(r"pulls (\d+)", message).group(1))  # type: ignore[union-attr]
    assert 0 < pulls < 1000  # about a simulated day of polls every 15 minutes (5 tries each); 14 days: 6,720
    assert "stopped: the feed makes no progress" in out.getvalue()
