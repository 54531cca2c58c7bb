"""Sign-in to the worklists without passwords: a single-use login link to the contact the district registered.

A person gives an e-mail address or a mobile number. Each holder that registered it (a station's responsible
person in the stations' data, a listed enterprise's ODR specialist in the directory) gets a login link on that
channel; nobody else gets anything, and the person is told the same either way. Opening the link shows a button
(mail scanners open links); pressing it uses the link once and opens a session for that one holder, while the
contact is still the holder's. A session lives ``SESSION_HOURS`` (12) hours unless it is signed out or revoked,
and acts only as its holder: its cookie names the holder and carries a secret whose hash is looked up under
that holder.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from odr_adapter.clock import local
from odr_adapter.messages.channels import RetryPolicy, Route, deliver
from odr_adapter.models.directory import District
from odr_adapter.models.sessions import (
    LOGIN_LINK_MINUTES,
    MAX_OPEN_LOGIN_LINKS,
    Holder,
    SessionRecord,
    Token,
    cookie_token,
    login_record,
    new_token,
    parse_token,
    session_record,
)
from odr_adapter.ports import Services, SessionRepository

Channel = Literal["email", "mobile"]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
_TEXTS = Environment(
    loader=PackageLoader("odr_adapter.people", "templates"),
    autoescape=False,  # plain text: an e-mail body and an SMS
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Contact:
    """A registered contact in one comparable form: an e-mail address folded to lower case, or a mobile number
    in E.164 (``13900000201``, ``+86 139 0000 0201`` and ``8613900000201`` are one number)."""

    channel: Channel
    value: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.channel}:{self.value}".encode()).hexdigest()


def contact_of(text: str | None) -> Contact | None:
    """What a person typed, as a contact; None for anything that is neither an address nor a valid number."""
    typed = (text or "").strip()
    if not typed or len(typed) > 254:
        return None
    if "@" in typed:
        return Contact("email", typed.casefold()) if _EMAIL.match(typed) else None
    # Only signing in reads a mobile number (a session's pages never do): phonenumbers loads here, not at every
    # cold start of the worklists (bench/cold_start.py)
    import phonenumbers

    try:
        number = phonenumbers.parse(typed, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return Contact("mobile", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@dataclass(frozen=True)
class Registered:
    """A holder whose registered contact matched: its name, and the address as registered (where to send)."""

    holder: Holder
    name: str
    address: str


def registered(contact: Contact, district: District, today: date) -> list[Registered]:
    """The holders that registered this contact: stations by their responsible person's e-mail or mobile, and
    enterprises listed today by their ODR specialist's."""
    found: list[Registered] = []
    for station in district.stations:
        address = station.reviewer_email if contact.channel == "email" else station.reviewer_mobile
        if address and contact_of(address) == contact:
            found.append(Registered(Holder("station", station.code), station.name, address))
    for enterprise in district.enterprises:
        address = enterprise.contact_email if contact.channel == "email" else enterprise.contact_mobile
        if address and enterprise.listed_at(today) and contact_of(address) == contact:
            found.append(Registered(Holder("enterprise", enterprise.uscc), enterprise.name, address))
    return found


def holder_name(holder: Holder, district: District) -> str:
    if holder.role == "station":
        station = district.station(holder.id)
        return station.name if station else holder.id
    enterprise = district.by_uscc(holder.id)
    return enterprise.name if enterprise else holder.id


def login_url(base_url: str, token: Token) -> str:
    return f"{base_url.rstrip('/')}/w/login/{token.text}"


def request_login(
    typed: str | None, svc: Services, sessions: SessionRepository, base_url: str, retry: RetryPolicy
) -> int:
    """Send a login link to every holder that registered this contact; how many were sent (for metrics: the
    person is answered the same whatever it is). A holder with :data:`MAX_OPEN_LOGIN_LINKS` unused links gets
    no more until they expire (:data:`LOGIN_LINK_MINUTES`)."""
    contact = contact_of(typed)
    if contact is None:
        return 0
    district = svc.directory.district()
    now = svc.clock.now()
    sent = 0
    for match in registered(contact, district, local(now).date()):
        pending = [r for r in sessions.of_holder(match.holder) if r.kind == "login" and r.live(now)]
        if len(pending) >= MAX_OPEN_LOGIN_LINKS:
            continue
        token = new_token(match.holder)
        sessions.put(login_record(token, contact.digest, now))
        sent += _send(contact.channel, match, login_url(base_url, token), district, svc, retry)
    return sent


