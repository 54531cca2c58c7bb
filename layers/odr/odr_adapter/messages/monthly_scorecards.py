"""The monthly scorecard message (月度办理情况): each enterprise with ODR cases in a month gets, on the first of the
next, its own figures against its class's, whether it is commended (红榜) and which rates are under the exit-review
thresholds, by the bureau's stored rules.

It is a scheduled function's work (ScorecardFunction, the 1st of each month at 09:00 Beijing time), not an
operator's command: the message is owed every month whether or not someone remembers, and the schedule runs in
virtual time on the local stack like every other timer. The figures are the scorecards' (:mod:`odr_adapter.stats.
scorecards`), read from counters once the month is over.

Each enterprise's message is sent once per month: a claim (``scorecard:<month>:<uscc>``, a conditional write with
a lease) is taken before sending and marked done once a channel delivered it; a run that could not deliver leaves
the lease to end, so running again (EventBridge's retry, or an operator's invocation with ``{"month": ...}``) sends
only what was not delivered. E-mail first (a table to read at a desk), SMS when there is no e-mail or it failed.
No consumer data is in it: the figures are counts and rates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from odr_adapter.clock import local
from odr_adapter.messages.channels import Route, deliver
from odr_adapter.messages.sending import Delivery
from odr_adapter.messages.texts import render, sign
from odr_adapter.models.directory import District
from odr_adapter.ports import CounterReader, Services
from odr_adapter.stats.figures import Figures, Period
from odr_adapter.stats.scorecards import Scorecard, scorecards

LEASE = timedelta(minutes=5)  # longer than one enterprise's message takes with its retries


@dataclass
class MonthlyRun:
    month: str
    active: int = 0  # enterprises with cases dispatched or handled in the month
    sent: int = 0
    failed: int = 0  # no channel delivered: sent by the next run
    skipped: int = 0  # delivered before, or being sent by another run
    commended: int = 0
    exit_review: int = 0


def previous_month(now: datetime) -> str:
    """``YYYY-MM`` of the month before ``now``'s, in Asia/Shanghai."""
    return f"{local(now).date().replace(day=1) - timedelta(days=1):%Y-%m}"


def send_monthly_scorecards(
    month: str | None, svc: Services, reader: CounterReader, delivery: Delivery
) -> dict[str, Any]:
    """Send ``month``'s scorecard (the previous month by default) to every enterprise active in it, once each."""
    label = month or previous_month(svc.clock.now())
    period = Period.month(label)
    district = svc.directory.district()
    cards = scorecards(reader, period, district.enterprises, svc.directory.deadline_policies().scorecards)
    run = MonthlyRun(label)
    for card in cards:
        if not card.figures.count("dispatched") and not card.figures.count("handled"):
            continue  # nothing to say about a month without cases
        run.active += 1
        run.commended += card.commended
        run.exit_review += card.exit_review
        claim = f"scorecard:{label}:{card.enterprise.uscc}"
        now = svc.clock.now()
        if not delivery.links.reserve(claim, now, now + LEASE):
            run.skipped += 1
            continue
        if _send(card, period, district, svc, delivery):
            delivery.links.finish(claim)
            run.sent += 1
        else:
            run.failed += 1
    return asdict(run)


def _send(card: Scorecard, period: Period, district: District, svc: Services, delivery: Delivery) -> bool:
    e = card.enterprise
    message = render("scorecard", letter(card, period, district))
    routes = []
    if e.contact_email:
        routes.append(Route("email", partial(svc.email.send, e.contact_email, message.subject, message.email)))
    if e.contact_mobile:
        routes.append(Route("sms", partial(svc.sms.send, e.contact_mobile, message.sms)))
    channel, _ = deliver(routes, delivery.retry)
    return channel is not None


def letter(card: Scorecard, period: Period, district: District) -> dict[str, Any]:
    """What the message says: the enterprise's figures and its class's, the commendation and the flags."""
    e = card.enterprise
    return {
        "sign": sign(district),
        "district": district.name,
        "contact_name": e.contact_name,
        "enterprise_name": e.name,
        "month_name": f"{period.first.year}年{period.first.month}月",
        "month_short": f"{period.first.month}月",
        "class_name": f"{e.enterprise_class}类",
        "own": _figures(card.figures),
        "cls": _figures(card.class_figures),
        "merits": [m.text() for m in card.merits],
        "flags": [f.text() for f in card.flags],
    }


def _figures(f: Figures) -> dict[str, str]:
    return {
        "dispatched": str(f.count("dispatched")),
        "handled": str(f.count("handled")),
        "acceptance": _percent(f.on_time_acceptance_rate),
        "closure": _percent(f.on_time_closure_rate),
        "settlement": _percent(f.success_rate),
        "cycle": "—" if f.average_cycle_days is None else str(f.average_cycle_days),
        "recovered": f"{f.recovered:.2f}",
    }


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"
