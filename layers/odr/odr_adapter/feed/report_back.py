"""Reporting a closed case's outcome to the 12315 platform (contract section 4).

A report is queued at closure, so closing never waits on the platform; this sends one queued report. A
transient failure raises and the queue redelivers (then its DLQ keeps it); the Idempotency-Key makes every
redelivery safe: the platform answers 200 for a key and body it already has. The stages before the outcome
(contract section 4a) are reported the same way by :mod:`odr_adapter.feed.progress`.
"""

from __future__ import annotations

from typing import Any, Protocol


class ResultsApi(Protocol):
    def report(self, complaint_id: str, idempotency_key: str, result: dict[str, Any]) -> int: ...


def send_report(report: dict[str, Any], api: ResultsApi) -> int:
    """POST one queued report; returns the platform's status (201 first time, 200 when already recorded)."""
    return api.report(report["complaint_id"], report["idempotency_key"], report["body"])
