"""``odr cases export --anonymised --from D --to D [--xlsx F] [--jsonl F]``: the case library for training;
``odr cases heal --backfill``: the one-off migration of the cases stored before the ByOwed index.

Closed cases of the period (closed on its Asia/Shanghai days), read per station through the ``ByStation`` index,
anonymised by :mod:`odr_cli.case_library`. There is no other export: without ``--anonymised`` it refuses.
Labels are keyed with ``CASE_LIBRARY_SALT`` when set (the same label for a case in every export), otherwise
with a random salt (labels link a file's cases and steps only).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from odr_adapter.clock import Clock
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.people.healing import backfill
from odr_adapter.stats.figures import PeriodInvalid
from odr_cli.case_library import closed_in, directory_mentions, labeller, library_case, period_bounds, write_jsonl
from odr_cli.case_library import write_xlsx as write_library_xlsx
from odr_cli.commands.report import add_period_arguments, period_of
from odr_cli.stores import NotConfigured, directory_store, required

SALT_VARIABLE = "CASE_LIBRARY_SALT"


def register(sub: argparse._SubParsersAction) -> None:
    cases = sub.add_parser("cases", help="closed cases as a library for training; the ByOwed backfill")
    verbs = cases.add_subparsers(dest="verb", required=True)
    export = verbs.add_parser("export", help="closed cases of a period, anonymised, as JSON lines and/or XLSX")
    export.add_argument("--anonymised", action="store_true", help="required: the only export there is")
    add_period_arguments(export)
    export.add_argument("--xlsx", type=Path, metavar="FILE", help="write a workbook (a sheet of cases, one of steps)")
    export.add_argument("--jsonl", type=Path, metavar="FILE", help="write one JSON object per case")
    export.set_defaults(run=run_export)
    heal = verbs.add_parser("heal", help="put cases stored before the ByOwed index on it (once, after deploying it)")
    heal.add_argument(
        "--backfill",
        action="store_true",
        help="required: Scan the case table once for open cases off the index (a one-off migration)",
    )
    heal.set_defaults(run=run_heal)


def run_heal(args: argparse.Namespace) -> int:
    """The one-off migration to ByOwed (docs/runbook.md, "Cases stored before ByOwed"): the only Scan there is."""
    if not args.backfill:
        print("odr cases heal: only the one-off backfill exists: pass --backfill", file=sys.stderr)
        return 2
    try:
        store = CaseStore(required("CASES_TABLE"))
    except NotConfigured as exc:
        print(f"odr cases heal: {exc}", file=sys.stderr)
        return 2
    done = backfill(store, store.open_cases_off_the_owing_index(), Clock())
    print(
        f"{done.read} open cases were off the ByOwed index: {done.start_owed} never got past the workflow's first "
        f"step and owe its start again (the sweeper starts them after its grace), {done.indexed} owed something "
        "else and are on the index now"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    if not args.anonymised:
        print("odr cases export: only an anonymised export exists: pass --anonymised", file=sys.stderr)
        return 2
    if not (args.xlsx or args.jsonl):
        print("odr cases export: say where to write it: --xlsx FILE and/or --jsonl FILE", file=sys.stderr)
        return 2
    try:
        store = CaseStore(required("CASES_TABLE"))
        district = directory_store().district()
        period = period_of(args)
    except (NotConfigured, PeriodInvalid) as exc:
        print(f"odr cases export: {exc}", file=sys.stderr)
        return 2
    _, end = period_bounds(period)
    stations = dict.fromkeys([s.code for s in district.stations] + [district.intake_station_code])
    closed = closed_in((c for code in stations for c in store.closed_for_station(code, end)), period)
    salt = os.environ.get(SALT_VARIABLE)
    label = labeller(salt.encode() if salt else secrets.token_bytes(32))
    known = directory_mentions(district)
    library = [library_case(case, label(case.complaint_id), known) for case in closed]
    if args.jsonl:
        write_jsonl(library, args.jsonl)
        print(f"{len(library)} cases written to {args.jsonl}")
    if args.xlsx:
        write_library_xlsx(library, args.xlsx)
        print(f"{len(library)} cases written to {args.xlsx}")
    if not salt:
        print(f"labels are random for this export ({SALT_VARIABLE} is not set)", file=sys.stderr)
    return 0
