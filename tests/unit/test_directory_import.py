"""Import validation (every problem of every line), the diff, holiday tables and deadline-policy documents.

Files are written to a temporary folder and read by the real reader (odr_cli.district_files).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc

from odr_adapter.models.deadlines import DeadlinePolicies, HolidayTable, Policy
from odr_adapter.models.directory import District
from odr_adapter.rules.calendars import compute_deadline
from odr_cli.directory_import import (
    DIRECTORY_COLUMNS,
    STATION_COLUMNS,
    describe_plan,
    parse_enterprises,
    parse_stations,
    plan_directory,
    plan_stations,
)
from odr_cli.district_files import read_district, read_table
from odr_cli.import_rows import ImportInvalid, Table
from odr_cli.policy_import import (
    describe_policies,
    diff_policies,
    parse_holiday_table,
    parse_policies,
    with_holiday_table,
)

from .conftest import DISTRICT_DATA

HEADER = ",".join(DIRECTORY_COLUMNS)
STATION_HEADER = ",".join(STATION_COLUMNS)
JINFENG = (
    "91310116MA1JK7Q26H,上海金枫云购电子商务有限公司,A,JS-ZJ,金枫云购官方旗舰店;金枫云购生鲜,"
    "孙悦,odr@jinfeng.example.com,13900000201,2024-03-01,"
)
STATIONS = {"JS-ZJ", "JS-SY", "JS-INTAKE"}


def uscc(serial: int) -> str:
    """A valid credit code of a Jinshan company (the check character computed as GB 32100 says)."""
    body = f"91310116MA{serial:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def enterprise_row(code: str, name: str, **cells: str) -> str:
    values = {
        "uscc": code,
        "enterprise_name": name,
        "class": "B",
        "station_code": "JS-SY",
        "shop_names": "",
        "contact_name": "王五",
        "contact_email": "odr@example.com",
        "contact_mobile": "13900000299",
        "listed_on": "2025-01-01",
        "delisted_on": "",
        **cells,
    }
    return ",".join(values[c] for c in DIRECTORY_COLUMNS)


def table(tmp_path: Path, header: str, *rows: str, name: str = "file.csv") -> Table:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_table(path)


def problems_of(found: list) -> list[str]:
    return [str(p) for p in found]


# --- the ODR directory ------------------------------------------------------------------------------------


def test_the_sample_district_is_valid_and_reads_as_before() -> None:
    district = read_district(DISTRICT_DATA)
    assert len(district.stations) == 11 and len(district.enterprises) == 11
    jsw = district.by_uscc("91310116MA1N5G2J9D")
    assert jsw is not None and jsw.contact_mobile is None and jsw.contact_email == "jsw.fushi@example.com"
    assert district.station_for_division("310116503").code == "JS-SH"


def test_every_problem_of_every_line_is_reported_with_its_line(tmp_path: Path) -> None:
    rows = [
        JINFENG,  # line 2: valid
        enterprise_row("91310116MA1H3N8W6G", "坏校验码公司"),  # 3
        enterprise_row("91310116MA1H3N8WIF", "坏字符公司"),  # 4
        enterprise_row(uscc(5), "未知类别公司", **{"class": "D"}),  # 5
        enterprise_row(uscc(6), "坏日期公司", listed_on="2024-02-30"),  # 6
        enterprise_row(uscc(7), "先退后入公司", listed_on="2024-03-01", delisted_on="2024-01-01"),  # 7
        enterprise_row(uscc(8), "未知监管所公司", station_code="JS-XX"),  # 8
        enterprise_row("91310116MA1JK7Q26H", "重复代码公司"),  # 9
        enterprise_row(uscc(10), "无联系方式公司", contact_email="", contact_mobile=""),  # 10
        enterprise_row(
            uscc(11), "坏联系方式公司", contact_email="odr.example.com", contact_mobile="021-57351234"
        ),  # 11
        enterprise_row(uscc(12), "重名店铺公司", shop_names="金枫云购 官方旗舰店"),  # 12
        enterprise_row(uscc(13), ""),  # 13
    ]
    enterprises, found = parse_enterprises(table(tmp_path, HEADER, *rows), STATIONS)
    assert problems_of(found) == [
        "line 3, uscc: credit code check character is wrong",
        "line 4, uscc: credit code must be 18 characters of the GB 32100 alphabet",
        "line 5, class: unknown class 'D': use A (大型综合类电商), B (中型专业类电商), C (小型电商)",
        "line 6, listed_on: not a date (YYYY-MM-DD)",
        "line 7, delisted_on: delisted on 2024-01-01, before listed_on 2024-03-01",
        "line 8, station_code: unknown station JS-XX",
        "line 9, uscc: 91310116MA1JK7Q26H is already on line 2",
        "line 10, contact_email: the ODR specialist needs an e-mail or a mobile number (both are empty)",
        "line 11, contact_email: not an e-mail address",
        "line 11, contact_mobile: not a mainland mobile number (11 digits, e.g. 13800000000)",
        "line 12, shop_names: 金枫云购 官方旗舰店 is also a name of the enterprise on line 2: "
        "routing would be ambiguous",
        "line 13, enterprise_name: required",
    ]
    assert [e.uscc for e in enterprises] == ["91310116MA1JK7Q26H"]


def test_one_row_with_several_problems_reports_each(tmp_path: Path) -> None:
    row = enterprise_row("X", "多处错误公司", **{"class": "a"}, station_code="", listed_on="", contact_name="")
    _, found = parse_enterprises(table(tmp_path, HEADER, row), STATIONS)
    assert [(p.line, p.column) for p in found] == [
        (2, "uscc"),
        (2, "class"),
        (2, "station_code"),
        (2, "contact_name"),
        (2, "listed_on"),
    ]


def test_unknown_station_says_to_import_stations_first_when_there_are_none(tmp_path: Path) -> None:
    _, found = parse_enterprises(table(tmp_path, HEADER, JINFENG), set())
    assert problems_of(found) == [
        "line 2, station_code: unknown station JS-ZJ; no stations are imported yet (odr stations import)"
    ]


def test_missing_unknown_and_repeated_columns_are_reported_before_any_row(tmp_path: Path) -> None:
    header = HEADER.replace(",class,", ",klass,") + ",uscc"
    _, found = parse_enterprises(table(tmp_path, header, JINFENG + ",x"), STATIONS)
    assert [(p.line, p.column) for p in found] == [(None, "class"), (None, "uscc"), (None, "klass")]
    assert [p.message.split(" (")[0] for p in found] == [
        "missing column",
        "column appears more than once",
        "unknown column",
    ]


def test_a_row_with_more_values_than_columns_is_a_problem(tmp_path: Path) -> None:
    row = enterprise_row(uscc(20), "上海甲,乙公司", delisted_on="2026-12-31")  # the comma shifts later cells
    _, found = parse_enterprises(table(tmp_path, HEADER, JINFENG, row), STATIONS)
    assert "line 3: 11 values but 10 columns (an unquoted comma?)" in problems_of(found)


def test_an_empty_file_or_one_without_rows_is_refused(tmp_path: Path) -> None:
    _, found = parse_enterprises(table(tmp_path, HEADER), STATIONS)
    assert problems_of(found) == ["file: the file has no data rows"]
    (tmp_path / "empty.csv").write_text("\n\n", encoding="utf-8")
    with pytest.raises(ImportInvalid, match="the file is empty"):
        read_table(tmp_path / "empty.csv")


def test_line_numbers_count_physical_lines_past_a_quoted_multiline_cell(tmp_path: Path) -> None:
    multiline = enterprise_row(uscc(21), '"上海多行\n名称公司"')
    bad = enterprise_row(uscc(22), "坏类别", **{"class": "Z"})
    _, found = parse_enterprises(table(tmp_path, HEADER, multiline, bad), STATIONS)
    assert [(p.line, p.column) for p in found] == [(4, "class")]


def test_spreadsheet_habits_are_accepted(tmp_path: Path) -> None:
    """Slash dates with one-digit months, full-width separators, +86 mobiles and a GB 18030 file."""
    row = enterprise_row(
        uscc(23), "上海习惯公司", shop_names="甲店；乙店", listed_on="2025/1/5", contact_mobile="+86 139 0000 0299"
    )
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"{HEADER}\n{row}\n".encode("gb18030"))
    [ent], found = parse_enterprises(read_table(path), STATIONS)
    assert found == []
    assert ent.shop_names == ["甲店", "乙店"]
    assert ent.listed_on == date(2025, 1, 5)
    assert ent.contact_mobile == "13900000299"


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    (tmp_path / "directory.txt").write_text(HEADER, encoding="utf-8")
    with pytest.raises(ImportInvalid, match=r"use a \.csv or \.xlsx file"):
        read_table(tmp_path / "directory.txt")
    (tmp_path / "fake.xlsx").write_text(HEADER, encoding="utf-8")
    with pytest.raises(ImportInvalid, match="not a readable XLSX workbook"):
        read_table(tmp_path / "fake.xlsx")


# --- stations ---------------------------------------------------------------------------------------------


def station_row(code: str, divisions: str = "", **cells: str) -> str:
    values = {
        "station_code": code,
        "station_name": f"{code}所",
        "division_codes": divisions,
        "reviewer_name": "负责人",
        "reviewer_email": "station@example.com",
        "reviewer_mobile": "13800000100",
        **cells,
    }
    return ",".join(values[c] for c in STATION_COLUMNS)


def test_station_problems_with_their_lines(tmp_path: Path) -> None:
    rows = [
        station_row("JS-SH", "310116001;310116503"),  # 2
        station_row("JS ZJ", "310116101"),  # 3
        station_row("JS-FJ", "31011610"),  # 4
        station_row("JS-ZY", "310117103"),  # 5
        station_row("JS-TL", "310116503"),  # 6
        station_row("JS-SH"),  # 7
        station_row("JS-LX", reviewer_email="", reviewer_mobile=""),  # 8
        station_row("JS-CJ", reviewer_mobile="1380000"),  # 9
    ]
    stations, found = parse_stations(table(tmp_path, STATION_HEADER, *rows), "310116", "JS-INTAKE")
    assert problems_of(found) == [
        "file, station_code: the intake desk JS-INTAKE is missing: unrouted cases go there",
        "line 3, station_code: use letters, digits, '-' and '_' only",
        "line 4, division_codes: 31011610 is not a 9-digit township code",
        "line 5, division_codes: 310117103 is not a township of county 310116",
        "line 6, division_codes: 310116503 already belongs to JS-SH (line 2)",
        "line 7, station_code: JS-SH is already on line 2",
        "line 8, reviewer_email: the reviewer needs an e-mail or a mobile number (both are empty)",
        "line 9, reviewer_mobile: not a mainland mobile number (11 digits, e.g. 13800000000)",
    ]
    assert [s.code for s in stations] == ["JS-SH"]


def test_a_station_still_used_by_the_directory_cannot_be_removed(district: District) -> None:
    kept = [s for s in district.stations if s.code != "JS-ZJ"]
    plan, found = plan_stations(district.stations, kept, district.enterprises)
    assert [c.key for c in plan.changes] == ["JS-ZJ"]
    assert problems_of(found) == [
        "file, station_code: JS-ZJ is not in the file but 2 enterprise(s) use it: "
        "91310116MA1JK7Q26H, 91310116MA1P7H6K8B"
    ]


def test_a_station_no_enterprise_uses_can_be_removed(district: District) -> None:
    kept = [s for s in district.stations if s.code != "JS-LXIA"]
    enterprises = [e for e in district.enterprises if e.station_code != "JS-LXIA"]
    plan, found = plan_stations(district.stations, kept, enterprises)
    assert found == [] and [(c.kind, c.key) for c in plan.changes] == [("removed", "JS-LXIA")]


# --- the diff ---------------------------------------------------------------------------------------------


def test_diff_names_added_changed_delisted_and_removed_rows_with_the_changed_fields(district: District) -> None:
    current = district.enterprises
    by = {e.uscc: e for e in current}
    jinfeng = by["91310116MA1JK7Q26H"].model_copy(update={"enterprise_class": "B", "contact_mobile": "13900000999"})
    shanyang = by["91310116MA1H3N8W6F"].model_copy(update={"delisted_on": date(2026, 12, 31)})
    added = by["91310116MA1FL2T66W"].model_copy(update={"uscc": uscc(30), "name": "上海新增公司", "shop_names": []})
    untouched = [e for u, e in by.items() if u not in (jinfeng.uscc, shanyang.uscc, "91310116MA1P7H6K8B")]
    wanted = [jinfeng, shanyang, added, *untouched]
    plan = plan_directory(current, wanted)
    summary = {(c.kind, c.key): [(f.field, f.old, f.new) for f in c.fields] for c in plan.changes}
    assert summary == {
        ("changed", "91310116MA1JK7Q26H"): [
            ("enterprise_class", "A", "B"),
            ("contact_mobile", "13900000201", "13900000999"),
        ],
        ("delisted", "91310116MA1H3N8W6F"): [("delisted_on", None, "2026-12-31")],
        ("added", uscc(30)): [],
        ("removed", "91310116MA1P7H6K8B"): [],
    }
    assert plan.unchanged == 8
    assert [c.row is None for c in plan.changes] == [False, False, False, True]
    text = describe_plan(plan)
    assert text[0] == "ODR directory: 1 added, 1 changed, 1 delisted, 1 removed, 8 unchanged"
    assert "      enterprise_class: A -> B" in text
    assert "      delisted_on: (empty) -> 2026-12-31" in text
    assert any(line.startswith("  note: removed enterprises lose their directory history") for line in text)


def test_the_same_rows_make_an_empty_plan(district: District) -> None:
    plan = plan_directory(district.enterprises, list(reversed(district.enterprises)))
    assert plan.changes == [] and plan.unchanged == 11


# --- holiday tables ---------------------------------------------------------------------------------------

HOLIDAYS_2027 = [
    "2027-01-01,holiday,元旦",
    "2027-02-06,holiday,春节",
    "2027-02-08,holiday,春节",
    "2027-02-09,holiday,春节",
    "2027-02-10,holiday,春节",
    "2027-02-11,holiday,春节",
    "2027-02-12,holiday,春节",
    "2027-02-13,holiday,春节",
    "2027-02-14,workday,春节调休",
    "2027-02-20,班,春节调休",
]


def test_a_holiday_table_for_an_uncovered_year(tmp_path: Path) -> None:
    found_table, found = parse_holiday_table(table(tmp_path, "date,kind,name", *HOLIDAYS_2027), "国办发明电")
    assert found == [] and found_table is not None
    assert found_table.year == 2027 and found_table.source == "国办发明电"
    assert found_table.workdays == [date(2027, 2, 14), date(2027, 2, 20)]
    assert len(found_table.holidays) == 8


def test_holiday_table_problems(tmp_path: Path) -> None:
    rows = [
        "2027-01-01,holiday,元旦",  # 2
        "2027-01-01,holiday,重复",  # 3
        "2027-02-17,workday,周三",  # 4
        "2027-13-01,holiday,",  # 5
        "2027-05-01,rest,",  # 6
        "2028-01-01,holiday,",  # 7
    ]
    _, found = parse_holiday_table(table(tmp_path, "date,kind,name", *rows), "operator")
    assert problems_of(found) == [
        "file, date: one table holds one year; found 2027, 2028 (first on line 2)",
        "line 3, date: 2027-01-01 is already on line 2",
        "line 4, date: 2027-02-17 is a Wednesday: a make-up working day is a weekend day",
        "line 5, date: not a date (YYYY-MM-DD)",
        "line 6, kind: use holiday (休, a day off) or workday (班, a make-up working day)",
    ]


def test_a_year_the_packaged_calendar_covers_is_refused(tmp_path: Path) -> None:
    _, found = parse_holiday_table(table(tmp_path, "date,kind", "2026-10-01,holiday"), "operator")
    assert len(found) == 1 and "covers 2026: its official data is used" in found[0].message


def test_an_imported_table_replaces_the_year_and_counts_working_days(tmp_path: Path) -> None:
    parsed, _ = parse_holiday_table(table(tmp_path, "date,kind,name", *HOLIDAYS_2027), "operator")
    assert parsed is not None
    working = DeadlinePolicies(default={**DeadlinePolicies().default, "acceptance": Policy(days=3, kind="working")})
    older = HolidayTable(year=2027, holidays=[date(2027, 1, 1), date(2027, 1, 4)], source="draft")
    policies, lines = with_holiday_table(working.model_copy(update={"holiday_tables": [older]}), parsed)
    assert [t.year for t in policies.holiday_tables] == [2027]
    assert lines[0] == "holiday table 2027: replaced (source draft -> operator)"
    assert "  - day off 2027-01-04" in lines and "  + make-up working day 2027-02-14" in lines
    start = datetime.fromisoformat("2027-02-05T10:00:00+08:00")  # Friday before the Spring Festival
    deadline = compute_deadline("acceptance", start, None, policies)
    # Sat 6 off, Sun 7 weekend, 8-13 off, Sun 14 make-up working day (1), Mon 15 (2), Tue 16 (3)
    assert deadline.due_at == datetime.fromisoformat("2027-02-17T00:00:00+08:00")
    assert (deadline.calendar, deadline.calendar_version, deadline.fallback) == (
        "operator-table",
        "operator:2027",
        False,
    )


# --- deadline policies ------------------------------------------------------------------------------------


def test_a_policies_document_by_class_keeps_the_stored_holiday_tables() -> None:
    table_2027 = HolidayTable(year=2027, holidays=[date(2027, 1, 1)])
    current = DeadlinePolicies(holiday_tables=[table_2027])
    document = {"by_class": {"C": {"acceptance": {"days": 3, "kind": "working"}}}}
    policies, found = parse_policies(document, current)
    assert found == [] and policies is not None
    assert policies.policy("acceptance", "C") == Policy(days=3, kind="working")
    assert policies.default == DeadlinePolicies().default
    assert policies.holiday_tables == [table_2027]
    assert diff_policies(current, policies) == ["  class C acceptance: (the default) -> 3 working day(s)"]
    assert describe_policies(policies)[:2] == [
        "phase       default               class C",
        "acceptance  2 natural day(s)      3 working day(s)",
    ]


def test_policy_document_problems_name_their_path() -> None:
    document = {
        "deafult": {},
        "default": {"acceptance": {"days": 0}, "resolution": {"days": 7, "kind": "calendar"}},
        "by_class": {"D": {"acceptance": {"days": 2}}},
    }
    _, found = parse_policies(document, DeadlinePolicies())
    columns = [p.column for p in found]
    assert columns == [
        "default.acceptance.days",
        "default.resolution.kind",
        "by_class.D.[key]",
        "deafult",
    ]


def test_a_default_must_name_every_phase() -> None:
    _, found = parse_policies({"default": {"acceptance": {"days": 3}}}, DeadlinePolicies())
    assert [p.column for p in found] == ["default.resolution", "default.review", "default.rework"]


def test_holiday_tables_in_a_policies_document_hold_days_of_their_year() -> None:
    document = {"holiday_tables": [{"year": 2027, "holidays": ["2028-01-01"]}]}
    _, found = parse_policies(document, DeadlinePolicies())
    assert problems_of(found) == ["file, holiday_tables.2027: 2028-01-01 is not in 2027"]


def test_a_station_can_be_set_to_screen_by_hand(tmp_path) -> None:
    from odr_cli.directory_import import parse_stations
    from odr_cli.district_files import read_table

    text = (
        "station_code,station_name,division_codes,reviewer_name,reviewer_email,reviewer_mobile,manual_screening\n"
        "JS-ZJ,朱泾市场监管所,310116101,李强,zhujing.station@example.com,13800000102,是\n"
        "JS-INTAKE,受理窗口,,赵敏,intake.desk@example.com,13800000100,\n"
        "JS-FJ,枫泾市场监管所,310116102,张丽,fengjing.station@example.com,13800000103,maybe\n"
    )
    path = tmp_path / "stations.csv"
    path.write_text(text, encoding="utf-8")
    stations, problems = parse_stations(read_table(path), "310116", "JS-INTAKE")
    assert [(p.line, p.column) for p in problems] == [(4, "manual_screening")]
    assert {s.code: s.manual_screening for s in stations} == {"JS-ZJ": True, "JS-INTAKE": False}
