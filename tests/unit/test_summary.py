"""A scenario run's summary: the cases' all-time figures, read by the reports' own code."""

from __future__ import annotations

from odr_adapter.stats.figures import summarise

from .test_counters import A_ENT, Life, day, known_week


def test_a_run_summary_counts_every_case_whatever_its_days_and_the_open_ones_by_status() -> None:
    # The known week, and c8: dispatched on day 3, overdue on day 5.1 and not closed yet.
    still_open = Life.received("c8", day(3)).dispatch(A_ENT, "JS-ZJ", day(3))
    still_open.then("overdue", day(5.1), overdue=True, overdue_phase="acceptance")
    summary = summarise(life.case for life in [*known_week(), still_open])
    assert summary.as_dict() == {
        "by_class": {
            "A": {
                "handled": 3,
                "settled": 1,
                "success_rate_percent": "33",
                "average_cycle_days": "3.0",
                "recovered_amount": "199.00",
            },
            "B": {
                "handled": 1,
                "settled": 1,
                "success_rate_percent": "100",
                "average_cycle_days": "6.0",
                "recovered_amount": "1299.00",
            },
            "C": {
                "handled": 0,
                "settled": 0,
                "success_rate_percent": None,
                "average_cycle_days": None,
                "recovered_amount": "0.00",
            },
        },
        "outcomes": {"settled": 2, "not_settled": 1, "returned": 2, "withdrawn": 1, "rejected": 1},
        "overdue": 2,
        "open": 1,
        "sentence": "三类电商ODR企业办理投诉分别为3件(和解成功率为33%)、1件(和解成功率为100%)、0件(和解成功率为—),"
        "平均办理周期3.8天,帮助消费者挽回经济损失1498.00元",
    }
