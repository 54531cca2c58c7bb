"""One action by a person, whichever way it came (a link's form or the enterprise API).

Wraps :func:`actions.perform` with what people see and what the history keeps: a repeated submit is
answered as done and recorded as a repeat (and its callback sent again, in case the first one was lost); an
action after the deadline, or one the case no longer allows, is refused and recorded; an acceptance is
confirmed with a message carrying the link to report the result, queued so the answer never waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from odr_adapter.messages.sending import Delivery
from odr_adapter.models.case import Case, InvalidAction, StaleCase, transition
from odr_adapter.models.links import ActionName
from odr_adapter.people.actions import DeadlinePassed, NotYetWaiting, perform_once
from odr_adapter.people.confirmations import owe
from odr_adapter.ports import Services
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load

Status = Literal["done", "repeated", "too_late", "not_ready", "busy", "refused"]
Via = Literal["link", "api", "session"]  # session: a worklist's case page
EVENT_OF: dict[ActionName, str] = {
    "accept": "accepted",
    "decline": "declined",
    "report": "result_reported",
    "approve": "approved",
    "send_back": "sent_back",
    "confirm_screening": "screening_confirmed",
}
# The events after which an action is due again: a result is reported again after a send-back.
_ROUND_STARTS: dict[ActionName, tuple[str, ...]] = {"report": ("sent_back",), "send_back": ("result_reported",)}


@dataclass(frozen=True)
class Outcome:
    status: Status
    case: Case
    reason: str = ""
    next_link_id: str | None = None


def already_done(case: Case, action: ActionName) -> bool:
    """The action was done in the current round (an acceptance once, a result once per send-back)."""
    done = EVENT_OF[action]
    for event in reversed(case.history):
        if event.event == done:
            return True
        if event.event in _ROUND_STARTS.get(action, ()):
            return False
    return False


def act(
    complaint_id: str,
    action: ActionName,
    actor: str,
    payload: dict[str, Any],
    via: Via,
    svc: Services,
    delivery: Delivery,
) -> Outcome:
    """Do ``action`` and say what really happened: done (by this call), repeated (done before, by the same
    actor: the callback is sent again in case it was lost), refused (done by someone else, or not allowed),
    not_ready / busy (try again shortly), too_late. Only what a person did is recorded: a repeat that came in
    after the action was done, a refusal; not the losers of a race between concurrent submits."""
    before = load(complaint_id, svc)
    try:
        updated, acted = perform_once(complaint_id, action, actor, payload, svc)
    except NotYetWaiting as exc:
        return Outcome("not_ready", before, str(exc))
    except DeadlinePassed as exc:
        return _too_late(complaint_id, action, actor, via, str(exc), svc)
    except StaleCase:
        return Outcome("busy", before, "the case is being changed by other requests; retry shortly")
    except InvalidAction as exc:
        current = load(complaint_id, svc)
        if already_done(current, action):
            return _repeated(complaint_id, action, actor, via, before, current, svc)
        if current.overdue:  # the deadline passed and the workflow already returned the case
            return _too_late(complaint_id, action, actor, via, str(exc), svc)
        detail = {"action": action, "via": via, "reason": "not_allowed", "message": str(exc)[:200]}
        return Outcome("refused", note(complaint_id, "action_refused", actor, detail, svc), str(exc))
    if not acted:
        return _repeated(complaint_id, action, actor, via, before, updated, svc)
    next_link = None
    if action == "accept" and updated.confirmation_pending:
        next_link = owe(complaint_id, updated.confirmation_pending, svc, delivery)
    return Outcome("done", updated, next_link_id=next_link)


def _repeated(
    complaint_id: str, action: ActionName, actor: str, via: Via, before: Case, current: Case, svc: Services
) -> Outcome:
    """The action was already done: by this actor (a repeat) or by someone else (refused, saying by whom)."""
    by = done_by(current, action)
    if by is not None and by != actor:
        reason = f"already done by {by.split(':', 1)[0]}"
        return Outcome("refused", current, reason)
    if not already_done(before, action):
        return Outcome("repeated", current)  # a concurrent submit of the same action: the race's loser
    return Outcome("repeated", note(complaint_id, "action_repeated", actor, {"action": action, "via": via}, svc))


def done_by(case: Case, action: ActionName) -> str | None:
    """Who did ``action`` in the current round (None when it was not done)."""
    done = EVENT_OF[action]
    for event in reversed(case.history):
        if event.event == done:
            return event.actor
        if event.event in _ROUND_STARTS.get(action, ()):
            return None
    return None


def _too_late(complaint_id: str, action: ActionName, actor: str, via: Via, reason: str, svc: Services) -> Outcome:
    detail = {"action": action, "via": via, "reason": "deadline_passed"}
    return Outcome("too_late", note(complaint_id, "action_refused", actor, detail, svc), reason)


def note(complaint_id: str, event: str, actor: str, detail: dict[str, Any], svc: Services) -> Case:
    """Record what happened to an action that changed nothing, so the history shows every attempt. Under
    write contention that outlasts the retries the answer still goes out (the note is the one thing lost)."""

    def apply() -> Case:
        case = load(complaint_id, svc)
        updated, entry = transition(case, event, actor, svc.clock.now(), detail=detail)
        return svc.cases.save(updated, entry)

    try:
        return on_stale(apply)
    except StaleCase:
        return load(complaint_id, svc)
