"""``odr scorecard``: each directory enterprise's on-time and settlement rates and activity over a period, against
its class (动态管理); then the enterprises to commend (红榜) and those named for exit review (动态退出).

The rules are the bureau's, stored with the deadline policies (``odr policies show``/``set``, key
``scorecards``); ``--min-*`` options try other exit-review thresholds without changing what is stored.
"""

from __future__ import annotations

import argparse
import json
import sys

from odr_adapter.models.scorecard_rules import ScorecardRules
from odr_adapter.stats.figures import Period, PeriodInvalid
from odr_adapter.stats.scorecards import scorecards
from odr_cli.scorecards import scorecard_text
from odr_cli.stores import NotConfigured, directory_store, stats_store

from .report import add_period_arguments, period_of

OVERRIDES = (
    ("min_cases", "cases needed before an enterprise is ranked or flagged"),
    ("min_on_time_acceptance", "accepted before the deadline, percent"),
    ("min_on_time_closure", "closed without missing a deadline, percent"),
    ("min_settlement", "settled (和解成功率), percent"),
)


def register(sub: argparse._SubParsersAction) -> None:
    card = sub.add_parser("scorecard", help="enterprise scorecards, the commended (红榜) and exit-review flags")
    card.add_argument("--month", metavar="YYYY-MM", help="a calendar month (instead of --from/--to)")
    add_period_arguments(card)
    for name, what in OVERRIDES:
        card.add_argument(
            f"--{name.replace('_', '-')}", type=int, metavar="N", help=f"exit review: {what} (default: the stored rule)"
        )
    card.add_argument("--json", action="store_true", help="print the scorecards as JSON")
    card.set_defaults(run=run)


def rules_of(stored: ScorecardRules, args: argparse.Namespace) -> ScorecardRules:
    """The stored rules with the command line's exit-review thresholds, if any, in their place."""
    given = {name: getattr(args, name) for name, _ in OVERRIDES if getattr(args, name) is not None}
    exit_review = stored.exit_review.model_validate({**stored.exit_review.model_dump(), **given})
    return stored.model_copy(update={"exit_review": exit_review})


def run(args: argparse.Namespace) -> int:
    try:
        store = stats_store()
        directory = directory_store()
        if args.month and (args.first or args.last):
            raise PeriodInvalid("give --month or --from/--to, not both")
        period = Period.month(args.month) if args.month else period_of(args)
        rules = rules_of(directory.policies().scorecards, args)
    except (NotConfigured, PeriodInvalid, ValueError) as exc:
        print(f"odr scorecard: {exc}", file=sys.stderr)
        return 2
    cards = scorecards(store, period, directory.district().enterprises, rules)
    if args.json:
        document = {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "rules": rules.model_dump(),
            "commended": [c.enterprise.uscc for c in cards if c.commended],
            "exit_review": [c.enterprise.uscc for c in cards if c.exit_review],
            "scorecards": [c.as_dict() for c in cards],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(scorecard_text(cards, period, rules))
    return 0
