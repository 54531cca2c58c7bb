"""Secure action links: what a message's link lets its recipient do, and nothing more.

A link id is random (``secrets.token_urlsafe``), never derived from the case id or the task token. Only its
SHA-256 is stored, with the case, the phase, the actions it allows, its recipient and its expiry (the phase's
deadline); a link is used once (a conditional write claims it). Opening it (GET) only shows a page: mail
scanners open links, so the action happens on the form's POST.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from odr_adapter.models.case import Case
from odr_adapter.models.links import PHASE_ACTIONS, PHASE_ROLE, ActionLink, LinkPhase, Role, link_key
from odr_adapter.ports import LinkRepository

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def recipient_of(case: Case, role: Role) -> str | None:
    """Who may act on ``case`` in ``role`` now: a link whose recipient no longer matches acts on nothing."""
    if role == "enterprise":
        return case.enterprise.uscc if case.enterprise else None
    return case.station_code


def issue(case: Case, phase: LinkPhase, now: datetime, links: LinkRepository) -> str | None:
    """A new link for the phase's recipient, valid until the phase's deadline; returns its id (None when
    the case has no such deadline or recipient, so there is nothing a link could do)."""
    deadline = case.deadlines.get(phase)
    role = PHASE_ROLE[phase]
    recipient = recipient_of(case, role)
    if deadline is None or recipient is None:
        return None
    link_id = secrets.token_urlsafe(12)
    links.put(
        ActionLink(
            key=link_key(link_id),
            complaint_id=case.complaint_id,
            phase=phase,
            actions=list(PHASE_ACTIONS[phase]),
            role=role,
            recipient=recipient,
            expires_at=deadline.due_at,
            created_at=now,
        )
    )
    return link_id


def find(link_id: str, links: LinkRepository) -> ActionLink | None:
    """The link behind an id, or None for anything forged, mistyped or unknown."""
    if not _ID.match(link_id):
        return None
    return links.get(link_key(link_id))


def link_url(base_url: str, link_id: str) -> str:
    return f"{base_url.rstrip('/')}/l/{link_id}"
