"""Reports, charts, files and scorecards from counters (kept in memory by the domain's CounterBook)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from odr_adapter.models.counters import ALL
from odr_adapter.models.directory import District
from odr_adapter.models.scorecard_rules import ExitReviewRule, ScorecardRules
from odr_adapter.stats.counters import CounterBook, change_deltas
from odr_adapter.stats.figures import Figures, Period, PeriodInvalid, build_report, counts_cover, totals
from odr_adapter.stats.scorecards import scorecards
from odr_cli.report_export import cycle_label, render_html, write_xlsx
from odr_cli.report_text import report_table, width
from odr_cli.scorecards import scorecard_text

from .test_counters import WEEK, counted, known_week

FIVE, SEVEN = (ScorecardRules(exit_review=ExitReviewRule(min_cases=n)) for n in (5, 7))
EVERY_DAY_FROM, EVERY_DAY_TO = date(2025, 1, 1), date(2027, 12, 31)


def one_a_day() -> CounterBook:
    """One received complaint on every day of 2025-2027, in day and month buckets alike."""
    book = CounterBook()
    d = EVERY_DAY_FROM
    while d <= EVERY_DAY_TO:
        for bucket in (f"D#{d}", f"M#{d:%Y-%m}"):
            book.add({(ALL, bucket): {"received": Decimal(1)}})
        d += timedelta(days=1)
    return book


ONE_A_DAY = one_a_day()


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=EVERY_DAY_FROM, max_value=EVERY_DAY_TO),
    st.integers(min_value=0, max_value=800),
)
def test_a_period_reads_each_of_its_days_exactly_once(first: date, length: int) -> None:
    last = min(first + timedelta(days=length), EVERY_DAY_TO)
    period = Period(first, last)
    assert totals(ONE_A_DAY, ALL, period).count("received") == period.days


def test_long_periods_read_months_and_only_the_partial_months_by_day() -> None:
    assert Period(date(2026, 1, 15), date(2026, 6, 10)).ranges() == [
        ("D#2026-01-15", "D#2026-01-31"),
        ("M#2026-02", "M#2026-05"),
        ("D#2026-06-01", "D#2026-06-10"),
    ]
    assert Period(date(2026, 1, 1), date(2026, 12, 31)).ranges() == [("M#2026-01", "M#2026-12")]
    assert Period(date(2026, 11, 3), date(2026, 11, 20)).ranges() == [("D#2026-11-03", "D#2026-11-20")]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (None, "2026-11-30", "give both 'from' and 'to'"),
        ("2026-11-30", "", "give both 'from' and 'to'"),
        ("2026-13-01", "2026-12-31", "dates are YYYY-MM-DD"),
        ("30/11/2026", "2026-12-31", "dates are YYYY-MM-DD"),
        ("2026-12-01", "2026-11-30", "starts (2026-12-01) after it ends (2026-11-30)"),
        ("2000-01-01", "2026-11-30", "at most 3660 days"),
    ],
)
def test_a_bad_period_says_what_is_wrong(first: str | None, last: str, message: str) -> None:
    with pytest.raises(PeriodInvalid, match=re.escape(message)):
        Period.parse(first, last)


def test_rates_round_half_up_like_the_bureau() -> None:
    f = Figures({"handled": Decimal(8), "settled": Decimal(1), "closed_on_time": Decimal(5)})
    assert (f.success_rate, f.on_time_closure_rate, f.on_time_acceptance_rate) == (Decimal(13), Decimal(63), None)
    f = Figures({"handled": Decimal(3), "cycle_days": Decimal("7.00")})
    assert f.average_cycle_days == Decimal("2.3")


def test_the_trend_has_every_day_of_the_period_and_rates_only_where_cases_were_handled() -> None:
    report = build_report(counted(known_week()), WEEK)
    trend = report.as_dict()["trend"]
    assert [t["period"] for t in trend] == ["2026-11-30"] + [f"2026-12-0{d}" for d in range(1, 7)]
    # 2 Dec: c3 closed overdue; 3 and 4 Dec: c1 and c2 on time; 5 Dec: nothing handled; 6 Dec: c4.
    assert [t["on_time_closure_rate_percent"] for t in trend] == [None, None, "0", "100", "100", None, "100"]


def test_the_text_table_aligns_chinese_labels() -> None:
    report = build_report(counted(known_week()), WEEK, {"JS-ZJ": "朱泾市场监管所"})
    lines = report_table(report).splitlines()
    assert lines[1].startswith("A类 大型综合类电商") and lines[1].endswith("199.00")
    assert "合计" in lines[4] and lines[4].endswith("1498.00")
    assert len({width(line) for line in lines[:5]}) == 1
    assert (
        "当前案件状态: 已登记待分流 0, 待监管所受理审查 0, 待企业受理 0, 企业办理中 0, 待监管所审核 0, 已办结 7"
        in lines
    )


def test_the_html_report_is_self_contained_with_three_charts(tmp_path: Path) -> None:
    report = build_report(counted(known_week()), WEEK, {"JS-ZJ": "朱泾<所>"})
    html = render_html(report, datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    assert report.sentence() in html
    assert html.count("<svg") == 3 and "<script" not in html
    assert re.findall(r"(?:src|href)=\"https?:", html) == []
    assert "朱泾&lt;所&gt;" in html and "朱泾<所>" not in html
    assert "生成于 2026-12-07 10:00" in html
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ElementTree.fromstring(svg)  # well-formed SVG
    assert "成功率 33%" in html and "成功率 100%" in html


def test_the_workbook_holds_the_sentence_the_figures_and_real_percentages(tmp_path: Path) -> None:
    report = build_report(counted(known_week()), WEEK, {"JS-ZJ": "朱泾市场监管所"})
    path = tmp_path / "report.xlsx"
    write_xlsx(report, path)
    book = load_workbook(path)
    summary = book["汇总"]
    assert summary["A2"].value == report.sentence()
    header = [c.value for c in summary[4]]
    a_row = {h: c for h, c in zip(header, summary[5], strict=True)}
    assert a_row["类别"].value == "A类 大型综合类电商"
    assert (a_row["办理"].value, a_row["和解成功"].value) == (3, 1)
    assert a_row["和解成功率"].value == pytest.approx(0.33) and a_row["和解成功率"].number_format == "0%"
    assert a_row["挽回经济损失(元)"].value == 199.0
    assert book["市场监管所"]["A2"].value == "朱泾市场监管所"
    distribution = {r[0].value: r[1].value for r in book["办理周期分布"].iter_rows(min_row=2)}
    assert distribution == {cycle_label(b): n for b, n in report.as_dict()["cycle_distribution"].items()}
    assert distribution["3–5天"] == 2 and distribution["15天以上"] == 0


def test_scorecards_rank_only_with_enough_cases_and_flag_with_the_figures(district: District) -> None:
    jinfeng, shanyang, fengjing = (
        district.by_uscc(u) for u in ("91310116MA1JK7Q26H", "91310116MA1H3N8W6F", "91310116MA1FL2T66W")
    )
    assert jinfeng and shanyang and fengjing
    book = CounterBook()
    day = "D#2026-12-01"
    book.add(
        {
            (f"ENT#{jinfeng.uscc}", day): {
                "dispatched": Decimal(10),
                "accepted_on_time": Decimal(10),
                "handled": Decimal(10),
                "closed_on_time": Decimal(9),
                "settled": Decimal(8),
            },
            (f"ENT#{shanyang.uscc}", day): {
                "dispatched": Decimal(12),
                "accepted_on_time": Decimal(11),
                "handled": Decimal(12),
                "closed_on_time": Decimal(7),
                "settled": Decimal(5),
            },
            (f"ENT#{fengjing.uscc}", day): {"dispatched": Decimal(2), "handled": Decimal(2)},
        }
    )
    period = Period(date(2026, 12, 1), date(2026, 12, 31))
    cards = scorecards(book, period, district.enterprises, FIVE)
    assert [(c.enterprise.uscc, c.rank) for c in cards[:3]] == [
        (jinfeng.uscc, 1),
        (shanyang.uscc, 2),
        (fengjing.uscc, None),
    ]
    shanyang_card = cards[1]
    assert [f.text() for f in shanyang_card.flags] == [
        "按时办结率 58.3% (7/12) 低于 80%",
        "和解成功率 41.7% (5/12) 低于 60%",
    ]
    assert cards[0].flags == [] and cards[2].flags == []  # two cases say nothing either way
    delisted = "91310116MA1P7H6K8B"  # delisted on 2026-06-30
    assert delisted not in {c.enterprise.uscc for c in cards}
    text = scorecard_text(cards, period, FIVE)
    assert "动态退出审查: 1 家企业低于阈值" in text
    assert "上海山阳优选网络科技有限公司 (91310116MA1H3N8W6F, A类): 按时办结率 58.3% (7/12) 低于 80%" in text
    assert "不排名(少于5件)" in text
    assert cards[1].as_dict()["exit_review"] is True


def test_equal_scores_share_a_rank(district: District) -> None:
    usccs = [e.uscc for e in district.enterprises[:3]]
    book = CounterBook()
    for uscc in usccs:
        book.add({(f"ENT#{uscc}", "D#2026-12-05"): {"handled": Decimal(6), "closed_on_time": Decimal(6)}})
    period = Period(date(2026, 12, 1), date(2026, 12, 31))
    cards = scorecards(book, period, district.enterprises, FIVE)
    assert [c.rank for c in cards[:3]] == [1, 1, 1]
    assert scorecards(book, period, district.enterprises, SEVEN)[0].rank is None


def test_counts_cover_only_once_every_change_is_counted() -> None:
    lives = known_week()
    cases = [life.case for life in lives]
    assert counts_cover(counted(lives), cases)
    trailing = counted(lives[:-1])  # the last case's changes not counted yet
    assert not counts_cover(trailing, cases)
    last = lives[-1].changes()
    almost = counted(lives[:-1])
    for change in last[:-1]:  # all but its closure
        almost.add(change_deltas(change.old, change.new))
    assert not counts_cover(almost, cases)
    almost.add(change_deltas(last[-1].old, last[-1].new))
    assert counts_cover(almost, cases)


def test_the_covering_period_runs_from_the_first_registration_to_the_last_closure() -> None:
    cases = [life.case for life in known_week()]
    assert Period.covering(cases) == Period(date(2026, 11, 30), date(2026, 12, 6))
    open_case = known_week()[0].versions[2]  # dispatched, not closed
    assert Period.covering([open_case]) == Period(date(2026, 11, 30), date(2026, 11, 30))
    with pytest.raises(PeriodInvalid, match="no cases"):
        Period.covering([])
