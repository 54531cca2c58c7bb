"""``odr report``: the bureau's summary sentence and tables for a period, from the statistics counters.

``--json`` prints the figures as the dashboards' API gives them; ``--xlsx`` and ``--html`` write a workbook and
a self-contained page with charts. ``--verify`` recounts every case (a Scan of the case table, for operators
after a counting alarm) and lists each counter that differs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from odr_adapter.clock import Clock, local
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.stats import StatsStore, scan_cases
from odr_adapter.stats.counters import differences, recount
from odr_adapter.stats.figures import Period, PeriodInvalid, build_report
from odr_cli.report_export import write_html, write_xlsx
from odr_cli.report_text import report_table
from odr_cli.stores import NotConfigured, stats_store

MAX_LISTED = 50


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="the summary sentence and tables for a period, from the counters")
    add_period_arguments(report)
    report.add_argument("--json", action="store_true", help="print the figures as JSON (as GET /stats/summary)")
    report.add_argument("--xlsx", type=Path, metavar="FILE", help="also write an Excel workbook")
    report.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML page with charts")
    report.add_argument("--verify", action="store_true", help="recount every case (Scan) and list counters that differ")
    report.set_defaults(run=run)


def add_period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first day (default: 1st of the month)")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day (default: today, Asia/Shanghai)")


def period_of(args: argparse.Namespace) -> Period:
    """The period asked for; days are Asia/Shanghai days, 'today' from the adapter's clock."""
    last = args.last or local(Clock().now()).date().isoformat()
    first = args.first
    if first is None:
        try:
            first = date.fromisoformat(last).replace(day=1).isoformat()
        except ValueError:
            first = last  # Period.parse says what is wrong with it
    return Period.parse(first, last)


def run(args: argparse.Namespace) -> int:
    try:
        store = stats_store()
        period = period_of(args)
    except (NotConfigured, PeriodInvalid) as exc:
        print(f"odr report: {exc}", file=sys.stderr)
        return 2
    if args.verify:
        return verify(store)
    directory_table = os.environ.get("DIRECTORY_TABLE")
    stations = {s.code: s.name for s in DirectoryStore(directory_table).district().stations} if directory_table else {}
    report = build_report(store, period, stations)
    notes = sys.stderr if args.json else sys.stdout
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"ODR 统计 {period.first} 至 {period.last}\n")
        print(report.sentence())
        print()
        print(report_table(report))
    if args.xlsx:
        write_xlsx(report, args.xlsx)
        print(f"workbook written to {args.xlsx}", file=notes)
    if args.html:
        write_html(report, args.html, Clock().now())
        print(f"HTML report written to {args.html}", file=notes)
    return 0


def verify(store: StatsStore) -> int:
    cases_table = os.environ.get("CASES_TABLE")
    if not cases_table:
        print("odr report: CASES_TABLE is not set (export it, or pass --env-file)", file=sys.stderr)
        return 2
    expected = recount(scan_cases(cases_table))
    found = differences(expected.items, store.everything())
    if not found:
        print(f"counters agree with a recount of every case ({len(expected.items)} counter items)")
        return 0
    print(f"{len(found)} counters differ from a recount of the cases:")
    for line in found[:MAX_LISTED]:
        print(f"  {line}")
    if len(found) > MAX_LISTED:
        print(f"  ... and {len(found) - MAX_LISTED} more")
    return 1
