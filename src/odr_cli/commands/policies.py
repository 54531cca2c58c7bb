"""``odr policies show|set`` and ``odr calendar import``: the deadline policies item of the DirectoryTable.

Policies are days per phase (acceptance, resolution, review, rework), natural or working, by default and
per enterprise class. Holiday tables (for a year chinese-calendar does not cover) are kept in the same item.
Every change prints its diff first and is written only if the item is unchanged since it was read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from odr_adapter.data_access.directory import DirectoryChanged, DirectoryStore
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_cli.district_files import read_table
from odr_cli.import_rows import ImportInvalid, ImportProblem
from odr_cli.policy_import import (
    describe_policies,
    diff_policies,
    parse_holiday_table,
    parse_policies,
    with_holiday_table,
)
from odr_cli.stores import NotConfigured, directory_store

from .directory import print_problems


def register(sub: argparse._SubParsersAction) -> None:
    policies = sub.add_parser("policies", help="deadline policies per enterprise class and phase")
    verbs = policies.add_subparsers(dest="verb", required=True)
    show = verbs.add_parser("show", help="print the stored policies (or the defaults) and holiday tables")
    show.add_argument("--json", action="store_true", help="the stored document, as `policies set` reads it")
    show.set_defaults(run=run_show)
    put = verbs.add_parser("set", help="replace the policies from a JSON or YAML file (see docs/rules.md)")
    put.add_argument("file", type=Path)
    put.add_argument("--dry-run", action="store_true", help="validate and print the diff; write nothing")
    put.set_defaults(run=run_set)

    calendar = sub.add_parser("calendar", help="working-day calendars for years chinese-calendar does not cover")
    cverbs = calendar.add_subparsers(dest="verb", required=True)
    imp = cverbs.add_parser("import", help="an operator holiday table for one year (CSV or XLSX: date,kind[,name])")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", default="operator", help="where the days come from, e.g. the State Council notice")
    imp.add_argument("--dry-run", action="store_true", help="validate and print the change; write nothing")
    imp.set_defaults(run=run_calendar_import)


def run_show(args: argparse.Namespace) -> int:
    try:
        policies, stored = directory_store().policies_snapshot()
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(policies.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return 0
    print("deadline policies: " + ("stored in the DirectoryTable" if stored else "the defaults (none stored)"))
    print("\n".join(describe_policies(policies)))
    return 0


def read_document(path: Path) -> Any:
    """A JSON or YAML document (by extension)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportInvalid(str(path), [ImportProblem(None, None, f"cannot read the file: {exc}")]) from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ImportInvalid(str(path), [ImportProblem(exc.lineno, None, f"not JSON: {exc.msg}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ImportInvalid(str(path), [ImportProblem(line, None, f"not YAML: {exc}")]) from None


def _write(store: DirectoryStore, old: DeadlinePolicies, new: DeadlinePolicies, stored: str | None, dry: bool) -> int:
    changes = diff_policies(old, new)
    if not changes:
        print("nothing to change")
        return 0
    print("changes:")
    print("\n".join(changes))
    if dry:
        print("dry run: nothing was written")
        return 0
    try:
        store.replace_policies(new, stored)
    except DirectoryChanged as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 1
    print("written: deadline policies")
    return 0


def run_set(args: argparse.Namespace) -> int:
    try:
        store = directory_store()
        document = read_document(args.file)
        current, stored = store.policies_snapshot()
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    except ImportInvalid as exc:
        print_problems(exc.source, exc.problems)
        return 1
    policies, problems = parse_policies(document, current)
    if policies is None:
        print_problems(str(args.file), problems)
        return 1
    print("\n".join(describe_policies(policies)))
    return _write(store, current, policies, stored, args.dry_run)


def run_calendar_import(args: argparse.Namespace) -> int:
    try:
        store = directory_store()
        table = read_table(args.file)
        current, stored = store.policies_snapshot()
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    except ImportInvalid as exc:
        print_problems(exc.source, exc.problems)
        return 1
    holidays, problems = parse_holiday_table(table, args.source)
    if holidays is None:
        print_problems(table.source, problems)
        return 1
    updated, lines = with_holiday_table(current, holidays)
    print("\n".join(lines))
    return _write(store, current, updated, stored, args.dry_run)
