"""Operator imports of the district's reference data: validation with line numbers, and the diff to apply.

An import is all-or-nothing at the file level: every row is checked, every problem of every row is
reported, and nothing is planned for writing while any problem remains. What an accepted file changes is
a :class:`Plan` (added / changed / delisted / removed rows); only those rows are written. The files are
the bureau's stations and ODR directory tables (see ``data/district``), an operator's holiday table for
a year the packaged calendar lacks, and the deadline policies (JSON or YAML).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import chinese_calendar
import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from odr_adapter.models.deadlines import DayKind, DeadlinePolicies, HolidayTable, Phase, Policy
from odr_adapter.models.directory import (
    CLASS_NAMES,
    Change,
    ChangeKind,
    Enterprise,
    EnterpriseClass,
    FieldChange,
    Kind,
    Plan,
    Station,
    normalise_name,
)
from odr_adapter.models.record import Uscc

STATION_COLUMNS = (
    "station_code",
    "station_name",
    "division_codes",
    "reviewer_name",
    "reviewer_email",
    "reviewer_mobile",
)
# Optional stations column: the station's responsible person confirms each screening by hand.
MANUAL_SCREENING = {
    "": False,
    "no": False,
    "否": False,
    "false": False,
    "0": False,
    "yes": True,
    "是": True,
    "true": True,
    "1": True,
}
DIRECTORY_COLUMNS = (
    "uscc",
    "enterprise_name",
    "class",
    "station_code",
    "shop_names",
    "contact_name",
    "contact_email",
    "contact_mobile",
    "listed_on",
    "delisted_on",
)
HOLIDAY_COLUMNS = ("date", "kind", "name")
HOLIDAY_KINDS = {"holiday": "holiday", "休": "holiday", "workday": "workday", "班": "workday"}
PHASES: tuple[Phase, ...] = ("acceptance", "resolution", "review", "rework")

_STATION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_LIST_SEPARATOR = re.compile(r"[;；]")
_USCC = TypeAdapter(Uscc)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- rows, problems ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row: its line (the header is line 1) and its cells as trimmed text."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    """A file's rows as text, whatever its format (CSV or XLSX); ``source`` names it in messages."""

    source: str
    header: list[str]
    rows: list[Row]
    problems: list[ImportProblem] = field(default_factory=list)  # rows the reader could not split cleanly


@dataclass(frozen=True)
class ImportProblem:
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [f"line {self.line}" if self.line else "file", *([self.column] if self.column else [])]
        return f"{', '.join(where)}: {self.message}"


