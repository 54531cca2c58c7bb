"""``odr stations import`` and ``odr directory import`` against DynamoDB (moto): validation, diff, writes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from stdnum.cn import uscc as stdnum_uscc

from odr_adapter.clock import Clock
from odr_adapter.data_access.directory import DirectoryChanged, DirectoryStore
from odr_adapter.models.directory import District
from odr_cli.directory_import import parse_enterprises, plan_directory
from odr_cli.district_files import read_district, read_table

from .cli_support import Aws, aws_for_cli, odr

DISTRICT = Path(__file__).resolve().parents[2] / "data" / "district"
STATIONS_CSV = DISTRICT / "stations.csv"
DIRECTORY_CSV = DISTRICT / "odr-directory.csv"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with aws_for_cli(monkeypatch) as env:
        yield env


@pytest.fixture
def imported(aws: Aws, capsys: pytest.CaptureFixture[str]) -> DirectoryStore:
    """The sample stations and directory imported through the CLI (revision 2)."""
    assert odr(capsys, "stations", "import", STATIONS_CSV).code == 0
    assert odr(capsys, "directory", "import", DIRECTORY_CSV).code == 0
    return DirectoryStore(aws.directory_table)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def uscc(serial: int) -> str:
    body = f"91310116MA{serial:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def sorted_district(district: District) -> tuple[list, list]:
    return sorted(district.stations, key=lambda s: s.code), sorted(district.enterprises, key=lambda e: e.uscc)


# --- happy paths ------------------------------------------------------------------------------------------


def test_stations_then_directory_fill_the_table_as_the_files_say(aws: Aws, capsys) -> None:
    stations = odr(capsys, "stations", "import", STATIONS_CSV)
    assert stations.code == 0, stations.err
    assert stations.out.splitlines()[0] == "stations: 11 added, 0 changed, 0 removed, 0 unchanged"
    assert stations.out.splitlines()[-1] == "written: 11 row(s) in 1 transaction(s); directory revision 1"
    directory = odr(capsys, "directory", "import", DIRECTORY_CSV)
    assert directory.code == 0, directory.err
    assert "  + added    91310116MA1JK7Q26H 上海金枫云购电子商务有限公司" in directory.out
    assert directory.out.splitlines()[-1] == "written: 11 row(s) in 1 transaction(s); directory revision 2"
    store = DirectoryStore(aws.directory_table)
    assert sorted_district(store.district()) == sorted_district(read_district(DISTRICT))
    revision = store.revision()
    assert (revision.revision, revision.state, revision.source) == (2, "done", "odr-directory.csv")


def test_importing_the_same_file_again_changes_nothing(imported: DirectoryStore, capsys) -> None:
    again = odr(capsys, "directory", "import", DIRECTORY_CSV)
    assert again.code == 0
    assert again.out.splitlines() == [
        "ODR directory: 0 added, 0 changed, 0 delisted, 0 removed, 11 unchanged",
        "nothing to change",
    ]
    assert imported.revision().revision == 2


def edited_directory(tmp_path: Path) -> Path:
    """One class changed, one enterprise delisted, one added and one removed."""
    rows = [r for r in rows_of(DIRECTORY_CSV) if r["uscc"] != "91310116MA1P7H6K8B"]
    for row in rows:
        if row["uscc"] == "91310116MA1JK7Q26H":
            row["class"] = "B"
            row["contact_mobile"] = "13900000999"
        if row["uscc"] == "91310116MA1H3N8W6F":
            row["delisted_on"] = "2026-12-31"
    rows.append({**rows[0], "uscc": uscc(1), "enterprise_name": "上海新上线电商有限公司", "shop_names": "新上线旗舰店"})
    return write_csv(tmp_path / "directory.csv", rows)


EDIT_DIFF = [
    "ODR directory: 1 added, 1 changed, 1 delisted, 1 removed, 8 unchanged",
    "  ~ changed  91310116MA1JK7Q26H 上海金枫云购电子商务有限公司",
    "      enterprise_class: A -> B",
    "      contact_mobile: 13900000201 -> 13900000999",
    "  x delisted 91310116MA1H3N8W6F 上海山阳优选网络科技有限公司",
    "      delisted_on: (empty) -> 2026-12-31",
    f"  + added    {uscc(1)} 上海新上线电商有限公司",
    "  - removed  91310116MA1P7H6K8B 上海朱泾数码配件有限公司",
    "  note: removed enterprises lose their directory history; to end a listing, set delisted_on instead",
]


def test_dry_run_prints_the_diff_and_writes_nothing(imported: DirectoryStore, capsys, tmp_path: Path) -> None:
    before = imported.snapshot()
    result = odr(capsys, "directory", "import", edited_directory(tmp_path), "--dry-run")
    assert result.code == 0
    assert result.out.splitlines() == [*EDIT_DIFF, "dry run: nothing was written"]
    assert imported.snapshot() == before


def test_the_diff_is_what_gets_written(imported: DirectoryStore, capsys, tmp_path: Path) -> None:
    result = odr(capsys, "directory", "import", edited_directory(tmp_path))
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        *EDIT_DIFF,
        "written: 4 row(s) in 1 transaction(s); directory revision 3",
    ]
    stored = DirectoryStore(imported.table).district()
    jinfeng = stored.by_uscc("91310116MA1JK7Q26H")
    assert jinfeng is not None and (jinfeng.enterprise_class, jinfeng.contact_mobile) == ("B", "13900000999")
    assert stored.by_uscc("91310116MA1H3N8W6F").delisted_on == date(2026, 12, 31)
    assert stored.by_uscc("91310116MA1P7H6K8B") is None
    assert stored.by_shop_name("新上线 旗舰店") is not None
    assert len(stored.enterprises) == 11


# --- refusals: nothing written ----------------------------------------------------------------------------


def test_one_bad_line_among_good_ones_writes_nothing_and_every_problem_is_listed(
    imported: DirectoryStore, capsys, tmp_path: Path
) -> None:
    before = imported.snapshot()
    rows = rows_of(DIRECTORY_CSV)
    rows[0]["class"] = "B"  # a valid change that must not be written either
    rows.append({**rows[1], "uscc": "91310116MA1H3N8W6G", "enterprise_name": "坏代码公司", "shop_names": ""})
    rows.append(
        {
            **rows[1],
            "uscc": uscc(2),
            "enterprise_name": "二号公司",
            "shop_names": "",
            "class": "X",
            "station_code": "JS-NO",
        }
    )
    rows.append({**rows[1], "uscc": uscc(3), "enterprise_name": "三号公司", "shop_names": "", "listed_on": "2026-5-32"})
    rows.append(dict(rows[1]))
    path = write_csv(tmp_path / "bad.csv", rows)
    result = odr(capsys, "directory", "import", path)
    assert result.code == 1 and result.out == ""
    assert result.err.splitlines() == [
        f"{path}: 5 problem(s); nothing was written",
        "  line 13, uscc: credit code check character is wrong",
        "  line 14, class: unknown class 'X': use A (大型综合类电商), B (中型专业类电商), C (小型电商)",
        "  line 14, station_code: unknown station JS-NO",
        "  line 15, listed_on: not a date (YYYY-MM-DD)",
        "  line 16, uscc: 91310116MA1H3N8W6F is already on line 3",
    ]
    assert imported.snapshot() == before


def test_removing_a_station_the_directory_uses_is_refused(imported: DirectoryStore, capsys, tmp_path: Path) -> None:
    before = imported.snapshot()
    path = write_csv(tmp_path / "stations.csv", [r for r in rows_of(STATIONS_CSV) if r["station_code"] != "JS-TL"])
    result = odr(capsys, "stations", "import", path)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{path}: 1 problem(s); nothing was written",
        "  file, station_code: JS-TL is not in the file but 1 enterprise(s) use it: 91310116MA1G9P4C45",
    ]
    assert imported.snapshot() == before


def test_a_directory_before_any_station_is_refused(aws: Aws, capsys) -> None:
    result = odr(capsys, "directory", "import", DIRECTORY_CSV)
    assert result.code == 1
    assert "  line 2, station_code: unknown station JS-ZJ; no stations are imported yet (odr stations import)" in (
        result.err.splitlines()
    )
    assert DirectoryStore(aws.directory_table).snapshot().enterprises == []


def test_without_a_table_name_the_cli_says_what_is_missing(aws: Aws, capsys, monkeypatch) -> None:
    monkeypatch.delenv("DIRECTORY_TABLE")
    result = odr(capsys, "stations", "import", STATIONS_CSV)
    assert result.code == 2 and "DIRECTORY_TABLE is not set" in result.err


# --- XLSX -------------------------------------------------------------------------------------------------


def workbook(path: Path, rows: list[dict[str, str]], typed: dict[str, type]) -> Path:
    """An XLSX as an operator saves it: dates as date cells, numbers (mobiles, one township code) as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "目录"
    sheet.append(list(rows[0]))
    for row in rows:
        cells: list[object] = []
        for column, value in row.items():
            kind = typed.get(column)
            if value and kind is date:
                cells.append(date.fromisoformat(value))
            elif value and kind is int and value.isdigit():
                cells.append(int(value))
            else:
                cells.append(value or None)
        sheet.append(cells)
    book.save(path)
    return path


