"""GET /stats/summary through the real StatsFunction handler, on counters kept by the real counters function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from odr_adapter.models.directory import District
from odr_adapter.stats.figures import Period, build_report
from odr_local.template import ROOT

from .test_stats_counting import (
    Context,
    Deliver,
    StatsAws,
    counted_week,
    deliverer,
    load_handler,
    sample_district,
    seed_directory,
    stats_aws,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsAws]:
    with stats_aws(monkeypatch) as resources:
        yield resources


@pytest.fixture
def deliver(aws: StatsAws) -> Deliver:
    return deliverer()


@pytest.fixture
def district() -> District:
    return sample_district()


def get(path: str, query: dict[str, str] | None) -> dict[str, Any]:
    """An API Gateway REST proxy event as the OdrApi stage passes it (after IAM authorisation)."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "r1",
            "identity": {"sourceIp": "10.0.0.1", "userArn": "arn:aws-cn:iam::123456789012:role/dashboard"},
        },
    }


def call(query: dict[str, str] | None) -> tuple[int, dict[str, Any]]:
    response = load_handler("stats").handler(get("/stats/summary", query), Context())
    return response["statusCode"], json.loads(response["body"])


def test_the_summary_route_gives_the_report_of_the_period(aws: StatsAws, deliver: Deliver, district: District) -> None:
    seed_directory(aws, district)
    counted_week(aws, deliver)
    status, body = call({"from": "2026-11-30", "to": "2026-12-06"})
    assert status == 200
    expected = build_report(
        aws.stats, Period.parse("2026-11-30", "2026-12-06"), {s.code: s.name for s in district.stations}
    )
    assert body == json.loads(json.dumps(expected.as_dict()))
    assert body["sentence"].startswith("三类电商ODR企业办理投诉分别为3件(和解成功率为33%)、1件(和解成功率为100%)")
    assert body["by_class"]["A"]["counts"]["handled"] == 3
    assert body["by_station"]["JS-ZJ"]["name"] == "朱泾市场监管所"
    assert body["now"]["closed"] == 7


def test_a_period_without_cases_has_zero_figures(aws: StatsAws, deliver: Deliver, district: District) -> None:
    seed_directory(aws, district)
    counted_week(aws, deliver)
    status, body = call({"from": "2027-01-01", "to": "2027-01-31"})
    assert status == 200
    assert body["sentence"] == (
        "三类电商ODR企业办理投诉分别为0件(和解成功率为—)、0件(和解成功率为—)、0件(和解成功率为—),"
        "平均办理周期—天,帮助消费者挽回经济损失0.00元"
    )


def test_a_bad_period_is_answered_400_with_the_reason(aws: StatsAws, district: District) -> None:
    seed_directory(aws, district)
    assert call(None) == (400, {"error": "give both 'from' and 'to' as YYYY-MM-DD"})
    assert call({"from": "2026-12-06", "to": "2026-11-30"}) == (
        400,
        {"error": "the period starts (2026-12-06) after it ends (2026-11-30)"},
    )
    status, body = call({"from": "2026-11-31", "to": "2026-12-06"})
    assert status == 400 and body["error"].startswith("dates are YYYY-MM-DD")
    outside = {"error": "a period lies between 2000-01-01 and 2099-12-31"}
    assert call({"from": "9999-12-01", "to": "9999-12-31"}) == (400, outside)  # was an OverflowError: a 502
    assert call({"from": "0001-01-01", "to": "0001-01-31"}) == (400, outside)


def test_the_sample_event_is_answered(aws: StatsAws, district: District) -> None:
    """events/stats.json (for ``sam local invoke``) asks for November 2026."""
    seed_directory(aws, district)
    event = json.loads((ROOT / "events" / "stats.json").read_text(encoding="utf-8"))
    response = load_handler("stats").handler(event, Context())
    assert response["statusCode"] == 200 and json.loads(response["body"])["from"] == "2026-11-01"
