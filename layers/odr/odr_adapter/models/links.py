"""Action links as stored: the actions a link allows, its phase, recipient and expiry (never its id, only
the id's SHA-256)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

ActionName = Literal["accept", "decline", "report", "approve", "send_back", "confirm_screening"]


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


def link_key(link_id: str) -> str:
    return hashlib.sha256(link_id.encode()).hexdigest()
