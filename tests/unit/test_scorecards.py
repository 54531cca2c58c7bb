"""Scorecards' two lists from counters: the commended (红榜: on time at or above the bar and settling at least as well
as the class, on enough cases) and those named for exit review; the rules stored with the deadline policies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District
from odr_adapter.models.scorecard_rules import CommendationRule, ScorecardRules
from odr_adapter.stats.counters import CounterBook
from odr_adapter.stats.figures import Period, PeriodInvalid
from odr_adapter.stats.scorecards import Scorecard, scorecards
from odr_cli.policy_import import describe_policies, diff_policies, parse_policies

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
JINFENG, SHANYANG = "91310116MA1JK7Q26H", "91310116MA1H3N8W6F"  # both class A


def counted(**by_scope: dict[str, int]) -> CounterBook:
    """Counter values of November's days per scope (``ENT_<uscc>`` or ``CLASS_<k>``), split over two days."""
    book = CounterBook()
    for scope, values in by_scope.items():
        name = scope.replace("_", "#", 1)
        first = {k: Decimal(v // 2) for k, v in values.items()}
        rest = {k: Decimal(v - v // 2) for k, v in values.items()}
        book.add({(name, "D#2026-11-03"): first, (name, "D#2026-11-28"): rest})
    return book


def card_of(book: CounterBook, district: District, uscc: str, rules: ScorecardRules | None = None) -> Scorecard:
    cards = scorecards(book, NOVEMBER, district.enterprises, rules or ScorecardRules())
    return next(c for c in cards if c.enterprise.uscc == uscc)


def figures(dispatched: int, on_time: int, handled: int, closed_on_time: int, settled: int) -> dict[str, int]:
    return {
        "dispatched": dispatched,
        "accepted_on_time": on_time,
        "handled": handled,
        "closed_on_time": closed_on_time,
        "settled": settled,
    }


def test_an_enterprise_on_time_and_settling_at_least_as_well_as_its_class_is_commended(district: District) -> None:
    book = counted(
        **{f"ENT_{JINFENG}": figures(20, 20, 19, 19, 15), "CLASS_A": figures(60, 55, 50, 44, 36)}  # 78.9% vs 72%
    )

    card = card_of(book, district, JINFENG)

    assert card.commended and not card.exit_review
    assert [m.text() for m in card.merits] == [
        "按时受理率 100.0% (20/20) ≥ 95%",
        "按时办结率 100.0% (19/19) ≥ 95%",
        "和解成功率 78.9% (15/19) ≥ A类 72.0%",
    ]
    assert card.as_dict()["commended"] is True and card.as_dict()["class_figures"]["counts"]["handled"] == 50


@pytest.mark.parametrize(
    ("own", "why"),
    [
        (figures(20, 18, 19, 19, 15), "on-time acceptance 90% < 95%"),
        (figures(20, 20, 19, 18, 15), "on-time closure 94.7% < 95%"),
        (figures(20, 20, 19, 19, 13), "settlement 68.4% < the class's 72%"),
        (figures(4, 4, 4, 4, 4), "four cases are not enough"),
        (figures(5, 5, 4, 4, 4), "four handled are not enough, whatever was dispatched"),
    ],
)
def test_a_bar_missed_or_too_few_cases_is_no_commendation(district: District, own: dict[str, int], why: str) -> None:
    book = counted(**{f"ENT_{JINFENG}": own, "CLASS_A": figures(60, 55, 50, 44, 36)})
    assert not card_of(book, district, JINFENG).commended, why


def test_the_bar_is_the_exact_rate_not_the_one_rounded_for_display(district: District) -> None:
    # 189/199 = 94.97%: shown as 95.0%, still below 95.
    book = counted(**{f"ENT_{JINFENG}": figures(199, 189, 10, 10, 10), "CLASS_A": figures(300, 280, 30, 29, 20)})
    card = card_of(book, district, JINFENG)
    assert card.figures.on_time_acceptance_rate == Decimal(95) and not card.commended


def test_the_stored_rule_decides_and_the_class_comparison_can_be_switched_off(district: District) -> None:
    book = counted(**{f"ENT_{JINFENG}": figures(6, 6, 6, 6, 3), "CLASS_A": figures(60, 55, 50, 44, 36)})
    assert not card_of(book, district, JINFENG).commended
    lenient = ScorecardRules(commend=CommendationRule(settlement_at_least_class=False))
    card = card_of(book, district, JINFENG, lenient)
    assert card.commended and [m.measure for m in card.merits] == ["按时受理率", "按时办结率"]


def test_each_card_carries_its_own_class_figures(district: District) -> None:
    book = counted(**{"CLASS_A": figures(10, 10, 10, 10, 7), "CLASS_B": figures(4, 4, 4, 4, 1)})
    cards = {c.enterprise.uscc: c for c in scorecards(book, NOVEMBER, district.enterprises, ScorecardRules())}
    assert cards[SHANYANG].class_figures.success_rate == Decimal(70)
    assert cards["91310116MA1FL2T66W"].class_figures.success_rate == Decimal(25)  # 枫泾文创, class B


def test_a_month_is_its_calendar_days() -> None:
    assert Period.month("2026-11") == NOVEMBER
    assert Period.month("2028-02").last == date(2028, 2, 29)
    for bad in ("2026-13", "2026-1", "2026-11-01", "November"):
        with pytest.raises(PeriodInvalid, match="YYYY-MM"):
            Period.month(bad)


# --- the rules as the bureau stores and changes them ---------------------------------------------------------------


def test_policies_stored_before_the_rules_existed_read_with_the_default_rules() -> None:
    stored = '{"default": {"acceptance": {"days": 2, "kind": "natural"}}, "by_class": {}, "holiday_tables": []}'
    assert DeadlinePolicies.model_validate_json(stored).scorecards == ScorecardRules()


def test_a_policies_document_sets_the_rules_and_one_without_them_keeps_the_stored_ones() -> None:
    current = DeadlinePolicies(scorecards=ScorecardRules(commend=CommendationRule(min_cases=8)))
    document = {"scorecards": {"commend": {"min_on_time_closure": 90}, "exit_review": {"min_settlement": 50}}}

    changed, problems = parse_policies(document, current)
    kept, _ = parse_policies({"by_class": {}}, current)

    assert problems == [] and changed is not None and kept is not None
    assert (changed.scorecards.commend.min_on_time_closure, changed.scorecards.commend.min_cases) == (90, 5)
    assert kept.scorecards == current.scorecards
    assert diff_policies(current, changed) == [
        "  scorecards exit_review min_settlement: 60 -> 50",
        "  scorecards commend min_cases: 8 -> 5",
        "  scorecards commend min_on_time_closure: 95 -> 90",
    ]
    assert describe_policies(changed)[-1] == (
        "commend (红榜): on-time acceptance at least 95% and on-time closure at least 90%, settlement at or above the "
        "class's rate, on at least 5 cases dispatched and handled"
    )


def test_a_misspelt_or_impossible_rule_is_refused_with_its_path() -> None:
    document = {"scorecards": {"commend": {"min_on_time_closure": 101, "min_case": 5}, "exit": {}}}
    _, problems = parse_policies(document, DeadlinePolicies())
    assert sorted(str(p.column) for p in problems) == [
        "scorecards.commend.min_case",
        "scorecards.commend.min_on_time_closure",
        "scorecards.exit",
    ]
