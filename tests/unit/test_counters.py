"""The counters domain on hand-made case images: what each change adds, and that the counters always equal a
recount of the cases, whatever order the changes are counted in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odr_adapter.data_access.case_items import CaseItemInvalid, case_change, case_from_item
from odr_adapter.models.case import Case, Decision, EnterpriseRef, Feedback, transition
from odr_adapter.models.counters import ALL, CaseChange
from odr_adapter.models.deadlines import Deadline
from odr_adapter.stats.counters import (
    CounterBook,
    change_deltas,
    contribution,
    cycle_bucket,
    differences,
    recount,
)
from odr_adapter.stats.figures import Period, build_report, summarise

SH = timedelta(hours=8)  # Asia/Shanghai has no DST
WEEK_START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
A_ENT = EnterpriseRef(uscc="91310116MA1JK7Q26H", name="上海金枫云购电子商务有限公司", enterprise_class="A")
B_ENT = EnterpriseRef(uscc="91310116MA1FL2T66W", name="上海枫泾古镇文创商贸有限公司", enterprise_class="B")


def day(n: float) -> datetime:
    return WEEK_START + timedelta(days=n)


def deadline(phase: Any, due: datetime) -> Deadline:
    return Deadline(
        phase=phase,
        due_at=due,
        remind_at=due - timedelta(days=1),
        policy="2 个自然日",
        calendar="natural-days",
        calendar_version="n/a",
    )


def image(case: Case) -> dict[str, Any]:
    """The case item as a stream image holds it (see data_access.case_items.case_item)."""
    doc = case.model_dump(mode="json", exclude_none=True)
    doc["record"] = json.dumps(case.record, ensure_ascii=False)
    return {**doc, "pk": f"CASE#{case.complaint_id}", "sk": "CASE", "reg_sk": "x"}


@dataclass
class Life:
    """One case's successive versions, made with the domain's own transition()."""

    case: Case
    versions: list[Case] = field(default_factory=list)

    @classmethod
    def received(cls, complaint_id: str, registered: datetime) -> Life:
        case = Case(
            complaint_id=complaint_id,
            revision=1,
            registered_at=registered,
            received_at=registered,
            record={"complaint_id": complaint_id},
            execution_name=f"case-{complaint_id}",
        )
        first, _ = transition(case, "received", "12315", registered)
        return cls(first, [first])

    def then(self, event: str, at: datetime, **changes: Any) -> Life:
        self.case, _ = transition(self.case, event, "test", at, **changes)
        self.versions.append(self.case)
        return self

    def dispatch(self, enterprise: EnterpriseRef, station: str, at: datetime) -> Life:
        deadlines = {
            "acceptance": deadline("acceptance", at + timedelta(days=2)),
            "resolution": deadline("resolution", at + timedelta(days=7)),
        }
        self.then("execution_started", at, execution_started=True)
        return self.then(
            "dispatched",
            at,
            status="dispatched",
            enterprise=enterprise,
            station_code=station,
            deadlines=deadlines,
            route=Decision(rule="odr_directory_member", reason="listed"),
        ).then("waiting", at)

    def resolve(self, at: datetime, settled: bool, amount: str = "0.00") -> Life:
        feedback = Feedback(settled=settled, recovered_amount=Decimal(amount), summary="s", reported_at=at)
        return self.then("result_reported", at, status="under_review", feedback=feedback).then("approved", at)

    def close(self, outcome: str, at: datetime, amount: str = "0.00") -> Life:
        cycle = (Decimal((at - self.case.registered_at).total_seconds()) / Decimal(86400)).quantize(Decimal("0.01"))
        return self.then(
            "closed",
            at,
            status="closed",
            outcome=outcome,
            closed_at=at,
            recovered_amount=Decimal(amount),
            cycle_days=cycle,
            pending=None,
        )

    def changes(self) -> list[CaseChange]:
        items = [image(v) for v in self.versions]
        out = []
        for old, new in zip([None, *items[:-1]], items, strict=True):
            change = case_change(old, new)
            assert change is not None
            out.append(change)
        return out


def known_week() -> list[Life]:
    """Seven complaints of a week in Jinshan, each taken through a different path."""
    settled = Life.received("c1", day(0)).dispatch(A_ENT, "JS-ZJ", day(0.05))
    settled.then("accepted", day(1), status="accepted").resolve(day(2), True, "199.00").close(
        "settled", day(3), "199.00"
    )
    not_settled = Life.received("c2", day(0)).dispatch(A_ENT, "JS-ZJ", day(0.05))
    not_settled.then("accepted", day(1), status="accepted").resolve(day(3), False).close("not_settled", day(4))
    overdue = Life.received("c3", day(0.1)).dispatch(A_ENT, "JS-ZJ", day(0.1))
    overdue.then("overdue", day(2.1), overdue=True, overdue_phase="acceptance").close("returned", day(2.1))
    sent_back = Life.received("c4", day(0)).dispatch(B_ENT, "JS-FJ", day(0.05))
    sent_back.then("accepted", day(0.5), status="accepted").resolve(day(2), True, "1299.00")
    sent_back.then("sent_back", day(3), status="accepted", send_backs=1).resolve(day(5), True, "1299.00")
    sent_back.close("settled", day(6), "1299.00")
    withdrawn = Life.received("c5", day(1)).dispatch(B_ENT, "JS-FJ", day(1.05))
    withdrawn.then("withdrawal_received", day(1.5), withdraw_requested=True).close("withdrawn", day(1.5))
    refused = Life.received("c6", day(2)).then("refused", day(2), refusal_reason="time_barred")
    refused.close("rejected", day(2))
    regular = Life.received("c7", day(2)).then("routed_regular", day(2), station_code="JS-ZJ")
    regular.close("returned", day(2.2))
    return [settled, not_settled, overdue, sent_back, withdrawn, refused, regular]


def counted(lives: list[Life]) -> CounterBook:
    book = CounterBook()
    for life in lives:
        for change in life.changes():
            book.add(change_deltas(change.old, change.new))
    return book


WEEK = Period(day(0).date(), day(6).date())


def test_the_summary_sentence_of_a_known_week_matches_the_figures_counted_by_hand() -> None:
    # A: c1 settled (3.00 days, 199.00), c2 not settled (4.00), c3 returned overdue (2.00): 1 of 3 settled.
    # B: c4 settled after one send-back (6.00 days, 1299.00); c5 withdrawn is not handled. C: nothing.
    # Cycle: (3 + 4 + 2 + 6) / 4 = 3.75 -> 3.8 days; recovered 199 + 1299 = 1498.00 yuan.
    report = build_report(counted(known_week()), WEEK)
    assert report.sentence() == (
        "三类电商ODR企业办理投诉分别为3件(和解成功率为33%)、1件(和解成功率为100%)、0件(和解成功率为—),"
        "平均办理周期3.8天,帮助消费者挽回经济损失1498.00元"
    )
    assert report.sentence() == summarise(life.case for life in known_week()).sentence()


def test_each_counter_of_the_known_week() -> None:
    report = build_report(counted(known_week()), WEEK, {"JS-ZJ": "朱泾市场监管所", "JS-FJ": "枫泾市场监管所"})
    total, a, b = report.total, report.by_class["A"], report.by_class["B"]
    assert {m: total.count(m) for m in ("received", "refused", "routed_regular", "dispatched", "closed")} == {
        "received": 7,
        "refused": 1,
        "routed_regular": 1,
        "dispatched": 5,
        "closed": 7,
    }
    assert {o: total.count(o) for o in ("settled", "not_settled", "returned", "withdrawn", "rejected")} == {
        "settled": 2,
        "not_settled": 1,
        "returned": 2,
        "withdrawn": 1,
        "rejected": 1,
    }
    assert (a.count("handled"), a.count("closed_on_time"), a.count("accepted_on_time"), a.count("overdue")) == (
        3,
        2,
        2,
        1,
    )
    assert (b.count("dispatched"), b.count("handled"), b.count("sent_back"), b.recovered) == (
        2,
        1,
        1,
        Decimal("1299.00"),
    )
    assert a.on_time_closure_rate == Decimal(67) and a.on_time_acceptance_rate == Decimal(67)
    zhujing = report.by_station["JS-ZJ"]
    assert (zhujing.count("received"), zhujing.count("returned"), zhujing.count("handled")) == (4, 2, 3)
    assert total["cycle_days"] == Decimal("15.00")
    assert [total.count(b) for b in ("cycle_2_3", "cycle_3_5", "cycle_5_7")] == [1, 2, 1]
    assert report.now.count("status_closed") == 7 and report.summary().open == 0


def test_facts_are_dated_by_the_event_in_asia_shanghai() -> None:
    late_evening = Life.received("late", datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 23:30 on 30 Nov
    after_midnight = Life.received("early", datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 on 1 Dec
    book = counted([late_evening, after_midnight])
    assert book.items[(ALL, "D#2026-11-30")] == {"received": Decimal(1)}
    assert book.items[(ALL, "D#2026-12-01")] == {"received": Decimal(1)}
    assert book.items[(ALL, "M#2026-11")] == {"received": Decimal(1)}
    assert book.items[(ALL, "T")] == {"received": Decimal(2), "status_received": Decimal(2)}


def test_dispatching_moves_the_received_count_into_the_enterprise_scopes() -> None:
    life = Life.received("c1", day(0)).dispatch(A_ENT, "JS-ZJ", day(1))
    dispatched = life.changes()[2]
    deltas = change_deltas(dispatched.old, dispatched.new)
    assert (ALL, "D#2026-11-30") not in deltas  # the case was counted received there already
    for scope in ("CLASS#A", f"ENT#{A_ENT.uscc}", "STATION#JS-ZJ"):
        assert deltas[(scope, "D#2026-11-30")] == {"received": 1}
        assert deltas[(scope, "D#2026-12-01")] == {"dispatched": 1}
        assert (scope, "T") not in deltas  # only all cases keep a lifetime item (and the gauges)
    assert deltas[(ALL, "T")] == {"dispatched": 1, "status_received": -1, "status_dispatched": 1}


def test_changes_that_touch_no_figure_add_nothing() -> None:
    life = Life.received("c1", day(0)).dispatch(A_ENT, "JS-ZJ", day(0))
    life.then("notified", day(0.1)).then("waiting", day(0.1))
    quiet = life.changes()[1:2] + life.changes()[-2:]  # execution_started, notified, waiting
    assert all(change_deltas(c.old, c.new) == {} for c in quiet)


def test_acceptance_after_the_deadline_is_not_on_time() -> None:
    life = Life.received("c1", day(0)).dispatch(A_ENT, "JS-ZJ", day(0))
    life.then("accepted", day(2.5), status="accepted")  # due at day 2
    facts = contribution(life.case)[(ALL, "T")]
    assert facts["accepted"] == 1 and "accepted_on_time" not in facts


def test_counters_equal_a_recount_of_the_cases() -> None:
    lives = known_week()
    assert differences(recount(life.case for life in lives).items, counted(lives).items) == []


def test_differences_name_the_counter_that_is_off() -> None:
    book = counted(known_week())
    book.add({(ALL, "M#2026-12"): {"settled": Decimal(1)}})
    assert differences(recount(life.case for life in known_week()).items, book.items) == [
        "ALL M#2026-12 settled: counted 3, recount 2"
    ]


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(len(known_week()[3].changes()))))
def test_any_order_of_counting_the_changes_gives_the_same_counters(order: list[int]) -> None:
    life = known_week()[3]  # the longest path: sent back once, then settled
    changes = life.changes()
    book = CounterBook()
    for i in order:
        book.add(change_deltas(changes[i].old, changes[i].new))
    assert differences(contribution(life.case), book.items) == []


def test_cycle_buckets_have_closed_lower_and_open_upper_edges() -> None:
    assert cycle_bucket(Decimal("0.99")) == "cycle_0_1"
    assert cycle_bucket(Decimal("1")) == "cycle_1_2"
    assert cycle_bucket(Decimal("6.99")) == "cycle_5_7"
    assert cycle_bucket(Decimal("15")) == "cycle_15_plus"


def test_items_that_are_not_cases_are_not_counted() -> None:
    assert case_from_item({"pk": "FEED", "sk": "CURSOR", "updated_after": "x"}) is None
    assert case_from_item({"pk": "QUARANTINE", "sk": "abc", "raw": "{}"}) is None
    assert case_from_item({"pk": "CASE#1", "sk": "LINK#x"}) is None
    assert case_change({"pk": "FEED", "sk": "CURSOR"}, {"pk": "FEED", "sk": "CURSOR"}) is None


def test_a_deleted_case_does_not_rewrite_past_figures() -> None:
    life = Life.received("c1", day(0))
    assert case_change(image(life.case), None) is None


def test_stream_numbers_arrive_as_decimals_and_still_make_a_case() -> None:
    life = Life.received("c1", day(0)).dispatch(A_ENT, "JS-ZJ", day(0))
    item = {k: Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in image(life.case).items()}
    case = case_from_item(item)
    assert case is not None and case.version == life.case.version == 4


def test_an_unreadable_case_item_is_reported_without_its_values() -> None:
    item = image(Life.received("c1", day(0)).case)
    item["record"] = json.dumps({"consumer": {"name": "林晓", "phone": "13761234567"}}, ensure_ascii=False)
    del item["registered_at"]
    item["status"] = "lost"
    with pytest.raises(CaseItemInvalid) as caught:
        case_from_item(item)
    message = str(caught.value)
    assert message == "CASE#c1 version 1 is not a readable case: status: literal_error; registered_at: missing"
    assert "林晓" not in message and "1376" not in message and caught.value.__cause__ is None
    item = image(Life.received("c2", day(0)).case)
    item["record"] = "{not json"
    with pytest.raises(CaseItemInvalid, match="CASE#c2 version 1 is not a readable case: record is not JSON"):
        case_from_item(item)
