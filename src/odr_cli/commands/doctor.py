"""``odr doctor``: is this deployment ready? One line per check, ✓ or ✗ with its fix; exit 1 on any ✗.

A deployed stack: ``odr doctor --stack-name NAME [--region R]``. The local stack: ``odr --env-file
build/local-stack.env doctor``. The checks are in :mod:`odr_cli.doctor`; what each means, docs/runbook.md.
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from odr_cli import doctor, doctor_aws
from odr_cli.stores import NotConfigured


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="check that a deployment is ready: functions, secrets, e-mail, feed, data")
    parser.add_argument("--stack-name", help="the deployed CloudFormation stack (else the local stack's env file)")
    parser.add_argument("--region", help="the stack's region (else the usual AWS configuration)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        deployment = doctor_aws.deployed(args.stack_name, args.region) if args.stack_name else doctor_aws.local()
    except NotConfigured as exc:
        print(f"odr: {exc}; or name a deployed stack with --stack-name", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"odr: cannot read the stack: {exc}", file=sys.stderr)
        return 2
    print(f"odr doctor: {deployment.name} ({deployment.region}), {len(deployment.functions)} functions")
    results = doctor.examine(deployment)
    for result in results:
        print(result.line(), flush=True)
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} passed, {failed} failed" if failed else f"all {len(results)} checks passed")
    return 1 if failed else 0
