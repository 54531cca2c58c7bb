"""Counting case changes on in-memory ports (tests/integration/test_stats_counting.py proves it on a DynamoDB
stream in moto): every change of a case's real life is counted exactly once, whatever the stream redelivers,
and the counters equal a recount from the cases."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from odr_adapter.data_access.case_items import case_change
from odr_adapter.models.counters import ALL, LIFETIME, CaseChange
from odr_adapter.models.directory import District
from odr_adapter.people.actions import perform
from odr_adapter.stats.counters import count_changes, differences, recount
from odr_adapter.stats.figures import lifetime
from odr_adapter.workflow.steps import close, escalate
from tests.fakes import World
from tests.unit.conftest import START, load_example

pytestmark = pytest.mark.usefixtures("pauses")

SPECIALIST = "enterprise:91310116MA1JK7Q26H"


@pytest.fixture
def world(district: District) -> World:
    """Two cases lived through the real steps: one settled, one returned when its acceptance ran out."""
    w = World(district, START)
    for cid in ("U-COUNT-SETTLED1", "U-COUNT-RETURN01"):
        raw = load_example("odr-by-uscc")
        raw["complaint_id"] = cid
        w.dispatch(raw)
    perform("U-COUNT-SETTLED1", "accept", SPECIALIST, {}, w.svc)
    w.wait("U-COUNT-SETTLED1", "resolution")
    w.clock.advance(timedelta(days=2))
    escalate("U-COUNT-RETURN01", "acceptance", w.svc)
    close("U-COUNT-RETURN01", "returned", w.svc)
    report = {"settled": True, "recovered_amount": "150.50", "summary": "部分退款"}
    perform("U-COUNT-SETTLED1", "report", SPECIALIST, report, w.svc)
    w.wait("U-COUNT-SETTLED1", "review")
    perform("U-COUNT-SETTLED1", "approve", "station:JS-ZJ", {}, w.svc)
    close("U-COUNT-SETTLED1", "resolved", w.svc)
    return w


def changes(world: World) -> list[CaseChange]:
    found = [case_change(old, new) for old, new in world.cases.stream]
    return [c for c in found if c is not None]


def test_every_change_counted_once_equals_a_recount(world: World) -> None:
    result = count_changes(changes(world), world.counters, world.clock.now())

    assert result.applied + result.no_change == len(world.cases.stream) and result.duplicates == 0
    expected = recount(world.cases.all()).items
    assert differences(expected, world.counters.values) == []
    totals = lifetime(world.counters)
    assert (totals.count("settled"), totals.count("returned"), totals.recovered) == (1, 1, Decimal("150.50"))


def test_a_stream_that_redelivers_out_of_order_counts_the_same(world: World) -> None:
    stream = changes(world)
    redelivered = stream + random.Random(7).sample(stream, len(stream))

    result = count_changes(redelivered, world.counters, world.clock.now())

    assert result.duplicates == result.applied  # every change a second time, each refused by its marker
    assert differences(recount(world.cases.all()).items, world.counters.values) == []
    assert world.counters.read(ALL, LIFETIME, LIFETIME)[0].values["status_closed"] == 2
