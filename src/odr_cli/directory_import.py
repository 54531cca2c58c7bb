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
from typing import Any, TypeVar

import phonenumbers
from pydantic import TypeAdapter, ValidationError

from odr_adapter.models.directory import (
    CLASS_NAMES,
    Change,
    ChangeKind,
    Enterprise,
    FieldChange,
    Kind,
    Plan,
    Station,
    normalise_name,
)
from odr_adapter.models.record import Uscc
from odr_cli.import_rows import (
    ImportProblem,
    Problems,
    Row,
    Table,
    check_header,
    date_cell,
    duplicate_key,
    with_reader_problems,
)

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

_STATION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_LIST_SEPARATOR = re.compile(r"[;；]")
_USCC = TypeAdapter(Uscc)


# --- rows, problems ---------------------------------------------------------------------------------------


# --- cell parsers: each returns the value or adds a problem and returns None ------------------------------


def _required(p: Problems, row: Row, column: str, max_length: int) -> str | None:
    value = row.values.get(column, "")
    if not value:
        p.add(row, column, "required")
        return None
    if len(value) > max_length:
        p.add(row, column, f"longer than {max_length} characters")
        return None
    return value


def _email(p: Problems, row: Row, column: str) -> str | None:
    value = row.values.get(column, "")
    if value and not _EMAIL.fullmatch(value):
        p.add(row, column, "not an e-mail address")
    return value or None


def _mobile(p: Problems, row: Row, column: str) -> str | None:
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


def _list(row: Row, column: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATOR.split(row.values.get(column, "")) if part.strip()]


# --- stations ---------------------------------------------------------------------------------------------


def parse_stations(
    table: Table, county_code: str, intake_station_code: str
) -> tuple[list[Station], list[ImportProblem]]:
    """Stations of a stations file; every township code belongs to at most one station of this county."""
    header = check_header(table, STATION_COLUMNS, optional=("manual_screening",))
    if header:
        return [], header
    p = Problems()
    stations: list[Station] = []
    codes: dict[str, int] = {}
    townships: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        before = len(p.found)
        code = _required(p, row, "station_code", 32)
        if code and not _STATION_CODE.fullmatch(code):
            p.add(row, "station_code", "use letters, digits, '-' and '_' only")
            code = None
        duplicate_key(p, row, "station_code", code, codes)
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
    return stations, with_reader_problems(table, p.found)


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
    p = Problems()
    enterprises: list[Enterprise] = []
    usccs: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}  # normalised registered or shop name -> (uscc, line)
    for row in table.rows:
        before = len(p.found)
        uscc = _credit_code(p, row)
        duplicate_key(p, row, "uscc", uscc, usccs)
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
        listed = date_cell(p, row, "listed_on", required=True)
        delisted = date_cell(p, row, "delisted_on", required=False)
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
    return enterprises, with_reader_problems(table, p.found)


def _credit_code(p: Problems, row: Row) -> str | None:
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
    p: Problems, row: Row, column: str, value: str | None, uscc: str | None, names: dict[str, tuple[str, int]]
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


# --- deadline policies ------------------------------------------------------------------------------------
