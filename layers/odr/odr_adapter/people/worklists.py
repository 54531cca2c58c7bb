"""A holder's worklist: its own cases a page at a time, for the worklist pages and the enterprise API alike.

Open cases come first, oldest registration first (the indexes' sort key; docs/worklists.md says why not by
deadline), then closed cases, newest first; one cursor walks both. Each row says the phase, its deadline and the
hours left, whether it is overdue and how many reminders went out. Filters: the phase, the enterprise (a station's
list), the registration period (Beijing dates); a complaint id finds that one case, closed ones included, if it is
the holder's. Every read is a Query on the holder's partition of ``ByStation`` or ``ByEnterprise`` (or one GetItem
for a complaint id), so no filter and no cursor ever reaches another holder's cases; the cursor is signed and bound
to the holder and the filters (:mod:`odr_adapter.models.cursors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from odr_adapter.clock import EARLIEST_DAY, LATEST_DAY, SHANGHAI, local
from odr_adapter.messages.links import recipient_of
from odr_adapter.messages.texts import deadline_text
from odr_adapter.models.case import Case, Status
from odr_adapter.models.cursors import MAX_CURSOR_CHARS, BadCursor, read_cursor, sign_cursor
from odr_adapter.models.deadlines import PHASE_NAMES
from odr_adapter.models.directory import District
from odr_adapter.models.links import PHASE_ROLE
from odr_adapter.models.sessions import Holder
from odr_adapter.models.worklists import CaseQuery, Section
from odr_adapter.people.pages import OUTCOME_NAMES, STATUS_NAMES
from odr_adapter.people.views import case_view
from odr_adapter.ports import CasePages, CaseRepository

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
PhaseFilter = Literal["", "open", "screening", "acceptance", "resolution", "review", "closed"]
PHASE_FILTER_NAMES: dict[str, str] = {
    "": "全部",
    "open": "办理中",
    "screening": "受理审查",
    "acceptance": "待受理",
    "resolution": "办理反馈",
    "review": "审核办结",
    "closed": "已办结",
}
_ROLE_OF: dict[str, str] = {str(p): str(r) for p, r in PHASE_ROLE.items()}  # who acts in each wait phase
_STATUS_OF: dict[str, Status] = {
    "screening": "screening",
    "acceptance": "dispatched",
    "resolution": "accepted",
    "review": "under_review",
}


class Filters(BaseModel):
    """A listing's filters, as a query string gives them (``from``/``to``: Beijing dates, both included)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, str_strip_whitespace=True)

    phase: PhaseFilter = Field("", description="open, closed, or one phase: screening, acceptance, resolution, review")
    enterprise: str = Field("", pattern=r"^[0-9A-Z]{18}$|^$", description="a station's list: one enterprise's USCC")
    date_from: date | None = Field(
        None, alias="from", ge=EARLIEST_DAY, le=LATEST_DAY, description="registered on or after (Beijing date)"
    )
    date_to: date | None = Field(
        None, alias="to", ge=EARLIEST_DAY, le=LATEST_DAY, description="registered on or before (Beijing date)"
    )
    q: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description="one complaint id (closed included)")
    cursor: str = Field("", max_length=MAX_CURSOR_CHARS, description="next_cursor of the previous page")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _period_in_order(self) -> Filters:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("the period ends before it starts")
        return self

    def scope(self, holder: Holder) -> str:
        """What a cursor is bound to: the holder and every filter but the cursor itself."""
        return "|".join(
            [
                holder.actor,
                self.phase,
                self.enterprise,
                str(self.date_from or ""),
                str(self.date_to or ""),
                str(self.limit),
            ]
        )

    def query(self, section: Section) -> CaseQuery:
        start = datetime.combine(self.date_from, time(), SHANGHAI) if self.date_from else None
        end = datetime.combine(self.date_to + timedelta(days=1), time(), SHANGHAI) if self.date_to else None
        return CaseQuery(
            section=section,
            status=_STATUS_OF.get(self.phase),
            enterprise_uscc=self.enterprise or None,
            registered_from=start,
            registered_before=end,
        )