def _send(channel: Channel, match: Registered, url: str, district: District, svc: Services, retry: RetryPolicy) -> int:
    values = {"name": match.name, "url": url, "minutes": LOGIN_LINK_MINUTES, "district": district.name}
    if channel == "email":
        subject = _TEXTS.get_template("login.subject.j2").render(values).strip()
        body = _TEXTS.get_template("login.email.j2").render(values)
        route = Route("email", lambda: svc.email.send(match.address, subject, body))
    else:
        text = _TEXTS.get_template("login.sms.j2").render(values).strip()
        route = Route("sms", lambda: svc.sms.send(match.address, text))
    delivered, _ = deliver([route], retry)
    return int(delivered is not None)


def pending_login(typed_token: str, svc: Services, sessions: SessionRepository) -> SessionRecord | None:
    """The live login link behind a token (what opening the link shows), or None."""
    token = parse_token(typed_token)
    if token is None:
        return None
    record = sessions.get(token.holder, "login", token.key_hash)
    return record if record is not None and record.live(svc.clock.now()) else None


@dataclass(frozen=True)
class Session:
    token: Token
    record: SessionRecord

    @property
    def holder(self) -> Holder:
        return self.token.holder

    @property
    def csrf(self) -> str:
        return self.record.csrf or ""


def sign_in(typed_token: str, svc: Services, sessions: SessionRepository) -> Session | None:
    """Use a login link (once) and open its holder's session; None when the link is unknown, used, expired or
    revoked, or its contact is no longer the holder's."""
    token = parse_token(typed_token)
    if token is None:
        return None
    now = svc.clock.now()
    record = sessions.get(token.holder, "login", token.key_hash)
    if record is None or not record.live(now) or not _still_registered(record, svc, now):
        return None
    if not sessions.use(token.holder, token.key_hash, now):
        return None  # used by another request meanwhile
    session_token = new_token(token.holder)
    session = session_record(session_token, now)
    sessions.put(session)
    return Session(session_token, session)


def _still_registered(record: SessionRecord, svc: Services, now: datetime) -> bool:
    district = svc.directory.district()
    holder = record.holder
    if holder.role == "station":
        station = district.station(holder.id)
        addresses = [station.reviewer_email, station.reviewer_mobile] if station else []
    else:
        enterprise = district.by_uscc(holder.id)
        listed = enterprise is not None and enterprise.listed_at(local(now).date())
        addresses = [enterprise.contact_email, enterprise.contact_mobile] if enterprise and listed else []
    contacts = [contact_of(a) for a in addresses if a]
    return any(c is not None and c.digest == record.contact_hash for c in contacts)


def current_session(cookie_header: str | None, svc: Services, sessions: SessionRepository) -> Session | None:
    """The live session a request's cookie names (checked in the store each time: a revoked one ends at once)."""
    token = cookie_token(cookie_header)
    if token is None:
        return None
    now = svc.clock.now()
    record = sessions.get(token.holder, "session", token.key_hash)
    if record is None or not record.live(now) or not _holder_registered(token.holder, svc, now):
        return None
    return Session(token, record)


def _holder_registered(holder: Holder, svc: Services, now: datetime) -> bool:
    """A station still in the stations' data, an enterprise still listed: a delisted one's sessions stop."""
    district = svc.directory.district()
    if holder.role == "station":
        return district.station(holder.id) is not None
    enterprise = district.by_uscc(holder.id)
    return enterprise is not None and enterprise.listed_at(local(now).date())


def sign_out(session: Session, svc: Services, sessions: SessionRepository) -> None:
    sessions.revoke(session.holder, "session", session.token.key_hash, svc.clock.now())


def revoke_all(holder: Holder, sessions: SessionRepository, now: datetime) -> int:
    """End every live session and unused login link of a holder (the operator's ``odr sessions revoke``)."""
    live = [r for r in sessions.of_holder(holder) if r.live(now)]
    for record in live:
        sessions.revoke(holder, record.kind, record.key_hash, now)
    return len(live)


def csrf_ok(session: Session, sent: str | None) -> bool:
    """The form carries its session's token (a page of another site cannot know it)."""
    return bool(session.csrf) and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())


def same_origin(headers: Mapping[str, str], base_url: str) -> bool:
    """A POST comes from our own pages: ``Origin``, when sent, is ours or ``null`` (our pages' no-referrer policy
    makes a browser send ``null`` on their own forms), and ``Sec-Fetch-Site``, which browsers set themselves, says
    same-origin when sent. Clients that send neither are no browser: they hold no one's cookie."""
    parts = urlsplit(base_url)
    if headers.get("Origin") not in (None, "null", f"{parts.scheme}://{parts.netloc}"):
        return False
    site = headers.get("Sec-Fetch-Site")
    return site is None or site == "same-origin"
