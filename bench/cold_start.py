"""Cold start of each function against a bare ``import boto3``, in a Lambda-like interpreter (prints ratios).

Each sample is a fresh interpreter laid out as Lambda lays out the function (odr_local.lambda_env: no
site-packages, no .pyc written, the function's folder, the built layer, the runtime's boto3, the function's
template environment, tracing on). A sample is the CPU time the interpreter has used once ``import app`` is done
(start-up and the module's top level, settings validated) and boto3 is imported: every function calls AWS on its
first invocation, so a handler that imports its adapters lazily still pays for boto3, here. CPU time, not wall:
on a shared 2-core machine wall time mostly measures the wait for a core. The baseline is the same interpreter
doing only ``import boto3``. Each round samples every function, each right after a baseline sample; the figure
is median(function) / median(baseline).

Run: .venv/bin/python bench/cold_start.py [--rounds N] [--layer DIR] [--code DIR] [--profile FUNCTION]
  --layer DIR   a layer already built (the folder holding python/); default: build it (bench/layer_size.py)
  --code DIR    another checkout's root to take template.yaml and functions/ from (e.g. the previous commit's)
  --profile F   where F's import time goes (python -X importtime self times, median of 5), as shares
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from layer_size import OUT, build_layer  # noqa: E402

from odr_local.lambda_env import LambdaFunction, functions, in_function, run, runtime_sdk  # noqa: E402

COLD = "import app\nimport boto3\nimport time\nprint(time.process_time())"
BARE = "import boto3\nimport time\nprint(time.process_time())"


def _cpu(done: subprocess.CompletedProcess[str], what: str) -> float:
    """The CPU time the child printed when it was done."""
    if done.returncode:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def measure(layer: Path, code_root: Path = ROOT, rounds: int = 7) -> dict[str, float]:
    """Median cold start of each function over median bare ``import boto3``, interleaved round by round."""
    runtime = runtime_sdk(OUT / "runtime")
    fns = functions(code_root / "template.yaml")
    bare_env = {"AWS_REGION": "cn-north-1", "TZ": ":UTC", "LANG": "en_US.UTF-8"}
    baseline: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            baseline.append(_cpu(run(BARE, [runtime], bare_env, OUT), "import boto3"))
            samples[name].append(_cpu(in_function(fn, layer, runtime, COLD), f"import app ({name})"))
    floor = statistics.median(baseline)
    return {name: round(statistics.median(s) / floor, 2) for name, s in samples.items()}


def profile(fn: LambdaFunction, layer: Path, runs: int = 5) -> dict[str, float]:
    """Shares of the cold start's import time (``-X importtime`` self times, median of ``runs``) by top-level
    package, and by module for our own package."""
    times: dict[str, list[int]] = {}
    for _ in range(runs):
        done = in_function(fn, layer, runtime_sdk(OUT / "runtime"), COLD, "-X", "importtime")
        _cpu(done, f"import app ({fn.name})")
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
            if match:
                times.setdefault(match.group(2), []).append(int(match.group(1)))
    by_group: dict[str, float] = {}
    for module, self_us in times.items():
        group = module if module.startswith("odr_adapter") else module.split(".")[0]
        by_group[group] = by_group.get(group, 0.0) + statistics.median(self_us)
    total = sum(by_group.values())
    top = sorted(by_group.items(), key=lambda kv: -kv[1])[:25]
    return {name: round(100 * us / total, 1) for name, us in top}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--layer", type=Path)
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--profile")
    args = parser.parse_args()
    layer = (args.layer or build_layer()).resolve()
    if args.profile:
        fn = functions(args.code / "template.yaml")[args.profile]
        for group, share in profile(fn, layer).items():
            print(f"{share:5.1f}%  {group}")
        return
    ratios = measure(layer, args.code.resolve(), args.rounds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cold_start.json").write_text(json.dumps(ratios, indent=2) + "\n", encoding="utf-8")
    print(f"cold start (import app, boto3) vs bare `import boto3`, CPU time, median of {args.rounds} rounds:")
    for name, ratio in sorted(ratios.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<18} {ratio:.2f}x")


if __name__ == "__main__":
    main()
