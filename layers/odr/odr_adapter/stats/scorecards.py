"""Enterprise scorecards (动态管理): how each directory enterprise handled its ODR cases over a period, against its
class, and the two lists the bureau's rules (:class:`ScorecardRules`) draw from them: enterprises to commend
(红榜) and enterprises named for exit review (动态退出).

Every rate comes from :class:`~odr_adapter.stats.figures.Figures`; a rule compares the exact rate (not the one
rounded for display) with its threshold, and says the figures behind each verdict. A scorecard reads one counter
scope per listed enterprise and one per class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odr_adapter.models.directory import CLASS_NAMES, Enterprise
from odr_adapter.models.scorecard_rules import CommendationRule, ExitReviewRule, ScorecardRules
from odr_adapter.ports import CounterReader
from odr_adapter.stats.figures import Figures, Period, totals

# measure: (name, part counted, whole counted)
ON_TIME_ACCEPTANCE = ("按时受理率", "accepted_on_time", "dispatched")
ON_TIME_CLOSURE = ("按时办结率", "closed_on_time", "handled")
SETTLEMENT = ("和解成功率", "settled", "handled")


def _shown(rate: Decimal) -> Decimal:
    return rate.quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Flag:
    """One rate under its exit-review threshold."""

    measure: str
    rate: Decimal
    threshold: int
    part: int
    whole: int

    def text(self) -> str:
        return f"{self.measure} {self.rate}% ({self.part}/{self.whole}) 低于 {self.threshold}%"


@dataclass(frozen=True)
class Merit:
    """One rate that met its commendation bar: a threshold, or the class's rate (``against`` names it)."""

    measure: str
    rate: Decimal
    part: int
    whole: int
    against: str

    def text(self) -> str:
        return f"{self.measure} {self.rate}% ({self.part}/{self.whole}) ≥ {self.against}"


@dataclass
class Scorecard:
    enterprise: Enterprise
    figures: Figures
    class_figures: Figures
    rank: int | None = None
    flags: list[Flag] = field(default_factory=list)
    merits: list[Merit] = field(default_factory=list)  # set only when every bar of the commendation is met

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    @property
    def commended(self) -> bool:
        return bool(self.merits)

    @property
    def exit_review(self) -> bool:
        return bool(self.flags)

    def as_dict(self) -> dict[str, Any]:
        e = self.enterprise
        return {
            "uscc": e.uscc,
            "name": e.name,
            "enterprise_class": e.enterprise_class,
            "station_code": e.station_code,
            "rank": self.rank,
            "figures": self.figures.as_dict(),
            "class_figures": self.class_figures.as_dict(),
            "commended": self.commended,
            "merits": [
                {"measure": m.measure, "rate_percent": str(m.rate), "part": m.part, "whole": m.whole}
                | {"against": m.against, "text": m.text()}
                for m in self.merits
            ],
            "exit_review": self.exit_review,
            "flags": [
                {"measure": f.measure, "rate_percent": str(f.rate), "threshold_percent": f.threshold}
                | {"part": f.part, "whole": f.whole, "text": f.text()}
                for f in self.flags
            ],
        }


def exit_review_flags(f: Figures, rule: ExitReviewRule) -> list[Flag]:
    """The rates under their minimums, each with at least ``rule.min_cases`` cases behind it."""
    out = []
    for (measure, part, whole), threshold in (
        (ON_TIME_ACCEPTANCE, rule.min_on_time_acceptance),
        (ON_TIME_CLOSURE, rule.min_on_time_closure),
        (SETTLEMENT, rule.min_settlement),
    ):
        rate = f.exact_rate(part, whole)
        if f.count(whole) >= rule.min_cases and rate is not None and rate < threshold:
            out.append(Flag(measure, _shown(rate), threshold, f.count(part), f.count(whole)))
    return out


def commendation(f: Figures, klass: Figures, enterprise_class: str, rule: CommendationRule) -> list[Merit]:
    """What earns the commendation, bar by bar; empty unless every bar is met on enough cases."""
    if f.count("dispatched") < rule.min_cases or f.count("handled") < rule.min_cases:
        return []
    merits = []
    for (measure, part, whole), threshold in (
        (ON_TIME_ACCEPTANCE, rule.min_on_time_acceptance),
        (ON_TIME_CLOSURE, rule.min_on_time_closure),
    ):
        rate = f.exact_rate(part, whole)
        if rate is None or rate < threshold:
            return []
        merits.append(Merit(measure, _shown(rate), f.count(part), f.count(whole), f"{threshold}%"))
    if rule.settlement_at_least_class:
        measure, part, whole = SETTLEMENT
        rate, class_rate = f.exact_rate(part, whole), klass.exact_rate(part, whole)
        if rate is None or class_rate is None or rate < class_rate:
            return []
        merits.append(
            Merit(measure, _shown(rate), f.count(part), f.count(whole), f"{enterprise_class}类 {_shown(class_rate)}%")
        )
    return merits


def _score(card: Scorecard) -> tuple[Decimal, Decimal, int]:
    f = card.figures
    return (f.on_time_closure_rate or Decimal(0), f.success_rate or Decimal(0), f.count("handled"))


def scorecards(
    reader: CounterReader, period: Period, enterprises: Sequence[Enterprise], rules: ScorecardRules
) -> list[Scorecard]:
    """Scorecards of the enterprises listed at any time in ``period``, each with its class's figures, flags and
    commendation: the ranked ones first (at least ``exit_review.min_cases`` handled), best first (on-time
    closure, then settlement, then volume; ties share a rank), then the others by activity."""
    listed = [
        e
        for e in enterprises
        if e.listed_on <= period.last and (e.delisted_on is None or e.delisted_on >= period.first)
    ]
    present = {e.enterprise_class for e in listed}
    classes = {k: totals(reader, f"CLASS#{k}", period) for k in CLASS_NAMES if k in present}
    cards = [Scorecard(e, totals(reader, f"ENT#{e.uscc}", period), classes[e.enterprise_class]) for e in listed]
    for card in cards:
        card.flags = exit_review_flags(card.figures, rules.exit_review)
        card.merits = commendation(card.figures, card.class_figures, card.enterprise.enterprise_class, rules.commend)
    minimum = rules.exit_review.min_cases
    ranked = sorted((c for c in cards if c.figures.count("handled") >= minimum), key=_score, reverse=True)
    for i, card in enumerate(ranked):
        card.rank = ranked[i - 1].rank if i and _score(ranked[i - 1]) == _score(card) else i + 1
    others = sorted(
        (c for c in cards if not c.ranked), key=lambda c: (-c.figures.count("dispatched"), c.enterprise.uscc)
    )
    return ranked + others
