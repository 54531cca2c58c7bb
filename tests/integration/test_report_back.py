"""Report-back: each outcome reaches the 12315 platform once per key; failures stay queued for retry."""

from __future__ import annotations

from odr_local.stack import LocalStack

from .conftest import Invoker
from .helpers import record, sqs_event


def _report(complaint_id: str, outcome: str = "settled") -> dict:
    return {
        "complaint_id": complaint_id,
        "idempotency_key": f"{complaint_id}-{outcome}",
        "body": {
            "outcome": outcome,
            "recovered_amount": "199.00",
            "closed_at": "2026-12-03T10:00:00+08:00",
            "handled_by": "上海金枫云购电子商务有限公司",
            "process_summary": "退货退款完成",
        },
    }


def test_a_report_is_recorded_once_even_when_redelivered(stack: LocalStack, invoke: Invoker) -> None:
    stack.simulator.publish(record(complaint_id="IT-REPORT-0000001"))
    event = sqs_event([_report("IT-REPORT-0000001")])
    assert invoke("ReportBackFunction", event) == (True, {"batchItemFailures": []})
    assert invoke("ReportBackFunction", event) == (True, {"batchItemFailures": []})  # redelivery: 200, not a 409
    logged = [r for r in stack.simulator.result_log if r["complaint_id"] == "IT-REPORT-0000001"]
    assert [(r["key"], r["outcome"]) for r in logged] == [("IT-REPORT-0000001-settled", "settled")]


def test_a_refused_report_stays_queued(stack: LocalStack, invoke: Invoker) -> None:
    stack.simulator.publish(record(complaint_id="IT-REPORT-0000002"))
    batch = sqs_event([_report("IT-REPORT-0000002"), _report("IT-REPORT-UNKNOWN")])  # the platform answers 404
    ok, response = invoke("ReportBackFunction", batch)
    assert ok and response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    # A batch whose every report fails is retried whole (Powertools raises, so Lambda reports a function error).
    ok, error = invoke("ReportBackFunction", sqs_event([_report("IT-REPORT-UNKNOWN")]))
    assert not ok and error["errorType"] == "BatchProcessingError"
