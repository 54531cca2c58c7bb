"""route: ODR versus regular handling and the station, against the sample Jinshan district."""

from __future__ import annotations

from datetime import date

import pytest

from odr_adapter.models.directory import District, Enterprise, normalise_name
from odr_adapter.rules.routing import find_enterprise, route

JINFENG = "91310116MA1JK7Q26H"  # 上海金枫云购电子商务有限公司, class A, station JS-ZJ, listed 2024-03-01
LVXIANG = "92310116MA7E4F1H09"  # 金山区吕巷水果个体店, class C, station JS-LX, shop 吕巷蟠桃小铺
LANGXIA = "91310116MA1L8D9G53"  # 上海廊下花卉电子商务有限公司, class C, station JS-LXIA
SHANYANG = "91310116MA1H3N8W6F"  # 上海山阳优选网络科技有限公司, class A, shops 山阳优选;优选到家
ZHUJING_DIGITAL = "91310116MA1P7H6K8B"  # 上海朱泾数码配件有限公司, class B, JS-ZJ, delisted 2026-06-30


@pytest.fixture(scope="module")
def latin_district(district: District) -> District:
    """The sample district plus one enterprise whose shop name mixes Latin letters, digits and brackets."""
    extra = Enterprise(
        uscc="91310116MA1Q0W1E2R",
        name="上海ABC数码科技有限公司",
        enterprise_class="C",
        station_code="JS-SY",
        shop_names=["ABC Digital 3C旗舰店(官方)"],
        contact_name="测试",
        listed_on=date(2025, 1, 1),
    )
    return district.model_copy(update={"enterprises": [*district.enterprises, extra]})


# --- matching ---------------------------------------------------------------------------------------------


def test_uscc_match_with_opt_in_goes_to_odr(complaint, district) -> None:
    result = route(complaint("odr-by-uscc"), district)
    assert result.decision == "odr"
    assert result.rule == "odr_directory_member"
    assert result.matched_by == "uscc"
    assert result.enterprise is not None and result.enterprise.uscc == JINFENG
    assert (result.station_code, result.station_rule) == ("JS-ZJ", "respondent_township")
    assert "统一社会信用代码" in result.reason


def test_uscc_wins_over_a_shop_name_of_another_enterprise(complaint, district) -> None:
    c = complaint("odr-by-uscc", changes={"respondent.shop_name": "吕巷蟠桃小铺"})
    result = route(c, district)
    assert result.matched_by == "uscc"
    assert result.enterprise is not None and result.enterprise.uscc == JINFENG


def test_shop_name_only_example_matches_by_shop_name_but_consumer_did_not_opt_in(complaint, district) -> None:
    result = route(complaint("shop-name-only"), district)
    assert result.decision == "regular"
    assert result.rule == "consumer_not_opted_in"
    assert result.matched_by == "shop_name"
    assert result.enterprise is not None and result.enterprise.uscc == LVXIANG
    assert (result.station_code, result.station_rule) == ("JS-LX", "respondent_township")


def test_shop_name_only_with_opt_in_goes_to_odr(complaint, district) -> None:
    result = route(complaint("shop-name-only", changes={"odr_opt_in": True}), district)
    assert (result.decision, result.rule, result.matched_by) == ("odr", "odr_directory_member", "shop_name")
    assert result.enterprise is not None and result.enterprise.uscc == LVXIANG
    assert "店铺名称" in result.reason


@pytest.mark.parametrize(
    "shop_name",
    [
        "吕巷蟠桃小铺",
        " 吕巷蟠桃小铺 ",
        "吕巷 蟠桃小铺",
        "吕巷\u3000蟠桃小铺",  # ideographic (full-width) space
        "吕\t巷蟠桃\n小铺",
    ],
)
def test_shop_name_match_ignores_spaces(complaint, district, shop_name: str) -> None:
    c = complaint("shop-name-only", changes={"odr_opt_in": True, "respondent.shop_name": shop_name})
    result = route(c, district)
    assert (result.decision, result.matched_by) == ("odr", "shop_name")
    assert result.enterprise is not None and result.enterprise.uscc == LVXIANG


def test_second_shop_name_of_an_enterprise_matches(complaint, district) -> None:
    changes = {"respondent": {"name": "某生鲜店", "shop_name": "金枫云购 生鲜", "division_code": "310116101"}}
    result = route(complaint("odr-by-uscc", changes=changes), district)
    assert (result.decision, result.matched_by) == ("odr", "shop_name")
    assert result.enterprise is not None and result.enterprise.uscc == JINFENG


