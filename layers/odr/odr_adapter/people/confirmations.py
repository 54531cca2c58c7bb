"""The confirmation an acceptance owes (受理确认, with the link to report the result), sent after the answer.

The acceptance records that it owes one (``confirmation_pending``, in the same conditional write), so exactly
one request ever owes it, and queues it; the person's answer does not wait for SMS or e-mail. The confirmation
function sends it once: it claims the sending (a conditional write with a lease, taken over only when a
sender crashed), sends with the channels' retries and fallback, and records the outcome on the case, which
settles what was owed. A queue that could not take it, or a sender that crashed, leaves it owed: the sweeper
queues it again.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from odr_adapter.messages.sending import Delivery, Sent, already_recorded, send_message
from odr_adapter.ports import Services, TransientFault
from odr_adapter.workflow.steps import load

LEASE = timedelta(minutes=3)  # longer than the confirmation function may run


class SendingElsewhere(Exception):
    """Another sender holds the claim on this confirmation (the queue retries the message later)."""


def owe(complaint_id: str, key: str, svc: Services, delivery: Delivery) -> str | None:
    """Queue the confirmation ``key`` the case owes (or, with no queue, send it now: the link id it carries)."""
    with suppress(TransientFault, SendingElsewhere):  # still owed on the case: the sweeper tries again
        if delivery.confirmations is None:
            sent = send_confirmation(complaint_id, svc, delivery, key)
            return sent.link_id if sent else None
        delivery.confirmations.send({"complaint_id": complaint_id, "key": key})
    return None


def send_confirmation(complaint_id: str, svc: Services, delivery: Delivery, key: str | None = None) -> Sent | None:
    """Send the confirmation the case owes, once; None when it owes none (sent already, or taken back)."""
    case = load(complaint_id, svc)
    owed = case.confirmation_pending
    if owed is None or (key is not None and owed != key):
        return None
    if already_recorded(case, owed):
        return Sent(delivered=True, duplicate=True)
    claim = f"confirmation:{complaint_id}:{owed}"
    now = svc.clock.now()
    if not delivery.links.reserve(claim, now, now + LEASE):
        raise SendingElsewhere(f"the confirmation of {complaint_id} is being sent by another call")
    sent = send_message(complaint_id, "accepted", svc, delivery, key=owed)
    delivery.links.finish(claim)
    return sent
