"""The decision engine: screening, then routing, then the dispatch deadlines of an ODR case — what the
workflow's screen-and-route step applies, and what ``odr explain`` (in the CLI) shows an operator, rule by rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from odr_adapter.models.deadlines import Deadline, DeadlinePolicies, Phase
from odr_adapter.models.directory import District
from odr_adapter.models.record import Complaint
from odr_adapter.rules.calendars import compute_deadline
from odr_adapter.rules.routing import Route, route
from odr_adapter.rules.screening import Screening, screen

DISPATCH_PHASES: tuple[Phase, ...] = ("acceptance", "resolution")


@dataclass(frozen=True)
class Decisions:
    """What the screen-and-route step decides; ``route`` is None for a refusal, deadlines only for ODR."""

    screening: Screening
    route: Route | None = None
    deadlines: dict[Phase, Deadline] = field(default_factory=dict)


def decide(complaint: Complaint, district: District, policies: DeadlinePolicies, start: datetime) -> Decisions:
    """Screening, then routing, then (for ODR) the acceptance and resolution deadlines counted from ``start``."""
    screening = screen(complaint, district)
    if not screening.accepted:
        return Decisions(screening)
    routed = route(complaint, district)
    if routed.decision != "odr" or routed.enterprise is None:
        return Decisions(screening, routed)
    klass = routed.enterprise.enterprise_class
    return Decisions(screening, routed, {p: compute_deadline(p, start, klass, policies) for p in DISPATCH_PHASES})
