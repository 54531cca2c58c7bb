"""``odr stations import`` and ``odr directory import``: the district's reference data from the bureau's files.

Both read a CSV or XLSX file with the columns of ``data/district/stations.csv`` or ``odr-directory.csv``,
report every problem of every line, print the diff against the DirectoryTable, and write only when the
whole file is valid (``--dry-run``: never). The file is the complete table: rows missing from it are removed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from odr_adapter.clock import Clock
from odr_adapter.data_access.directory import DirectoryChanged, DirectoryStore, Snapshot
from odr_adapter.models.directory import District, Plan
from odr_cli.directory_import import describe_plan, parse_enterprises, parse_stations, plan_directory, plan_stations
from odr_cli.district_files import read_table
from odr_cli.import_rows import ImportInvalid, ImportProblem, Table
from odr_cli.stores import NotConfigured, directory_store

Planner = Callable[[Table, Snapshot, DirectoryStore], tuple[Plan | None, list[ImportProblem]]]


def register(sub: argparse._SubParsersAction) -> None:
    for command, noun, planner in (
        ("stations", "market-supervision stations (市场监管所)", _plan_stations),
        ("directory", "ODR enterprise directory (ODR企业目录)", _plan_directory),
    ):
        parser = sub.add_parser(command, help=f"the {noun}")
        verbs = parser.add_subparsers(dest="verb", required=True)
        imp = verbs.add_parser("import", help=f"replace the {noun} from a CSV or XLSX file")
        imp.add_argument("file", type=Path, help="CSV (UTF-8 or GB 18030) or XLSX (first sheet), header on line 1")
        imp.add_argument("--dry-run", action="store_true", help="validate and print the diff; write nothing")
        imp.set_defaults(run=_runner(planner))


def _plan_stations(table: Table, snap: Snapshot, store: DirectoryStore) -> tuple[Plan | None, list[ImportProblem]]:
    intake = District.model_fields["intake_station_code"].default
    stations, problems = parse_stations(table, store.county_code, intake)
    if problems:
        return None, problems
    plan, in_use = plan_stations(snap.stations, stations, snap.enterprises)
    return (None, in_use) if in_use else (plan, [])


def _plan_directory(table: Table, snap: Snapshot, store: DirectoryStore) -> tuple[Plan | None, list[ImportProblem]]:
    enterprises, problems = parse_enterprises(table, {s.code for s in snap.stations})
    return (None, problems) if problems else (plan_directory(snap.enterprises, enterprises), [])


def print_problems(source: str, problems: list[ImportProblem]) -> None:
    print(f"{source}: {len(problems)} problem(s); nothing was written", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _runner(planner: Planner) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            store = directory_store()
            table = read_table(args.file)
            snap = store.snapshot()
        except NotConfigured as exc:
            print(f"odr: {exc}", file=sys.stderr)
            return 2
        except ImportInvalid as exc:
            print_problems(exc.source, exc.problems)
            return 1
        if snap.revision.state == "writing":
            print(
                f"warning: the import of {snap.revision.source} at {snap.revision.at} did not finish; "
                "the diff below includes what it left unwritten",
                file=sys.stderr,
            )
        plan, problems = planner(table, snap, store)
        if plan is None:
            print_problems(table.source, problems)
            return 1
        print("\n".join(describe_plan(plan)))
        if not plan.changes:
            print("nothing to change")
            return 0
        if args.dry_run:
            print("dry run: nothing was written")
            return 0
        try:
            transactions = store.apply(plan, snap.revision, args.file.name, Clock().now())
        except DirectoryChanged as exc:
            print(f"odr: {exc}", file=sys.stderr)
            return 1
        print(
            f"written: {len(plan.changes)} row(s) in {transactions} transaction(s); "
            f"directory revision {snap.revision.revision + 1}"
        )
        return 0

    return run
