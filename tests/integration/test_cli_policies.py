"""``odr policies show|set`` and ``odr calendar import`` against DynamoDB (moto), and their effect on deadlines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from odr_adapter.data_access.directory import DirectoryChanged, DirectoryStore
from odr_adapter.models.deadlines import DeadlinePolicies, Policy

from .cli_support import Aws, aws_for_cli, odr

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "tests" / "fixtures" / "records" / "odr-by-uscc.json"

WORKING_ACCEPTANCE = """\
# acceptance in working days for every class, resolution longer for small sellers
default:
  acceptance: {days: 3, kind: working}
  resolution: {days: 7}
  review: {days: 2}
  rework: {days: 2}
by_class:
  C:
    resolution: {days: 10, kind: working}
"""

HOLIDAYS_2027 = """\
date,kind,name
2027-01-01,holiday,元旦
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-13,holiday,春节
2027-02-14,workday,春节调休
"""


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with aws_for_cli(monkeypatch) as env:
        yield env


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_show_prints_the_defaults_while_none_are_stored(aws: Aws, capsys) -> None:
    shown = odr(capsys, "policies", "show")
    assert shown.code == 0
    assert shown.out.splitlines() == [
        "deadline policies: the defaults (none stored)",
        "phase       default",
        "acceptance  2 natural day(s)",
        "resolution  7 natural day(s)",
        "review      2 natural day(s)",
        "rework      2 natural day(s)",
        "exit review (动态退出): on-time acceptance below 90%, on-time closure below 80% or settlement below 60%, "
        "each on at least 5 cases",
        "commend (红榜): on-time acceptance at least 95% and on-time closure at least 95%, settlement at or above the "
        "class's rate, on at least 5 cases dispatched and handled",
    ]
    as_json = json.loads(odr(capsys, "policies", "show", "--json").out)
    assert DeadlinePolicies.model_validate(as_json) == DeadlinePolicies()


def test_set_prints_the_change_and_dry_run_keeps_the_stored_policies(aws: Aws, capsys, tmp_path: Path) -> None:
    document = write(tmp_path / "policies.yaml", WORKING_ACCEPTANCE)
    dry = odr(capsys, "policies", "set", document, "--dry-run")
    assert dry.code == 0
    assert dry.out.splitlines()[-4:] == [
        "changes:",
        "  default acceptance: 2 natural day(s) -> 3 working day(s)",
        "  class C resolution: (the default) -> 10 working day(s)",
        "dry run: nothing was written",
    ]
    store = DirectoryStore(aws.directory_table)
    assert store.policies_snapshot() == (DeadlinePolicies(), None)
    assert odr(capsys, "policies", "set", document).out.splitlines()[-1] == "written: deadline policies"
    stored = store.policies()
    assert stored.policy("acceptance", "A") == Policy(days=3, kind="working")
    assert stored.policy("resolution", "C") == Policy(days=10, kind="working")
    assert stored.policy("resolution", "B") == Policy(days=7, kind="natural")


def test_a_bad_policies_document_is_refused_with_every_problem(aws: Aws, capsys, tmp_path: Path) -> None:
    document = write(
        tmp_path / "policies.json",
        json.dumps({"by_class": {"D": {"acceptance": {"days": 2}}, "A": {"review": {"days": 0, "kind": "weekdays"}}}}),
    )
    result = odr(capsys, "policies", "set", document)
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0] == f"{document}: 3 problem(s); nothing was written"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  file, by_class.D.[key]",
        "  file, by_class.A.review.days",
        "  file, by_class.A.review.kind",
    ]
    assert DirectoryStore(aws.directory_table).policies_snapshot() == (DeadlinePolicies(), None)
    broken = write(tmp_path / "broken.yaml", "default: [unclosed\n")
    assert "not YAML" in odr(capsys, "policies", "set", broken).err


def explain_2027(capsys) -> dict:
    """The acceptance deadline of an ODR complaint registered on Friday 5 February 2027 (Spring Festival eve)."""
    result = odr(capsys, "explain", RECORD, "--json", "--as-of", "2027-02-05T10:00:00+08:00")
    assert result.code == 0, result.err
    return json.loads(result.out)["deadlines"]["acceptance"]


def test_after_calendar_import_a_2027_working_day_deadline_uses_the_operator_table(
    aws: Aws, capsys, tmp_path: Path
) -> None:
    assert odr(capsys, "stations", "import", ROOT / "data" / "district" / "stations.csv").code == 0
    assert odr(capsys, "directory", "import", ROOT / "data" / "district" / "odr-directory.csv").code == 0
    assert odr(capsys, "policies", "set", write(tmp_path / "p.yaml", WORKING_ACCEPTANCE)).code == 0

    before = explain_2027(capsys)
    assert (before["calendar"], before["fallback"]) == ("fallback", True)
    assert before["due_at"] == "2027-02-11T00:00:00+08:00"  # weekdays 8, 9 and 10 February

    holidays = write(tmp_path / "2027.csv", HOLIDAYS_2027)
    imported = odr(capsys, "calendar", "import", holidays, "--source", "国务院办公厅通知(测试)")
    assert imported.code == 0, imported.err
    assert imported.out.splitlines()[0] == "holiday table 2027: added (9 days off, 1 make-up working days)"

    after = explain_2027(capsys)
    assert (after["calendar"], after["calendar_version"], after["fallback"]) == (
        "operator-table",
        "国务院办公厅通知(测试):2027",
        False,
    )
    assert after["due_at"] == "2027-02-17T00:00:00+08:00"  # Sunday 14 (make-up), Monday 15, Tuesday 16
    assert after["last_day"] == date(2027, 2, 16).isoformat()


def test_calendar_import_keeps_the_policies_and_policies_set_keeps_the_tables(aws: Aws, capsys, tmp_path: Path) -> None:
    assert odr(capsys, "policies", "set", write(tmp_path / "p.yaml", WORKING_ACCEPTANCE)).code == 0
    assert odr(capsys, "calendar", "import", write(tmp_path / "2027.csv", HOLIDAYS_2027)).code == 0
    store = DirectoryStore(aws.directory_table)
    assert store.policies().policy("acceptance", None) == Policy(days=3, kind="working")
    by_class_only = write(tmp_path / "c.yaml", "by_class:\n  A: {acceptance: {days: 1}}\n")
    assert odr(capsys, "policies", "set", by_class_only).code == 0
    stored = store.policies()
    assert [t.year for t in stored.holiday_tables] == [2027]
    assert stored.policy("acceptance", None) == Policy(days=2, kind="natural")  # the default is the default again
    shown = odr(capsys, "policies", "show").out
    assert "holiday table 2027: 9 days off, 1 make-up working days (source operator)" in shown
    # what `show --json` prints, `set` takes back unchanged
    document = write(tmp_path / "round.json", odr(capsys, "policies", "show", "--json").out)
    assert odr(capsys, "policies", "set", document).out.splitlines()[-1] == "nothing to change"


def test_a_bad_holiday_table_is_refused_and_nothing_is_stored(aws: Aws, capsys, tmp_path: Path) -> None:
    rows = "date,kind\n2026-10-01,holiday\n2026-10-08,workday\n"
    result = odr(capsys, "calendar", "import", write(tmp_path / "2026.csv", rows))
    assert result.code == 1
    assert result.err.splitlines()[1:] == [
        "  file, date: chinese-calendar 1.11.0 covers 2026: its official data is used and an operator table would be "
        "ignored",
        "  line 3, date: 2026-10-08 is a Thursday: a make-up working day is a weekend day",
    ]
    assert DirectoryStore(aws.directory_table).policies_snapshot() == (DeadlinePolicies(), None)


def test_policies_changed_since_they_were_read_are_not_overwritten(aws: Aws) -> None:
    store = DirectoryStore(aws.directory_table)
    policies, text = store.policies_snapshot()
    store.save_policies(DeadlinePolicies(by_class={"B": {"review": Policy(days=5)}}))
    with pytest.raises(DirectoryChanged):
        store.replace_policies(policies, text)
    assert store.policies().policy("review", "B") == Policy(days=5)