def test_xlsx_files_import_like_the_csv_files(aws: Aws, capsys, tmp_path: Path) -> None:
    stations = workbook(
        tmp_path / "stations.xlsx", rows_of(STATIONS_CSV), {"division_codes": int, "reviewer_mobile": int}
    )
    directory = workbook(
        tmp_path / "directory.xlsx",
        rows_of(DIRECTORY_CSV),
        {"listed_on": date, "delisted_on": date, "contact_mobile": int},
    )
    assert odr(capsys, "stations", "import", stations).code == 0
    result = odr(capsys, "directory", "import", directory)
    assert result.code == 0, result.err
    stored = DirectoryStore(aws.directory_table).district()
    assert sorted_district(stored) == sorted_district(read_district(DISTRICT))


def test_xlsx_problems_name_the_sheet_rows(imported: DirectoryStore, capsys, tmp_path: Path) -> None:
    rows = rows_of(DIRECTORY_CSV)
    rows[3]["contact_email"] = "not-an-address"
    rows[3]["contact_mobile"] = ""
    rows[7]["delisted_on"] = "2020-01-01"
    path = workbook(tmp_path / "directory.xlsx", rows, {"listed_on": date, "delisted_on": date})
    result = odr(capsys, "directory", "import", path)
    assert result.code == 1
    assert result.err.splitlines()[1:] == [
        "  line 5, contact_email: not an e-mail address",
        "  line 9, delisted_on: delisted on 2020-01-01, before listed_on 2025-01-10",
    ]


