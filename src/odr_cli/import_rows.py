"""Rows of an operator's file (CSV or XLSX) and the problems found in them, each with its line and column: what
every import of the bureau's files checks the same way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from odr_adapter.models.deadlines import Phase

PHASES: tuple[Phase, ...] = ("acceptance", "resolution", "review", "rework")


DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


class Problems:
    def __init__(self) -> None:
        self.found: list[ImportProblem] = []

    def add(self, row: Row | None, column: str | None, message: str) -> None:
        self.found.append(ImportProblem(row.line if row else None, column, message))


def check_header(table: Table, required: Sequence[str], optional: Sequence[str] = ()) -> list[ImportProblem]:
    """Missing, unknown (a misspelt column would be silently ignored) and repeated columns."""
    problems = Problems()
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


def with_reader_problems(table: Table, found: list[ImportProblem]) -> list[ImportProblem]:
    return sorted([*table.problems, *found], key=lambda p: p.line or 0)


def parse_day(text: str) -> date | None:
    """``YYYY-MM-DD`` (or with ``/`` and one-digit month or day, as spreadsheets write it); else None."""
    match = DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def date_cell(p: Problems, row: Row, column: str, required: bool) -> date | None:
    value = row.values.get(column, "")
    if not value:
        if required:
            p.add(row, column, "required")
        return None
    day = parse_day(value)
    if day is None:
        p.add(row, column, "not a date (YYYY-MM-DD)")
    return day


def duplicate_key(p: Problems, row: Row, column: str, key: str | None, first: dict[str, int]) -> bool:
    if key is None:
        return False
    if key in first:
        p.add(row, column, f"{key} is already on line {first[key]}")
        return True
    first[key] = row.line
    return False
