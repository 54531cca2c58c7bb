"""The chaos suite's short form (``odr-local chaos``; ``make chaos`` runs it at full size): under duplicate
deliveries, platform faults, AWS faults with handler crashes, hostile inputs and concurrent submits, nothing is
lost, duplicated or stuck, nothing answers 5xx and no consumer's personal data reaches a log."""

from __future__ import annotations

import io

from odr_local import chaos


def test_the_short_chaos_suite_keeps_every_promise() -> None:
    out = io.StringIO()
    outcomes = chaos.run(full=False, out=out)
    assert [o.test for o in outcomes if not o.ok] == [], out.getvalue()
    assert {o.test for o in outcomes} >= {
        "deliveries ×3, revisions shuffled",
        "platform faults 30%",
        "AWS faults 10% + handler crashes",
        "hostile inputs (webhook, API, link forms)",
        "concurrent submits on one case",
        "PII in logs and quarantine listing",
    }
    aws = next(o for o in outcomes if o.test.startswith("AWS"))
    assert aws.faults > 0 and aws.inputs > 0  # faults were really injected
