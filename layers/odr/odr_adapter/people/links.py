"""Secure action links: what a message's link lets its recipient do, and nothing more.

A link id is random (``secrets.token_urlsafe``), never derived from the case id or the task token. Only its
SHA-256 is stored, with the case, the phase, the actions it allows, its recipient and its expiry (the phase's
deadline); a link is used once (a conditional write claims it). Opening it (GET) only shows a page: mail
scanners open links, so the action happens on the form's POST.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel

from odr_adapter.models.case import Case
from odr_adapter.people.actions import ActionName

LinkPhase = Literal["screening", "acceptance", "resolution", "review"]
Role = Literal["enterprise", "station"]
PHASE_ACTIONS: dict[LinkPhase, tuple[ActionName, ...]] = {
    "acceptance": ("accept", "decline"),
    "resolution": ("report",),
    "review": ("approve", "send_back"),
    "screening": ("confirm_screening",),
}
PHASE_ROLE: dict[LinkPhase, Role] = {
    "screening": "station",
    "acceptance": "enterprise",
    "resolution": "enterprise",
    "review": "station",
}
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ActionLink(BaseModel):
    key: str  # SHA-256 of the link id: the id itself is only in the message
    complaint_id: str
    phase: LinkPhase
    actions: list[ActionName]
    role: Role
    recipient: str  # the enterprise's USCC or the station's code
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None = None
    used_action: ActionName | None = None
    result: str | None = None  # what the use led to: done, repeated, too_late, refused

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class LinkRepository(Protocol):
    def put(self, link: ActionLink) -> None: ...
    def get(self, key: str) -> ActionLink | None: ...
    def claim(self, key: str, action: ActionName, at: datetime) -> bool: ...
    def release(self, key: str, action: ActionName) -> None: ...
    def settle(self, key: str, result: str) -> None: ...


def link_key(link_id: str) -> str:
    return hashlib.sha256(link_id.encode()).hexdigest()


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
