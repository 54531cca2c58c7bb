"""``odr-local``: run a scenario on the local stack, or keep the stack up for exploration."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

from .template import ROOT


def _quiet_handlers(log_path: Path) -> None:
    """Handlers log JSON to stdout (as in Lambda); locally that goes to a file, progress stays on screen."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout = log_path.open("w", encoding="utf-8")
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
    logging.captureWarnings(True)  # library warnings (e.g. Powertools' empty metrics) go to the log file too
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="odr-local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario file and print the per-class summary")
    run.add_argument("scenario", type=Path)
    run.add_argument("--result", type=Path, help="write every case's result and the summary as JSON")
    up = sub.add_parser("up", help="start the local stack and keep it running")
    up.add_argument("--port", type=int, default=4566)
    up.add_argument("--seconds-per-day", type=float, default=60.0)
    args = parser.parse_args(argv)
    screen = sys.__stdout__
    assert screen is not None
    _quiet_handlers(ROOT / "build" / "lambda.log")
    if args.command == "run":
        from .runner import run_scenario

        run_scenario(args.scenario, args.result, out=screen)
        return 0
    from .stack import REGION, LocalStack

    stack = LocalStack(datetime.now().astimezone(), args.seconds_per_day, port=args.port).start()
    stack.run_triggers()
    print(
        f"local stack on {stack.endpoint} (region {REGION}); API {stack.api.url}/prod; "
        f"12315 simulator {stack.simulator.url}",
        file=screen,
    )
    env_file = ROOT / "build" / "local-stack.env"
    env_file.write_text(stack.env_file(), encoding="utf-8")
    print(f"resource names for the odr CLI: odr --env-file {env_file.relative_to(ROOT)} ...", file=screen)
    for key, value in stack.deployment.resolver.refs.items():
        if not key.startswith("AWS::"):
            print(f"  {key}: {value}", file=screen)
    print(
        f"try: aws --endpoint-url {stack.endpoint} --region {REGION} dynamodb list-tables   (Ctrl-C stops)",
        file=screen,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stack.stop()
    return 0
