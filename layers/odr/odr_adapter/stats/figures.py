"""The bureau's figures, read from counters: settlement success rate (和解成功率), on-time rates, average cycle
time and money recovered (:class:`Figures`), the summary sentence (:class:`Summary`), and the report of any period
of days with its per-class and per-station figures, the trend of on-time closure and the cycle-time distribution.
Every figure anywhere (reports, dashboards, a scenario run's result) is computed here, from counter values.

A report reads counter items only, never cases: per scope, the day items of a period of up to
:data:`DAILY_LIMIT` days, otherwise the month items of the whole months plus the day items of the partial
months at either end. What it reads depends on the period and the number of scopes, not on how many cases
there are.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odr_adapter.clock import EARLIEST_DAY, LATEST_DAY
from odr_adapter.models.case import Case
from odr_adapter.models.counters import ALL, LIFETIME, CounterItem, Values
from odr_adapter.models.directory import CLASS_NAMES
from odr_adapter.ports import CounterReader, DistrictSource
from odr_adapter.stats.counters import CYCLE_BUCKETS, OUTCOMES, STATUSES, day_of, differences, recount

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
        if self.first < EARLIEST_DAY or self.last > LATEST_DAY:
            raise PeriodInvalid(f"a period lies between {EARLIEST_DAY} and {LATEST_DAY}")

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

    @classmethod
    def month(cls, text: str) -> Period:
        """The calendar month ``YYYY-MM``."""
        try:
            first = date.fromisoformat(f"{text}-01")
        except ValueError:
            raise PeriodInvalid(f"a month is YYYY-MM, not {text!r}") from None
        return cls(first, _month_end(first))

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

    def exact_rate(self, part: str, whole: str) -> Decimal | None:
        """``part`` of ``whole`` in percent, unrounded (for comparing with a threshold or another rate)."""
        return Decimal(100) * self[part] / self[whole] if self[whole] else None

    @property
    def success_rate(self) -> Decimal | None:
        """和解成功率: settled among handled (dispatched ODR cases closed, withdrawals excepted), percent."""
        return _rate(self["settled"], self["handled"])

    @property
    def on_time_closure_rate(self) -> Decimal | None:
        return _rate(self["closed_on_time"], self["handled"])

    @property
    def on_time_acceptance_rate(self) -> Decimal | None:
        return _rate(self["accepted_on_time"], self["dispatched"])

    @property
    def average_cycle_days(self) -> Decimal | None:
        """Days from registration to closure, over the handled cases."""
        handled = self["handled"]
        return (self["cycle_days"] / handled).quantize(Decimal("0.1"), ROUND_HALF_UP) if handled else None

    @property
    def recovered(self) -> Decimal:
        return self["recovered_amount"].quantize(Decimal("0.01"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": {m: self.count(m) for m in sorted(self.values) if m not in ("recovered_amount", "cycle_days")},
            "recovered_amount": f"{self.recovered:.2f}",
            "cycle_days_total": str(self["cycle_days"]),
            "success_rate_percent": _text(self.success_rate),
            "on_time_closure_rate_percent": _text(self.on_time_closure_rate),
            "on_time_acceptance_rate_percent": _text(self.on_time_acceptance_rate),
            "average_cycle_days": _text(self.average_cycle_days),
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Summary:
    """The bureau's summary: figures per class and, of all cases, the outcomes, the overdue and (from the status
    gauges) the open."""

    by_class: dict[str, Figures]
    total: Figures
    now: Figures

    @property
    def open(self) -> int:
        return sum(self.now.count(f"status_{s}") for s in STATUSES if s != "closed")

    def sentence(self) -> str:
        """The sentence of the bureau's reports; its average and amount are of the three classes together."""
        classes = Figures()
        parts = []
        for klass in CLASS_NAMES:
            f = self.by_class[klass]
            classes.add(f.values)
            rate = "—" if f.success_rate is None else f"{f.success_rate}%"
            parts.append(f"{f.count('handled')}件(和解成功率为{rate})")
        average = "—" if classes.average_cycle_days is None else classes.average_cycle_days
        return (
            f"三类电商ODR企业办理投诉分别为{'、'.join(parts)},平均办理周期{average}天,"
            f"帮助消费者挽回经济损失{_yuan(classes.recovered)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_class": {
                k: {
                    "handled": f.count("handled"),
                    "settled": f.count("settled"),
                    "success_rate_percent": _text(f.success_rate),
                    "average_cycle_days": _text(f.average_cycle_days),
                    "recovered_amount": f"{f.recovered:.2f}",
                }
                for k, f in self.by_class.items()
            },
            "outcomes": {o: self.total.count(o) for o in OUTCOMES if self.total.count(o)},
            "overdue": self.total.count("overdue"),
            "open": self.open,
            "sentence": self.sentence(),
        }


def _yuan(amount: Decimal) -> str:
    if amount >= 10000:
        return f"{(amount / 10000).quantize(Decimal('0.01'))}万元"
    return f"{amount:.2f}元"


def totals(reader: CounterReader, scope: str, period: Period) -> Figures:
    figures = Figures()
    for first, last in period.ranges():
        for item in reader.read(scope, first, last):
            figures.add(item.values)
    return figures


def counts_cover(reader: CounterReader, cases: Iterable[Case]) -> bool:
    """Whether the counters have counted every change of ``cases`` so far (and nothing else): their all-time
    totals equal a recount. Each change adds to that item in the same write as to the others, so when it
    agrees, so does every counter (a fold writes it last). For the end of a scenario run, where the counting
    trails the cases."""
    expected = recount(cases).items.get((ALL, LIFETIME), {})
    return not differences({(ALL, LIFETIME): expected}, {(ALL, LIFETIME): lifetime(reader).values})


def lifetime(reader: CounterReader) -> Figures:
    """All-time totals and the current status gauges of all cases (one item: only all cases keep one)."""
    figures = Figures()
    for item in reader.read(ALL, LIFETIME, LIFETIME):
        figures.add(item.values)
    return figures


def all_time(reader: CounterReader, scope: str) -> Figures:
    """All-time totals of a scope: its months added up."""
    figures = Figures()
    for item in reader.read(scope, "M#", "M#~"):
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
        return Summary(self.by_class, self.total, self.now)

    def sentence(self) -> str:
        return self.summary().sentence()

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
                    "on_time_closure_rate_percent": _text(f.on_time_closure_rate),
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


def district_report(reader: CounterReader, period: Period, directory: DistrictSource) -> Report:
    """The report of ``period`` with a table per station of the district (as GET /stats/summary gives it)."""
    return build_report(reader, period, {s.code: s.name for s in directory.district().stations})


def summarise(cases: Iterable[Case]) -> Summary:
    """The all-time figures of ``cases``, whatever days they fall on."""
    book = recount(cases)
    everything = lifetime(book)
    return Summary(by_class={k: all_time(book, f"CLASS#{k}") for k in CLASS_NAMES}, total=everything, now=everything)
