"""screen: the machine-checkable refusal grounds (受理条件), against the sample Jinshan district."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from odr_adapter.rules.screening import add_years, limitation_last_day, screen

# (example, changes to it, expected rule, expected refusal_reason); None = accepted
CASES: list[tuple[str, str, dict[str, Any], str, str | None]] = [
    ("accepted: the ODR example", "odr-by-uscc", {}, "acceptance_conditions_met", None),
    ("accepted: shop name only", "shop-name-only", {}, "acceptance_conditions_met", None),
    ("accepted: not in directory", "not-in-directory", {}, "acceptance_conditions_met", None),
    ("accepted: withdrawn is not a screening ground", "withdrawn", {}, "acceptance_conditions_met", None),
    (
        "accepted: county code only",
        "odr-by-uscc",
        {"respondent.division_code": "310116"},
        "acceptance_conditions_met",
        None,
    ),
    (
        "accepted: no division code",
        "odr-by-uscc",
        {"respondent.division_code": "__delete__"},
        "acceptance_conditions_met",
        None,
    ),
    (
        "outside: Songjiang township",
        "odr-by-uscc",
        {"respondent.division_code": "310117101"},
        "outside_jurisdiction",
        "outside_jurisdiction",
    ),
    (
        "outside: another province",
        "odr-by-uscc",
        {"respondent.division_code": "320105"},
        "outside_jurisdiction",
        "outside_jurisdiction",
    ),
    (
        "outside: prefix 3101 only",
        "odr-by-uscc",
        {"respondent.division_code": "310100"},
        "outside_jurisdiction",
        "outside_jurisdiction",
    ),
    (
        "handled elsewhere: consumer association",
        "odr-by-uscc",
        {"handled_elsewhere": "已向金山区消费者权益保护委员会投诉并受理"},
        "handled_elsewhere",
        "handled_elsewhere",
    ),
    (
        "handled elsewhere: court",
        "shop-name-only",
        {"handled_elsewhere": "金山区人民法院已立案"},
        "handled_elsewhere",
        "handled_elsewhere",
    ),
    (
        "handled elsewhere: blank text is no ground",
        "odr-by-uscc",
        {"handled_elsewhere": "  \u3000 "},
        "acceptance_conditions_met",
        None,
    ),
    ("time barred: the example", "time-barred", {}, "time_barred", "time_barred"),
    (
        "time barred: one day late",
        "odr-by-uscc",
        {"transaction.harm_known_on": "2023-11-29"},
        "time_barred",
        "time_barred",
    ),
    (
        "time barred: last day is in time",
        "odr-by-uscc",
        {"transaction.harm_known_on": "2023-11-30"},
        "acceptance_conditions_met",
        None,
    ),
    (
        "time barred: no harm date, no ground",
        "odr-by-uscc",
        {"transaction.harm_known_on": "__delete__"},
        "acceptance_conditions_met",
        None,
    ),
    (
        "incomplete respondent: placeholder name only",
        "odr-by-uscc",
        {"respondent": {"name": "某网店"}},
        "incomplete_respondent",
        "incomplete",
    ),
    (
        "incomplete respondent: unknown seller",
        "odr-by-uscc",
        {"respondent": {"name": "不清楚"}},
        "incomplete_respondent",
        "incomplete",
    ),
    (
        "incomplete respondent: one character",
        "odr-by-uscc",
        {"respondent": {"name": "店"}},
        "incomplete_respondent",
        "incomplete",
    ),
    (
        "respondent: a real name alone is enough",
        "odr-by-uscc",
        {"respondent": {"name": "上海金枫云购电子商务有限公司"}},
        "acceptance_conditions_met",
        None,
    ),
    (
        "respondent: placeholder name with shop name is enough",
        "odr-by-uscc",
        {"respondent": {"name": "某商家", "shop_name": "吕巷蟠桃小铺"}},
        "acceptance_conditions_met",
        None,
    ),
    (
        "incomplete facts: ellipsis description",
        "odr-by-uscc",
        {"description": "……"},
        "incomplete_facts",
        "incomplete",
    ),
    (
        "incomplete facts: punctuation demand",
        "odr-by-uscc",
        {"demand": "。。。"},
        "incomplete_facts",
        "incomplete",
    ),
    (
        "incomplete facts: blank description",
        "odr-by-uscc",
        {"description": " \u3000\n"},
        "incomplete_facts",
        "incomplete",
    ),
]


@pytest.mark.parametrize(
    ("example_name", "changes", "rule", "refusal"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_screening_grounds(complaint, district, example_name, changes, rule, refusal) -> None:
    result = screen(complaint(example_name, changes=changes), district)
    assert result.rule == rule
    assert result.refusal_reason == refusal
    assert result.accepted is (refusal is None)
    assert result.reason


def test_accepted_has_no_refusal_reason(complaint, district) -> None:
    result = screen(complaint("odr-by-uscc"), district)
    assert (result.accepted, result.rule, result.refusal_reason) == (True, "acceptance_conditions_met", None)


def test_outside_jurisdiction_reason_names_code_and_district(complaint, district) -> None:
    result = screen(complaint("odr-by-uscc", changes={"respondent.division_code": "310117101"}), district)
    assert "310117101" in result.reason and "310116" in result.reason


def test_time_barred_reason_names_the_days(complaint, district) -> None:
    result = screen(complaint("time-barred"), district)
    assert "2023-08-15" in result.reason and "2026-08-15" in result.reason and "2026-11-30" in result.reason


def test_first_ground_wins(complaint, district) -> None:
    changes = {
        "respondent.division_code": "320105",
        "handled_elsewhere": "法院已受理",
        "transaction.harm_known_on": "2020-01-01",
        "description": "……",
    }
    assert screen(complaint("odr-by-uscc", changes=changes), district).rule == "outside_jurisdiction"
    del changes["respondent.division_code"]
    assert screen(complaint("odr-by-uscc", changes=changes), district).rule == "handled_elsewhere"
    del changes["handled_elsewhere"]
    assert screen(complaint("odr-by-uscc", changes=changes), district).rule == "time_barred"
    del changes["transaction.harm_known_on"]
    assert screen(complaint("odr-by-uscc", changes=changes), district).rule == "incomplete_facts"


# --- the three-year limitation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "last"),
    [
        (date(2023, 8, 15), date(2026, 8, 15)),
        (date(2024, 2, 29), date(2027, 2, 28)),  # no 29 February in 2027: the month's last day
        (date(2024, 2, 28), date(2027, 2, 28)),
        (date(2025, 2, 28), date(2028, 2, 28)),
        (date(2023, 12, 31), date(2026, 12, 31)),
        (date(2025, 3, 1), date(2028, 3, 1)),
    ],
)
def test_limitation_last_day(known: date, last: date) -> None:
    assert limitation_last_day(known) == last


def test_add_years_29_february_to_leap_year_keeps_the_day() -> None:
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("registered_at", "rule"),
    [
        ("2027-02-28T09:00:00+08:00", "acceptance_conditions_met"),
        ("2027-02-28T23:59:59+08:00", "acceptance_conditions_met"),
        ("2027-02-28T15:59:59Z", "acceptance_conditions_met"),  # 23:59:59 in Shanghai
        ("2027-02-28T16:00:00Z", "time_barred"),  # 2027-03-01 00:00 in Shanghai
        ("2027-03-01T00:00:00+08:00", "time_barred"),
        ("2027-03-01T10:00:00+08:00", "time_barred"),
    ],
)
def test_29_february_limitation_through_screen(complaint, district, registered_at: str, rule: str) -> None:
    changes = {
        "registered_at": registered_at,
        "updated_at": registered_at,
        "transaction.purchased_on": "2024-02-20",
        "transaction.harm_known_on": "2024-02-29",
    }
    result = screen(complaint("odr-by-uscc", changes=changes), district)
    assert result.rule == rule
    if rule == "time_barred":
        assert "2027-02-28" in result.reason


def test_far_future_harm_date_does_not_crash_screening(complaint, district) -> None:
    # Regression: odr_adapter/rules/screening.py, add_years via limitation_last_day/_time_barred): a record
    # with transaction.harm_known_on "9998-01-01" passes parse_record (a valid RFC 3339 full-date), but
    # screen() raises ValueError("year 10001 is out of range") instead of returning a Screening.
    result = screen(complaint("odr-by-uscc", changes={"transaction.harm_known_on": "9998-01-01"}), district)
    assert result.rule == "acceptance_conditions_met"
