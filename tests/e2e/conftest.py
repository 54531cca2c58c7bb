"""One local stack runs every path scenario once; the tests read the cases and executions it left."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from odr_adapter.models.case import Case
from odr_local.runner import ScenarioRun, stack_for
from odr_local.scenario import Scenario
from odr_local.stack import LocalStack

HERE = Path(__file__).parent


@dataclass
class PathsRun:
    stack: LocalStack
    result: dict[str, Any]
    output: str

    def case(self, complaint_id: str) -> Case:
        found = self.stack.cases.get(complaint_id)
        assert found is not None, f"no case {complaint_id}"
        return found

    def events(self, complaint_id: str) -> list[str]:
        return [h.event for h in self.case(complaint_id).history]

    def execution(self, complaint_id: str) -> tuple[str, list[str]]:
        """(status, names of the states entered) of the case's execution."""
        sfn = self.stack.client("stepfunctions")
        arn = f"{self.stack.state_machine_arn.replace(':stateMachine:', ':execution:')}:case-{complaint_id}"
        status = sfn.describe_execution(executionArn=arn)["status"]
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
        return status, entered

    def reports(self, complaint_id: str) -> list[dict[str, Any]]:
        return [r for r in self.stack.simulator.result_log if r["complaint_id"] == complaint_id]


def _run(scenario_file: str) -> Iterator[PathsRun]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scenario = Scenario.load(HERE / scenario_file)
    stack = stack_for(scenario)
    out = io.StringIO()
    try:
        result = ScenarioRun(scenario, stack, out).run()
        yield PathsRun(stack, result, out.getvalue())
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def paths() -> Iterator[PathsRun]:
    """Every path of a case, one complaint each (paths.yaml)."""
    yield from _run("paths.yaml")


@pytest.fixture(scope="module")
def working_days() -> Iterator[PathsRun]:
    """A complaint registered on 2026-12-30 under a working-day policy (working_days.yaml)."""
    yield from _run("working_days.yaml")


@pytest.fixture(scope="module")
def screening() -> Iterator[PathsRun]:
    """A station that screens by hand (screening.yaml)."""
    yield from _run("screening.yaml")
