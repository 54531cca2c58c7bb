"""A scenario at scale on the local stack, in virtual time (prints figures, asserts nothing).

Prints the wall and CPU time of the run (stack start-up excluded), the peak memory of the process, the
executions started, simulated days covered, timers fired, the reconciliation line, and where the time went by
function (invocations, seconds in the handler).

Run: .venv/bin/python bench/run_scale.py [SCENARIO]   (default scenarios/jinshan-year-slice.yaml)
"""

from __future__ import annotations

import io
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from odr_local import invoker  # noqa: E402
from odr_local.invoker import FunctionOutput  # noqa: E402
from odr_local.runner import ScenarioRun, stack_for  # noqa: E402
from odr_local.scenario import Scenario  # noqa: E402


class _Tee(io.StringIO):
    """Progress lines on screen as they come; the whole output kept for the summary."""

    def __init__(self, screen: io.TextIOBase | Any) -> None:
        super().__init__()
        self.screen = screen

    def write(self, text: str) -> int:
        written = super().write(text)
        if text.endswith("\n") and self.getvalue().rsplit("\n", 2)[-2].startswith("["):
            self.screen.write(self.getvalue().rsplit("\n", 2)[-2] + "\n")
            self.screen.flush()
        return written


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "scenarios" / "jinshan-year-slice.yaml"
    screen = sys.stdout
    sys.stdout = FunctionOutput(ROOT / "build" / "logs", io.StringIO())  # type: ignore[assignment]
    scenario = Scenario.load(path)
    stack = stack_for(scenario)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        out = _Tee(screen)
        result = ScenarioRun(scenario, stack, out).run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sfn = stack.client("stepfunctions")
        executions = sum(
            len(page["executions"])
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn)
        )
        days = (stack.now() - scenario.start).total_seconds() / 86400
        fired = stack.kernel.fired
    finally:
        stack.stop()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ingestion = [line for line in out.getvalue().splitlines() if line.startswith("ingestion:")]
    print(f"scenario {scenario.name}: {result['offered']} complaints, {days:.1f} simulated days", file=screen)
    print(f"wall {wall:.0f} s   CPU {cpu:.0f} s   peak RSS {peak_mib:.0f} MiB", file=screen)
    print(f"executions {executions}   timers fired {fired}   actions {len(result['actions'])}", file=screen)
    print(*ingestion, file=screen)
    print("\nfunction                       invocations   seconds", file=screen)
    for fn in sorted(invoker.FUNCTIONS.values(), key=lambda f: -f.seconds):
        if fn.invocations:
            print(f"{fn.logical_id:30} {fn.invocations:11} {fn.seconds:9.1f}", file=screen)


if __name__ == "__main__":
    main()
