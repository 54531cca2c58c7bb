"""``odr-local``: run a scenario on the local stack, keep a stack up for exploration, or publish complaints
onto a running stack's simulated 12315 platform."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import requests

from .invoker import FunctionOutput
from .template import ROOT

ENV_FILE = ROOT / "build" / "local-stack.env"
CONFIG_ENV_HELP = (
    "deploy this samconfig.toml environment (its region and parameter_overrides), as sam deploy --config-env "
    "does; the stack sets only its own endpoints and secrets (default: the scenario's config_env, else the test world)"
)


def _quiet_handlers(log_dir: Path) -> None:
    """Handlers log JSON and EMF metrics to stdout (as in Lambda); locally each function's go to
    ``build/logs/<function>.log`` and the stack's own warnings to ``build/logs/local-stack.log``; progress stays
    on screen."""
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    sys.stdout = FunctionOutput(log_dir, (log_dir / "local-stack.log").open("w", encoding="utf-8"))
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
    logging.captureWarnings(True)  # library warnings (e.g. Powertools' empty metrics) go to the log file too
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def _records(path: Path) -> list[Any]:
    """A JSON array, one JSON object, or JSON Lines."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("["):
        return list(json.loads(text))
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _env_file_values() -> dict[str, str]:
    if not ENV_FILE.exists():
        raise SystemExit(f"no running stack: {ENV_FILE.relative_to(ROOT)} is missing (start one with make up)")
    pairs = (line.split("=", 1) for line in ENV_FILE.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def publish(path: Path, restamp: bool, screen: TextIO) -> int:
    url = _env_file_values()["ODR_SIMULATOR_URL"]
    got = requests.post(f"{url}/_sim/publish", json={"records": _records(path), "now": restamp}, timeout=30)
    print(json.dumps(got.json(), ensure_ascii=False), file=screen)
    return 0 if got.ok else 1


def up(args: argparse.Namespace, screen: TextIO) -> int:
    from .runner import ScenarioRun, stack_for, write_result
    from .scenario import Scenario
    from .stack import LocalStack

    if args.scenario:
        scenario = Scenario.load(args.scenario)
        scenario.config_env = args.config_env or scenario.config_env
        stack = stack_for(scenario, args.seconds_per_day if args.realtime else None, port=args.port)
        print(f"playing {args.scenario} ({'paced' if args.realtime else 'virtual time'})", file=screen, flush=True)
        result = ScenarioRun(scenario, stack, screen).run()
        write_result(result, ROOT / "build" / "up-result.json")
        if not stack.kernel.paced:
            stack.kernel.go_paced(args.seconds_per_day)
    else:
        stack = LocalStack(
            datetime.now().astimezone(), args.seconds_per_day, port=args.port, config_env=args.config_env
        ).start()
        stack.run_triggers()
    ENV_FILE.write_text(stack.env_file(), encoding="utf-8")
    print("\n".join(stack.deployed_from()), file=screen)
    print(
        f"local stack on {stack.endpoint} (region {stack.region}); API {stack.api.url}/prod; "
        f"12315 simulator {stack.simulator.url}; one simulated day = {args.seconds_per_day:g} s from now on",
        file=screen,
    )
    print(f"resource names for the odr CLI: odr --env-file {ENV_FILE.relative_to(ROOT)} ...", file=screen)
    for key, value in stack.deployment.resolver.refs.items():
        if not key.startswith("AWS::"):
            print(f"  {key}: {value}", file=screen)
    print(
        f"try: aws --endpoint-url {stack.endpoint} --region {stack.region} dynamodb list-tables; "
        "odr-local publish FILE --now   (Ctrl-C stops)",
        file=screen,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="odr-local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario file in virtual time and print the per-class summary")
    run.add_argument("scenario", type=Path)
    run.add_argument("--result", type=Path, help="write every case's result and the summary as JSON")
    run.add_argument("--config-env", help=CONFIG_ENV_HELP)
    start = sub.add_parser("up", help="start the local stack and keep it running (paced to the wall clock)")
    start.add_argument("--port", type=int, default=4566)
    start.add_argument("--seconds-per-day", type=float, default=60.0, help="wall seconds per simulated day")
    start.add_argument("--scenario", type=Path, help="play this scenario first, then stay up")
    start.add_argument("--realtime", action="store_true", help="play the scenario on the wall clock, too")
    start.add_argument("--config-env", help=CONFIG_ENV_HELP)
    pub = sub.add_parser("publish", help="put records (JSON, or JSON Lines) on a running stack's 12315 platform")
    pub.add_argument("file", type=Path)
    pub.add_argument("--now", action="store_true", help="register them at the stack's current time")
    chaos = sub.add_parser("chaos", help="the reliability suite under faults; prints one table (docs/reliability.md)")
    chaos.add_argument("--full", action="store_true", help="the full sizes (1,000 complaints, 10,000 inputs)")
    args = parser.parse_args(argv)
    screen = sys.__stdout__
    assert screen is not None
    if args.command == "publish":
        return publish(args.file, args.now, screen)
    _quiet_handlers(ROOT / "build" / "logs")
    if args.command == "run":
        from .runner import run_scenario

        run_scenario(args.scenario, args.result, out=screen, config_env=args.config_env)
        return 0
    if args.command == "chaos":
        from . import chaos as suite

        outcomes = suite.run(full=args.full, out=screen)
        return 0 if all(o.ok for o in outcomes) else 1
    return up(args, screen)


if __name__ == "__main__":
    sys.exit(main())
