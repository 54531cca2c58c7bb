"""Ingestion reconciliation at the end of a run: every record the 12315 simulator offered is accounted for.

A record is one revision of a complaint. It is *applied* (it created the case or became its current or an
earlier revision), *superseded* (an older revision that arrived after a newer one and was rightly dropped), or
*quarantined*; anything else is *unaccounted for*, which must be 0. Deliveries beyond the applied ones are the
duplicates the adapter dropped (the same record by pull and by push, pages served twice, redeliveries).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from odr_adapter.models.case import Case

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
    quarantined = {
        (str(q["raw"].get("complaint_id")), int(q["raw"].get("revision") or 0))
        for q in quarantine
        if isinstance(q.get("raw"), dict)
    }
    unreadable = sum(1 for q in quarantine if not isinstance(q.get("raw"), dict))
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
