"""explain: the workflow's screen-and-route composition, and the explanation an operator reads."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from odr_adapter.models.deadlines import DeadlinePolicies, HolidayTable, Policy
from odr_adapter.models.directory import District
from odr_adapter.rules.calendars import compute_deadline
from odr_adapter.rules.decisions import decide
from odr_cli.explain import as_text, explain
from odr_cli.pii import masked_raw

from .conftest import EXAMPLES, load_example, with_changes

ZHUJING_DIGITAL = "91310116MA1P7H6K8B"  # class B, station JS-ZJ, listed 2024-09-01, delisted 2026-06-30
DEFAULTS = DeadlinePolicies()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- decide: what the workflow applies --------------------------------------------------------------------


def test_an_odr_case_gets_acceptance_and_resolution_deadlines_from_the_start_given(complaint, district) -> None:
    start = at("2026-12-01T15:00:00+08:00")  # the dispatch time, a day after registration
    decided = decide(complaint("odr-by-uscc"), district, DEFAULTS, start)
    assert decided.screening.accepted and decided.route is not None and decided.route.decision == "odr"
    assert decided.deadlines == {p: compute_deadline(p, start, "A", DEFAULTS) for p in ("acceptance", "resolution")}
    assert decided.deadlines["acceptance"].due_at == at("2026-12-04T00:00:00+08:00")


def test_a_refusal_is_not_routed_and_regular_handling_has_no_deadlines(complaint, district) -> None:
    refused = decide(complaint("time-barred"), district, DEFAULTS, at("2026-11-30T16:05:00+08:00"))
    assert refused.screening.rule == "time_barred" and refused.route is None and refused.deadlines == {}
    regular = decide(complaint("not-in-directory"), district, DEFAULTS, at("2026-11-30T14:30:00+08:00"))
    assert regular.route is not None and regular.route.rule == "not_in_directory" and regular.deadlines == {}


# --- explain ----------------------------------------------------------------------------------------------

EXPECTED = {
    "bad-record.json": ("quarantined", None, None),
    "not-in-directory.json": ("regular", "acceptance_conditions_met", "not_in_directory"),
    "odr-by-uscc.json": ("odr", "acceptance_conditions_met", "odr_directory_member"),
    "shop-name-only.json": ("regular", "acceptance_conditions_met", "consumer_not_opted_in"),
    "time-barred.json": ("rejected", "time_barred", None),
    "withdrawn.json": ("withdrawn", "acceptance_conditions_met", "odr_directory_member"),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_record_is_explained(name: str, district: District) -> None:
    e = explain(load_example(name), district, DEFAULTS, "files")
    outcome, screening_rule, route_rule = EXPECTED[name]
    assert e.outcome == outcome
    assert (e.screening.rule if e.screening else None) == screening_rule
    assert (e.route.rule if e.route else None) == route_rule
    assert bool(e.deadlines) == (route_rule == "odr_directory_member")


def test_an_invalid_record_lists_every_problem_and_stops_there(district: District) -> None:
    e = explain(load_example("bad-record"), district, DEFAULTS, "files")
    assert not e.valid and e.screening is None and e.route is None
    assert [p.path for p in e.problems] == ["consumer.name", "consumer.phone", "respondent.uscc", "transaction.amount"]
    assert "odr quarantine" in e.outcome_reason


def test_the_route_says_how_the_enterprise_was_matched_and_why_that_station(district: District) -> None:
    e = explain(load_example("shop-name-only"), district, DEFAULTS, "files")
    assert e.route is not None and e.route.enterprise is not None
    assert e.route.matched_by == "shop_name" and e.route.enterprise.uscc == "92310116MA7E4F1H09"
    assert (e.route.station_code, e.route.station_rule) == ("JS-LX", "respondent_township")
    assert e.route.station_reason == "被投诉人乡镇代码 310116105 属 吕巷市场监管所 辖区"

    county_only = with_changes(load_example("odr-by-uscc"), {"respondent.division_code": "310116"})
    e = explain(county_only, district, DEFAULTS, "files")
    assert e.route is not None and e.route.station_rule == "directory_station"
    assert e.route.station_reason == "仅有区县代码 310116;按企业目录登记的监管所 朱泾市场监管所"

    unknown = with_changes(load_example("not-in-directory"), {"respondent.division_code": "310116"})
    e = explain(unknown, district, DEFAULTS, "files")
    assert e.route is not None and (e.route.station_code, e.route.station_rule) == ("JS-INTAKE", "intake_desk")


def test_deadlines_carry_policy_calendar_and_the_day_counting_rule(district: District) -> None:
    e = explain(load_example("odr-by-uscc"), district, DEFAULTS, "files")
    acceptance = e.deadlines["acceptance"]
    assert acceptance.due_at.isoformat() == "2026-12-03T00:00:00+08:00"
    assert acceptance.last_day == date(2026, 12, 2)
    assert acceptance.remind_at.isoformat() == "2026-12-02T00:00:00+08:00"
    assert (acceptance.policy, acceptance.policy_scope, acceptance.calendar) == (
        "2 个自然日",
        "default",
        "natural-days",
    )
    assert "起算日 2026-11-30 不计入" in acceptance.rule and "2026-12-02 24:00" in acceptance.rule
    assert e.deadlines["resolution"].due_at.isoformat() == "2026-12-08T00:00:00+08:00"


def test_a_class_policy_in_working_days_is_named_with_its_scope_and_calendar(district: District) -> None:
    policies = DeadlinePolicies(by_class={"A": {"acceptance": Policy(days=2, kind="working")}})
    raw = with_changes(load_example("odr-by-uscc"), {"registered_at": "2026-09-30T10:00:00+08:00"})
    acceptance = explain(raw, district, policies, "files").deadlines["acceptance"]
    assert acceptance.policy_scope == "class A" and acceptance.calendar == "chinese-calendar"
    assert acceptance.last_day == date(2026, 10, 9)  # 1-7 October off: Thu 8 and Fri 9 are the two working days
    assert not acceptance.fallback


def test_an_uncovered_year_is_flagged_until_an_operator_table_exists(district: District) -> None:
    working = DeadlinePolicies(default={**DEFAULTS.default, "acceptance": Policy(days=3, kind="working")})
    when = at("2027-02-05T10:00:00+08:00")
    flagged = explain(load_example("odr-by-uscc"), district, working, "files", registered_at=when)
    assert flagged.deadlines["acceptance"].fallback and flagged.deadlines["acceptance"].calendar == "fallback"
    assert "⚠ FALLBACK calendar" in as_text(flagged) and "odr calendar import" in as_text(flagged)
    table = HolidayTable(year=2027, holidays=[date(2027, 2, d) for d in range(6, 14)], workdays=[date(2027, 2, 14)])
    covered = explain(
        load_example("odr-by-uscc"),
        district,
        working.model_copy(update={"holiday_tables": [table]}),
        "files",
        registered_at=when,
    )
    acceptance = covered.deadlines["acceptance"]
    assert (acceptance.calendar, acceptance.fallback) == ("operator-table", False)
    assert acceptance.last_day == date(2027, 2, 16)


def test_as_of_replaces_the_registration_time_for_every_rule(district: District) -> None:
    raw = with_changes(load_example("odr-by-uscc"), {"respondent.uscc": ZHUJING_DIGITAL, "respondent.name": "朱泾数码"})
    assert explain(raw, district, DEFAULTS, "files").route.rule == "not_listed_on_registration_day"
    last_day = explain(raw, district, DEFAULTS, "files", registered_at=at("2026-06-30T23:59:00+08:00"))
    assert last_day.registered_at_overridden and last_day.registration_day == date(2026, 6, 30)
    assert last_day.route is not None and last_day.route.rule == "odr_directory_member"
    assert last_day.deadlines["acceptance"].due_at.isoformat() == "2026-07-03T00:00:00+08:00"
    # 16:30 UTC on 30 June is 00:30 on 1 July in Shanghai: the day after the delisting
    next_day = explain(raw, district, DEFAULTS, "files", registered_at=at("2026-06-30T16:30:00+00:00"))
    assert next_day.registration_day == date(2026, 7, 1)
    assert next_day.route is not None and next_day.route.rule == "not_listed_on_registration_day"


def test_the_explanation_never_holds_consumer_data_in_clear(district: District) -> None:
    raw = load_example("odr-by-uscc")
    raw["consumer"].update({"email": "linxiao@example.com", "id_number": "310116199001011234", "wechat": "linxiao88"})
    e = explain(raw, district, DEFAULTS, "files")
    shown = json.dumps(e.model_dump(mode="json"), ensure_ascii=False) + as_text(e)
    for clear in ("林晓", "13761234567", "朱泾镇某路1号", "linxiao@example.com", "310116199001011234", "linxiao88"):
        assert clear not in shown
    assert e.consumer == {
        "name": "林*",
        "phone": "137****4567",
        "address": "上海市***",
        "email": "l***@example.com",
        "id_number": "31************34",
        "wechat": "***",
    }


def test_the_text_names_each_rule_and_the_outcome(district: District) -> None:
    text = as_text(explain(load_example("odr-by-uscc"), district, DEFAULTS, "DirectoryTable t, revision 3"))
    for expected in (
        "1. 校验 Validation: valid",
        "2. 受理审查 Screening: accepted 受理 [acceptance_conditions_met]",
        "3. 分派 Route: ODR [odr_directory_member]",
        "matched by uscc",
        "station JS-ZJ 朱泾市场监管所 [respondent_township]",
        "受理 acceptance: due 2026-12-02 24:00 (2026-12-03T00:00:00+08:00)",
        "directory: DirectoryTable t, revision 3",
        "结果 Outcome: odr",
    ):
        assert expected in text


# --- what an operator may see of a raw record -------------------------------------------------------------


def test_masked_raw_hides_consumer_data_wherever_an_invalid_record_put_it() -> None:
    raw = load_example("bad-record")
    raw["consumer"] = {"name": "张三", "phone": 13812345678, "qq": "12345"}
    raw["description"] = "请回电 13812345678 或 021-57351234,邮箱 zs@example.com"
    raw["contact_note"] = {"who": "张三 13812345678"}
    shown = masked_raw(raw)
    assert shown["consumer"] == {"name": "张*", "phone": "***", "qq": "***"}
    assert shown["description"] == "请回电 138**** 或 021****,邮箱 ***@***"
    assert shown["contact_note"] == {"who": "张三 138****"}
    assert shown["complaint_id"] == raw["complaint_id"] and shown["respondent"] == raw["respondent"]
    assert masked_raw({"consumer": "张三 13812345678"})["consumer"] == "***"
    assert "not shown" in masked_raw(["张三"])
