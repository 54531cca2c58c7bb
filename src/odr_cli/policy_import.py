"""Deadline policies, holiday tables and the scorecards' rules (红榜, 动态退出) from the bureau's files: parsed
strictly, every problem named with its row, described and diffed for the operator before anything is written."""

from __future__ import annotations

from datetime import date
from typing import Any

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odr_adapter.models.deadlines import DayKind, DeadlinePolicies, HolidayTable, Phase, Policy
from odr_adapter.models.directory import (
    EnterpriseClass,
)
from odr_adapter.models.scorecard_rules import CommendationRule, ExitReviewRule, ScorecardRules
from odr_cli.import_rows import (
    PHASES,
    WEEKDAYS,
    ImportProblem,
    Problems,
    Table,
    check_header,
    date_cell,
    duplicate_key,
    with_reader_problems,
)

HOLIDAY_COLUMNS = ("date", "kind", "name")


HOLIDAY_KINDS = {"holiday": "holiday", "休": "holiday", "workday": "workday", "班": "workday"}


def packaged_calendar_covers(year: int) -> bool:
    """Whether chinese-calendar knows ``year`` (its data then wins over any operator table)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def parse_holiday_table(table: Table, source: str) -> tuple[HolidayTable | None, list[ImportProblem]]:
    """An operator table for one year: days off (``holiday``/休) and make-up working days (``workday``/班)."""
    header = check_header(table, HOLIDAY_COLUMNS[:2], HOLIDAY_COLUMNS[2:])
    if header:
        return None, header
    p = Problems()
    days: dict[str, int] = {}
    holidays: list[date] = []
    workdays: list[date] = []
    years: dict[int, int] = {}
    for row in table.rows:
        day = date_cell(p, row, "date", required=True)
        kind = HOLIDAY_KINDS.get(row.values.get("kind", "").lower())
        if kind is None:
            p.add(row, "kind", "use holiday (休, a day off) or workday (班, a make-up working day)")
        if day is None or duplicate_key(p, row, "date", day.isoformat(), days):
            continue
        years.setdefault(day.year, row.line)
        if kind == "workday" and day.weekday() < 5:
            p.add(
                row,
                "date",
                f"{day.isoformat()} is a {WEEKDAYS[day.weekday()]}: a make-up working day is a weekend day",
            )
        (holidays if kind == "holiday" else workdays).append(day)
    if len(years) > 1:
        first = min(years.values())
        p.add(
            None,
            "date",
            f"one table holds one year; found {', '.join(map(str, sorted(years)))} (first on line {first})",
        )
    year = next(iter(years), None)
    if year is not None and packaged_calendar_covers(year):
        p.add(
            None,
            "date",
            f"chinese-calendar {getattr(chinese_calendar, '__version__', '')} covers {year}: "
            "its official data is used and an operator table would be ignored",
        )
    if p.found or table.problems or year is None:
        return None, with_reader_problems(table, p.found)
    return HolidayTable(year=year, holidays=sorted(holidays), workdays=sorted(workdays), source=source), []


def with_holiday_table(policies: DeadlinePolicies, table: HolidayTable) -> tuple[DeadlinePolicies, list[str]]:
    """The policies with ``table`` replacing any table of its year, and what changed for that year."""
    old = next((t for t in policies.holiday_tables if t.year == table.year), None)
    kept = [t for t in policies.holiday_tables if t.year != table.year]
    updated = policies.model_copy(update={"holiday_tables": sorted([*kept, table], key=lambda t: t.year)})
    if old is None:
        sizes = f"{len(table.holidays)} days off, {len(table.workdays)} make-up working days"
        lines = [f"holiday table {table.year}: added ({sizes})"]
    else:
        lines = [f"holiday table {table.year}: replaced (source {old.source} -> {table.source})"]
        for label, was, now in (
            ("day off", old.holidays, table.holidays),
            ("make-up working day", old.workdays, table.workdays),
        ):
            lines += [f"  + {label} {d.isoformat()}" for d in sorted(set(now) - set(was))]
            lines += [f"  - {label} {d.isoformat()}" for d in sorted(set(was) - set(now))]
    return updated, lines


class _Strict(BaseModel):
    """Unknown keys are refused: a misspelt ``deafult`` must not be ignored silently."""

    model_config = ConfigDict(extra="forbid")


class _PolicyIn(_Strict):
    days: int = Field(ge=1, le=365)
    kind: DayKind = "natural"


class _TableIn(_Strict):
    year: int
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    source: str = "operator"


class _ExitReviewIn(ExitReviewRule):
    model_config = ConfigDict(extra="forbid")


class _CommendIn(CommendationRule):
    model_config = ConfigDict(extra="forbid")


class _ScorecardsIn(_Strict):
    exit_review: _ExitReviewIn = Field(default_factory=_ExitReviewIn)
    commend: _CommendIn = Field(default_factory=_CommendIn)


class _PoliciesIn(_Strict):
    default: dict[Phase, _PolicyIn] | None = None
    by_class: dict[EnterpriseClass, dict[Phase, _PolicyIn]] = Field(default_factory=dict)
    holiday_tables: list[_TableIn] | None = None
    scorecards: _ScorecardsIn | None = None


def parse_policies(data: Any, current: DeadlinePolicies) -> tuple[DeadlinePolicies | None, list[ImportProblem]]:
    """A policies document (``default``, ``by_class``, optional ``holiday_tables`` and ``scorecards``); tables and
    the scorecards' rules are kept if absent; a ``scorecards`` section given is whole (what it omits: the defaults)."""
    try:
        given = _PoliciesIn.model_validate(data)
    except ValidationError as exc:
        return None, [
            ImportProblem(None, ".".join(str(x) for x in e["loc"]) or "(document)", str(e["msg"])) for e in exc.errors()
        ]
    problems = []
    if given.default is not None:
        problems += [
            ImportProblem(None, f"default.{ph}", "missing: the default names every phase")
            for ph in PHASES
            if ph not in given.default
        ]
    for table in given.holiday_tables or []:
        stray = [d for d in [*table.holidays, *table.workdays] if d.year != table.year]
        if stray:
            problems.append(
                ImportProblem(None, f"holiday_tables.{table.year}", f"{stray[0].isoformat()} is not in {table.year}")
            )
    if problems:
        return None, problems

    def policies_of(phases: dict[Phase, _PolicyIn]) -> dict[Phase, Policy]:
        return {ph: Policy(days=pol.days, kind=pol.kind) for ph, pol in phases.items()}

    tables = (
        current.holiday_tables
        if given.holiday_tables is None
        else [HolidayTable(**t.model_dump()) for t in given.holiday_tables]
    )
    return (
        DeadlinePolicies(
            default=policies_of(given.default) if given.default is not None else DeadlinePolicies().default,
            by_class={k: policies_of(v) for k, v in given.by_class.items()},
            holiday_tables=tables,
            scorecards=current.scorecards
            if given.scorecards is None
            else ScorecardRules.model_validate(given.scorecards.model_dump()),
        ),
        [],
    )


