"""Guidance and questions on a case: the station's 指导意见 to the enterprise's ODR specialist, the specialist's
question to the station.

A note is plain text of at most :data:`MAX_NOTE_CHARS` characters, written by one side of an open case that was
dispatched to an enterprise, to the other side. It is kept in the case history (event ``note_added``, the text in
its detail: :mod:`odr_adapter.models.notes`) and reaches the other side by its channel, as every message does. A
note changes no field of the case but its history and the message it owes: never a deadline, never the
workflow's state; its message carries a new link only when the recipient has something to do in the phase the
case is in (the page shows the note beside the forms).

Whoever calls :func:`add_note` has established who is acting (a link, an API key, a session) and says so with an
:class:`Author`; the author is checked against the case here, whatever the entry point. A note carries an
idempotency key: the same key on the same case is one note, however often and however concurrently it comes (the
history is written with optimistic locking, and a writer that lost the race finds the winner's note). The write
that keeps the note also records the message it owes (``notes_owed``), and only that request queues it: the
message is sent after the answer, once, by the confirmation function, as an acceptance's confirmation is
(:mod:`odr_adapter.people.confirmations`: a claim with a lease, retries, fallback, the sweeper for what stays owed).

The text may name the consumer, so it is never logged; it travels only in the e-mail to the other side (as a
station's send-back comment does), never in an SMS, which only says a note came and where to read it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from odr_adapter.messages.links import recipient_of
from odr_adapter.messages.sending import Delivery
from odr_adapter.models.case import Case, InvalidAction, transition
from odr_adapter.models.links import Role
from odr_adapter.models.notes import EVENT, OTHER, Note, find_note, message_key
from odr_adapter.people.confirmations import owe
from odr_adapter.ports import Services
from odr_adapter.workflow.retry import on_stale
from odr_adapter.workflow.steps import load

MAX_NOTE_CHARS = 500
"""A note is a few sentences of guidance or one question; longer exchanges belong on the phone."""

_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
Via = Literal["link", "api", "session"]


class NoteInvalid(ValueError):
    """The note's text or key cannot be taken (answered as a 4xx that says what is wrong; nothing is kept)."""

    def __init__(self, code: Literal["empty", "too_long", "not_text", "bad_key"], message: str) -> None:
        super().__init__(message)
        self.code = code


class NoteRefused(InvalidAction):
    """The case takes no note from this author now: closed, not dispatched, or not theirs."""

    def __init__(self, code: Literal["closed", "not_dispatched", "not_party", "key_taken"], message: str) -> None:
        super().__init__(message)
        self.code = code


class NoteIn(BaseModel):
    """A note as the enterprise API takes it (the page's form gives the same field)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    text: str = Field(
        min_length=1,
        max_length=MAX_NOTE_CHARS,
        description=f"Plain text, 1 to {MAX_NOTE_CHARS} characters (line breaks count as one); no control "
        "characters. Shown as typed, never as HTML.",
    )

    @field_validator("text", mode="before")
    @classmethod
    def _one_line_break(cls, value: Any) -> Any:
        """Browsers send a textarea's line breaks as CRLF: count each as one character, as the page does."""
        return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value

    @field_validator("text")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        if _NOT_TEXT.search(value):
            raise ValueError("the text holds control characters or half of a character (an unpaired surrogate)")
        return value


@dataclass(frozen=True)
class Author:
    """Who is acting: the station named on the case (its code) or the enterprise dispatched it (its USCC)."""

    role: Role
    party: str

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.party}"


@dataclass(frozen=True)
class NoteOutcome:
    status: Literal["added", "repeated"]
    note: Note
    case: Case


def may_take_notes(case: Case) -> bool:
    """Whether the case takes notes now: open, and dispatched (the enterprise knows of it)."""
    return case.is_open and case.enterprise is not None and "acceptance" in case.deadlines


def text_of(raw: str) -> str:
    """The note's text as kept, or :class:`NoteInvalid` saying what is wrong."""
    try:
        return NoteIn.model_validate({"text": raw}).text
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        if kind in ("string_too_short", "missing"):
            raise NoteInvalid("empty", "the note is empty") from None
        if kind == "string_too_long":
            raise NoteInvalid("too_long", f"the note is longer than {MAX_NOTE_CHARS} characters") from None
        message = "the note is not text" if kind == "string_type" else str(exc.errors()[0]["msg"])
        raise NoteInvalid("not_text", message.removeprefix("Value error, ")) from None


def key_of(given: str | None, author: Author, text: str) -> str:
    """The idempotency key: as given (8 to 64 of ``A-Z a-z 0-9 _ -``), or, when none is given, one derived from
    the author and the text, so that a client retrying without a key still makes one note."""
    if given is None or given == "":
        return hashlib.sha256(f"{author.actor}\n{text}".encode()).hexdigest()[:32]
    if not _KEY.match(given):
        raise NoteInvalid("bad_key", "the idempotency key is 8 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    return given


def add_note(
    complaint_id: str, author: Author, text: str, key: str | None, via: Via, svc: Services, delivery: Delivery
) -> NoteOutcome:
    """Keep ``author``'s note on the case (once per key) and owe the other side its message (queued once).

    Raises :class:`NoteInvalid` for a text or key it cannot take, :class:`NoteRefused` when the case takes no note
    from this author now, ``StaleCase`` when other writers kept the case busy through every retry."""
    clean = text_of(text)
    note_key = key_of(key, author, clean)

    def record() -> tuple[Case, bool]:
        case = load(complaint_id, svc)
        kept = find_note(case, note_key)
        if kept is not None:
            if kept.actor != author.actor:
                raise NoteRefused("key_taken", "this idempotency key was used for another author's note")
            return case, False
        _check(case, author)
        detail = {"key": note_key, "from": author.role, "to": OTHER[author.role], "text": clean, "via": via}
        owed = [*case.notes_owed, message_key(note_key)]  # owed in the write that keeps the note
        updated, entry = transition(case, EVENT, author.actor, svc.clock.now(), notes_owed=owed, detail=detail)
        return svc.cases.save(updated, entry), True

    case, added = on_stale(record)
    note = find_note(case, note_key)
    assert note is not None  # just kept, or found
    if not added:  # a repeat: the request that kept the note queued its message
        return NoteOutcome("repeated", note, case)
    owe(complaint_id, note.message_key, svc, delivery)
    return NoteOutcome("added", note, case)


def _check(case: Case, author: Author) -> None:
    party = recipient_of(case, author.role)
    if party is None or author.party != party:
        raise NoteRefused("not_party", f"case {case.complaint_id} is not this {author.role}'s")
    if not case.is_open:
        raise NoteRefused("closed", f"case {case.complaint_id} is closed ({case.outcome})")
    if not may_take_notes(case):
        raise NoteRefused("not_dispatched", f"case {case.complaint_id} has not been dispatched to an enterprise")
