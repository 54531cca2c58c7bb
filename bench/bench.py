"""Issue 11's figures side by side, measured in one run (prints one table of ratios and counts, asserts nothing).

Runs each bench script in turn, in its own process, and reads its figure from what it prints or from the JSON
it leaves in build/bench/: AWS calls per complaint at intake (intake_calls.py), write units per case
(write_units.py) and state transitions per case (transitions.py) when those scripts are present ("n/a" when
not), the layer's size (layer_size.py), each function's cold start against a bare ``import boto3``
(cold_start.py), and, from one scenario run, deliveries per record and the cost of 1M complaints (cost.py).

Run: .venv/bin/python bench/bench.py [--rounds N]   (make bench)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = ROOT / "build" / "bench"


def _run(script: str, *args: str) -> str | None:
    """The script's standard output, or None when the script is absent or failed (its error is shown)."""
    path = BENCH / script
    if not path.exists():
        return None
    print(f"running {script} {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        print(f"{script} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return done.stdout


def _figure(text: str | None, pattern: str) -> float | None:
    found = re.search(pattern, text or "")
    return float(found.group(1)) if found else None


def _json(name: str) -> Any:
    path = OUT / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _cell(value: float | None, fmt: str = "{:.2f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="cold-start rounds")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in ("layer_size.json", "cold_start.json", "cost.json", "write_units.json", "transitions.json"):
        (OUT / stale).unlink(missing_ok=True)

    rows: list[tuple[str, str, str]] = []  # figure, value, note
    intake_out = _run("intake_calls.py", "200")
    intake = _figure(intake_out, r"AWS calls per new complaint at intake: ([\d.]+)")
    rows.append(("AWS calls per complaint at intake", _cell(intake), "floor 2"))
    throughput = _figure(intake_out, r"batches: median ([\d.]+)")
    found = re.search(r"quartiles ([\d.]+-[\d.]+)", intake_out or "")
    quartiles = found.group(1) if found else "n/a"
    rows.append(
        (
            "intake throughput vs the floor",
            _cell(throughput),
            f"CPU, median of the batches' ratios (quartiles {quartiles}); target >= 0.9",
        )
    )

    write_units_out = _run("write_units.py")
    units = _json("write_units.json") or {}
    write_units = units.get("write_units_per_case") or _figure(write_units_out, r"write units per case: ([\d.]+)")
    rows.append(("DynamoDB write units per case", _cell(write_units, "{:.1f}"), "bench/write_units.py"))
    if "per_complaint" in units:
        rows.append(("  of which per complaint", _cell(units["per_complaint"], "{:.1f}"), "the rest by the clock"))

    transitions_out = _run("transitions.py")
    transitions = (_json("transitions.json") or {}).get("transitions_per_case") or _figure(
        transitions_out, r"transitions per case: ([\d.]+)"
    )
    rows.append(
        ("state transitions, the longest path", _cell(transitions, "{:.0f}"), "bench/transitions.py; target <= 20")
    )

    layer_out = _run("layer_size.py")
    layer = _json("layer_size.json") or {}
    rows.append(
        (
            "layer size, unzipped (zipped)",
            f"{layer['unzipped_mb']} MB ({layer['zipped_mb']} MB)" if layer_out and layer else "n/a",
            "was 73 MB (sam build, python3.11 BuildMethod)",
        )
    )

    _run("cold_start.py", "--layer", str(OUT / "layer"), "--rounds", str(args.rounds))
    ratios: dict[str, float] = _json("cold_start.json") or {}
    for name, ratio in sorted(ratios.items(), key=lambda kv: -kv[1]):
        rows.append((f"cold start: {name}", f"{ratio:.2f}x", "vs bare import boto3; target <= 1.3x"))

    # cost.py reads write_units.json itself (its per-complaint figure); the printed figure is the fallback.
    cost_args = [] if units or write_units is None else ["--write-units", str(write_units)]
    _run("cost.py", *cost_args)
    cost = _json("cost.json") or {}
    counts = cost.get("counts", {})
    deliveries = counts.get("deliveries_per_record")
    rows.append(("deliveries per record (push + poll)", _cell(deliveries), "scenarios/jinshan-week.yaml"))
    rows.append(
        (
            "transitions per case, counted by cost.py",
            _cell(counts.get("transitions"), "{:.1f}"),
            "StateEntered events of the scenario's executions, averaged",
        )
    )
    for design, usd in (cost.get("per_1m_usd") or {}).items():
        rows.append((f"USD per 1M complaints: {design}", _cell(usd, "{:,.0f}"), "AWS bill; target <= 300, was 621"))
    sms = {k: v for k, v in (cost.get("lines") or {}).get("standard", {}).items() if k.startswith("SMS")}
    for line, usd in sms.items():
        rows.append((f"USD per 1M complaints: {line}", _cell(usd, "{:,.0f}"), "bench/cost.py PRICES"))

    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>{vwidth}}  note")
    print(f"{'-' * width}  {'-' * vwidth}  ----")
    for figure, value, note in rows:
        print(f"{figure:<{width}}  {value:>{vwidth}}  {note}")


if __name__ == "__main__":
    main()
