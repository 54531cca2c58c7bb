"""The enterprise API and the action pages under hostile bodies, on the emulated stack (issue 10, items 5 and 9):
the key before the body (401 whatever it holds), limits before fields (400/413, never 502), strict booleans and
money with a schema and a ceiling (422), and nothing changed by a refused request."""

from __future__ import annotations

import pytest
import requests

from odr_local.stack import LocalStack
from tests.waiting import wait_for_case

from .test_links import JINFENG, start_case
from .test_links_api import api, keys  # noqa: F401 - the suite's API keys

DEEP = "[" * 20_000 + "]" * 20_000  # 40 KB, under the size limit; Python's parser recurses past 1000


def raw_api(stack: LocalStack, path: str, key: str | None, data: str | bytes, content_type: str) -> requests.Response:
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {key}"} if key else {})
    return requests.post(f"{stack.api.url}/prod/api/v1{path}", data=data, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def reporting(stack: LocalStack, keys: dict[str, str]) -> str:  # noqa: F811
    """A case accepted by its enterprise, waiting for the result (claimed amount ¥199.00)."""
    case = start_case(stack, "IT-API-HOSTILE-01", JINFENG)
    assert api(stack, "POST", f"/cases/{case.complaint_id}/accept", keys[JINFENG]).status_code == 200
    wait_for_case(stack, case.complaint_id, lambda c: c.pending is not None and c.pending.phase == "resolution")
    return case.complaint_id


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (DEEP, "application/json"),
        ('{"settled": ' + "1" * 5000 + "}", "application/json"),
        ('{"settled": "yes"}', "application/json"),
        ("settled=yes&summary=x", "application/x-www-form-urlencoded"),
        ("not json", "text/plain"),
    ],
    ids=["deep", "huge number", "invalid fields", "a form", "not JSON"],
)
def test_an_anonymous_caller_gets_401_whatever_the_body(
    stack: LocalStack, reporting: str, data: str, content_type: str
) -> None:
    for key in (None, "odr_not-a-real-key"):
        got = raw_api(stack, f"/cases/{reporting}/result", key, data, content_type)
        assert got.status_code == 401 and "problems" not in got.json()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (DEEP, 400),
        ('{"settled": true, "recovered_amount": ' + "9" * 5000 + ', "summary": "s"}', 400),
        ('{"settled": true, "recovered_amount": NaN, "summary": "s"}', 400),
        ('{"settled": true, "summary": "' + "x" * (70 * 1024) + '"}', 413),
    ],
    ids=["deep", "huge number", "NaN", "over 64 KiB"],
)
def test_a_body_past_the_limits_is_4xx_with_a_clear_message(
    stack: LocalStack,
    keys: dict[str, str],  # noqa: F811
    reporting: str,
    data: str,
    status: int,
) -> None:
    before = stack.cases.get(reporting)
    got = raw_api(stack, f"/cases/{reporting}/result", keys[JINFENG], data, "application/json")
    assert got.status_code == status and got.json()["error"]
    assert stack.cases.get(reporting) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"settled": "yes", "recovered_amount": "10.00", "summary": "已退款"}, "settled"),
        ({"settled": 1, "recovered_amount": "10.00", "summary": "已退款"}, "settled"),
        ({"settled": True, "recovered_amount": "1E+11", "summary": "已退款"}, "recovered_amount"),
        ({"settled": True, "recovered_amount": 10.5, "summary": "已退款"}, "recovered_amount"),
        ({"settled": True, "recovered_amount": "-1.00", "summary": "已退款"}, "recovered_amount"),
        ({"settled": True, "recovered_amount": "199.01", "summary": "已退款"}, "recovered_amount"),  # above the claim
    ],
    ids=["yes", "1", "exponent", "a number", "negative", "above the claim"],
)
def test_booleans_are_strict_and_money_has_a_schema_and_a_ceiling(
    stack: LocalStack,
    keys: dict[str, str],  # noqa: F811
    reporting: str,
    body: dict[str, object],
    field: str,
) -> None:
    before = stack.cases.get(reporting)
    got = api(stack, "POST", f"/cases/{reporting}/result", keys[JINFENG], body)
    assert got.status_code == 422, got.text
    assert [p["field"] for p in got.json()["problems"]] == [field]
    assert stack.cases.get(reporting) == before  # refused before anything was written


def test_the_claimed_amount_itself_is_accepted(stack: LocalStack, keys: dict[str, str], reporting: str) -> None:  # noqa: F811
    body = {"settled": True, "recovered_amount": "199", "summary": "全额退款"}
    got = api(stack, "POST", f"/cases/{reporting}/result", keys[JINFENG], body)
    assert got.status_code == 200 and got.json()["case"]["feedback"]["recovered_amount"] == "199.00"
