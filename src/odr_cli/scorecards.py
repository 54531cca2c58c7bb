"""Enterprise scorecards (动态管理): how each directory enterprise handled its ODR cases over a period.

Rates over a handful of cases say little, so an enterprise is ranked, and flagged for exit review
(动态退出), only with at least ``min_cases`` cases behind the rate. A flag carries the figures behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field

from odr_adapter.models.directory import Enterprise
from odr_adapter.ports import CounterReader
from odr_adapter.stats.figures import Figures, Period, totals
from odr_cli.report_text import percent, text_table


class ScorecardPolicy(BaseModel):
    """Thresholds of the district's dynamic management; rates in percent."""

    min_cases: int = Field(default=5, ge=1)
    min_on_time_acceptance: int = Field(default=90, ge=0, le=100)
    min_on_time_closure: int = Field(default=80, ge=0, le=100)
    min_settlement: int = Field(default=60, ge=0, le=100)


@dataclass(frozen=True)
class Flag:
    measure: str
    rate: Decimal
    threshold: int
    part: int
    whole: int

    def text(self) -> str:
        return f"{self.measure} {self.rate}% ({self.part}/{self.whole}) 低于 {self.threshold}%"


@dataclass
class Scorecard:
    enterprise: Enterprise
    figures: Figures
    rank: int | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    def as_dict(self) -> dict[str, Any]:
        e = self.enterprise
        return {
            "uscc": e.uscc,
            "name": e.name,
            "enterprise_class": e.enterprise_class,
            "station_code": e.station_code,
            "rank": self.rank,
            "figures": self.figures.as_dict(),
            "exit_review": bool(self.flags),
            "flags": [
                {"measure": f.measure, "rate_percent": str(f.rate), "threshold_percent": f.threshold}
                | {"part": f.part, "whole": f.whole, "text": f.text()}
                for f in self.flags
            ],
        }


def _flags(f: Figures, policy: ScorecardPolicy) -> list[Flag]:
    checks = (
        ("按时受理率", "accepted_on_time", "dispatched", policy.min_on_time_acceptance),
        ("按时办结率", "closed_on_time", "handled", policy.min_on_time_closure),
        ("和解成功率", "settled", "handled", policy.min_settlement),
    )
    out = []
    for measure, part, whole, threshold in checks:
        if f.count(whole) < policy.min_cases:
            continue
        exact = Decimal(100) * f[part] / f[whole]
        if exact < threshold:
            rate = exact.quantize(Decimal("0.1"), ROUND_HALF_UP)
            out.append(Flag(measure, rate, threshold, f.count(part), f.count(whole)))
    return out


def _score(card: Scorecard) -> tuple[Decimal, Decimal, int]:
    f = card.figures
    return (f.on_time_closure_rate or Decimal(0), f.success_rate or Decimal(0), f.count("handled"))


def scorecards(
    reader: CounterReader, period: Period, enterprises: Sequence[Enterprise], policy: ScorecardPolicy
) -> list[Scorecard]:
    """Scorecards of the enterprises listed at any time in ``period``: the ranked ones first, best first
    (on-time closure, then settlement, then volume; ties share a rank), then the others by activity."""
    listed = [
        e
        for e in enterprises
        if e.listed_on <= period.last and (e.delisted_on is None or e.delisted_on >= period.first)
    ]
    cards = [Scorecard(e, totals(reader, f"ENT#{e.uscc}", period)) for e in listed]
    for card in cards:
        card.flags = _flags(card.figures, policy)
    ranked = sorted((c for c in cards if c.figures.count("handled") >= policy.min_cases), key=_score, reverse=True)
    for i, card in enumerate(ranked):
        card.rank = ranked[i - 1].rank if i and _score(ranked[i - 1]) == _score(card) else i + 1
    others = sorted(
        (c for c in cards if not c.ranked), key=lambda c: (-c.figures.count("dispatched"), c.enterprise.uscc)
    )
    return ranked + others


def scorecard_text(cards: Sequence[Scorecard], period: Period, policy: ScorecardPolicy) -> str:
    header = ["类别", "转ODR", "办理", "按时受理", "按时办结", "和解成功率", "逾期", "排名"]
    rows: list[tuple[str, list[str]] | None] = [("企业", header)]
    for card in cards:
        f = card.figures
        rows.append(
            (
                card.enterprise.name,
                [
                    card.enterprise.enterprise_class,
                    str(f.count("dispatched")),
                    str(f.count("handled")),
                    percent(f.on_time_acceptance_rate),
                    percent(f.on_time_closure_rate),
                    percent(f.success_rate),
                    str(f.count("overdue")),
                    str(card.rank) if card.ranked else f"不排名(少于{policy.min_cases}件)",
                ],
            )
        )
    lines = [f"企业动态管理评分 {period.first} 至 {period.last}", *text_table(rows), ""]
    flagged = [c for c in cards if c.flags]
    if not flagged:
        lines.append("动态退出审查: 无企业低于阈值")
    else:
        lines.append(f"动态退出审查: {len(flagged)} 家企业低于阈值")
        for card in flagged:
            e = card.enterprise
            lines.append(f"  {e.name} ({e.uscc}, {e.enterprise_class}类): " + "; ".join(f.text() for f in card.flags))
    return "\n".join(lines)
