"""The case library for training: closed cases of a period, anonymised, as JSON lines or a workbook.

A library case names no person, enterprise or complaint: an anonymous label (HMAC of the complaint id with a
salt), the category, the enterprise class, the path and its steps as day offsets from registration, the outcome,
each deadline met or missed, the cycle, amounts as bands, and the free text scrubbed by :func:`pii.scrub_text`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from odr_adapter.clock import SHANGHAI, local
from odr_adapter.models.case import Case
from odr_adapter.models.directory import CLASS_NAMES, District
from odr_adapter.stats.figures import Period
from odr_cli.pii import Mentions, organisation_names, record_mentions, scrub_text

# The history events that make a case's path (the rest, e.g. notifications and waits, are the machinery's).
STEP_NAMES: dict[str, str] = {
    "received": "received",
    "screening_requested": "screening by hand",
    "screening_confirmed": "screening confirmed",
    "refused": "refused",
    "routed_regular": "regular handling",
    "dispatched": "dispatched",
    "accepted": "accepted",
    "declined": "declined",
    "result_reported": "result",
    "sent_back": "sent back",
    "approved": "approved",
    "overdue": "overdue",
    "withdrawal_received": "withdrawn",
    "closed": "closed",
}
# The events that end each phase's wait in time (an action after its deadline is refused, never recorded).
PHASE_ENDS: dict[str, tuple[str, ...]] = {
    "screening": ("screening_confirmed",),
    "acceptance": ("accepted", "declined"),
    "resolution": ("result_reported",),
    "review": ("approved", "sent_back"),
}
AMOUNT_BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(100), "0–100"),
    (Decimal(500), "100–500"),
    (Decimal(2000), "500–2,000"),
    (Decimal(10000), "2,000–10,000"),
)


@dataclass(frozen=True)
class LibraryCase:
    label: str
    category: str | None
    enterprise_class: str | None
    screening: str | None
    route: str | None
    path: str
    outcome: str | None
    deadlines: dict[str, str]
    cycle_days: float | None
    claimed: str | None
    recovered: str | None
    description: str | None
    demand: str | None
    process_summary: str | None
    review_comment: str | None
    steps: list[str]


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period's first instant and the instant after its last day, Asia/Shanghai days, in UTC."""
    start = datetime.combine(period.first, time(), SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=period.days)).astimezone(UTC)


def closed_in(cases: Iterable[Case], period: Period) -> list[Case]:
    """The closed cases closed within ``period``, in the order they closed (each once)."""
    start, end = period_bounds(period)
    found = {c.complaint_id: c for c in cases if c.closed_at and start <= c.closed_at < end}
    return sorted(found.values(), key=lambda c: (c.closed_at, c.complaint_id))


def labeller(salt: bytes) -> Callable[[str], str]:
    """A stable anonymous label per complaint id: ``C-`` and 12 hex digits of HMAC-SHA256 keyed with ``salt``."""
    return lambda complaint_id: "C-" + hmac.new(salt, complaint_id.encode(), hashlib.sha256).hexdigest()[:12]


def directory_mentions(district: District) -> Mentions:
    """The directory's enterprises, shops and people (ODR specialists, stations' responsible persons)."""
    people = [(e.contact_name, e.contact_mobile, e.contact_email) for e in district.enterprises] + [
        (s.reviewer_name, s.reviewer_mobile, s.reviewer_email) for s in district.stations
    ]
    return Mentions(
        names=tuple(dict.fromkeys(name for name, _, _ in people)),
        organisations=organisation_names(*(n for e in district.enterprises for n in (e.name, *e.shop_names))),
        numbers=tuple(dict.fromkeys(mobile for _, mobile, _ in people if mobile)),
        emails=tuple(dict.fromkeys(email for _, _, email in people if email)),
    )


def amount_band(amount: Decimal | None) -> str | None:
    if amount is None:
        return None
    return next((band for limit, band in AMOUNT_BANDS if amount < limit), "10,000+")


def _claimed(record: dict[str, Any]) -> Decimal | None:
    try:
        return Decimal(str(record["claimed_amount"])) if record.get("claimed_amount") is not None else None
    except InvalidOperation:
        return None


