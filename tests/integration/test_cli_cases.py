"""``odr cases export``: closed cases of a period read per station through the ByStation index (moto, Query only,
never a Scan), written anonymised as JSON lines and as a workbook; ``odr cases heal --backfill``: the one-off
Scan that puts the cases stored before ByOwed on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from openpyxl import load_workbook

from odr_adapter.data_access.case_items import case_item
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.clients import client
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.models.case import Case, PendingWait
from odr_cli.district_files import read_district
from tests.unit.test_case_library import assert_nothing_personal, closed_case

from .cli_support import Aws, aws_for_cli, odr

DISTRICT = Path(__file__).resolve().parents[2] / "data" / "district"
_SER = TypeSerializer()
WEEK = ("--from", "2026-11-30", "--to", "2026-12-06")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with aws_for_cli(monkeypatch) as resources:
        DirectoryStore(resources.directory_table).replace(read_district(DISTRICT))
        store = CaseStore(resources.cases_table)
        closed = [
            closed_case("3101160000000202611300031", "JS-ZJ", days=6),  # closed 2026-12-06
            closed_case("3101160000000202611300032", "JS-FJ", overdue=True),  # closed 2026-12-02
            closed_case("3101160000000202611300033", "JS-INTAKE", days=3),  # the intake desk's
            closed_case("3101160000000202611300034", "JS-ZJ", days=7),  # closed 2026-12-07: after the period
        ]
        still_open = closed_case("3101160000000202611300035", "JS-ZJ").model_copy(
            update={"status": "accepted", "outcome": None, "closed_at": None}
        )
        for case in [*closed, still_open]:
            _put(store, case)
        yield resources


def _put(store: CaseStore, case: Case) -> None:
    first = case.model_copy(update={"version": 1})
    store.save(first, first.history[-1])


def _operations() -> list[str]:
    called: list[str] = []

    def record(model: Any, **_: Any) -> None:
        called.append(model.name)

    client("dynamodb").meta.events.register("before-call.dynamodb", record)
    return called


def test_the_export_reads_closed_cases_of_the_period_by_query_and_writes_both_formats(
    aws: Aws, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    jsonl, xlsx = tmp_path / "library.jsonl", tmp_path / "library.xlsx"
    called = _operations()
    result = odr(capsys, "cases", "export", "--anonymised", *WEEK, "--jsonl", jsonl, "--xlsx", xlsx)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"3 cases written to {jsonl}", f"3 cases written to {xlsx}"]
    assert "Query" in called and "Scan" not in called

    cases = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [c["outcome"] for c in cases] == ["returned", "settled", "settled"]  # in the order they closed
    assert [c["steps"][-1] for c in cases] == ["D+2 closed", "D+3 closed", "D+6 closed"]
    book = load_workbook(xlsx)
    assert book.sheetnames == ["案例", "步骤"]
    rows = list(book["案例"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [c["label"] for c in cases]
    steps = list(book["步骤"].iter_rows(min_row=2, values_only=True))
    assert len(steps) == sum(len(c["steps"]) for c in cases)
    assert steps[0][:4] == (cases[0]["label"], 1, "D+0", "received")

    cells = "\n".join(str(v) for s in book.worksheets for r in s.iter_rows(values_only=True) for v in r if v)
    for text in (jsonl.read_text(encoding="utf-8"), cells):
        assert_nothing_personal(text)
        assert "3101160000000202611300031" not in text and "91310116MA1JK7Q26H" not in text


def test_labels_are_the_same_in_every_export_with_a_salt(
    aws: Aws, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASE_LIBRARY_SALT", "district-secret")
    labels = []
    for name in ("one.jsonl", "two.jsonl"):
        assert odr(capsys, "cases", "export", "--anonymised", *WEEK, "--jsonl", tmp_path / name).code == 0
        labels.append([json.loads(line)["label"] for line in (tmp_path / name).read_text().splitlines()])
    assert labels[0] == labels[1]


def test_there_is_no_export_that_is_not_anonymised(
    aws: Aws, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = odr(capsys, "cases", "export", *WEEK, "--jsonl", tmp_path / "x.jsonl")
    assert result.code == 2 and "--anonymised" in result.err
    assert not (tmp_path / "x.jsonl").exists()
    assert odr(capsys, "cases", "export", "--anonymised", *WEEK).code == 2  # nowhere to write


def test_a_period_of_one_shanghai_day_holds_the_case_closed_that_day(
    aws: Aws, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "day.jsonl"
    result = odr(
        capsys, "cases", "export", "--anonymised", "--from", "2026-12-07", "--to", "2026-12-07", "--jsonl", out
    )
    assert result.code == 0 and len(out.read_text().splitlines()) == 1


def _stored_before_the_owing_index(aws: Aws, case: Case) -> None:
    """The item as the codec wrote it before ByOwed existed: no owes_pk, no owes_since."""
    item = {k: v for k, v in case_item(case).items() if k not in ("owes_pk", "owes_since")}
    client("dynamodb").put_item(TableName=aws.cases_table, Item={k: _SER.serialize(v) for k, v in item.items()})


def test_heal_backfill_puts_the_cases_stored_before_the_owing_index_on_it_once(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    at = datetime.fromisoformat("2026-11-30T09:13:00+08:00")
    base = closed_case("3101160000000202611300041", "JS-ZJ")
    received = base.model_copy(  # its execution failed before its first step (the old intake marked the start)
        update={
            "status": "received",
            "outcome": None,
            "closed_at": None,
            "screening": None,
            "route": None,
            "execution_started": True,
            "history": base.history[:1],
            "version": 1,
        }
    )
    owing = closed_case("3101160000000202611300042", "JS-ZJ").model_copy(  # a callback owed, recorded at ``at``
        update={
            "status": "accepted",
            "outcome": None,
            "closed_at": None,
            "execution_started": True,
            "pending": PendingWait(
                phase="acceptance", task_token="t", since=at, answer={"action": "accepted"}, answered_at=at
            ),
        }
    )
    for case in (received, owing):
        _stored_before_the_owing_index(aws, case)
    store = CaseStore(aws.cases_table)
    later = at + timedelta(days=30)
    assert not {received.complaint_id, owing.complaint_id} & set(store.owing(later))
    called = _operations()

    result = odr(capsys, "cases", "heal", "--backfill")

    assert result.code == 0, result.err
    assert result.out.startswith("2 open cases were off the ByOwed index: 1 never got past the workflow's first step")
    assert called.count("Scan") == 1  # the one-off migration's Scan (the fixture's open case is on the index)
    assert {received.complaint_id, owing.complaint_id} <= set(store.owing(later))
    stored = store.get(received.complaint_id)
    assert stored is not None and not stored.execution_started and stored.history[-1].event == "workflow_start_owed"
    assert odr(capsys, "cases", "heal", "--backfill").out.startswith("0 open cases were off the ByOwed index")
    assert odr(capsys, "cases", "heal").code == 2
