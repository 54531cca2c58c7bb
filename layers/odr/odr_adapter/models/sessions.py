"""Sign-in to the worklists: a single-use login link opens a session bound to one station or one enterprise.

A token names its holder and carries a random secret: ``station.JS-ZJ.<secret>``. Only the secret's SHA-256 is
stored (as an API key's), under the holder, so a token whose holder part was changed finds nothing. A login link
lives :data:`LOGIN_LINK_MINUTES` and is used once; a session lives :data:`SESSION_HOURS` and can be revoked (sign
out, or the operator's ``odr sessions revoke``). Stored records carry a TTL attribute; expiry itself is checked
against the clock, since DynamoDB deletes expired items only eventually.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, field_validator

from odr_adapter.models.links import Role

SESSION_HOURS = 12
"""A session ends 12 hours after sign-in (a working day and its evening), whatever is done meanwhile."""
LOGIN_LINK_MINUTES = 15
MAX_OPEN_LOGIN_LINKS = 3
"""Unused login links a holder may have at once: asking again sends nothing more (the answer stays the same)."""
COOKIE_NAME = "__Host-odr_session"  # __Host-: only over HTTPS, for this host and every path, never a Domain

Kind = Literal["login", "session"]
_HOLDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_TOKEN = re.compile(r"^(station|enterprise)\.([A-Za-z0-9_-]{1,40})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Holder:
    """Who a session acts for: one station (its code) or one enterprise (its USCC)."""

    role: Role
    id: str

    @property
    def actor(self) -> str:
        """As the case history names people: ``station:JS-ZJ``, ``enterprise:<USCC>``."""
        return f"{self.role}:{self.id}"


@dataclass(frozen=True)
class Token:
    holder: Holder
    secret: str

    @property
    def text(self) -> str:
        return f"{self.holder.role}.{self.holder.id}.{self.secret}"

    @property
    def key_hash(self) -> str:
        return secret_hash(self.secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(holder: Holder) -> Token:
    if not _HOLDER_ID.match(holder.id):
        raise ValueError(f"a holder id of letters, digits, '-' and '_' only: {holder.id!r}")
    return Token(holder, secrets.token_urlsafe(32))  # 43 characters


def parse_token(text: str | None) -> Token | None:
    """The token in a cookie or a login link, or None for anything malformed."""
    match = _TOKEN.match(text or "")
    if match is None:
        return None
    role, holder_id, secret = match.groups()
    return Token(Holder("station" if role == "station" else "enterprise", holder_id), secret)


class SessionRecord(BaseModel):
    """A login link or a session as stored (never its secret)."""

    kind: Kind
    role: Role
    holder_id: str
    key_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None  # a login link: when it opened its session
    revoked_at: datetime | None = None
    csrf: str | None = None  # a session: the token its forms carry
    contact_hash: str | None = None  # a login link: the registered contact it went to (SHA-256)

    @field_validator("created_at", "expires_at", "used_at", "revoked_at")
    @classmethod
    def _utc_seconds(cls, value: datetime | None) -> datetime | None:
        """Stored as UTC to the second, so stored times compare as strings in DynamoDB's conditions."""
        return value.astimezone(UTC).replace(microsecond=0) if value is not None else None

    @property
    def holder(self) -> Holder:
        return Holder(self.role, self.holder_id)

    def live(self, now: datetime) -> bool:
        """Usable now: not revoked, not expired, and (a login link) not used."""
        return self.revoked_at is None and now < self.expires_at and (self.kind == "session" or self.used_at is None)


def login_record(token: Token, contact_hash: str, now: datetime) -> SessionRecord:
    return SessionRecord(
        kind="login",
        role=token.holder.role,
        holder_id=token.holder.id,
        key_hash=token.key_hash,
        created_at=now,
        expires_at=now + timedelta(minutes=LOGIN_LINK_MINUTES),
        contact_hash=contact_hash,
    )


def session_record(token: Token, now: datetime) -> SessionRecord:
    return SessionRecord(
        kind="session",
        role=token.holder.role,
        holder_id=token.holder.id,
        key_hash=token.key_hash,
        created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
        csrf=secrets.token_urlsafe(24),
    )


def session_cookie(token: Token, expires_at: datetime, now: datetime) -> str:
    """The Set-Cookie value: HttpOnly (no script reads it), Secure, SameSite=Strict (never sent by another site's
    page), for as long as the session lives."""
    seconds = max(0, int((expires_at - now).total_seconds()))
    return f"{COOKIE_NAME}={token.text}; Path=/; Max-Age={seconds}; Secure; HttpOnly; SameSite=Strict"


def cleared_cookie() -> str:
    return f"{COOKIE_NAME}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"


def cookie_token(cookie_header: str | None) -> Token | None:
    """The session token in a request's Cookie header (the first well-formed one)."""
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE_NAME:
            token = parse_token(value)
            if token is not None:
                return token
    return None
