"""Entry point of ``odr``: finds the command modules in :mod:`odr_cli.commands` and runs the chosen one.

Where AWS is: the usual boto3 configuration (profile, region), ``--endpoint-url`` for the local stack, and the
resource names from the environment (``CASES_TABLE``, ``DIRECTORY_TABLE``, ...) or ``--env-file`` (``make up``
writes ``build/local-stack.env``). A local stack's clock is simulated: its env file carries ``ODR_LOCAL_CLOCK``,
and a command run against it runs at the stack's time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import commands


def load_env_file(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            os.environ[key.strip()] = value.strip()


def local_stack_time() -> AbstractContextManager[Any]:
    """Run at a local stack's simulated time (``ODR_LOCAL_CLOCK=<simulated epoch>|<wall epoch>|<scale>``)."""
    spec = os.environ.get("ODR_LOCAL_CLOCK")
    if not spec:
        return nullcontext()
    import time_machine  # a development dependency, as the local stack is

    simulated, wall, scale = (float(part) for part in spec.split("|"))
    now = simulated + (time.time() - wall) * scale
    return time_machine.travel(datetime.fromtimestamp(now, UTC), tick=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="odr", description="odr-adapter operations")
    parser.add_argument("--env-file", type=Path, help="KEY=VALUE lines (e.g. build/local-stack.env from make up)")
    parser.add_argument("--endpoint-url", help="AWS endpoint, e.g. the local stack's http://127.0.0.1:4566")
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.env_file:
        load_env_file(args.env_file)
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        with local_stack_time():
            return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
