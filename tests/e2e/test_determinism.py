"""Virtual time makes a run a function of its scenario file: the same file gives the same result file, field
by field, on an idle machine and beside two CPU-bound processes (each run in its own process, so nothing of
the first, Python's string hashing included, carries into the second)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
BUSY = "while True: pass"


@contextmanager
def busy_processes(count: int) -> Iterator[None]:
    loops = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def run(result: Path) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, "-m", "odr_local.cli", "run", str(HERE / "determinism.yaml"), "--result", str(result)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    loaded: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return loaded


def differences(first: Any, second: Any, path: str = "") -> list[str]:
    if isinstance(first, dict) and isinstance(second, dict):
        keys = sorted(set(first) | set(second))
        return [d for k in keys for d in differences(first.get(k), second.get(k), f"{path}.{k}")]
    if isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
        return [
            d for n, (a, b) in enumerate(zip(first, second, strict=True)) for d in differences(a, b, f"{path}[{n}]")
        ]
    return [] if first == second else [f"{path}: {first!r} != {second!r}"]


def test_the_same_scenario_gives_the_same_result_file_on_a_busy_machine(tmp_path: Path) -> None:
    idle = run(tmp_path / "idle.json")
    with busy_processes(2):
        busy = run(tmp_path / "busy.json")
    assert differences(idle, busy) == []
    # The run is not trivially the same: it has every kind of ending, the faults fired, people acted.
    outcomes = {c["outcome"] for c in idle["cases"]}
    assert {"settled", "not_settled", "returned"} <= outcomes
    assert idle["feed"]["faults"] and idle["actions"] and idle["ingestion"]["unaccounted"] == 0
