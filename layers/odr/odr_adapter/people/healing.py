"""The sweeper: heals a case whose state and execution disagree, within minutes.

A case records what a person did before it tells Step Functions, and a withdrawal before it ends the wait:
when that call fails (throttled, a 5xx, a crash in between), the case owes it (``owes_since``). So does an
acceptance whose confirmation was not queued or not sent. A scheduled sweep finds what has been owed for
longer than a step normally takes (one Query on ByOwed, the sparse index of the cases that owe something) and
completes it: the callback again with the kept token, the withdrawal's failure of the wait, the
confirmation queued again. Each is idempotent: a token that answers once, a confirmation claimed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from odr_adapter.messages.sending import Delivery
from odr_adapter.models.case import Case
from odr_adapter.people.actions import redeliver
from odr_adapter.people.confirmations import SendingElsewhere, owe
from odr_adapter.ports import Services, TokenGone, TransientFault

GRACE = timedelta(minutes=5)  # longer than any step or confirmation takes when nothing fails


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
    gone: int = 0  # the wait was already over: nothing to heal
    failing: int = 0  # still failing: the next sweep tries again

    @property
    def healed(self) -> int:
        return self.callbacks + self.withdrawals + self.confirmations


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
    if pending is not None and not pending.open:
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
    if case.confirmation_pending:
        try:
            owe(case.complaint_id, case.confirmation_pending, svc, delivery)
            result.confirmations += 1
        except (SendingElsewhere, TransientFault):
            result.failing += 1
