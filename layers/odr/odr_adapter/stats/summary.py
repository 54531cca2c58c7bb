"""The bureau's figures per enterprise class: complaints handled, settlement success rate (和解成功率),
average cycle time and money recovered (挽回经济损失), and the summary sentence it reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odr_adapter.models.case import Case
from odr_adapter.models.directory import CLASS_NAMES


@dataclass
class ClassFigures:
    handled: int = 0
    settled: int = 0
    cycle_days: Decimal = Decimal(0)
    recovered: Decimal = Decimal(0)

    @property
    def success_rate(self) -> Decimal | None:
        return (
            (Decimal(100) * self.settled / self.handled).quantize(Decimal(1), ROUND_HALF_UP) if self.handled else None
        )

    @property
    def average_cycle_days(self) -> Decimal | None:
        return (self.cycle_days / self.handled).quantize(Decimal("0.1"), ROUND_HALF_UP) if self.handled else None


@dataclass
class Summary:
    """ODR cases "handled" are those dispatched to an enterprise and closed, withdrawals excepted."""

    by_class: dict[str, ClassFigures] = field(default_factory=lambda: {k: ClassFigures() for k in CLASS_NAMES})
    outcomes: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    open: int = 0

    @property
    def total(self) -> ClassFigures:
        total = ClassFigures()
        for f in self.by_class.values():
            total.handled += f.handled
            total.settled += f.settled
            total.cycle_days += f.cycle_days
            total.recovered += f.recovered
        return total

    def sentence(self) -> str:
        parts = []
        for klass in CLASS_NAMES:
            f = self.by_class[klass]
            rate = f"{f.success_rate}%" if f.success_rate is not None else "—"
            parts.append(f"{f.handled}件(和解成功率为{rate})")
        total = self.total
        average = total.average_cycle_days if total.average_cycle_days is not None else "—"
        return (
            f"三类电商ODR企业办理投诉分别为{'、'.join(parts)},平均办理周期{average}天,"
            f"帮助消费者挽回经济损失{_yuan(total.recovered)}"
        )

    def table(self) -> str:
        rows = [f"{'类别':<10}{'办理':>6}{'和解成功':>8}{'成功率':>8}{'平均周期(天)':>12}{'挽回金额(元)':>14}"]
        for klass, name in CLASS_NAMES.items():
            f = self.by_class[klass]
            rows.append(
                f"{klass + '类 ' + name:<10}{f.handled:>6}{f.settled:>8}"
                f"{(str(f.success_rate) + '%') if f.success_rate is not None else '—':>8}"
                f"{f.average_cycle_days or '—'!s:>12}{f.recovered:>14.2f}"
            )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        rows.append(f"outcomes: {outcomes}; overdue {self.overdue}; still open {self.open}")
        return "\n".join(rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_class": {
                k: {
                    "handled": f.handled,
                    "settled": f.settled,
                    "success_rate_percent": str(f.success_rate) if f.success_rate is not None else None,
                    "average_cycle_days": str(f.average_cycle_days) if f.average_cycle_days is not None else None,
                    "recovered_amount": f"{f.recovered:.2f}",
                }
                for k, f in self.by_class.items()
            },
            "outcomes": self.outcomes,
            "overdue": self.overdue,
            "open": self.open,
            "sentence": self.sentence(),
        }


def _yuan(amount: Decimal) -> str:
    if amount >= 10000:
        return f"{(amount / 10000).quantize(Decimal('0.01'))}万元"
    return f"{amount:.2f}元"


def summarise(cases: Iterable[Case]) -> Summary:
    summary = Summary()
    for case in cases:
        if case.is_open:
            summary.open += 1
            continue
        outcome = case.outcome or "unknown"
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
        summary.overdue += int(case.overdue)
        dispatched = "acceptance" in case.deadlines and case.enterprise is not None
        if not dispatched or outcome == "withdrawn":
            continue
        assert case.enterprise is not None
        figures = summary.by_class[case.enterprise.enterprise_class]
        figures.handled += 1
        figures.settled += int(outcome == "settled")
        figures.cycle_days += case.cycle_days or Decimal(0)
        figures.recovered += case.recovered_amount or Decimal(0)
    return summary
