"""Reading the district's tables (stations, ODR directory, holiday tables) from CSV or XLSX files.

Cells become trimmed text so one validator (:mod:`odr_cli.directory_import`) serves both formats:
spreadsheet numbers lose their ``.0`` (a mobile typed as a number), dates become ``YYYY-MM-DD``.
CSV is read as UTF-8 (with or without BOM), else as GB 18030, which Excel on Chinese Windows writes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from odr_adapter.models.directory import District
from odr_cli.directory_import import parse_enterprises, parse_stations
from odr_cli.import_rows import ImportInvalid, ImportProblem, Row, Table

STATIONS_FILE = "stations.csv"
DIRECTORY_FILE = "odr-directory.csv"


def read_table(path: Path) -> Table:
    """The file's header and non-empty rows; ImportInvalid when it cannot be read as a table at all."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise ImportInvalid(str(path), [ImportProblem(None, None, "use a .csv or .xlsx file")])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportInvalid(str(path), [ImportProblem(None, None, f"cannot read the file: {exc.strerror}")]) from None
    lines = _csv_lines(path, data) if suffix == ".csv" else _xlsx_lines(path, data)
    return _table(str(path), lines)


def _csv_lines(path: Path, data: bytes) -> list[tuple[int, list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportInvalid(str(path), [ImportProblem(None, None, "the file is neither UTF-8 nor GB 18030 text")])
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            out.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportInvalid(str(path), [ImportProblem(start, None, f"not valid CSV: {exc}")]) from None
    return out


def _xlsx_lines(path: Path, data: bytes) -> list[tuple[int, list[str]]]:
    # Imported here: only the operator CLI reads spreadsheets, and the Lambda layer does not ship openpyxl.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportInvalid(str(path), [ImportProblem(None, None, "not a readable XLSX workbook")]) from None
    try:
        sheet = book.worksheets[0]
        return [(n, [_cell_text(v) for v in values]) for n, values in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(source: str, lines: list[tuple[int, list[str]]]) -> Table:
    filled = [(n, [c.strip() for c in cells]) for n, cells in lines if any(c.strip() for c in cells)]
    if not filled:
        raise ImportInvalid(source, [ImportProblem(None, None, "the file is empty")])
    (_, header), body = filled[0], filled[1:]
    columns = [name.lstrip("\ufeff").strip().lower() for name in header]
    while columns and not columns[-1]:
        columns.pop()  # spreadsheets often carry empty trailing header cells
    rows, problems = [], []
    for line, cells in body:
        extra = [c for c in cells[len(columns) :] if c]
        if extra:
            problems.append(
                ImportProblem(
                    line, None, f"{len(columns) + len(extra)} values but {len(columns)} columns (an unquoted comma?)"
                )
            )
        rows.append(Row(line, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)}))
    return Table(source, columns, rows, problems)


def read_district(folder: Path, county_code: str = "310116") -> District:
    """The district of a folder holding stations.csv and odr-directory.csv, validated as an import is."""
    district = District(county_code=county_code, stations=[], enterprises=[])
    stations_table = read_table(folder / STATIONS_FILE)
    stations, problems = parse_stations(stations_table, county_code, district.intake_station_code)
    if problems:
        raise ImportInvalid(stations_table.source, problems)
    directory_table = read_table(folder / DIRECTORY_FILE)
    enterprises, problems = parse_enterprises(directory_table, {s.code for s in stations})
    if problems:
        raise ImportInvalid(directory_table.source, problems)
    return district.model_copy(update={"stations": stations, "enterprises": enterprises})
