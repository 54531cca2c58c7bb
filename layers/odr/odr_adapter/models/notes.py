"""A note on a case as its history keeps it (event ``note_added``, the text in its detail), and the key of the
message it owes the other side.

:mod:`odr_adapter.people.notes` takes notes; :mod:`odr_adapter.people.confirmations` sends the message each one
owes (``Case.notes_owed`` holds its key until the write that records how it was sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from odr_adapter.clock import local
from odr_adapter.models.case import Case
from odr_adapter.models.links import Role

EVENT = "note_added"
OTHER: dict[Role, Role] = {"station": "enterprise", "enterprise": "station"}
_MESSAGE = "note:"  # a note's message key: note:<the note's key>


@dataclass(frozen=True)
class Note:
    key: str
    author: Role
    to: Role
    actor: str
    text: str
    at: datetime
    via: str

    @property
    def message_key(self) -> str:
        return message_key(self.key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "from": self.author,
            "to": self.to,
            "text": self.text,
            "at": local(self.at).isoformat(),
            "via": self.via,
        }


def message_key(note_key: str) -> str:
    """The key of the message a note owes: recorded with how it was sent (``notified``), so it goes out once."""
    return f"{_MESSAGE}{note_key}"


def notes_of(case: Case) -> list[Note]:
    """The case's notes, oldest first."""
    return [_note(h.detail, h.actor, h.at) for h in case.history if h.event == EVENT]


def find_note(case: Case, key: str) -> Note | None:
    return next((n for n in notes_of(case) if n.key == key), None)


def note_of_message(case: Case, key: str) -> Note | None:
    """The note whose message has the key ``key``; None for any other message."""
    return find_note(case, key.removeprefix(_MESSAGE)) if key.startswith(_MESSAGE) else None


def _note(detail: dict[str, Any], actor: str, at: datetime) -> Note:
    author: Role = "station" if detail.get("from") == "station" else "enterprise"
    text, via = str(detail.get("text", "")), str(detail.get("via", ""))
    return Note(str(detail.get("key")), author, OTHER[author], actor, text, at, via)
