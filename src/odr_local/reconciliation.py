"""Reconciliations at the end of a run: every record the 12315 simulator offered is accounted for (ingestion),
and every progress stage of every case reached the platform once, in order (progress).

A record is one revision of a complaint. It is *applied* (it created the case or became its current or an
earlier revision), *superseded* (an older revision that arrived after a newer one and was rightly dropped), or
*quarantined* (whole, or as its digest: a record too large or over the feed's limits, whose complaint id and
revision the digest keeps); anything else is *unaccounted for*, which must be 0. Deliveries beyond the applied
ones are the duplicates the adapter dropped (the same record by pull and by push, pages served twice,
redeliveries).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from odr_adapter.feed.progress import stages
from odr_adapter.models.case import Case
from odr_adapter.models.limits import TRUNCATED, is_digest_stub

from .simulator import offered_key

APPLYING_EVENTS = ("received", "revision_applied", "withdrawal_received")


@dataclass(frozen=True)
class Reconciliation:
    offered: int
    cases: int
    revisions_applied: int
    superseded: int
    quarantined: int
    deliveries: int
    duplicates_dropped: int
    unaccounted: int

    def line(self) -> str:
        return (
            f"ingestion: offered {self.offered} records; cases {self.cases}; "
            f"revisions applied {self.revisions_applied}; "
            f"older revisions superseded {self.superseded}; quarantined {self.quarantined}; "
            f"deliveries {self.deliveries}, duplicates dropped {self.duplicates_dropped}; "
            f"unaccounted for {self.unaccounted}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reconcile(
    offered: set[tuple[str, int]], cases: list[Case], quarantine: list[dict[str, Any]], deliveries: int
) -> Reconciliation:
    by_id = {c.complaint_id: c for c in cases}
    applied = {
        (c.complaint_id, int(h.detail["revision"]))
        for c in cases
        for h in c.history
        if h.event in APPLYING_EVENTS and "revision" in h.detail
    }
    kept = [q["raw"][TRUNCATED] if is_digest_stub(q.get("raw")) else q.get("raw") for q in quarantine]
    quarantined = {offered_key(raw) for raw in kept if isinstance(raw, dict)}
    unreadable = sum(1 for raw in kept if not isinstance(raw, dict))
    superseded = {key for key in offered - applied - quarantined if key[0] in by_id and key[1] < by_id[key[0]].revision}
    accounted = (applied | quarantined | superseded) & offered
    return Reconciliation(
        offered=len(offered),
        cases=len(cases),
        revisions_applied=len(applied & offered),
        superseded=len(superseded),
        quarantined=len(quarantined & offered) + unreadable,
        deliveries=deliveries,
        duplicates_dropped=max(0, deliveries - len(applied) - len(quarantined) - unreadable),
        unaccounted=len(offered - accounted),
    )


@dataclass(frozen=True)
class ProgressReconciliation:
    """Progress reported to 12315 against the stages in the cases' histories (contract v1.1, 4a).

    Each stage is reported once, in order: its key recorded (201) exactly once, or superseded (422: the outcome
    was reported first, which the contract allows, and then every later stage of that case is superseded too).
    *Out of order* counts cases whose recorded keys arrived in another order than their stages happened.
    *Repeated* are redeliveries the platform answered 200 (a lost reply, a retried batch): harmless.
    """

    stages: int
    recorded: int
    superseded: int
    repeated: int
    conflicting: int
    invalid: int
    missing: int
    unexpected: int
    out_of_order: int

    def line(self) -> str:
        return (
            f"progress: stages {self.stages}; recorded {self.recorded}, superseded by the outcome {self.superseded}; "
            f"repeats answered 200 {self.repeated}; conflicting {self.conflicting}; invalid {self.invalid}; "
            f"missing {self.missing}; unexpected {self.unexpected}; out of order {self.out_of_order}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reconcile_progress(
    cases: list[Case], recorded: list[dict[str, Any]], superseded: list[dict[str, Any]], feed: dict[str, Any]
) -> ProgressReconciliation:
    """``recorded`` and ``superseded``: the simulator's logs in arrival order; ``feed``: its counters."""
    expected = {c.complaint_id: [s.key(c.complaint_id) for s in stages(c)] for c in cases}
    wanted = {key for keys in expected.values() for key in keys}
    got = [r["key"] for r in recorded]
    dropped = {r["key"] for r in superseded} - set(got)
    out_of_order = 0
    for complaint_id, keys in expected.items():
        arrived = [r["key"] for r in recorded if r["complaint_id"] == complaint_id]
        if arrived != [k for k in keys if k in arrived]:
            out_of_order += 1
        elif dropped & set(keys) and keys[: len(arrived)] != arrived:
            out_of_order += 1  # a stage superseded before an earlier one was recorded
    return ProgressReconciliation(
        stages=len(wanted),
        recorded=len(set(got) & wanted),
        superseded=len(dropped & wanted),
        repeated=int(feed.get("progress_repeated", 0)),
        conflicting=int(feed.get("progress_conflicting", 0)),
        invalid=int(feed.get("progress_invalid", 0)),
        missing=len(wanted - set(got) - dropped),
        unexpected=len(set(got) - wanted) + (len(got) - len(set(got))),
        out_of_order=out_of_order,
    )