def sections(phase: str) -> list[Section]:
    if phase == "closed":
        return ["closed"]
    if phase:
        return ["open"]
    return ["open", "closed"]


def owns(holder: Holder, case: Case) -> bool:
    """The case is the holder's: its station, or its enterprise."""
    return recipient_of(case, holder.role) == holder.id


@dataclass(frozen=True)
class Listing:
    cases: list[Case]
    next_cursor: str | None


def listing(holder: Holder, filters: Filters, pages: CasePages, cases: CaseRepository, key: bytes) -> Listing:
    """One page of the holder's cases (raises BadCursor for a cursor not issued for this holder and filters)."""
    if filters.q:
        found = cases.get(filters.q)
        return Listing([found] if found is not None and owns(holder, found) else [], None)
    order = sections(filters.phase)
    scope = filters.scope(holder)
    section, start = order[0], None
    if filters.cursor:
        section, start = _position(read_cursor(filters.cursor, scope, key), order)
    got: list[Case] = []
    while True:
        page = pages.page(holder, filters.query(section), start, filters.limit - len(got))
        got += [c for c in page.cases if owns(holder, c)]  # the index says so already; kept as a rule here
        if page.next_key is not None:
            return Listing(got, sign_cursor({"section": section, "key": page.next_key}, scope, key))
        later = order[order.index(section) + 1 :]
        if not later:
            return Listing(got, None)
        section, start = later[0], None
        if len(got) >= filters.limit:
            return Listing(got, sign_cursor({"section": section, "key": None}, scope, key))


def _position(position: dict[str, Any], order: list[Section]) -> tuple[Section, dict[str, str] | None]:
    section, key = position.get("section"), position.get("key")
    if section not in order or not (key is None or _string_map(key)):
        raise BadCursor("not a cursor of this listing")
    return section, key


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


# --- what a row shows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    complaint_id: str
    registered: str
    phase: str
    state: str
    due: str
    hours_left: int | None
    overdue: bool
    reminders: int
    enterprise: str
    station: str
    yours: bool  # the case waits for this holder now
    is_open: bool


def hours_left(case: Case, now: datetime) -> int | None:
    """Whole hours until the current deadline (negative once passed); None when nothing waits on one."""
    due = case.next_due_at
    return None if due is None else math.floor((due - now).total_seconds() / 3600)


def is_overdue(case: Case, now: datetime) -> bool:
    """Escalated after a missed deadline, or waiting past one now."""
    due = case.next_due_at
    return case.overdue or case.screening_overdue or (due is not None and now >= due)


def waits_for(case: Case, holder: Holder) -> bool:
    phase = case.wait_phase
    return case.is_open and phase is not None and _ROLE_OF.get(phase) == holder.role and owns(holder, case)


def row(case: Case, holder: Holder, district: District, now: datetime) -> Row:
    phase = case.wait_phase
    station = district.station(case.station_code or "")
    return Row(
        complaint_id=case.complaint_id,
        registered=f"{local(case.registered_at):%Y-%m-%d %H:%M}",
        phase=PHASE_NAMES.get(phase, "") if phase and case.is_open else "",
        state=OUTCOME_NAMES.get(case.outcome or "", "") or STATUS_NAMES.get(case.status, case.status),
        due=deadline_text(case.next_due_at, short=True) if case.next_due_at else "",
        hours_left=hours_left(case, now),
        overdue=is_overdue(case, now),
        reminders=len(case.reminders_sent),
        enterprise=case.enterprise.name if case.enterprise else "",
        station=station.name if station else (case.station_code or ""),
        yours=waits_for(case, holder),
        is_open=case.is_open,
    )


def api_item(case: Case, now: datetime) -> dict[str, Any]:
    """A case as the enterprise API lists it: the case's view and the worklist's row fields."""
    due = case.next_due_at
    return {
        **case_view(case),
        "phase": case.wait_phase if case.is_open else None,
        "due_at": local(due).isoformat() if due else None,
        "hours_left": hours_left(case, now),
        "deadline_passed": is_overdue(case, now),
        "reminders_sent": len(case.reminders_sent),
    }
