"""``odr explain``: each example record against the DirectoryTable (moto) and offline against the CSV files."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .cli_support import Aws, aws_for_cli, odr

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "tests" / "fixtures" / "records"
DISTRICT = ROOT / "data" / "district"
EXAMPLES = sorted(p.name for p in RECORDS.glob("*.json"))

EXPLANATION_KEYS = {
    "complaint_id",
    "revision",
    "status",
    "registered_at",
    "registration_day",
    "registered_at_overridden",
    "consumer",
    "district",
    "directory",
    "valid",
    "problems",
    "screening",
    "route",
    "deadlines",
    "outcome",
    "outcome_reason",
}
DEADLINE_KEYS = {
    "phase",
    "phase_name",
    "policy",
    "policy_scope",
    "start_at",
    "last_day",
    "due_at",
    "remind_at",
    "calendar",
    "calendar_version",
    "fallback",
    "rule",
}
OUTCOMES = {
    "bad-record.json": "quarantined",
    "not-in-directory.json": "regular",
    "odr-by-uscc.json": "odr",
    "shop-name-only.json": "regular",
    "time-barred.json": "rejected",
    "withdrawn.json": "withdrawn",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Aws]:
    """Tables holding the sample district, imported through the CLI."""
    with aws_for_cli(monkeypatch) as env:
        assert odr(capsys, "stations", "import", DISTRICT / "stations.csv").code == 0
        assert odr(capsys, "directory", "import", DISTRICT / "odr-directory.csv").code == 0
        yield env


def explained(capsys: pytest.CaptureFixture[str], *args: Any) -> dict[str, Any]:
    result = odr(capsys, "explain", *args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_is_explained_from_the_table_as_from_the_files(aws: Aws, capsys, name: str) -> None:
    from_table = explained(capsys, RECORDS / name)
    offline = explained(capsys, RECORDS / name, "--district", DISTRICT)
    assert set(from_table) == EXPLANATION_KEYS
    assert from_table["outcome"] == OUTCOMES[name]
    assert from_table["directory"] == f"DirectoryTable {aws.directory_table}, revision 2"
    assert offline["directory"] == f"files in {DISTRICT}"
    assert {**from_table, "directory": ""} == {**offline, "directory": ""}
    for deadline in from_table["deadlines"].values():
        assert set(deadline) == DEADLINE_KEYS


def test_the_json_of_an_odr_case(aws: Aws, capsys) -> None:
    e = explained(capsys, RECORDS / "odr-by-uscc.json")
    assert e["valid"] and e["problems"] == []
    assert e["registered_at"] == "2026-11-30T09:12:44+08:00" and e["registration_day"] == "2026-11-30"
    assert e["screening"] == {
        "accepted": True,
        "rule": "acceptance_conditions_met",
        "reason": "符合受理条件",
        "refusal_reason": None,
        "rules_checked": ["outside_jurisdiction", "handled_elsewhere", "time_barred", "incomplete"],
    }
    route = e["route"]
    assert (route["decision"], route["rule"], route["matched_by"]) == ("odr", "odr_directory_member", "uscc")
    assert (route["station_code"], route["station_name"], route["station_rule"]) == (
        "JS-ZJ",
        "朱泾市场监管所",
        "respondent_township",
    )
    assert route["enterprise"] == {
        "uscc": "91310116MA1JK7Q26H",
        "name": "上海金枫云购电子商务有限公司",
        "enterprise_class": "A",
        "class_name": "大型综合类电商",
        "station_code": "JS-ZJ",
        "listed_on": "2024-03-01",
        "delisted_on": None,
        "listed_on_registration_day": True,
    }
    acceptance = e["deadlines"]["acceptance"]
    assert {k: acceptance[k] for k in ("due_at", "remind_at", "policy", "calendar", "fallback")} == {
        "due_at": "2026-12-03T00:00:00+08:00",
        "remind_at": "2026-12-02T00:00:00+08:00",
        "policy": "2 个自然日",
        "calendar": "natural-days",
        "fallback": False,
    }
    assert e["deadlines"]["resolution"]["due_at"] == "2026-12-08T00:00:00+08:00"


def test_as_of_moves_the_registration_day_for_the_time_bar(aws: Aws, capsys) -> None:
    record = RECORDS / "time-barred.json"  # harm known 2023-08-15: the last day to register is 2026-08-15
    last_day = explained(capsys, record, "--as-of", "2026-08-15")
    assert last_day["registered_at"] == "2026-08-15T00:00:00+08:00" and last_day["registered_at_overridden"]
    assert last_day["screening"]["accepted"] and last_day["outcome"] == "regular"
    day_after = explained(capsys, record, "--as-of", "2026-08-16T08:00:00")
    assert day_after["screening"]["rule"] == "time_barred" and day_after["outcome"] == "rejected"
    bad = odr(capsys, "explain", record, "--as-of", "next tuesday")
    assert bad.code == 2 and "not an ISO date or date-time" in bad.err


def test_the_text_shows_each_step_and_no_consumer_data_in_clear(aws: Aws, capsys) -> None:
    result = odr(capsys, "explain", RECORDS / "odr-by-uscc.json")
    assert result.code == 0
    assert "投诉人 Consumer name 林*, phone 137****4567, address 上海市***" in result.out
    assert "3. 分派 Route: ODR [odr_directory_member]" in result.out
    for clear in ("林晓", "13761234567", "朱泾镇某路1号"):
        assert clear not in result.out
    bad = odr(capsys, "explain", RECORDS / "bad-record.json")
    assert "1. 校验 Validation: INVALID — 4 problem(s)" in bad.out
    assert "   - respondent.uscc: credit code check character is wrong" in bad.out


def test_a_record_from_standard_input(aws: Aws, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO((RECORDS / "shop-name-only.json").read_text(encoding="utf-8")))
    e = explained(capsys, "-")
    assert e["route"]["rule"] == "consumer_not_opted_in" and e["route"]["matched_by"] == "shop_name"


def test_bad_input_gets_a_clear_error(aws: Aws, capsys, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"complaint_id": ', encoding="utf-8")
    broken = odr(capsys, "explain", tmp_path / "broken.json")
    assert broken.code == 1 and "is not a JSON record" in broken.err
    missing = odr(capsys, "explain", tmp_path / "missing.json")
    assert missing.code == 1 and "cannot read" in missing.err
    alone = odr(capsys, "explain", RECORDS / "odr-by-uscc.json", "--policies", tmp_path / "p.yaml")
    assert alone.code == 2 and "--policies goes with --district" in alone.err


def test_offline_files_are_validated_like_an_import(aws: Aws, capsys, tmp_path: Path) -> None:
    (tmp_path / "stations.csv").write_text((DISTRICT / "stations.csv").read_text(encoding="utf-8"), encoding="utf-8")
    directory = (DISTRICT / "odr-directory.csv").read_text(encoding="utf-8").replace(",A,JS-ZJ,", ",A,JS-XX,", 1)
    (tmp_path / "odr-directory.csv").write_text(directory, encoding="utf-8")
    result = odr(capsys, "explain", RECORDS / "odr-by-uscc.json", "--district", tmp_path)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{tmp_path / 'odr-directory.csv'}: 1 problem(s); nothing was written",
        "  line 2, station_code: unknown station JS-XX",
    ]


def test_offline_policies_come_from_a_file(aws: Aws, capsys, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("by_class:\n  A: {acceptance: {days: 5}}\n", encoding="utf-8")
    e = explained(capsys, RECORDS / "odr-by-uscc.json", "--district", DISTRICT, "--policies", tmp_path / "p.yaml")
    acceptance = e["deadlines"]["acceptance"]
    assert (acceptance["policy_scope"], acceptance["due_at"]) == ("class A", "2026-12-06T00:00:00+08:00")
