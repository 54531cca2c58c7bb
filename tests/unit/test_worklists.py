"""A holder's worklist on in-memory ports: only its own cases, open ones first (oldest first) then closed ones
(newest first), every case once across pages; filters by phase, enterprise and period; a complaint id finds a
closed case; the cursor is bound to the holder and the filters and cannot be altered; rows say the phase, the
deadline, the hours left, overdue and the reminders sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from odr_adapter.models.case import Case
from odr_adapter.models.cursors import BadCursor, read_cursor, sign_cursor
from odr_adapter.models.sessions import Holder
from odr_adapter.people.worklists import Filters, api_item, listing, row
from tests.fakes import FakeCasePages, World
from tests.unit.conftest import START, load_example

pytestmark = pytest.mark.usefixtures("pauses")

KEY = b"cursor-key"
JINFENG = "91310116MA1JK7Q26H"
SHANYANG = "91310116MA1H3N8W6F"
NAMES = {JINFENG: "上海金枫云购电子商务有限公司", SHANYANG: "上海山阳优选网络科技有限公司"}
ZHUJING = Holder("station", "JS-ZJ")
SHANYANG_STATION = Holder("station", "JS-SY")
DIVISION = {"JS-ZJ": "310116101", "JS-SY": "310116113"}


def dispatched(world: World, cid: str, hours_ago: float, uscc: str = JINFENG, station: str = "JS-ZJ") -> Case:
    raw = load_example("odr-by-uscc")
    at = (START - timedelta(hours=hours_ago)).isoformat()
    raw.update(complaint_id=cid, registered_at=at, updated_at=at)
    raw["respondent"].update(uscc=uscc, name=NAMES[uscc], division_code=DIVISION[station])
    raw["respondent"].pop("shop_name")
    case, _ = world.dispatch(raw)
    assert case.station_code == station and case.enterprise is not None and case.enterprise.uscc == uscc
    return case


def close(world: World, cid: str) -> None:
    world.change(cid, "closed", status="closed", outcome="settled", pending=None, closed_at=world.clock.now())


def every_page(world: World, holder: Holder, **filters: Any) -> tuple[list[str], int]:
    pages, got, cursor = FakeCasePages(world.cases), [], ""
    for count in range(1, 50):
        found = listing(holder, Filters.model_validate({**filters, "cursor": cursor}), pages, world.cases, KEY)
        got += [c.complaint_id for c in found.cases]
        if found.next_cursor is None:
            return got, count
        cursor = found.next_cursor
    raise AssertionError("the cursor never ends")


@pytest.fixture
def district_cases(world: World) -> World:
    """朱泾所: five open cases (金枫云购, and 山阳优选 bought through 朱泾) and two closed; 山阳所: two."""
    for n, hours in enumerate((50, 40, 30, 20, 10)):
        dispatched(world, f"WL-ZJ-OPEN-{n}", hours, SHANYANG if n == 2 else JINFENG)
    for n, hours in enumerate((60, 45)):
        dispatched(world, f"WL-ZJ-CLOSED-{n}", hours)
        close(world, f"WL-ZJ-CLOSED-{n}")
    dispatched(world, "WL-SY-OPEN-0", 35, SHANYANG, "JS-SY")
    dispatched(world, "WL-SY-CLOSED-0", 55, SHANYANG, "JS-SY")
    close(world, "WL-SY-CLOSED-0")
    return world


def test_a_station_sees_its_own_cases_open_first_oldest_first_then_closed_newest_first(district_cases: World) -> None:
    got, pages = every_page(district_cases, ZHUJING, limit=3)
    assert got == [
        "WL-ZJ-OPEN-0",
        "WL-ZJ-OPEN-1",
        "WL-ZJ-OPEN-2",
        "WL-ZJ-OPEN-3",
        "WL-ZJ-OPEN-4",
        "WL-ZJ-CLOSED-1",
        "WL-ZJ-CLOSED-0",
    ]
    assert pages == 3
    assert every_page(district_cases, SHANYANG_STATION)[0] == ["WL-SY-OPEN-0", "WL-SY-CLOSED-0"]


def test_an_enterprise_sees_only_its_own_cases_whichever_station_has_them(district_cases: World) -> None:
    got, _ = every_page(district_cases, Holder("enterprise", SHANYANG), limit=2)
    assert got == ["WL-SY-OPEN-0", "WL-ZJ-OPEN-2", "WL-SY-CLOSED-0"]


def test_filters_by_phase_enterprise_and_period(district_cases: World) -> None:
    world = district_cases
    world.change("WL-ZJ-OPEN-3", "accepted", status="accepted")
    assert every_page(world, ZHUJING, phase="resolution")[0] == ["WL-ZJ-OPEN-3"]
    assert every_page(world, ZHUJING, phase="acceptance")[0] == [
        "WL-ZJ-OPEN-0",
        "WL-ZJ-OPEN-1",
        "WL-ZJ-OPEN-2",
        "WL-ZJ-OPEN-4",
    ]
    assert every_page(world, ZHUJING, phase="closed")[0] == ["WL-ZJ-CLOSED-1", "WL-ZJ-CLOSED-0"]
    assert every_page(world, ZHUJING, enterprise=SHANYANG)[0] == ["WL-ZJ-OPEN-2"]
    # Beijing dates: 10 to 30 hours before 11-30 08:00 is 11-29; 40 to 50 hours before, 11-28.
    on_29th = {"from": "2026-11-29", "to": "2026-11-29"}
    assert every_page(world, ZHUJING, **on_29th)[0] == ["WL-ZJ-OPEN-2", "WL-ZJ-OPEN-3", "WL-ZJ-OPEN-4"]
    on_28th = {"from": "2026-11-28", "to": "2026-11-28"}
    assert every_page(world, ZHUJING, **on_28th)[0] == ["WL-ZJ-OPEN-0", "WL-ZJ-OPEN-1", "WL-ZJ-CLOSED-1"]
    assert every_page(world, ZHUJING, **{"from": "2026-11-30"})[0] == []
    assert every_page(world, ZHUJING, **{"to": "2026-11-27"})[0] == ["WL-ZJ-CLOSED-0"]


def test_a_page_is_filled_though_the_filter_drops_most_of_what_is_read(world: World) -> None:
    for n in range(12):
        dispatched(world, f"WL-ZJ-C-{n:02d}", 100 - n)
        close(world, f"WL-ZJ-C-{n:02d}")
    dispatched(world, "WL-ZJ-LATE-OPEN", 5)
    pages = FakeCasePages(world.cases)
    found = listing(ZHUJING, Filters(limit=4), pages, world.cases, KEY)
    assert [c.complaint_id for c in found.cases] == ["WL-ZJ-LATE-OPEN", "WL-ZJ-C-11", "WL-ZJ-C-10", "WL-ZJ-C-09"]
    assert found.next_cursor is not None


def test_a_complaint_id_finds_the_holders_case_closed_or_not_and_no_one_elses(district_cases: World) -> None:
    pages, world = FakeCasePages(district_cases.cases), district_cases
    assert [c.complaint_id for c in listing(ZHUJING, Filters(q="WL-ZJ-CLOSED-0"), pages, world.cases, KEY).cases] == [
        "WL-ZJ-CLOSED-0"
    ]
    assert listing(ZHUJING, Filters(q="WL-SY-CLOSED-0"), pages, world.cases, KEY).cases == []
    assert listing(ZHUJING, Filters(q="NO-SUCH-CASE"), pages, world.cases, KEY).cases == []
    assert listing(Holder("enterprise", JINFENG), Filters(q="WL-ZJ-OPEN-2"), pages, world.cases, KEY).cases == []


def test_a_cursor_works_only_for_its_holder_and_filters_and_cannot_be_altered(district_cases: World) -> None:
    world, pages = district_cases, FakeCasePages(district_cases.cases)
    cursor = listing(ZHUJING, Filters(limit=2), pages, world.cases, KEY).next_cursor
    assert cursor is not None
    position = read_cursor(cursor, Filters(limit=2).scope(ZHUJING), KEY)
    assert position["section"] == "open" and position["key"]["station_pk"] == "STATION#JS-ZJ"
    moved = sign_cursor({**position, "key": {**position["key"], "station_pk": "STATION#JS-SY"}}, "x", KEY)
    body, mac = cursor.split(".")
    for bad, holder, filters in [
        (cursor, SHANYANG_STATION, Filters(limit=2)),  # another holder
        (cursor, ZHUJING, Filters(limit=3)),  # other filters
        (cursor, ZHUJING, Filters(limit=2, phase="open")),
        (moved, ZHUJING, Filters(limit=2)),  # signed for another scope
        (body[:-2] + "AA." + mac, ZHUJING, Filters(limit=2)),  # altered
        ("not-a-cursor", ZHUJING, Filters(limit=2)),
    ]:
        with pytest.raises(BadCursor):
            listing(holder, filters.model_copy(update={"cursor": bad}), pages, world.cases, KEY)
    with pytest.raises(BadCursor):  # the right cursor, signed with another key
        listing(ZHUJING, Filters(limit=2, cursor=cursor), pages, world.cases, b"other key")


@pytest.mark.parametrize(
    "query",
    [
        {"phase": "everything"},
        {"enterprise": "acme"},
        {"from": "2026-13-01"},
        {"from": "2026-12-02", "to": "2026-12-01"},
        {"q": "x' OR 1=1"},
        {"limit": "1000"},
        {"extra": "1"},
    ],
)
def test_filters_that_make_no_sense_are_refused(query: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Filters.model_validate(query)


def test_a_row_says_phase_deadline_hours_left_overdue_and_reminders(world: World) -> None:
    case = dispatched(world, "WL-ZJ-ROW-0", 1)
    due = case.deadlines["acceptance"].due_at
    world.clock.set(due - timedelta(hours=5, minutes=30))
    world.change("WL-ZJ-ROW-0", "reminder_due", reminders_sent=["acceptance:0"])
    fresh = world.case("WL-ZJ-ROW-0")
    shown = row(fresh, ZHUJING, world.district, world.clock.now())
    assert (shown.phase, shown.hours_left, shown.overdue, shown.reminders, shown.yours) == ("受理", 5, False, 1, False)
    assert shown.enterprise == NAMES[JINFENG] and shown.station == "朱泾市场监管所"
    specialist = row(fresh, Holder("enterprise", JINFENG), world.district, world.clock.now())
    assert specialist.yours
    late = row(fresh, ZHUJING, world.district, due + timedelta(hours=2))
    assert (late.hours_left, late.overdue) == (-2, True)
    item = api_item(fresh, world.clock.now())
    assert (item["phase"], item["hours_left"], item["reminders_sent"], item["deadline_passed"]) == (
        "acceptance",
        5,
        1,
        False,
    )
