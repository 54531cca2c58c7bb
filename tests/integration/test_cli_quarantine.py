"""``odr quarantine list | show | redrive`` against the case table and the intake queue (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from odr_adapter.data_access.quarantine import QuarantineStore
from odr_adapter.data_access.queues import Queue
from odr_adapter.models.record import RecordInvalid, parse_record

from .cli_support import Aws, aws_for_cli, odr

RECORDS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "records"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with aws_for_cli(monkeypatch) as env:
        yield env


def quarantine(aws: Aws, raw: Any, at: str) -> str:
    """Quarantine ``raw`` as intake does: with every problem the record validator finds."""
    with pytest.raises(RecordInvalid) as invalid:
        parse_record(raw)
    return QuarantineStore(aws.cases_table).put(raw, [p.model_dump() for p in invalid.value.problems], at)


def bad_record() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((RECORDS / "bad-record.json").read_text(encoding="utf-8"))
    raw["consumer"] = {"name": "王小明", "phone": "1380013800", "address": "上海市金山区朱泾镇人民路8号"}
    raw["description"] = "商家电话不通,请打我手机 13800138000 联系"
    return raw


def no_id_record() -> dict[str, Any]:
    return {"revision": 1, "consumer": {"name": "李雷", "phone": "13912345678"}}


def received(aws: Aws) -> list[dict[str, Any]]:
    sqs = aws.client("sqs")
    got = sqs.receive_message(QueueUrl=aws.intake_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_list_shows_every_entry_oldest_first(aws: Aws, capsys) -> None:
    assert odr(capsys, "quarantine", "list").out == "0 quarantined record(s)\n"
    second = quarantine(aws, no_id_record(), "2026-11-30T10:00:00+00:00")
    first = quarantine(aws, bad_record(), "2026-11-30T09:00:00+00:00")
    listed = odr(capsys, "quarantine", "list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[0] == "2 quarantined record(s)"
    assert lines[1].split()[:3] == [first, "3101160000000202611300040", "2026-11-30T09:00:00+00:00"]
    assert lines[1].endswith("  3: consumer.phone, respondent.uscc, transaction.amount")
    assert lines[2].split()[:3] == [second, "(no", "id)"]
    as_json = json.loads(odr(capsys, "quarantine", "list", "--json").out)
    assert [e["id"] for e in as_json] == [first, second]
    assert set(as_json[0]) == {"id", "complaint_id", "quarantined_at", "problems"}
    assert "王小明" not in listed.out + json.dumps(as_json, ensure_ascii=False)


def test_show_masks_personal_data_and_lists_the_problems(aws: Aws, capsys) -> None:
    entry = quarantine(aws, bad_record(), "2026-11-30T09:00:00+00:00")
    shown = odr(capsys, "quarantine", "show", entry)
    assert shown.code == 0
    assert "  - respondent.uscc: credit code check character is wrong" in shown.out
    for clear in ("王小明", "1380013800", "人民路8号", "13800138000"):
        assert clear not in shown.out
    as_json = json.loads(odr(capsys, "quarantine", "show", entry, "--json").out)
    assert as_json["record"]["consumer"] == {"name": "王**", "phone": "138****3800", "address": "上海市***"}
    assert as_json["record"]["description"] == "商家电话不通,请打我手机 138**** 联系"
    assert as_json["record"]["respondent"]["uscc"] == "91310116MA1H3N8W6G"
    unknown = odr(capsys, "quarantine", "show", "0000000000000000")
    assert unknown.code == 1 and "no quarantined record 0000000000000000" in unknown.err


def test_redrive_sends_the_raw_record_to_intake_and_then_removes_the_entry(aws: Aws, capsys) -> None:
    raw = bad_record()
    entry = quarantine(aws, raw, "2026-11-30T09:00:00+00:00")
    other = quarantine(aws, no_id_record(), "2026-11-30T10:00:00+00:00")
    result = odr(capsys, "quarantine", "redrive", entry)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"redriven {entry} 3101160000000202611300040",
        "1 record(s) sent to intake",
    ]
    assert received(aws) == [{"record": raw, "source": "redrive"}]
    store = QuarantineStore(aws.cases_table)
    assert store.get(entry) is None
    assert [e["id"] for e in store.all()] == [other]


def test_redrive_all(aws: Aws, capsys) -> None:
    quarantine(aws, bad_record(), "2026-11-30T09:00:00+00:00")
    quarantine(aws, no_id_record(), "2026-11-30T10:00:00+00:00")
    result = odr(capsys, "quarantine", "redrive", "--all")
    assert result.code == 0 and result.out.splitlines()[-1] == "2 record(s) sent to intake"
    assert sorted(m["record"].get("complaint_id", "") for m in received(aws)) == ["", "3101160000000202611300040"]
    assert QuarantineStore(aws.cases_table).all() == []


def test_an_unknown_id_sends_nothing(aws: Aws, capsys) -> None:
    entry = quarantine(aws, bad_record(), "2026-11-30T09:00:00+00:00")
    result = odr(capsys, "quarantine", "redrive", entry, "ffffffffffffffff")
    assert result.code == 1 and "no quarantined record ffffffffffffffff; nothing was sent" in result.err
    assert received(aws) == []
    assert QuarantineStore(aws.cases_table).get(entry) is not None
    assert odr(capsys, "quarantine", "redrive").code == 2
    assert odr(capsys, "quarantine", "redrive", entry, "--all").code == 2


def test_a_failed_send_keeps_the_entry(aws: Aws, capsys) -> None:
    entry = quarantine(aws, bad_record(), "2026-11-30T09:00:00+00:00")
    aws.client("sqs").delete_queue(QueueUrl=aws.intake_queue_url)
    result = odr(capsys, "quarantine", "redrive", entry)
    assert result.code == 1
    assert f"{entry} was not sent to intake" in result.err and "it stays in quarantine" in result.err
    assert QuarantineStore(aws.cases_table).get(entry) is not None


def test_an_entry_quarantined_again_during_the_redrive_is_kept(aws: Aws) -> None:
    """Intake may reject the redriven record before the entry is removed: its fresh entry must survive."""
    store = QuarantineStore(aws.cases_table)
    raw = bad_record()
    entry = store.get(quarantine(aws, raw, "2026-11-30T09:00:00+00:00"))
    assert entry is not None

    class IntakeQuarantinesAgain:
        def send(self, body: dict[str, Any]) -> None:
            Queue(aws.intake_queue_url).send(body)
            quarantine(aws, body["record"], "2026-11-30T09:05:00+00:00")

    assert store.redrive(entry, IntakeQuarantinesAgain()) is False
    kept = store.get(entry["id"])
    assert kept is not None and kept["quarantined_at"] == "2026-11-30T09:05:00+00:00"