class ImportInvalid(Exception):
    """A file that cannot be imported; carries every problem found."""

    def __init__(self, source: str, problems: list[ImportProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


class _Problems:
    def __init__(self) -> None:
        self.found: list[ImportProblem] = []

    def add(self, row: Row | None, column: str | None, message: str) -> None:
        self.found.append(ImportProblem(row.line if row else None, column, message))


def check_header(table: Table, required: Sequence[str], optional: Sequence[str] = ()) -> list[ImportProblem]:
    """Missing, unknown (a misspelt column would be silently ignored) and repeated columns."""
    problems = _Problems()
    known = [*required, *optional]
    for name in required:
        if name not in table.header:
            problems.add(None, name, f"missing column (expected columns: {', '.join(required)})")
    for name in table.header:
        if name not in known:
            problems.add(None, name or "(empty)", f"unknown column (expected columns: {', '.join(known)})")
        elif table.header.count(name) > 1:
            problems.add(None, name, "column appears more than once")
    if not table.rows:
        problems.add(None, None, "the file has no data rows")
    return list(dict.fromkeys(problems.found))


def _with_reader_problems(table: Table, found: list[ImportProblem]) -> list[ImportProblem]:
    return sorted([*table.problems, *found], key=lambda p: p.line or 0)


# --- cell parsers: each returns the value or adds a problem and returns None ------------------------------


def _required(p: _Problems, row: Row, column: str, max_length: int) -> str | None:
    value = row.values.get(column, "")
    if not value:
        p.add(row, column, "required")
        return None
    if len(value) > max_length:
        p.add(row, column, f"longer than {max_length} characters")
        return None
    return value


def _email(p: _Problems, row: Row, column: str) -> str | None:
    value = row.values.get(column, "")
    if value and not _EMAIL.fullmatch(value):
        p.add(row, column, "not an e-mail address")
    return value or None


def _mobile(p: _Problems, row: Row, column: str) -> str | None:
    """A mainland mobile number, stored as its 11 digits (SMS adds +86)."""
    value = row.values.get(column, "")
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    mobile_kinds = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    if (
        number is None
        or number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile_kinds
    ):
        p.add(row, column, "not a mainland mobile number (11 digits, e.g. 13800000000)")
        return None
    return phonenumbers.national_significant_number(number)


def parse_day(text: str) -> date | None:
    """``YYYY-MM-DD`` (or with ``/`` and one-digit month or day, as spreadsheets write it); else None."""
    match = _DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _date(p: _Problems, row: Row, column: str, required: bool) -> date | None:
    value = row.values.get(column, "")
    if not value:
        if required:
            p.add(row, column, "required")
        return None
    day = parse_day(value)
    if day is None:
        p.add(row, column, "not a date (YYYY-MM-DD)")
    return day


def _list(row: Row, column: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATOR.split(row.values.get(column, "")) if part.strip()]


def _duplicate_key(p: _Problems, row: Row, column: str, key: str | None, first: dict[str, int]) -> bool:
    if key is None:
        return False
    if key in first:
        p.add(row, column, f"{key} is already on line {first[key]}")
        return True
    first[key] = row.line
    return False


# --- stations ---------------------------------------------------------------------------------------------


def parse_stations(
    table: Table, county_code: str, intake_station_code: str
) -> tuple[list[Station], list[ImportProblem]]:
    """Stations of a stations file; every township code belongs to at most one station of this county."""
    header = check_header(table, STATION_COLUMNS, optional=("manual_screening",))
    if header:
        return [], header
    p = _Problems()
    stations: list[Station] = []
    codes: dict[str, int] = {}
    townships: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        before = len(p.found)
        code = _required(p, row, "station_code", 32)
        if code and not _STATION_CODE.fullmatch(code):
            p.add(row, "station_code", "use letters, digits, '-' and '_' only")
            code = None
        _duplicate_key(p, row, "station_code", code, codes)
        name = _required(p, row, "station_name", 100)
        divisions = _list(row, "division_codes")
        for division in divisions:
            if not re.fullmatch(r"[0-9]{9}", division):
                p.add(row, "division_codes", f"{division} is not a 9-digit township code")
            elif not division.startswith(county_code):
                p.add(row, "division_codes", f"{division} is not a township of county {county_code}")
            elif division in townships:
                owner, line = townships[division]
                p.add(row, "division_codes", f"{division} already belongs to {owner} (line {line})")
            else:
                townships[division] = (code or "?", row.line)
        reviewer = _required(p, row, "reviewer_name", 50)
        email = _email(p, row, "reviewer_email")
        mobile = _mobile(p, row, "reviewer_mobile")
        if not row.values.get("reviewer_email") and not row.values.get("reviewer_mobile"):
            p.add(row, "reviewer_email", "the reviewer needs an e-mail or a mobile number (both are empty)")
        manual = row.values.get("manual_screening", "").strip().lower()
        if manual not in MANUAL_SCREENING:
            p.add(row, "manual_screening", "use yes/no (是/否) or leave it empty (no)")
        if len(p.found) == before and code and name and reviewer:
            stations.append(
                Station(
                    code=code,
                    name=name,
                    division_codes=divisions,
                    reviewer_name=reviewer,
                    reviewer_email=email,
                    reviewer_mobile=mobile,
                    manual_screening=MANUAL_SCREENING.get(manual, False),
                )
            )
    if intake_station_code not in codes:
        p.add(None, "station_code", f"the intake desk {intake_station_code} is missing: unrouted cases go there")
    return stations, _with_reader_problems(table, p.found)


def stations_in_use(removed: Iterable[str], enterprises: Sequence[Enterprise]) -> list[ImportProblem]:
    """A station that enterprises of the directory still name cannot be removed."""
    problems = []
    for code in sorted(removed):
        users = [e.uscc for e in enterprises if e.station_code == code]
        if users:
            listed = ", ".join(users[:5]) + (" ..." if len(users) > 5 else "")
            problems.append(
                ImportProblem(
                    None, "station_code", f"{code} is not in the file but {len(users)} enterprise(s) use it: {listed}"
                )
            )
    return problems


# --- the ODR directory ------------------------------------------------------------------------------------


def parse_enterprises(table: Table, station_codes: set[str]) -> tuple[list[Enterprise], list[ImportProblem]]:
    """Enterprises of a directory file, checked against the district's stations."""
    header = check_header(table, DIRECTORY_COLUMNS)
    if header:
        return [], header
    p = _Problems()
    enterprises: list[Enterprise] = []
    usccs: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}  # normalised registered or shop name -> (uscc, line)
    for row in table.rows:
        before = len(p.found)
        uscc = _credit_code(p, row)
        _duplicate_key(p, row, "uscc", uscc, usccs)
        name = _required(p, row, "enterprise_name", 100)
        klass = row.values.get("class", "")
        if klass not in CLASS_NAMES:
            p.add(
                row, "class", f"unknown class {klass!r}: use " + ", ".join(f"{k} ({v})" for k, v in CLASS_NAMES.items())
            )
        station = _required(p, row, "station_code", 32)
        if station and station not in station_codes:
            hint = "; no stations are imported yet (odr stations import)" if not station_codes else ""
            p.add(row, "station_code", f"unknown station {station}{hint}")
        shops = _list(row, "shop_names")
        for shop in shops:
            if len(shop) > 100:
                p.add(row, "shop_names", "a shop name is longer than 100 characters")
        contact = _required(p, row, "contact_name", 50)
        email = _email(p, row, "contact_email")
        mobile = _mobile(p, row, "contact_mobile")
        if not row.values.get("contact_email") and not row.values.get("contact_mobile"):
            p.add(row, "contact_email", "the ODR specialist needs an e-mail or a mobile number (both are empty)")
        listed = _date(p, row, "listed_on", required=True)
        delisted = _date(p, row, "delisted_on", required=False)
        if listed and delisted and delisted < listed:
            p.add(row, "delisted_on", f"delisted on {delisted.isoformat()}, before listed_on {listed.isoformat()}")
        for column, value in [("enterprise_name", name), *(("shop_names", s) for s in shops)]:
            _name_conflict(p, row, column, value, uscc, names)
        if len(p.found) == before and uscc and name and station and contact and listed:
            enterprises.append(
                Enterprise(
                    uscc=uscc,
                    name=name,
                    enterprise_class=klass,  # checked against CLASS_NAMES above
                    station_code=station,
                    shop_names=shops,
                    contact_name=contact,
                    contact_email=email,
                    contact_mobile=mobile,
                    listed_on=listed,
                    delisted_on=delisted,
                )
            )
    return enterprises, _with_reader_problems(table, p.found)


def _credit_code(p: _Problems, row: Row) -> str | None:
    """The same validator as the complaint record's: GB 32100 alphabet and check character."""
    value = row.values.get("uscc", "")
    if not value:
        p.add(row, "uscc", "required")
        return None
    try:
        return str(_USCC.validate_python(value))
    except ValidationError as exc:
        p.add(row, "uscc", str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
        return None


def _name_conflict(
    p: _Problems, row: Row, column: str, value: str | None, uscc: str | None, names: dict[str, tuple[str, int]]
) -> None:
    """Routing matches names after normalising them: one name must not lead to two enterprises."""
    if not value:
        return
    key = normalise_name(value)
    owner = names.get(key)
    if owner and owner[0] != (uscc or f"line {row.line}"):
        p.add(row, column, f"{value} is also a name of the enterprise on line {owner[1]}: routing would be ambiguous")
    elif not owner:
        names[key] = (uscc or f"line {row.line}", row.line)


# --- the diff ---------------------------------------------------------------------------------------------

M = TypeVar("M", Station, Enterprise)


def _key(model: Station | Enterprise) -> str:
    return model.code if isinstance(model, Station) else model.uscc


def _diff(kind: Kind, current: Sequence[M], wanted: Sequence[M]) -> Plan:
    old = {_key(m): m for m in current}
    changes: list[Change] = []
    unchanged = 0
    for model in wanted:
        key = _key(model)
        row = model.model_dump(mode="json")
        before = old.pop(key, None)
        if before is None:
            changes.append(Change("added", key, model.name, row=row))
            continue
        was = before.model_dump(mode="json")
        fields = tuple(FieldChange(f, was.get(f), v) for f, v in row.items() if was.get(f) != v)
        if not fields:
            unchanged += 1
            continue
        delisting = isinstance(model, Enterprise) and was.get("delisted_on") is None and model.delisted_on
        changes.append(Change("delisted" if delisting else "changed", key, model.name, fields, row))
    changes += [Change("removed", key, m.name) for key, m in old.items()]
    return Plan(kind, changes, unchanged)


def plan_stations(
    current: Sequence[Station], wanted: Sequence[Station], enterprises: Sequence[Enterprise]
) -> tuple[Plan, list[ImportProblem]]:
    """The stations file replaces the stored stations; removing one the directory still uses is refused."""
    plan = _diff("STATION", current, wanted)
    return plan, stations_in_use([c.key for c in plan.changes if c.kind == "removed"], enterprises)


def plan_directory(current: Sequence[Enterprise], wanted: Sequence[Enterprise]) -> Plan:
    """The directory file replaces the stored directory: rows missing from it are removed."""
    plan = _diff("ENTERPRISE", current, wanted)
    if plan.count("removed"):
        plan.notes.append("removed enterprises lose their directory history; to end a listing, set delisted_on instead")
    return plan


def describe_plan(plan: Plan) -> list[str]:
    """The diff as lines for an operator, printed before anything is written."""
    label = {"STATION": "stations", "ENTERPRISE": "ODR directory"}[plan.kind]
    kinds: tuple[ChangeKind, ...] = ("added", "changed", "removed")  # a station is removed, never delisted
    if plan.kind == "ENTERPRISE":
        kinds = ("added", "changed", "delisted", "removed")
    counts = ", ".join(f"{plan.count(k)} {k}" for k in kinds)
    lines = [f"{label}: {counts}, {plan.unchanged} unchanged"]
    mark = {"added": "+", "changed": "~", "delisted": "x", "removed": "-"}
    for change in plan.changes:
        lines.append(f"  {mark[change.kind]} {change.kind:<8} {change.key} {change.name}")
        lines += [f"      {f.field}: {_shown(f.old)} -> {_shown(f.new)}" for f in change.fields]
    lines += [f"  note: {note}" for note in plan.notes]
    return lines


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "(empty)"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


# --- holiday tables ---------------------------------------------------------------------------------------


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
    p = _Problems()
    days: dict[str, int] = {}
    holidays: list[date] = []
    workdays: list[date] = []
    years: dict[int, int] = {}
    for row in table.rows:
        day = _date(p, row, "date", required=True)
        kind = HOLIDAY_KINDS.get(row.values.get("kind", "").lower())
        if kind is None:
            p.add(row, "kind", "use holiday (休, a day off) or workday (班, a make-up working day)")
        if day is None or _duplicate_key(p, row, "date", day.isoformat(), days):
            continue
        years.setdefault(day.year, row.line)
        if kind == "workday" and day.weekday() < 5:
            p.add(
                row,
                "date",
                f"{day.isoformat()} is a {_WEEKDAYS[day.weekday()]}: a make-up working day is a weekend day",
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
        return None, _with_reader_problems(table, p.found)
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


# --- deadline policies ------------------------------------------------------------------------------------


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


class _PoliciesIn(_Strict):
    default: dict[Phase, _PolicyIn] | None = None
    by_class: dict[EnterpriseClass, dict[Phase, _PolicyIn]] = Field(default_factory=dict)
    holiday_tables: list[_TableIn] | None = None


def parse_policies(data: Any, current: DeadlinePolicies) -> tuple[DeadlinePolicies | None, list[ImportProblem]]:
    """A policies document (``default``, ``by_class``, optional ``holiday_tables``); tables are kept if absent."""
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
    return lines


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
    if [t.model_dump() for t in old.holiday_tables] != [t.model_dump() for t in new.holiday_tables]:
        lines.append(
            f"  holiday tables: {[t.year for t in old.holiday_tables]} -> {[t.year for t in new.holiday_tables]}"
        )
    return lines
