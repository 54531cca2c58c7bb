"""The simulator's progress endpoint (contract v1.1, section 4a) seen by a raw HTTP client: keys, validation,
the outcome that closes progress, faults."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from odr_local.simulator import Simulator

AT = "2026-11-30T10:00:00+08:00"
AUTH = {"Authorization": "Bearer sim-token"}
ENTERPRISE = {"name": "上海金枫云购电子商务有限公司", "uscc": "91310116MA1JK7Q26H"}
ACCEPTED = {"stage": "accepted", "at": AT, "handled_by": ENTERPRISE, "note": "企业已受理"}


def publish(sim: Simulator, complaint_id: str) -> None:
    sim.publish(
        {
            "complaint_id": complaint_id,
            "revision": 1,
            "status": "submitted",
            "updated_at": datetime.fromisoformat(AT).isoformat(),
            "consumer": {"name": "王小明", "phone": "13812345678", "address": "上海市金山区朱泾镇某路1号"},
        }
    )


def post(sim: Simulator, complaint_id: str, body: Any, key: str | None = "K-1") -> requests.Response:
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return requests.post(f"{sim.url}/v1/complaints/{complaint_id}/progress", json=body, headers=headers, timeout=10)


def test_a_stage_is_recorded_once_per_key(sim: Simulator) -> None:
    publish(sim, "C-PROGRESS-01")

    first = post(sim, "C-PROGRESS-01", ACCEPTED, "C-PROGRESS-01-accepted-1")
    again = post(sim, "C-PROGRESS-01", ACCEPTED, "C-PROGRESS-01-accepted-1")
    other = post(sim, "C-PROGRESS-01", {**ACCEPTED, "note": "改了"}, "C-PROGRESS-01-accepted-1")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert [r["key"] for r in sim.progress_log] == ["C-PROGRESS-01-accepted-1"]
    counters = sim.counters()
    assert (counters["progress_recorded"], counters["progress_repeated"], counters["progress_conflicting"]) == (1, 1, 1)


def test_a_station_stage_names_the_station_by_code_and_name(sim: Simulator) -> None:
    publish(sim, "C-PROGRESS-02")
    body = {"stage": "under_review", "at": AT, "handled_by": {"code": "JS-ZJ", "name": "朱泾市场监管所"}}

    assert post(sim, "C-PROGRESS-02", body).status_code == 201


def test_a_body_that_breaks_the_contract_is_refused_with_every_problem(sim: Simulator) -> None:
    publish(sim, "C-PROGRESS-03")
    bad = {
        "stage": "closed",  # not a stage
        "at": "2026-11-30T10:00:00",  # no offset
        "handled_by": {"name": "某企业", "uscc": "123"},  # not a credit code, nor a station
        "note": "长" * 201,
        "extra": 1,
    }

    got = post(sim, "C-PROGRESS-03", bad)

    assert got.status_code == 400
    fields = {p["field"].split(".")[0] for p in got.json()["problems"]}
    assert {"stage", "handled_by", "note", "extra"} <= fields
    no_offset = post(sim, "C-PROGRESS-03", {**ACCEPTED, "at": "2026-11-30T10:00:00"})
    assert no_offset.status_code == 400 and "offset" in no_offset.text
    assert sim.progress_log == [] and sim.counters()["progress_invalid"] == 2


def test_a_note_with_the_consumers_personal_data_is_refused(sim: Simulator) -> None:
    publish(sim, "C-PROGRESS-04")

    for n, note in enumerate(("已联系王小明", "回访13812345678")):
        got = post(sim, "C-PROGRESS-04", {**ACCEPTED, "note": note}, f"K-{n}")
        assert got.status_code == 400 and got.json()["problems"] == [
            {"field": "note", "reason": "carries the consumer's personal data"}
        ]


def test_progress_after_the_outcome_is_unprocessable(sim: Simulator) -> None:
    publish(sim, "C-PROGRESS-05")
    assert post(sim, "C-PROGRESS-05", ACCEPTED, "C-PROGRESS-05-accepted-1").status_code == 201
    outcome = {"outcome": "settled", "recovered_amount": "1.00", "closed_at": AT, "handled_by": "x"}
    reported = requests.post(
        f"{sim.url}/v1/complaints/C-PROGRESS-05/results",
        json=outcome,
        headers={**AUTH, "Idempotency-Key": "C-PROGRESS-05-settled"},
        timeout=10,
    )
    assert reported.status_code == 201

    late = post(sim, "C-PROGRESS-05", {**ACCEPTED, "stage": "under_review"}, "C-PROGRESS-05-under_review-1")

    assert late.status_code == 422
    assert [r["key"] for r in sim.superseded_log] == ["C-PROGRESS-05-under_review-1"]
    assert [r["key"] for r in sim.progress_log] == ["C-PROGRESS-05-accepted-1"]


def test_unknown_complaints_missing_keys_and_bad_tokens_are_refused(sim: Simulator) -> None:
    assert post(sim, "C-NOBODY", ACCEPTED).status_code == 404
    publish(sim, "C-PROGRESS-06")
    assert post(sim, "C-PROGRESS-06", ACCEPTED, key=None).status_code == 400
    wrong = requests.post(
        f"{sim.url}/v1/complaints/C-PROGRESS-06/progress",
        json=ACCEPTED,
        headers={"Authorization": "Bearer nope", "Idempotency-Key": "K"},
        timeout=10,
    )
    assert wrong.status_code == 401


def test_faults_hit_progress_when_targeted_and_a_dropped_reply_keeps_the_stage(sim: Simulator) -> None:
    publish(sim, "C-PROGRESS-07")
    sim.faults.update(targets=["progress"], script=["error", "drop"])

    assert post(sim, "C-PROGRESS-07", ACCEPTED, "K-7").status_code == 503
    try:
        post(sim, "C-PROGRESS-07", ACCEPTED, "K-7")
        raise AssertionError("the reply should have been dropped")
    except requests.ConnectionError:
        pass
    assert post(sim, "C-PROGRESS-07", ACCEPTED, "K-7").status_code == 200  # recorded before the reply was lost
    assert sim.counters()["faults"] == {"error": 1, "drop": 1}
