"""The sweeper: heals a case whose state and execution disagree, within minutes.

A case records what a person did before it tells Step Functions, and a withdrawal before it ends the wait:
when that call fails (throttled, a 5xx, a crash in between), the case owes it (``owes_since``). So does a message
owed after the answer (an acceptance's confirmation, a note's message) that was not queued or not sent, and a new
case until its workflow's first step records that it ran. A scheduled sweep finds what has been owed for longer
than a step normally takes (one Query on ByOwed, the sparse index of the cases that owe something) and completes
it: the callback again with the kept token, the withdrawal's failure of the wait, the message queued again, the
workflow started (again, under the next name when its execution ended before the first step). Each is
idempotent: a token that answers once, a message claimed once, an execution started once per name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from odr_adapter.clock import Clock
from odr_adapter.messages.sending import Delivery
from odr_adapter.models.case import Case, StaleCase, execution_name, transition
from odr_adapter.people.actions import redeliver
from odr_adapter.people.confirmations import SendingElsewhere, owe
from odr_adapter.ports import CaseRepository, Services, TokenGone, TransientFault
from odr_adapter.workflow.retry import on_stale

GRACE = timedelta(minutes=5)  # longer than any step or confirmation takes when nothing fails
MAX_RESTARTS = 3  # a workflow that keeps ending before its first step is left to the operators (runbook)


class OwingIndex(Protocol):
    def owing(self, before: datetime) -> list[str]:
        """The ids of the cases owing something since before ``before``."""
        ...


@dataclass
class Healed:
    candidates: int = 0
    callbacks: int = 0  # callbacks delivered again
    withdrawals: int = 0  # waits of withdrawn cases ended
    confirmations: int = 0  # confirmations queued again
    notes: int = 0  # notes' messages queued again
    starts: int = 0  # workflows started that never had been
    restarts: int = 0  # workflows started again under the next name: the last one ended before its first step
    running: int = 0  # the workflow runs but has not reached its first step (its retries at work): left to it
    gone: int = 0  # the wait was already over: nothing to heal
    failing: int = 0  # still failing: the next sweep tries again
    stuck: list[str] = field(default_factory=list)  # restarted MAX_RESTARTS times, ended again: for the operators

    @property
    def healed(self) -> int:
        return self.callbacks + self.withdrawals + self.confirmations + self.notes + self.starts + self.restarts


def heal(svc: Services, index: OwingIndex, delivery: Delivery) -> Healed:
    now = svc.clock.now()
    result = Healed()
    for complaint_id in index.owing(now - GRACE):
        case = svc.cases.get(complaint_id)  # the index is eventually consistent: act on the case itself
        since = case.owes_since if case else None
        if case is None or since is None or since >= now - GRACE:
            continue
        result.candidates += 1
        _heal_one(case, svc, delivery, result)
    return result


def _heal_one(case: Case, svc: Services, delivery: Delivery, result: Healed) -> None:
    pending = case.pending
    if not case.execution_started:
        _start(case, svc, result)
    elif pending is not None and not pending.open:
        outcome = redeliver(case, svc)
        result.callbacks += outcome == "delivered"
        result.gone += outcome == "gone"
        result.failing += outcome == "failing"
    elif pending is not None and case.withdraw_requested:
        try:
            svc.executions.fail(pending.task_token, "CaseWithdrawn", "consumer withdrew the complaint")
            result.withdrawals += 1
        except TokenGone:
            result.gone += 1
        except TransientFault:
            result.failing += 1
    for key in case.messages_owed:
        try:
            owe(case.complaint_id, key, svc, delivery)
            result.confirmations += key == case.confirmation_pending
            result.notes += key != case.confirmation_pending
        except (SendingElsewhere, TransientFault):
            result.failing += 1


def _start(case: Case, svc: Services, result: Healed) -> None:
    """Start the workflow of a case whose first step never ran: under its name (idempotent while it runs), or,
    when the execution by that name ended (failed before the first step), under the next one, recorded on the
    case first so that a sweep after a crash in between starts that same name."""
    payload = {"complaint_id": case.complaint_id}
    try:
        resumed = svc.executions.resume(case.execution_name, payload)
        if resumed != "ended":
            result.starts += resumed == "started"
            result.running += resumed == "running"
            return
        if case.workflow_restarts >= MAX_RESTARTS:
            result.stuck.append(case.complaint_id)
            return
        restart = case.workflow_restarts + 1
        name = execution_name(case.complaint_id, restart)
        updated, event = transition(
            case,
            "workflow_restarted",
            "adapter",
            svc.clock.now(),
            execution_name=name,
            workflow_restarts=restart,
            debt_began_at=svc.clock.now(),  # the restarted workflow's first step is owed from now: a new grace
            detail={"ended": case.execution_name, "execution": name},
        )
        svc.cases.save(updated, event)
        svc.executions.resume(name, payload)
        result.restarts += 1
    except (TransientFault, StaleCase):  # StaleCase: the case changed meanwhile; the next sweep reads it again
        result.failing += 1


@dataclass
class Backfilled:
    read: int = 0  # open cases found off the index
    start_owed: int = 0  # never got past the workflow's first step: they owe the start again
    indexed: int = 0  # owed something else: written again, so the index holds them


def backfill(cases: CaseRepository, found: Iterable[Case], clock: Clock) -> Backfilled:
    """Put on ByOwed the open cases stored before it existed (the operator, once: ``odr cases heal --backfill``).

    A case whose workflow never got past its first step (received, never screened: its execution failed before
    the retries existed, or never started) owes the start again, so the sweeper starts it, or restarts it under
    the next name, after the grace. One that owes something else is written again, which indexes it. Each is
    read again (consistently) and written conditioned on that version.
    """
    result = Backfilled()
    for listed in found:
        result.read += 1
        outcome = on_stale(partial(_backfill_one, listed.complaint_id, cases, clock))
        result.start_owed += outcome == "start_owed"
        result.indexed += outcome == "indexed"
    return result


def _backfill_one(complaint_id: str, cases: CaseRepository, clock: Clock) -> str:
    case = cases.get(complaint_id)
    if case is None or not case.is_open:
        return "closed"
    if case.status == "received" and case.screening is None:
        updated, event = transition(case, "workflow_start_owed", "operator", clock.now(), execution_started=False)
        cases.save(updated, event)
        return "start_owed"
    if case.owes_since is not None:
        updated, event = transition(case, "owing_indexed", "operator", clock.now())
        cases.save(updated, event)
        return "indexed"
    return "owes_nothing"
