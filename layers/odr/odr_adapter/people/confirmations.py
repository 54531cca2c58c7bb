"""The messages a case owes, sent after the person who caused them was answered: an acceptance's confirmation
(受理确认, with the link to report the result) and each note's message to the other side.

The write that makes a message owed records it on the case (``confirmation_pending`` with the acceptance,
``notes_owed`` with the note), in the same conditional write, so exactly one request ever owes it, and queues it;
the person's answer never waits for SMS or e-mail. The confirmation function sends it once: it claims the sending
(a conditional write with a lease, taken over only when a sender crashed), sends with the channels' retries and
fallback, and records the outcome on the case, which settles what was owed. A queue that could not take it, or a
sender that crashed, leaves it owed (``owes_since``): the sweeper queues it again.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from odr_adapter.messages.sending import Delivery, Sent, already_recorded, send_message
from odr_adapter.messages.texts import Template
from odr_adapter.models.case import Case
from odr_adapter.models.links import PHASE_ROLE, LinkPhase, Role
from odr_adapter.models.notes import Note, note_of_message
from odr_adapter.ports import Services, TransientFault
from odr_adapter.workflow.steps import load

LEASE = timedelta(minutes=3)  # longer than the confirmation function may run
_NOTE_TEMPLATE: dict[Role, Template] = {"enterprise": "note_to_enterprise", "station": "note_to_station"}


class SendingElsewhere(Exception):
    """Another sender holds the claim on this message (the queue retries it later)."""


def owe(complaint_id: str, key: str, svc: Services, delivery: Delivery) -> str | None:
    """Queue the message ``key`` the case owes (or, with no queue, send it now: the link id it carries)."""
    with suppress(TransientFault, SendingElsewhere):  # still owed on the case: the sweeper tries again
        if delivery.confirmations is None:
            sent = send_owed(complaint_id, svc, delivery, key)
            return sent.link_id if sent else None
        delivery.confirmations.send({"complaint_id": complaint_id, "key": key})
    return None


def send_owed(complaint_id: str, svc: Services, delivery: Delivery, key: str) -> Sent | None:
    """Send the message ``key`` the case owes, once; None when it owes none by that key (sent already, or
    taken back). Raises :class:`SendingElsewhere` while another sender holds its claim."""
    case = load(complaint_id, svc)
    if key not in case.messages_owed:
        return None
    if already_recorded(case, key):
        return Sent(delivered=True, duplicate=True)
    note = note_of_message(case, key)
    # Each kind's claim keeps the name it had before they shared the queue: a sender of the release before is
    # respected while its lease runs.
    claim = f"note:{complaint_id}:{note.key}" if note else f"confirmation:{complaint_id}:{key}"
    now = svc.clock.now()
    if not delivery.links.reserve(claim, now, now + LEASE):
        raise SendingElsewhere(f"a message of {complaint_id} is being sent by another call")
    if note is not None:
        sent = _send_note(case, note, svc, delivery)
    else:
        sent = send_message(complaint_id, "accepted", svc, delivery, key=key)
    delivery.links.finish(claim)
    return sent


def _send_note(case: Case, note: Note, svc: Services, delivery: Delivery) -> Sent:
    """A note's message: with a link to the case page when the recipient acts in the case's phase; otherwise
    e-mail first, because only the e-mail carries the text (an SMS only says a note came)."""
    phase = _link_phase(case, note.to)
    return send_message(
        case.complaint_id,
        _NOTE_TEMPLATE[note.to],
        svc,
        delivery,
        link_phase=phase,
        key=note.message_key,
        extra={"note_text": note.text},
        email_first=phase is None,
    )


def _link_phase(case: Case, recipient: Role) -> LinkPhase | None:
    """The phase the recipient acts in now, if any: its message then carries a link to the case's page."""
    phase = case.wait_phase
    if phase is None or phase == "rework" or phase not in case.deadlines:
        return None
    return phase if PHASE_ROLE[phase] == recipient else None
