"""``odr report`` and ``odr scorecard`` against counters kept by the real counters function (moto in-process)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.models.counters import ALL
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.scorecard_rules import CommendationRule, ExitReviewRule, ScorecardRules
from odr_adapter.stats.figures import Period, build_report
from odr_cli.main import main

from .test_stats_counting import StatsAws, counted_week, deliverer, sample_district, seed_directory, stats_aws

WEEK = ["--from", "2026-11-30", "--to", "2026-12-06"]


@pytest.fixture(scope="module")
def aws() -> Iterator[StatsAws]:
    """The known week counted once for every test here (a test that changes a counter puts it back)."""
    with pytest.MonkeyPatch.context() as monkeypatch, stats_aws(monkeypatch) as resources:
        seed_directory(resources, sample_district())
        counted_week(resources, deliverer())
        yield resources


def odr(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_the_report_prints_the_sentence_and_the_tables(aws: StatsAws, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = odr(capsys, "report", *WEEK)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "ODR 统计 2026-11-30 至 2026-12-06"
    assert lines[2] == (
        "三类电商ODR企业办理投诉分别为3件(和解成功率为33%)、1件(和解成功率为100%)、0件(和解成功率为—),"
        "平均办理周期3.8天,帮助消费者挽回经济损失1498.00元"
    )
    a_row = next(line for line in lines if line.startswith("A类 大型综合类电商"))
    assert a_row.split()[2:7] == ["3", "3", "3", "1", "1"]  # registered, to ODR, handled, settled, not settled
    assert any(line.startswith("朱泾市场监管所") for line in lines)


def test_json_gives_the_figures_the_api_gives(aws: StatsAws, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = odr(capsys, "report", *WEEK, "--json")
    assert code == 0
    stations = {s.code: s.name for s in sample_district().stations}
    expected = build_report(aws.stats, Period.parse("2026-11-30", "2026-12-06"), stations).as_dict()
    assert json.loads(out) == json.loads(json.dumps(expected))


def test_workbook_and_html_files_are_written(aws: StatsAws, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    xlsx, html = tmp_path / "week.xlsx", tmp_path / "week.html"
    code, out, _ = odr(capsys, "report", *WEEK, "--xlsx", xlsx, "--html", html)
    assert code == 0
    assert f"workbook written to {xlsx}" in out and f"HTML report written to {html}" in out
    sentence = out.splitlines()[2]
    assert load_workbook(xlsx)["汇总"]["A2"].value == sentence
    page = html.read_text(encoding="utf-8")
    assert sentence in page and page.count("<svg") == 3


def test_without_dates_the_report_covers_this_month_to_today(
    aws: StatsAws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local stack's env file tells its simulated time (standing still: scale 0).
    at = datetime.fromisoformat("2026-12-06T10:00:00+08:00").timestamp()
    monkeypatch.setenv("ODR_LOCAL_CLOCK", f"{at}|{time.time()}|0")
    code, out, _ = odr(capsys, "report")
    assert code == 0 and out.splitlines()[0] == "ODR 统计 2026-12-01 至 2026-12-06"


def test_verify_recounts_the_cases_and_names_each_counter_that_is_off(
    aws: StatsAws, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = odr(capsys, "report", "--verify")
    assert code == 0 and out.startswith("counters agree with a recount of every case")
    aws.stats.add({(ALL, "M#2026-12"): {"settled": Decimal(1)}})
    code, out, _ = odr(capsys, "report", "--verify")
    aws.stats.add({(ALL, "M#2026-12"): {"settled": Decimal(-1)}})
    assert code == 1
    assert out.splitlines() == [
        "1 counters differ from a recount of the cases:",
        "  ALL M#2026-12 settled: counted 3, recount 2",
    ]


def test_bad_dates_and_missing_tables_are_usage_errors(
    aws: StatsAws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert odr(capsys, "report", "--from", "2026-12-06", "--to", "2026-11-30")[0:3:2] == (
        2,
        "odr report: the period starts (2026-12-06) after it ends (2026-11-30)\n",
    )
    assert odr(capsys, "scorecard", "--to", "yesterday")[0] == 2
    monkeypatch.delenv("STATS_TABLE")
    code, _, err = odr(capsys, "report", *WEEK)
    assert code == 2 and "STATS_TABLE is not set" in err


def test_the_scorecard_ranks_and_flags_with_the_figures(aws: StatsAws, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("scorecard", *WEEK, "--min-cases", "1", "--min-settlement", "50", "--min-on-time-acceptance", "50")
    code, out, _ = odr(capsys, *args)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "企业动态管理评分 2026-11-30 至 2026-12-06"
    ranked = [line.split()[0] for line in lines[2:4]]
    assert ranked == ["上海枫泾古镇文创商贸有限公司", "上海金枫云购电子商务有限公司"]  # 100% on time before 66.7%
    assert "动态退出审查: 1 家企业低于阈值" in lines
    assert (
        "  上海金枫云购电子商务有限公司 (91310116MA1JK7Q26H, A类): 按时办结率 66.7% (2/3) 低于 80%; "
        "和解成功率 33.3% (1/3) 低于 50%"
    ) in lines
    code, out, _ = odr(capsys, *args, "--json")
    document = json.loads(out)
    assert document["rules"]["exit_review"] == {
        "min_cases": 1,
        "min_on_time_acceptance": 50,
        "min_on_time_closure": 80,
        "min_settlement": 50,
    }
    assert document["rules"]["commend"] == ScorecardRules().commend.model_dump()  # as stored: the defaults
    flagged = [c["uscc"] for c in document["scorecards"] if c["exit_review"]]
    assert flagged == document["exit_review"] == ["91310116MA1JK7Q26H"]
    assert "不排名(少于5件)" in odr(capsys, "scorecard", *WEEK)[1]


def test_the_scorecard_of_a_month_names_the_commended_by_the_stored_rule(
    aws: StatsAws, capsys: pytest.CaptureFixture[str]
) -> None:
    store = DirectoryStore(aws.directory_table)
    rules = ScorecardRules(
        exit_review=ExitReviewRule(min_cases=1),
        commend=CommendationRule(min_cases=1, min_on_time_acceptance=0, min_on_time_closure=95),
    )
    store.save_policies(DeadlinePolicies(scorecards=rules))  # what `odr policies set` stores
    try:
        code, out, _ = odr(capsys, "scorecard", "--month", "2026-12")
        _, as_json, _ = odr(capsys, "scorecard", "--month", "2026-12", "--json")
    finally:
        store.save_policies(DeadlinePolicies())
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "企业动态管理评分 2026-12-01 至 2026-12-31"
    commended = lines.index(
        "红榜: 1 家企业(按时受理率不低于0%、按时办结率不低于95%、和解成功率不低于同类企业,转ODR和办理各不少于1件)"
    )
    assert lines[commended + 1] == (
        "  上海枫泾古镇文创商贸有限公司 (91310116MA1FL2T66W, B类): 按时受理率 0.0% (0/1) ≥ 0%; "
        "按时办结率 100.0% (1/1) ≥ 95%; 和解成功率 100.0% (1/1) ≥ B类 100.0%"
    )
    assert "动态退出审查: 2 家企业低于阈值" in lines  # the same table names both lists
    document = json.loads(as_json)
    assert document["commended"] == ["91310116MA1FL2T66W"]
    assert document["exit_review"] == ["91310116MA1FL2T66W", "91310116MA1JK7Q26H"]
    assert odr(capsys, "scorecard", "--month", "2026-13")[0] == 2
    assert odr(capsys, "scorecard", "--month", "2026-12", "--from", "2026-12-01")[0] == 2
