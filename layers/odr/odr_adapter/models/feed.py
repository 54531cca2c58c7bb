"""The feed's checkpoint as stored: where the last poll got to and the record keys it has seen lately."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Checkpoint:
    updated_after: datetime | None = None
    recent: dict[str, datetime] = field(default_factory=dict)  # record key -> its updated_at