def steps_of(case: Case) -> list[str]:
    """The path's events as ``D+<days since the registration day> <step>`` (Asia/Shanghai days, no times)."""
    registered = local(case.registered_at).date()
    out = []
    for event in case.history:
        if event.event not in STEP_NAMES:
            continue
        name = STEP_NAMES[event.event]
        if event.event == "overdue" and event.detail.get("phase") in PHASE_ENDS:
            name += f" ({event.detail['phase']})"
        out.append(f"D+{(local(event.at).date() - registered).days} {name}")
    return out


def deadlines_of(case: Case) -> dict[str, str]:
    """Each phase the case had a deadline for: ``met``, ``missed`` or ``not reached`` (withdrawn, declined ...)."""
    happened = {e.event for e in case.history}
    out = {}
    for phase, ends in PHASE_ENDS.items():
        if phase not in case.deadlines:
            continue
        missed = case.overdue_phase == phase or (phase == "screening" and case.screening_overdue)
        out[phase] = "missed" if missed else "met" if happened.intersection(ends) else "not reached"
    return out


def library_case(case: Case, label: str, known: Mentions) -> LibraryCase:
    """One closed case, anonymised: ``known`` is what the directory names (the record adds its own)."""
    record = case.record
    mentions = record_mentions(record) + known
    if case.enterprise:
        mentions = mentions + Mentions(organisations=organisation_names(case.enterprise.name))

    def text(value: Any) -> str | None:
        return scrub_text(value, mentions) if isinstance(value, str) and value.strip() else None

    klass = case.enterprise.enterprise_class if case.enterprise else None
    steps = steps_of(case)
    return LibraryCase(
        label=label,
        category=record.get("category") if isinstance(record.get("category"), str) else None,
        enterprise_class=f"{klass}类 {CLASS_NAMES.get(klass, '')}".strip() if klass else None,
        screening=case.screening.rule if case.screening else None,
        route=case.route.rule if case.route else None,
        path=" → ".join(step.split(" ", 1)[1] for step in steps),
        outcome=case.outcome,
        deadlines=deadlines_of(case),
        cycle_days=float(case.cycle_days) if case.cycle_days is not None else None,
        claimed=amount_band(_claimed(record)),
        recovered=amount_band(case.recovered_amount),
        description=text(record.get("description")),
        demand=text(record.get("demand")),
        process_summary=text(case.process_summary),
        review_comment=text(case.review_comment),
        steps=steps,
    )


def write_jsonl(cases: list[LibraryCase], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")


CASE_COLUMNS: tuple[tuple[str, Callable[[LibraryCase], Any]], ...] = (
    ("案例", lambda c: c.label),
    ("投诉类别", lambda c: c.category),
    ("企业类别", lambda c: c.enterprise_class),
    ("受理审查", lambda c: c.screening),
    ("分流", lambda c: c.route),
    ("路径", lambda c: c.path),
    ("结果", lambda c: c.outcome),
    ("期限", lambda c: ", ".join(f"{phase}: {state}" for phase, state in c.deadlines.items())),
    ("办理周期(天)", lambda c: c.cycle_days),
    ("诉求金额(元)", lambda c: c.claimed),
    ("挽回金额(元)", lambda c: c.recovered),
    ("投诉内容", lambda c: c.description),
    ("诉求", lambda c: c.demand),
    ("办理情况", lambda c: c.process_summary),
    ("审核意见", lambda c: c.review_comment),
)


def write_xlsx(cases: list[LibraryCase], path: Path) -> None:
    """One sheet of cases, one of their steps (a row per step, by label)."""
    from openpyxl import Workbook  # the CLI's dependency only

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "案例"
    sheet.append([name for name, _ in CASE_COLUMNS])
    for case in cases:
        sheet.append([value(case) for _, value in CASE_COLUMNS])
    steps = book.create_sheet("步骤")
    steps.append(["案例", "序号", "日", "步骤"])
    for case in cases:
        for number, step in enumerate(case.steps, start=1):
            day, name = step.split(" ", 1)
            steps.append([case.label, number, day, name])
    book.save(path)
