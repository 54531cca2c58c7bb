"""What the simulated people received, and what they see when they follow a link.

Messages are read where the local stack delivered them: e-mail from moto's SES backend or, on a stack with
``EmailChannel: smtp``, from its SMTP relay; SMS from moto's SNS backend and from the simulated SMS gateway (all
in this process). A link is followed the way a person would:
its page is fetched over HTTP and one of its forms is submitted with the fields a person would fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

import requests
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from .sms_gateway import SmsGatewaySimulator
from .smtp_server import SmtpServer

ACCOUNT = "123456789012"
LINK = re.compile(r"https?://[^\s]+/l/[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Delivered:
    channel: Literal["email", "sms"]
    to: str
    subject: str
    body: str

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)


def _number(mobile: str) -> str:
    return mobile if mobile.startswith("+") else f"+86{mobile}"


@dataclass
class Inbox:
    ses_region: str
    sns_region: str
    gateway: SmsGatewaySimulator
    relay: SmtpServer | None = None  # e-mail arrives here instead of SES when the stack sends by SMTP

    def _relayed(self, start: int = 0, end: int | None = None) -> list[Delivered]:
        assert self.relay is not None
        return [Delivered("email", m.to, m.subject, m.body) for m in list(self.relay.received)[start:end]]

    def emails(self) -> list[Delivered]:
        if self.relay is not None:
            return self._relayed()
        sent = ses_backends[ACCOUNT][self.ses_region].sent_messages
        return [
            Delivered("email", to, str(m.subject), str(m.body))
            for m in list(sent)
            if hasattr(m, "subject")
            for to in m.destinations.get("ToAddresses", [])
        ]

    def sms(self) -> list[Delivered]:
        by_sns = [
            Delivered("sms", number, "", text)
            for number, text in list(sns_backends[ACCOUNT][self.sns_region].sms_messages.values())
        ]
        return by_sns + [Delivered("sms", m.to, "", m.text) for m in list(self.gateway.sent)]

    def messages(self) -> list[Delivered]:
        return self.emails() + self.sms()

    def new_since(self, seen: tuple[int, int, int]) -> tuple[list[Delivered], tuple[int, int, int]]:
        """Messages delivered since ``seen`` (the counts this returned last time), by e-mail, SNS and gateway,
        each in the order sent; a look that finds nothing new costs three lengths."""
        mails = ses_backends[ACCOUNT][self.ses_region].sent_messages if self.relay is None else self.relay.received
        texts = sns_backends[ACCOUNT][self.sns_region].sms_messages
        gateway = self.gateway.sent
        now = (len(mails), len(texts), len(gateway))
        if now == seen:
            return [], seen
        new = (
            self._relayed(seen[0], now[0])
            if self.relay is not None
            else [
                Delivered("email", to, str(m.subject), str(m.body))
                for m in list(mails)[seen[0] : now[0]]
                if hasattr(m, "subject")
                for to in m.destinations.get("ToAddresses", [])
            ]
        )
        new += [Delivered("sms", number, "", text) for number, text in list(texts.values())[seen[1] : now[1]]]
        new += [Delivered("sms", m.to, "", m.text) for m in list(gateway)[seen[2] : now[2]]]
        return new, now

    def received_by(self, email: str | None, mobile: str | None) -> list[Delivered]:
        """Everything sent to one person's e-mail address or mobile number, oldest first per channel."""
        mails = [m for m in self.emails() if email and m.to == email]
        texts = [m for m in self.sms() if mobile and m.to == _number(mobile)]
        return mails + texts


@dataclass
class Form:
    action: str  # the value of the hidden "action" field: accept, decline, report, approve, send_back
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """A page as a person sees it: its status, the case it is about, its forms and its message."""

    url: str
    status: int
    kind: str  # action | notice
    complaint_id: str
    phase: str
    forms: dict[str, Form]
    text: str


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.main: dict[str, str] = {}
        self.forms: list[dict[str, str]] = []
        self.text: list[str] = []
        self._in_form = False
        self._in_style = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "style":
            self._in_style = True
        elif tag == "main":
            self.main = a
        elif tag == "form":
            self._in_form = True
            self.forms.append({})
        elif tag in ("input", "textarea") and self._in_form and a.get("name"):
            if a.get("type") == "radio" and "checked" not in a:
                return  # an unchosen option is not sent
            self.forms[-1][a["name"]] = a.get("value", "")
            self._textarea = a["name"] if tag == "textarea" else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.forms[-1][self._textarea] += data
        if data.strip() and not self._in_style:
            self.text.append(data.strip())


def see(url: str, response: requests.Response) -> Seen:
    parser = _PageParser()
    parser.feed(response.text)
    forms = {f["action"]: Form(f["action"], f) for f in parser.forms if "action" in f}
    return Seen(
        url=url,
        status=response.status_code,
        kind=parser.main.get("data-page", ""),
        complaint_id=parser.main.get("data-complaint-id", ""),
        phase=parser.main.get("data-phase", ""),
        forms=forms,
        text=" ".join(parser.text),
    )


def open_link(url: str, session: requests.Session | None = None) -> Seen:
    return see(url, (session or requests).get(url, timeout=30))


def submit(page: Seen, action: str, filled: dict[str, Any], session: requests.Session | None = None) -> Seen:
    """Submit the page's form for ``action`` with the person's input added to its own fields."""
    form = page.forms[action]
    data = {**form.fields, **{k: str(v) for k, v in filled.items()}}
    return see(page.url, (session or requests).post(page.url, data=data, timeout=30))
