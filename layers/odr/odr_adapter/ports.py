"""What the domain operations need from the outside world; data_access provides the AWS versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from odr_adapter.clock import Clock
from odr_adapter.models.case import Case, HistoryEvent
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District


class TokenGone(Exception):
    """The wait behind a task token is over (timed out, failed or already completed)."""


class CaseRepository(Protocol):
    def get(self, complaint_id: str, consistent: bool = True) -> Case | None: ...
    def save(self, case: Case, event: HistoryEvent) -> Case: ...


class ExecutionControl(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str: ...
    def succeed(self, task_token: str, output: dict[str, Any]) -> None: ...
    def fail(self, task_token: str, error: str, cause: str) -> None: ...


class DistrictSource(Protocol):
    def district(self) -> District: ...
    def deadline_policies(self) -> DeadlinePolicies: ...


class Sender(Protocol):
    def send(self, to: str, subject: str, body: str) -> str: ...


class SmsSender(Protocol):
    def send(self, mobile: str, text: str) -> str: ...


class Outbound(Protocol):
    def send(self, body: dict[str, Any]) -> None: ...


class BulkQueue(Outbound, Protocol):
    def send_all(self, bodies: list[dict[str, Any]]) -> None: ...  # every body durably queued, or raises


class Quarantine(Protocol):
    def put(self, raw: Any, problems: list[dict[str, str]], at: str) -> str: ...


@dataclass
class Services:
    cases: CaseRepository
    executions: ExecutionControl
    directory: DistrictSource
    email: Sender
    sms: SmsSender
    reports: Outbound
    quarantine: Quarantine
    clock: Clock
