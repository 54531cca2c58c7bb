"""``odr explain RECORD.json``: what the workflow decides for a feed record, and why, rule by rule.

The decisions come from the code the workflow runs (:func:`odr_adapter.rules.decisions.decide`); the district and
policies from the DirectoryTable, or with ``--district DIR`` from the bureau's CSV files (offline).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from odr_adapter.clock import SHANGHAI
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District
from odr_cli.district_files import read_district
from odr_cli.explain import as_text, explain
from odr_cli.import_rows import ImportInvalid
from odr_cli.policy_import import parse_policies
from odr_cli.stores import NotConfigured, directory_store, district_code

from .directory import print_problems
from .policies import read_document


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("explain", help="validation, screening, route and deadlines of a record, with reasons")
    parser.add_argument("record", help="a 12315 record as JSON ('-' reads standard input)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--as-of",
        type=_as_of,
        metavar="TIME",
        help="use this registration time instead of the record's (ISO; without offset: Asia/Shanghai; "
        "a bare date: its 00:00)",
    )
    parser.add_argument("--district", type=Path, metavar="DIR", help="read stations.csv and odr-directory.csv here")
    parser.add_argument("--policies", type=Path, metavar="FILE", help="deadline policies (JSON/YAML) for --district")
    parser.set_defaults(run=run)


def _as_of(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text}") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _read_record(name: str) -> Any:
    text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8-sig")
    return json.loads(text)


def _reference(args: argparse.Namespace) -> tuple[District, DeadlinePolicies, str]:
    if args.district:
        district = read_district(args.district, district_code())
        policies = DeadlinePolicies()
        if args.policies:
            parsed, problems = parse_policies(read_document(args.policies), policies)
            if parsed is None:
                raise ImportInvalid(str(args.policies), problems)
            policies = parsed
        return district, policies, f"files in {args.district}"
    store = directory_store()
    revision = store.revision()
    return store.district(), store.policies(), f"DirectoryTable {store.table}, revision {revision.revision}"


def run(args: argparse.Namespace) -> int:
    if args.policies and not args.district:
        print("odr: --policies goes with --district (the table's policies are used otherwise)", file=sys.stderr)
        return 2
    try:
        raw = _read_record(args.record)
    except OSError as exc:
        print(f"odr: cannot read {args.record}: {exc.strerror}", file=sys.stderr)
        return 1
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"odr: {args.record} is not a JSON record: {exc}", file=sys.stderr)
        return 1
    try:
        district, policies, source = _reference(args)
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    except ImportInvalid as exc:
        print_problems(exc.source, exc.problems)
        return 1
    explanation = explain(raw, district, policies, source, registered_at=args.as_of)
    if args.json:
        print(json.dumps(explanation.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(as_text(explanation))
    return 0
