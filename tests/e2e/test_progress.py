"""Progress to 12315 on the whole local stack under platform faults (progress.yaml): the progress and results
endpoints answer 503, 429 and drop replies, yet every case closes on time, and every stage of every case reaches
the platform once, in the order it happened (or is superseded by an outcome that got there first)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from odr_adapter.feed.progress import stages

from .conftest import PathsRun, _run


@pytest.fixture(scope="module")
def faulty_platform() -> Iterator[PathsRun]:
    yield from _run("progress.yaml")


def test_platform_faults_hold_up_no_case(faulty_platform: PathsRun) -> None:
    cases = [faulty_platform.case(c["complaint_id"]) for c in faulty_platform.result["cases"]]
    odr = [c for c in cases if c.enterprise is not None and c.route and c.route.rule == "odr_directory_member"]
    faults = faulty_platform.result["feed"]["faults"]

    assert sum(faults.values()) >= 10, faults  # the platform misbehaved throughout
    assert odr and all(c.status == "closed" for c in cases)
    assert all(c.outcome in ("settled", "not_settled") and not c.overdue for c in odr)  # every deadline met


def test_every_stage_reaches_the_platform_once_and_in_order(faulty_platform: PathsRun) -> None:
    progress = faulty_platform.result["progress"]

    assert progress["stages"] >= 40
    assert progress["recorded"] + progress["superseded"] == progress["stages"]
    assert (progress["missing"], progress["unexpected"], progress["out_of_order"]) == (0, 0, 0)
    assert (progress["conflicting"], progress["invalid"]) == (0, 0)
    assert "progress: stages" in faulty_platform.output


def test_a_case_sent_back_reports_its_second_round(faulty_platform: PathsRun) -> None:
    log = faulty_platform.stack.simulator.progress_log
    sent_back = [c for c in faulty_platform.result["cases"] if faulty_platform.case(c["complaint_id"]).send_backs]
    assert sent_back
    case = faulty_platform.case(sent_back[0]["complaint_id"])
    recorded = [r["key"] for r in log if r["complaint_id"] == case.complaint_id]
    expected = [s.key(case.complaint_id) for s in stages(case)]

    assert f"{case.complaint_id}-result_reported-2" in expected
    assert recorded == expected[: len(recorded)]
