"""The case workflow's definition (statemachine/case_workflow.asl.json) read as data: every path a case can take
enters at most 20 states (bench/transitions.py walks them), every wait reads its timeout where each state before
it wrote one, and a wait announced by a message is registered before that message goes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from odr_adapter.messages.sending import notify
from odr_adapter.workflow.screening import screen_and_route
from tests.fakes import World
from tests.unit.conftest import record

ROOT = Path(__file__).resolve().parents[2]
STATES: dict[str, Any] = json.loads((ROOT / "statemachine" / "case_workflow.asl.json").read_text(encoding="utf-8"))[
    "States"
]

pytestmark = pytest.mark.usefixtures("pauses")


def transitions() -> ModuleType:
    """bench/transitions.py, the walk over every path (a script, loaded from its file)."""
    if "bench_transitions" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_transitions", ROOT / "bench" / "transitions.py")
        assert spec and spec.loader
        sys.modules["bench_transitions"] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["bench_transitions"]


def test_every_path_enters_at_most_twenty_states() -> None:
    walked = transitions().summary(transitions().definition(None))
    assert walked["worst"] <= 20, walked["worst_path"]
    # The longest: screened by hand, sent back twice, then the review's deadline passed.
    assert walked["worst_path"].count("AwaitRework") == 2 and "ApplyScreening" in walked["worst_path"]
    assert walked["named"]["hand screening, two send-backs, approved"] <= 16


def _before(target: str) -> set[str]:
    """The states that can lead to ``target``, through Choice and Pass states (which write no seconds)."""
    found: set[str] = set()
    todo = [target]
    while todo:
        state = todo.pop()
        for name, st in STATES.items():
            leads = [st.get("Next"), st.get("Default"), *(c.get("Next") for c in st.get("Choices", []))]
            leads += [c["Next"] for c in st.get("Catch", []) if c["ErrorEquals"] != ["States.ALL"]]
            if state in leads and name not in found:
                if st["Type"] in ("Choice", "Pass"):
                    todo.append(name)
                else:
                    found.add(name)
    return found


def test_each_wait_reads_its_timeout_where_every_state_before_it_wrote_one() -> None:
    waits = {name: st for name, st in STATES.items() if "TimeoutSecondsPath" in st}
    assert set(waits) == {"AwaitScreening", "AwaitAcceptance", "AwaitResult", "AwaitRework", "AwaitReview"}
    for name, st in waits.items():
        holder = st["TimeoutSecondsPath"].removesuffix(".seconds")
        for before in _before(name):
            writer = STATES[before]
            assert writer.get("ResultPath") == holder, f"{before} -> {name}: writes {writer.get('ResultPath')}"
            assert "seconds.$" in writer.get("ResultSelector", {}), f"{before} -> {name}"


def test_a_wait_that_announces_itself_is_the_notification_task() -> None:
    announced = {
        name: st["Parameters"]["Payload"]
        for name, st in STATES.items()
        if st.get("Resource", "").endswith(".waitForTaskToken") and "wait" in st["Parameters"]["Payload"]
    }
    assert {name: (p["kind"], p["wait"]["phase"]) for name, p in announced.items()} == {
        "AwaitScreening": ("screening", "screening"),
        "AwaitAcceptance": ("dispatched", "acceptance"),
        "AwaitRework": ("sent_back", "resolution"),
        "AwaitReview": ("review", "review"),
    }
    assert all(STATES[n]["Parameters"]["FunctionName"] == "${NotifyFunctionArn}" for n in announced)
    assert not any(name.startswith("Notify") and STATES[name]["Next"].startswith("Await") for name in STATES)


def test_the_wait_is_registered_before_the_message_that_announces_it(world: World) -> None:
    world.seed(record(complaint_id="U-ANNOUNCE-00001"))
    routed = screen_and_route("U-ANNOUNCE-00001", world.svc)
    assert routed["decision"] == "odr" and routed["seconds"] > 0  # AwaitAcceptance's timeout

    result = notify("U-ANNOUNCE-00001", "dispatched", world.svc, world.delivery, ("acceptance", "token-1"))

    case = world.case("U-ANNOUNCE-00001")
    assert case.pending is not None and (case.pending.phase, case.pending.task_token) == ("acceptance", "token-1")
    assert world.events("U-ANNOUNCE-00001")[-2:] == ["waiting", "notified"]
    assert result["sent"] == 1 and result["seconds"] == routed["seconds"]