def describe_policy(policy: Policy) -> str:
    return f"{policy.days} {'working' if policy.kind == 'working' else 'natural'} day(s)"


def describe_policies(policies: DeadlinePolicies) -> list[str]:
    """A table: one line per phase, the default and each class that differs."""
    classes = sorted(policies.by_class)
    lines = [(f"{'phase':<12}{'default':<22}" + "".join(f"class {k:<16}" for k in classes)).rstrip()]
    for phase in PHASES:
        cells = [describe_policy(policies.default[phase])]
        cells += [
            describe_policy(policies.by_class[k][phase]) if phase in policies.by_class[k] else "=" for k in classes
        ]
        lines.append((f"{phase:<12}" + "".join(f"{c:<22}" for c in cells)).rstrip())
    for table in policies.holiday_tables:
        lines.append(
            f"holiday table {table.year}: {len(table.holidays)} days off, {len(table.workdays)} make-up working days "
            f"(source {table.source})"
        )
    return lines + describe_scorecard_rules(policies.scorecards)


def describe_scorecard_rules(rules: ScorecardRules) -> list[str]:
    out, com = rules.exit_review, rules.commend
    settlement = ", settlement at or above the class's rate" if com.settlement_at_least_class else ""
    return [
        f"exit review (动态退出): on-time acceptance below {out.min_on_time_acceptance}%, on-time closure below "
        f"{out.min_on_time_closure}% or settlement below {out.min_settlement}%, each on at least {out.min_cases} cases",
        f"commend (红榜): on-time acceptance at least {com.min_on_time_acceptance}% and on-time closure at least "
        f"{com.min_on_time_closure}%{settlement}, on at least {com.min_cases} cases dispatched and handled",
    ]


def _policy_text(policy: Policy | None) -> str:
    return describe_policy(policy) if policy else "(the default)"


def diff_policies(old: DeadlinePolicies, new: DeadlinePolicies) -> list[str]:
    lines = []
    for scope, was, now in [
        ("default", old.default, new.default),
        *(
            (f"class {k}", old.by_class.get(k, {}), new.by_class.get(k, {}))
            for k in sorted({*old.by_class, *new.by_class})
        ),
    ]:
        for phase in PHASES:
            before, after = was.get(phase), now.get(phase)
            if before != after:
                lines.append(f"  {scope} {phase}: {_policy_text(before)} -> {_policy_text(after)}")
    for rule in ("exit_review", "commend"):
        was, now = getattr(old.scorecards, rule).model_dump(), getattr(new.scorecards, rule).model_dump()
        lines += [f"  scorecards {rule} {name}: {was[name]} -> {now[name]}" for name in was if was[name] != now[name]]
    if [t.model_dump() for t in old.holiday_tables] != [t.model_dump() for t in new.holiday_tables]:
        lines.append(
            f"  holiday tables: {[t.year for t in old.holiday_tables]} -> {[t.year for t in new.holiday_tables]}"
        )
    return lines