@pytest.mark.parametrize(
    "shop_name",
    [
        "ABC Digital 3C旗舰店(官方)",
        "ＡＢＣ　Ｄｉｇｉｔａｌ　３Ｃ旗舰店（官方）",  # full-width letters, digits, space and brackets
        "abc digital 3c旗舰店(官方)",
        "ABCDIGITAL3C旗舰店【官方】",
        "ａｂｃ ｄｉｇｉｔａｌ ３ｃ 旗舰店 [官方]",
    ],
)
def test_shop_name_match_folds_width_case_and_brackets(complaint, latin_district, shop_name: str) -> None:
    changes = {"odr_opt_in": True, "respondent": {"name": "网店", "shop_name": shop_name, "platform": "京东"}}
    result = route(complaint("shop-name-only", changes=changes), latin_district)
    assert (result.decision, result.matched_by) == ("odr", "shop_name")
    assert result.enterprise is not None and result.enterprise.uscc == "91310116MA1Q0W1E2R"
    # no division code in the record: the directory entry's station
    assert (result.station_code, result.station_rule) == ("JS-SY", "directory_station")


@pytest.mark.parametrize("shop_name", ["ABC Digital 3C旗舰店", "ABC Digital 3D旗舰店(官方)", "吕巷蟠桃"])
def test_shop_name_must_match_whole(complaint, latin_district, shop_name: str) -> None:
    changes = {"respondent": {"name": "网店", "shop_name": shop_name}}
    result = route(complaint("shop-name-only", changes=changes), latin_district)
    assert (result.decision, result.rule, result.enterprise) == ("regular", "not_in_directory", None)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ＡＢＣ１２３", "abc123"),
        ("吕巷　蟠桃 小铺", "吕巷蟠桃小铺"),
        ("旗舰店【官方】", "旗舰店(官方)"),
        ("旗舰店[官方]", "旗舰店（官方）"),
        ("Shop Name", "shopname"),
    ],
)
def test_normalise_name_folds_variants(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_normalise_name_keeps_distinct_names_distinct() -> None:
    assert normalise_name("山阳优选") != normalise_name("优选到家")
    assert normalise_name("ABC1") != normalise_name("ABC2")


@pytest.mark.parametrize(
    "name", ["上海廊下花卉电子商务有限公司", " 上海廊下花卉电子商务有限公司", "上海廊下花卉 电子商务有限公司"]
)
def test_registered_name_match(complaint, district, name: str) -> None:
    changes = {"odr_opt_in": True, "respondent": {"name": name}}
    result = route(complaint("shop-name-only", changes=changes), district)
    assert (result.decision, result.rule, result.matched_by) == (
        "odr",
        "odr_directory_member",
        "registered_name",
    )
    assert result.enterprise is not None and result.enterprise.uscc == LANGXIA
    assert (result.station_code, result.station_rule) == ("JS-LXIA", "directory_station")
    assert "登记名称" in result.reason


def test_respondent_name_that_is_a_shop_name_matches_as_shop_name(complaint, district) -> None:
    c = complaint("shop-name-only", changes={"respondent": {"name": "优选到家"}})
    enterprise, matched_by = find_enterprise(c, district)
    assert enterprise is not None and enterprise.uscc == SHANYANG
    assert matched_by == "shop_name"


# --- directory membership on the registration day ---------------------------------------------------------


def _zhujing_digital(registered_at: str) -> dict[str, object]:
    return {
        "registered_at": registered_at,
        "updated_at": registered_at,
        "transaction.purchased_on": "2026-06-01",
        "transaction.harm_known_on": "2026-06-20",
        "respondent": {
            "name": "上海朱泾数码配件有限公司",
            "uscc": ZHUJING_DIGITAL,
            "division_code": "310116101",
        },
    }


@pytest.mark.parametrize(
    "registered_at",
    [
        "2026-06-30T00:00:00+08:00",
        "2026-06-30T23:59:59+08:00",
        "2026-06-30T15:59:59Z",
        "2024-09-01T08:00:00+08:00",
    ],
)
def test_enterprise_is_listed_through_its_delisting_day(complaint, district, registered_at: str) -> None:
    result = route(complaint("odr-by-uscc", changes=_zhujing_digital(registered_at)), district)
    assert (result.decision, result.rule, result.matched_by) == ("odr", "odr_directory_member", "uscc")
    assert result.enterprise is not None and result.enterprise.uscc == ZHUJING_DIGITAL


@pytest.mark.parametrize(
    "registered_at",
    [
        "2026-07-01T00:00:00+08:00",
        "2026-06-30T16:00:00Z",  # 2026-07-01 00:00 in Shanghai
        "2026-11-30T09:00:00+08:00",
        "2024-08-31T23:59:59+08:00",  # the day before it was listed
    ],
)
def test_enterprise_not_listed_on_registration_day_goes_regular(complaint, district, registered_at: str) -> None:
    result = route(complaint("odr-by-uscc", changes=_zhujing_digital(registered_at)), district)
    assert (result.decision, result.rule) == ("regular", "not_listed_on_registration_day")
    assert result.enterprise is not None and result.enterprise.uscc == ZHUJING_DIGITAL
    assert result.matched_by == "uscc"
    assert (result.station_code, result.station_rule) == ("JS-ZJ", "respondent_township")


def test_not_listed_beats_not_opted_in(complaint, district) -> None:
    changes = {**_zhujing_digital("2026-07-01T09:00:00+08:00"), "odr_opt_in": False}
    assert route(complaint("odr-by-uscc", changes=changes), district).rule == "not_listed_on_registration_day"


# --- not in directory, not opted in -----------------------------------------------------------------------


def test_not_in_directory_example_goes_regular(complaint, district) -> None:
    result = route(complaint("not-in-directory"), district)
    assert (result.decision, result.rule) == ("regular", "not_in_directory")
    assert (result.enterprise, result.matched_by) == (None, None)
    assert (result.station_code, result.station_rule) == ("JS-TL", "respondent_township")


def test_consumer_not_opted_in_goes_regular(complaint, district) -> None:
    result = route(complaint("odr-by-uscc", changes={"odr_opt_in": False}), district)
    assert (result.decision, result.rule, result.matched_by) == ("regular", "consumer_not_opted_in", "uscc")
    assert result.enterprise is not None and result.enterprise.uscc == JINFENG


@pytest.mark.parametrize("example_name", ["odr-by-uscc", "shop-name-only", "not-in-directory", "time-barred"])
def test_opt_out_is_never_odr(complaint, district, example_name: str) -> None:
    assert route(complaint(example_name, changes={"odr_opt_in": False}), district).decision == "regular"


# --- station ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example_name", "division_code", "station", "station_rule"),
    [
        # township code of a station wins over the directory's station
        ("odr-by-uscc", "310116104", "JS-TL", "respondent_township"),
        ("odr-by-uscc", "310116503", "JS-SH", "respondent_township"),
        # no township match: the directory entry's station
        ("odr-by-uscc", "310116", "JS-ZJ", "directory_station"),
        ("odr-by-uscc", "310116999", "JS-ZJ", "directory_station"),
        ("odr-by-uscc", "__delete__", "JS-ZJ", "directory_station"),
        # not in the directory and no township: the intake desk
        ("not-in-directory", "310116", "JS-INTAKE", "intake_desk"),
        ("not-in-directory", "310116999", "JS-INTAKE", "intake_desk"),
        ("not-in-directory", "__delete__", "JS-INTAKE", "intake_desk"),
        ("not-in-directory", "310116112", "JS-CJ", "respondent_township"),
    ],
)
def test_station_choice(complaint, district, example_name, division_code, station, station_rule) -> None:
    result = route(complaint(example_name, changes={"respondent.division_code": division_code}), district)
    assert (result.station_code, result.station_rule) == (station, station_rule)


def test_directory_station_unknown_falls_to_intake_desk(complaint, district) -> None:
    enterprises = [
        e.model_copy(update={"station_code": "JS-GONE"}) if e.uscc == JINFENG else e for e in district.enterprises
    ]
    changed = district.model_copy(update={"enterprises": enterprises})
    result = route(complaint("odr-by-uscc", changes={"respondent.division_code": "310116"}), changed)
    assert (result.station_code, result.station_rule) == ("JS-INTAKE", "intake_desk")
    assert result.decision == "odr"


def test_intake_desk_code_is_js_intake(district) -> None:
    assert district.intake_station_code == "JS-INTAKE"
    assert district.station("JS-INTAKE") is not None
