"""Every port the domain needs from the outside world, in one room.

``data_access`` provides the AWS versions, ``tests/fakes.py`` the in-memory ones; the domain sees only these
protocols. The composition root (:mod:`odr_adapter.wiring`) decides which is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # the models are named here, not used: a function imports only the models it uses (cold start)
    from datetime import datetime

    from odr_adapter.clock import Clock
    from odr_adapter.models.case import Case, HistoryEvent
    from odr_adapter.models.counters import Counted, CounterItem
    from odr_adapter.models.deadlines import DeadlinePolicies
    from odr_adapter.models.directory import District
    from odr_adapter.models.feed import Checkpoint
    from odr_adapter.models.links import ActionLink, ActionName
    from odr_adapter.models.sessions import Holder, SessionRecord
    from odr_adapter.models.worklists import CasePage, CaseQuery

# --- cases and their workflow ---------------------------------------------------------------------------------


class TokenGone(Exception):
    """The wait behind a task token is over (timed out, failed or already completed)."""


class TransientFault(Exception):
    """A fault of AWS (or a provider) that trying again later cures: throttling, a 5xx, no answer in time.

    Raised after the retries where the call happens; the state machine retries a step that raises it (the
    error names ``TransientFault`` and ``TransientAwsFault``), a person's action keeps what it recorded and the
    sweeper completes what it owes. It never ends a case.
    """


class Unstorable(Exception):
    """What a store refuses for what it is (an item over DynamoDB's 400 KB, a value it cannot hold): unlike a
    :class:`TransientFault`, trying again cannot cure it, so intake quarantines the record with the reason."""


class CaseRepository(Protocol):
    def get(self, complaint_id: str, consistent: bool = True) -> Case | None: ...
    def save(self, case: Case, event: HistoryEvent) -> Case:
        """Writes the case if its stored version is still ``case.version - 1``; else raises StaleCase."""
        ...

    def create(self, case: Case, event: HistoryEvent) -> Case | None:
        """Writes a new case (version 1) unless one is stored; returns the stored one then (learnt in the same
        write), None when written."""
        ...


Resumed = Literal["started", "running", "ended"]


class ExecutionControl(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str: ...
    def resume(self, name: str, payload: dict[str, Any]) -> Resumed:
        """Start ``name`` again: ``started`` (no execution had that name), ``running`` (it runs: the same name
        and input are idempotent) or ``ended`` (it ran and ended; its name is not taken again)."""
        ...

    def succeed(self, task_token: str, output: dict[str, Any]) -> None: ...
    def fail(self, task_token: str, error: str, cause: str) -> None: ...


# --- reference data -------------------------------------------------------------------------------------------


class DistrictSource(Protocol):
    def district(self) -> District: ...
    def deadline_policies(self) -> DeadlinePolicies: ...


# --- the 12315 feed -------------------------------------------------------------------------------------------


class Feed(Protocol):
    def page(self, updated_after: str, cursor: str | None, limit: int) -> dict[str, Any]: ...


class StateStore(Protocol):
    """The poller's checkpoint and the lease that keeps two pollers from running at once."""

    def read(self) -> Checkpoint: ...
    def save(self, checkpoint: Checkpoint) -> None: ...
    def acquire(self, owner: str, now: datetime, until: datetime) -> bool: ...
    def release(self, owner: str) -> None: ...


class HeldRecords(Protocol):
    def held(self, complaint_ids: list[str]) -> dict[str, int]:
        """The revision each of these complaints' stored cases holds, for the cases that owe nothing (a case that
        owes its workflow's start or a wait's end is left out: its record delivered again lets intake heal it)."""
        ...


class Outbound(Protocol):
    def send(self, body: dict[str, Any]) -> None: ...


class BulkQueue(Outbound, Protocol):
    def send_all(self, bodies: list[dict[str, Any]]) -> None: ...  # every body durably queued, or raises


class Quarantine(Protocol):
    def put(self, raw: Any, problems: list[dict[str, str]], at: str) -> str: ...


# --- people ---------------------------------------------------------------------------------------------------


class LinkRepository(Protocol):
    def put(self, link: ActionLink) -> None: ...
    def get(self, key: str) -> ActionLink | None: ...
    def claim(self, key: str, action: ActionName, at: datetime) -> bool: ...
    def release(self, key: str, action: ActionName) -> None: ...
    def settle(self, key: str, result: str) -> None: ...
    def reserve(self, key: str, at: datetime, until: datetime) -> bool:
        """Take the claim ``key`` (a conditional write) unless it is done or another holder's lease runs
        past ``at``; the lease ends at ``until`` so a holder that crashed is taken over."""
        ...

    def finish(self, key: str) -> None:
        """Mark the claim ``key`` done: it is never taken again."""
        ...


class ApiKeyRepository(Protocol):
    def enterprise_for(self, key_hash: str) -> str | None: ...


class CasePages(Protocol):
    """A holder's cases a page at a time (one Query on ByStation or ByEnterprise, never a Scan)."""

    def page(self, holder: Holder, query: CaseQuery, start: dict[str, str] | None, limit: int) -> CasePage: ...


class SessionRepository(Protocol):
    """Login links and sessions, stored under their holder by the hash of their secret."""

    def put(self, record: SessionRecord) -> None: ...
    def get(self, holder: Holder, kind: str, key_hash: str) -> SessionRecord | None: ...
    def use(self, holder: Holder, key_hash: str, at: datetime) -> bool:
        """Mark a live login link used (a conditional write): False when it was used, revoked or expired."""
        ...

    def revoke(self, holder: Holder, kind: str, key_hash: str, at: datetime) -> None: ...
    def of_holder(self, holder: Holder) -> list[SessionRecord]:
        """Every login link and session of the holder still stored (a Query on its partition)."""
        ...


# --- messages -------------------------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """The provider did not take the message; ``permanent`` when trying again cannot help."""

    def __init__(self, code: str, permanent: bool) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent


class Sender(Protocol):
    def send(self, to: str, subject: str, body: str) -> str: ...


class SmsSender(Protocol):
    def send(self, mobile: str, text: str) -> str: ...


# --- statistics -----------------------------------------------------------------------------------------------


class CounterSink(Protocol):
    def fold(self, changes: list[Counted], now: datetime) -> int:
        """Add the deltas of every change not counted yet, each exactly once (a case's changes come in version
        order, as its stream records do); how many were added (the rest had been counted)."""
        ...


class CounterReader(Protocol):
    def read(self, scope: str, first: str, last: str) -> list[CounterItem]:
        """The scope's counter items with ``first <= bucket <= last``, in bucket order."""
        ...


@dataclass
class Services:
    """What the workflow's steps and people's actions share (one per function, built by the wiring)."""

    cases: CaseRepository
    executions: ExecutionControl
    directory: DistrictSource
    email: Sender
    sms: SmsSender
    outcomes_to_12315: Outbound  # the report queue: each closed case's outcome, back to the platform
    quarantine: Quarantine
    clock: Clock