# --- more than one transaction ----------------------------------------------------------------------------


def large_directory(tmp_path: Path, extra: int) -> Path:
    rows = rows_of(DIRECTORY_CSV)
    template = {**rows[2], "shop_names": ""}
    rows += [
        {**template, "uscc": uscc(100 + i), "enterprise_name": f"上海批量电商{i:03d}有限公司"} for i in range(extra)
    ]
    return write_csv(tmp_path / "large.csv", rows)


def test_a_diff_past_the_transaction_limit_is_written_in_several_transactions(aws: Aws, capsys, tmp_path: Path) -> None:
    assert odr(capsys, "stations", "import", STATIONS_CSV).code == 0
    result = odr(capsys, "directory", "import", large_directory(tmp_path, 150))
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "written: 161 row(s) in 2 transaction(s); directory revision 2"
    store = DirectoryStore(aws.directory_table)
    assert len(store.district().enterprises) == 161
    assert store.revision().state == "done"


def test_an_interrupted_import_is_finished_by_running_it_again(aws: Aws, capsys, tmp_path: Path) -> None:
    assert odr(capsys, "stations", "import", STATIONS_CSV).code == 0
    store = DirectoryStore(aws.directory_table)
    path = large_directory(tmp_path, 150)
    snap = store.snapshot()
    wanted, problems = parse_enterprises(read_table(path), {s.code for s in snap.stations})
    assert problems == []
    plan = plan_directory(snap.enterprises, wanted)
    # Meanwhile a row the second transaction adds gets written: that transaction is refused, the first stays.
    assert [c.key for c in plan.changes] == [e.uscc for e in wanted]
    store.replace(District(stations=[], enterprises=[wanted[120]]))
    with pytest.raises(DirectoryChanged, match="1 of 2 transaction"):
        store.apply(plan, snap.revision, path.name, Clock().now())
    assert store.revision().state == "writing"
    assert len(store.snapshot().enterprises) == 99 + 1  # the first transaction's rows and the one written meanwhile

    again = odr(capsys, "directory", "import", path)
    assert again.code == 0, again.err
    assert "did not finish; the diff below includes what it left unwritten" in again.err
    assert again.out.splitlines()[0].startswith("ODR directory: 61 added")
    assert len(store.snapshot().enterprises) == 161 and store.revision().state == "done"


def test_an_import_planned_on_an_older_revision_is_refused(imported: DirectoryStore, capsys, tmp_path: Path) -> None:
    snap = imported.snapshot()
    wanted = [e.model_copy(update={"contact_name": "新专员"}) for e in snap.enterprises]
    plan = plan_directory(snap.enterprises, wanted)
    assert odr(capsys, "directory", "import", edited_directory(tmp_path)).code == 0  # revision 3 meanwhile
    with pytest.raises(DirectoryChanged, match="0 of 1 transaction"):
        imported.apply(plan, snap.revision, "stale.csv", Clock().now())
    assert all(e.contact_name != "新专员" for e in imported.snapshot().enterprises)


def test_a_station_change_shows_the_fields_and_is_written(imported: DirectoryStore, capsys, tmp_path: Path) -> None:
    rows = rows_of(STATIONS_CSV)
    for row in rows:
        if row["station_code"] == "JS-SH":
            row["division_codes"] = "310116001;310116503;310116504"
            row["reviewer_mobile"] = ""
    rows.append({**rows[-1], "station_code": "JS-NEW", "station_name": "新设市场监管所", "division_codes": "310116120"})
    result = odr(capsys, "stations", "import", write_csv(tmp_path / "stations.csv", rows))
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "stations: 1 added, 1 changed, 0 removed, 10 unchanged",
        "  ~ changed  JS-SH 石化市场监管所",
        "      division_codes: 310116001;310116503 -> 310116001;310116503;310116504",
        "      reviewer_mobile: 13800000101 -> (empty)",
        "  + added    JS-NEW 新设市场监管所",
        "written: 2 row(s) in 1 transaction(s); directory revision 3",
    ]
    stored = DirectoryStore(imported.table).district()
    assert stored.station_for_division("310116504").code == "JS-SH"
    assert stored.station("JS-SH").reviewer_mobile is None
    assert stored.station_for_division("310116120").code == "JS-NEW"
