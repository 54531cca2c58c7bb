"""The statistics counters on the local stack: a randomised scenario runs through the real workflow while the
stream pump feeds the real counters function; afterwards every counter equals a recount of the case records,
a redelivered stream counts nothing twice, and the report (HTML, API) and the run's result give the figures the
case records give."""

from __future__ import annotations

import io
import json
import logging
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS
from moto.moto_api._internal.models import moto_api_backend

from odr_adapter import wiring
from odr_adapter.data_access import clients
from odr_adapter.data_access.stats import StatsStore, scan_cases
from odr_adapter.models.case import Case
from odr_adapter.stats.counters import differences, recount
from odr_adapter.stats.figures import Period, build_report, counts_cover
from odr_cli.report_export import render_html
from odr_local.runner import ScenarioRun, stack_for
from odr_local.scenario import Scenario
from odr_local.stack import LocalStack

HERE = Path(__file__).parent


def forget_previous_stacks() -> None:
    """Stacks in one process share moto's state and the per-container caches: start from nothing."""
    moto_api_backend.reset()
    clients.client.cache_clear()
    wiring.cache_clear()
    DEFAULT_PROVIDERS.clear()


@dataclass
class CountedRun:
    stack: LocalStack
    seed: int
    cases: list[Case]
    store: StatsStore
    delivered: list[dict[str, Any]]  # every stream record the counters function was given, in order
    result: dict[str, Any]  # what the run wrote as its result

    def counted_and_recounted(self) -> list[str]:
        return differences(recount(scan_cases(self.stack.deployment.ref("CasesTable"))).items, self.store.everything())


def settle(run: CountedRun) -> list[str]:
    """The counters cover every case once the stack is idle (the stream is drained before time moves on);
    then the differences between every counter and a recount, which must be none."""
    run.stack.settle()
    assert counts_cover(run.store, run.cases)
    return run.counted_and_recounted()


@pytest.fixture(scope="module")
def counted() -> Iterator[CountedRun]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    seed = int(os.environ.get("ODR_COUNTERS_SEED") or random.randrange(1, 10**6))
    print(f"counters scenario seed {seed} (ODR_COUNTERS_SEED={seed} replays it)")
    scenario = Scenario.load(HERE / "counters.yaml")
    scenario.complaints.seed = seed
    forget_previous_stacks()
    stack = stack_for(scenario)
    delivered: list[dict[str, Any]] = []
    stack.stream_pumps[0].observers.append(delivered.extend)
    try:
        result = ScenarioRun(scenario, stack, io.StringIO()).run()
        cases = list(scan_cases(stack.deployment.ref("CasesTable")))
        yield CountedRun(stack, seed, cases, StatsStore(stack.deployment.ref("StatsTable")), delivered, result)
    finally:
        stack.stop()
        forget_previous_stacks()


def test_every_counter_equals_a_recount_of_the_cases(counted: CountedRun) -> None:
    still_open = {c.complaint_id: [h.event for h in c.history] for c in counted.cases if c.is_open}
    assert len(counted.cases) >= 25 and not still_open, f"seed {counted.seed}: {len(counted.cases)} cases {still_open}"
    assert settle(counted) == [], f"seed {counted.seed}"
    outcomes = {c.outcome for c in counted.cases}
    assert {"settled", "returned"} <= outcomes, f"seed {counted.seed}: a run this size has these outcomes"


def test_the_report_and_the_run_result_give_the_figures_of_the_case_records(counted: CountedRun) -> None:
    assert settle(counted) == []
    period = Period.covering(counted.cases)
    assert period.first == date(2026, 11, 30)
    report = build_report(counted.store, period)
    handled = [c for c in counted.cases if c.enterprise and "acceptance" in c.deadlines and c.outcome != "withdrawn"]
    for klass, figures in report.by_class.items():
        cases = [c for c in handled if c.enterprise and c.enterprise.enterprise_class == klass]
        expected = (len(cases), sum(c.outcome == "settled" for c in cases), sum(c.cycle_days or 0 for c in cases))
        got = (figures.count("handled"), figures.count("settled"), figures["cycle_days"])
        assert got == expected, f"seed {counted.seed}: class {klass}"
    assert report.total.recovered == sum((c.recovered_amount or Decimal(0) for c in counted.cases), Decimal(0))
    # The run's result recounts its cases; the report read the counters the stream kept, day by day.
    assert counted.result["summary"] == report.summary().as_dict(), f"seed {counted.seed}"
    html = render_html(report, counted.stack.now())
    assert report.sentence() in html and html.count("<svg") == 3


def test_a_redelivered_stream_counts_nothing_twice(counted: CountedRun) -> None:
    assert settle(counted) == []
    before = counted.store.everything()
    records = [r for r in counted.delivered if is_case_item(r["dynamodb"]["Keys"])]
    lam = counted.stack.client("lambda")
    totals = {"applied": 0, "duplicates": 0, "no_change": 0}
    for start in range(0, len(records), 100):
        event = {"Records": records[start : start + 100]}
        got = lam.invoke(FunctionName=counted.stack.deployment.ref("CountersFunction"), Payload=json.dumps(event))
        assert "FunctionError" not in got
        for key, value in json.loads(got["Payload"].read()).items():
            totals[key] += value
    assert totals["applied"] == 0
    assert totals["duplicates"] >= 3 * len(counted.cases)  # received, screened and closed, at least
    assert totals["duplicates"] + totals["no_change"] == len(records)
    assert counted.store.everything() == before


def test_dashboards_get_the_same_figures_over_http(counted: CountedRun) -> None:
    assert settle(counted) == []
    url = f"{counted.stack.api.url}/prod/stats/summary"
    got = requests.get(url, params={"from": "2026-11-01", "to": "2026-12-31"}, timeout=30)
    assert got.status_code == 200
    stations = {s.code: s.name for s in counted.stack.district.stations}
    expected = build_report(counted.store, Period(date(2026, 11, 1), date(2026, 12, 31)), stations)
    assert got.json() == json.loads(json.dumps(expected.as_dict()))
    assert requests.get(url, params={"from": "2026-12-31"}, timeout=30).status_code == 400


def is_case_item(keys: dict[str, Any]) -> bool:
    """What the event source mapping's FilterCriteria in template.yaml lets through."""
    return bool(keys["pk"]["S"].startswith("CASE#") and keys["sk"]["S"] == "CASE")
