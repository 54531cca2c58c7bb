"""One action by a person, whichever way it came (a link's form or the enterprise API).

Wraps :func:`actions.perform` with what people see and what the history keeps: a repeated submit is
answered as done and recorded as a repeat; an action after the deadline, or one the case no longer allows,
is refused and recorded; an acceptance is confirmed with a message carrying the link to report the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from odr_adapter.messages.sending import Delivery, send_message
from odr_adapter.models.case import Case, InvalidAction, transition
from odr_adapter.models.links import ActionName
from odr_adapter.people.actions import DeadlinePassed, NotYetWaiting, perform
from odr_adapter.ports import Services
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load

Status = Literal["done", "repeated", "too_late", "not_ready", "refused"]
Via = Literal["link", "api"]
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
    before = load(complaint_id, svc)
    if already_done(before, action):
        return Outcome("repeated", note(complaint_id, "action_repeated", actor, {"action": action, "via": via}, svc))
    try:
        updated = perform(complaint_id, action, actor, payload, svc)
    except NotYetWaiting as exc:
        return Outcome("not_ready", before, str(exc))
    except DeadlinePassed as exc:
        return _too_late(complaint_id, action, actor, via, str(exc), svc)
    except InvalidAction as exc:
        if load(complaint_id, svc).overdue:  # the deadline passed and the workflow already returned the case
            return _too_late(complaint_id, action, actor, via, str(exc), svc)
        detail = {"action": action, "via": via, "reason": "not_allowed", "message": str(exc)[:200]}
        return Outcome("refused", note(complaint_id, "action_refused", actor, detail, svc), str(exc))
    last = updated.history[-1]
    if updated.version <= before.version or last.event != EVENT_OF[action] or last.actor != actor:
        # Another submit of the same action got there between our read and perform's: a repeat.
        return Outcome("repeated", note(complaint_id, "action_repeated", actor, {"action": action, "via": via}, svc))
    next_link = None
    if action == "accept":
        next_link = send_message(complaint_id, "accepted", svc, delivery).link_id
    return Outcome("done", updated, next_link_id=next_link)


def _too_late(complaint_id: str, action: ActionName, actor: str, via: Via, reason: str, svc: Services) -> Outcome:
    detail = {"action": action, "via": via, "reason": "deadline_passed"}
    return Outcome("too_late", note(complaint_id, "action_refused", actor, detail, svc), reason)


def note(complaint_id: str, event: str, actor: str, detail: dict[str, Any], svc: Services) -> Case:
    """Record what happened to an action that changed nothing, so the history shows every attempt."""

    def apply() -> Case:
        case = load(complaint_id, svc)
        updated, entry = transition(case, event, actor, svc.clock.now(), detail=detail)
        return svc.cases.save(updated, entry)

    return on_stale(apply)
