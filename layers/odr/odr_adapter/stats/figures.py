"""Reports from the counters: the bureau's summary sentence, the per-class and per-station tables, the trend
of on-time closure and the cycle-time distribution, for any period of days.

A report reads counter items only, never cases: per scope, the day items of a period of up to
:data:`DAILY_LIMIT` days, otherwise the month items of the whole months plus the day items of the partial
months at either end. What it reads depends on the period and the number of scopes, not on how many cases
there are.
"""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odr_adapter.models.case import Case
from odr_adapter.models.directory import CLASS_NAMES
from odr_adapter.stats.counters import (
    ALL,
    CYCLE_BUCKETS,
    LIFETIME,
    OUTCOMES,
    STATUSES,
    CounterItem,
    CounterReader,
    Values,
    day_of,
    differences,
    recount,
)
from odr_adapter.stats.summary import ClassFigures, Summary

STATUS_NAMES = {
    "received": "已登记待分流",
    "screening": "待监管所受理审查",
    "dispatched": "待企业受理",
    "accepted": "企业办理中",
    "under_review": "待监管所审核",
    "closed": "已办结",
}
DAILY_LIMIT = 62  # days: up to this a report reads day items and its trend is daily, beyond it monthly
MAX_DAYS = 3660


class PeriodInvalid(ValueError):
    """The dates asked for do not make a period (answered as a 400 / a usage error)."""


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` inclusive, in Asia/Shanghai (the days counters are bucketed by)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise PeriodInvalid(f"the period starts ({self.first}) after it ends ({self.last})")
        if (self.last - self.first).days >= MAX_DAYS:
            raise PeriodInvalid(f"a period is at most {MAX_DAYS} days")

    @classmethod
    def parse(cls, first: str | None, last: str | None) -> Period:
        """From ``YYYY-MM-DD`` strings, both required."""
        if not first or not last:
            raise PeriodInvalid("give both 'from' and 'to' as YYYY-MM-DD")
        try:
            return cls(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError as exc:
            if isinstance(exc, PeriodInvalid):
                raise
            raise PeriodInvalid(f"dates are YYYY-MM-DD: {exc}") from None

    @classmethod
    def covering(cls, cases: Iterable[Case]) -> Period:
        """From the first registration day to the last day anything was counted for ``cases``."""
        days = [day for case in cases for day in (day_of(case.registered_at), *_closed_day(case))]
        if not days:
            raise PeriodInvalid("no cases to cover")
        return cls(min(days), max(days))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def daily(self) -> bool:
        return self.days <= DAILY_LIMIT

    def ranges(self) -> list[tuple[str, str]]:
        """The bucket ranges that add up to exactly this period."""
        if self.daily:
            return [(f"D#{self.first}", f"D#{self.last}")]
        out: list[tuple[str, str]] = []
        start = self.first
        if start.day != 1:
            end = min(_month_end(start), self.last)
            out.append((f"D#{start}", f"D#{end}"))
            start = end + timedelta(days=1)
        tail_start = self.last.replace(day=1) if _month_end(self.last) != self.last else self.last + timedelta(days=1)
        if start < tail_start:
            out.append((f"M#{start:%Y-%m}", f"M#{tail_start - timedelta(days=1):%Y-%m}"))
        if tail_start <= self.last:
            out.append((f"D#{tail_start}", f"D#{self.last}"))
        return out


def _closed_day(case: Case) -> tuple[date, ...]:
    return (day_of(case.closed_at),) if case.closed_at else ()


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(Decimal(1), ROUND_HALF_UP) if whole else None


@dataclass
class Figures:
    """Counter totals of one scope over a period, and the rates the bureau reads from them."""

    values: Values = field(default_factory=dict)

    def __getitem__(self, metric: str) -> Decimal:
        return self.values.get(metric, Decimal(0))

    def count(self, metric: str) -> int:
        return int(self[metric])

    def add(self, values: Mapping[str, Decimal]) -> None:
        for metric, value in values.items():
            self.values[metric] = self[metric] + value

    @property
    def success_rate(self) -> Decimal | None:
        """和解成功率: settled among handled, percent."""
        return _rate(self["settled"], self["handled"])

    @property
    def on_time_closure_rate(self) -> Decimal | None:
        return _rate(self["closed_on_time"], self["handled"])

    @property
    def on_time_acceptance_rate(self) -> Decimal | None:
        return _rate(self["accepted_on_time"], self["dispatched"])

    @property
    def average_cycle_days(self) -> Decimal | None:
        handled = self["handled"]
        return (self["cycle_days"] / handled).quantize(Decimal("0.1"), ROUND_HALF_UP) if handled else None

    @property
    def recovered(self) -> Decimal:
        return self["recovered_amount"].quantize(Decimal("0.01"))

    def as_dict(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "counts": {m: self.count(m) for m in sorted(self.values) if m not in ("recovered_amount", "cycle_days")},
            "recovered_amount": f"{self.recovered:.2f}",
            "cycle_days_total": str(self["cycle_days"]),
            "success_rate_percent": text(self.success_rate),
            "on_time_closure_rate_percent": text(self.on_time_closure_rate),
            "on_time_acceptance_rate_percent": text(self.on_time_acceptance_rate),
            "average_cycle_days": text(self.average_cycle_days),
        }


def totals(reader: CounterReader, scope: str, period: Period) -> Figures:
    figures = Figures()
    for first, last in period.ranges():
        for item in reader.read(scope, first, last):
            figures.add(item.values)
    return figures


def counts_cover(reader: CounterReader, cases: Iterable[Case]) -> bool:
    """Whether the counters have counted every change of ``cases`` so far (and nothing else): their all-time
    totals equal a recount. Each change adds to that item in the same write as to the others, so when it
    agrees, so does every counter. For the end of a scenario run, where the counting trails the cases."""
    expected = recount(cases).items.get((ALL, LIFETIME), {})
    return not differences({(ALL, LIFETIME): expected}, {(ALL, LIFETIME): lifetime(reader).values})


def lifetime(reader: CounterReader, scope: str = ALL) -> Figures:
    """All-time totals and the current status gauges of a scope (one item)."""
    figures = Figures()
    for item in reader.read(scope, LIFETIME, LIFETIME):
        figures.add(item.values)
    return figures


def _trend(items: list[CounterItem], period: Period) -> list[tuple[str, Figures]]:
    """Per day (short periods) or per month; every step of the period is present, empty ones too."""
    by_step: dict[str, Figures] = {}
    day = period.first
    while day <= period.last:
        by_step.setdefault(day.isoformat() if period.daily else f"{day:%Y-%m}", Figures())
        day += timedelta(days=1)
    for item in items:
        label = item.bucket[2:] if period.daily else item.bucket[2:9]
        by_step[label].add(item.values)
    return list(by_step.items())


@dataclass
class Report:
    period: Period
    total: Figures
    by_class: dict[str, Figures]
    by_station: dict[str, Figures]
    trend: list[tuple[str, Figures]]
    now: Figures
    station_names: dict[str, str] = field(default_factory=dict)

    def summary(self) -> Summary:
        """The figures in the shape :func:`odr_adapter.stats.summary.summarise` gives for a set of cases."""
        summary = Summary(
            by_class={
                k: ClassFigures(
                    handled=f.count("handled"),
                    settled=f.count("settled"),
                    cycle_days=f["cycle_days"],
                    recovered=f["recovered_amount"],
                )
                for k, f in self.by_class.items()
            },
            outcomes={o: self.total.count(o) for o in OUTCOMES if self.total.count(o)},
            overdue=self.total.count("overdue"),
            open=sum(self.now.count(f"status_{s}") for s in STATUSES if s != "closed"),
        )
        return summary

    def sentence(self) -> str:
        return self.summary().sentence()

    def table(self) -> str:
        header = [h for h, _ in COLUMNS]
        rows: list[tuple[str, list[str]] | None] = [("类别", header)]
        rows += [(f"{k}类 {name}", [fmt(self.by_class[k]) for _, fmt in COLUMNS]) for k, name in CLASS_NAMES.items()]
        rows.append(("合计", [fmt(self.total) for _, fmt in COLUMNS]))
        if self.by_station:
            rows += [None, ("市场监管所", header)]
            rows += [
                (self.station_names.get(code, code), [fmt(figures) for _, fmt in COLUMNS])
                for code, figures in sorted(self.by_station.items())
            ]
        status = ", ".join(f"{STATUS_NAMES[s]} {self.now.count(f'status_{s}')}" for s in STATUSES)
        return "\n".join([*text_table(rows), "", f"当前案件状态: {status}"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "sentence": self.sentence(),
            "total": self.total.as_dict(),
            "by_class": {k: f.as_dict() for k, f in self.by_class.items()},
            "by_station": {
                code: {"name": self.station_names.get(code, code), **f.as_dict()}
                for code, f in sorted(self.by_station.items())
            },
            "trend": [
                {
                    "period": label,
                    "handled": f.count("handled"),
                    "closed_on_time": f.count("closed_on_time"),
                    "on_time_closure_rate_percent": None
                    if f.on_time_closure_rate is None
                    else str(f.on_time_closure_rate),
                }
                for label, f in self.trend
            ],
            "cycle_distribution": {b: self.total.count(b) for b in CYCLE_BUCKETS},
            "now": {s: self.now.count(f"status_{s}") for s in STATUSES},
        }


def build_report(reader: CounterReader, period: Period, stations: Mapping[str, str] | None = None) -> Report:
    """The report of ``period``; ``stations`` (code -> name) adds the per-station table."""
    all_items = [item for first, last in period.ranges() for item in reader.read(ALL, first, last)]
    total = Figures()
    for item in all_items:
        total.add(item.values)
    return Report(
        period=period,
        total=total,
        by_class={k: totals(reader, f"CLASS#{k}", period) for k in CLASS_NAMES},
        by_station={code: totals(reader, f"STATION#{code}", period) for code in (stations or {})},
        trend=_trend(all_items, period),
        now=lifetime(reader),
        station_names=dict(stations or {}),
    )


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


COLUMNS: list[tuple[str, Any]] = [
    ("登记", lambda f: str(f.count("received"))),
    ("转ODR", lambda f: str(f.count("dispatched"))),
    ("办理", lambda f: str(f.count("handled"))),
    ("和解成功", lambda f: str(f.count("settled"))),
    ("和解不成", lambda f: str(f.count("not_settled"))),
    ("退回", lambda f: str(f.count("returned"))),
    ("撤回", lambda f: str(f.count("withdrawn"))),
    ("成功率", lambda f: _percent(f.success_rate)),
    ("按时受理", lambda f: _percent(f.on_time_acceptance_rate)),
    ("按时办结", lambda f: _percent(f.on_time_closure_rate)),
    ("平均周期", lambda f: "—" if f.average_cycle_days is None else str(f.average_cycle_days)),
    ("挽回金额(元)", lambda f: f"{f.recovered:.2f}"),
]


def width(text: str) -> int:
    """Columns a terminal gives ``text``: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def text_table(rows: list[tuple[str, list[str]] | None]) -> list[str]:
    """Rows of a label and right-aligned cells (None: an empty line), aligned for a terminal."""
    present = [r for r in rows if r is not None]
    label_width = max(width(label) for label, _ in present)
    cell_widths = [max(width(cells[i]) for _, cells in present) for i in range(len(present[0][1]))]
    out = []
    for row in rows:
        if row is None:
            out.append("")
            continue
        label, cells = row
        line = label + " " * (label_width - width(label))
        line += "".join(" " * (w - width(c) + 2) + c for c, w in zip(cells, cell_widths, strict=True))
        out.append(line)
    return out
