"""``odr scorecard``: each directory enterprise's on-time and settlement rates and activity over a period
(动态管理); ranked only with enough cases; those under the thresholds flagged for exit review (动态退出)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.stats.figures import PeriodInvalid
from odr_cli.scorecards import ScorecardPolicy, scorecard_text, scorecards
from odr_cli.stores import NotConfigured, stats_store

from .report import add_period_arguments, period_of

DEFAULTS = ScorecardPolicy()


def register(sub: argparse._SubParsersAction) -> None:
    card = sub.add_parser("scorecard", help="enterprise scorecards and exit-review flags for a period")
    add_period_arguments(card)
    card.add_argument(
        "--min-cases",
        type=int,
        default=DEFAULTS.min_cases,
        help=f"cases needed before an enterprise is ranked or flagged (default {DEFAULTS.min_cases})",
    )
    for name, default, what in (
        ("min-on-time-acceptance", DEFAULTS.min_on_time_acceptance, "accepted before the deadline"),
        ("min-on-time-closure", DEFAULTS.min_on_time_closure, "closed without missing a deadline"),
        ("min-settlement", DEFAULTS.min_settlement, "settled (和解成功率)"),
    ):
        card.add_argument(f"--{name}", type=int, default=default, metavar="PERCENT", help=f"{what}; default {default}")
    card.add_argument("--json", action="store_true", help="print the scorecards as JSON")
    card.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    directory_table = os.environ.get("DIRECTORY_TABLE")
    try:
        store = stats_store()
        period = period_of(args)
        policy = ScorecardPolicy(
            min_cases=args.min_cases,
            min_on_time_acceptance=args.min_on_time_acceptance,
            min_on_time_closure=args.min_on_time_closure,
            min_settlement=args.min_settlement,
        )
        if not directory_table:
            raise NotConfigured("DIRECTORY_TABLE is not set (export it, or pass --env-file)")
    except (NotConfigured, PeriodInvalid, ValueError) as exc:
        print(f"odr scorecard: {exc}", file=sys.stderr)
        return 2
    enterprises = DirectoryStore(directory_table).district().enterprises
    cards = scorecards(store, period, enterprises, policy)
    if args.json:
        document = {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "policy": policy.model_dump(),
            "scorecards": [c.as_dict() for c in cards],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(scorecard_text(cards, period, policy))
    return 0
