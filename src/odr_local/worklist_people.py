"""Simulated people who work from their worklists: a station's responsible person or an enterprise's specialist
signs in with the login link the adapter sends to their registered contact, finds the case in their list and
submits the case page's form, as a person on a phone would (over HTTP, with the session's cookie and the page's
CSRF token). A session that ended (12 hours) is opened again by a new link.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from odr_adapter.models.sessions import COOKIE_NAME

from .inbox import Inbox, Seen, see, submit

LOGIN = re.compile(r"https?://\S+/w/login/[A-Za-z0-9._-]+")
ROW = re.compile(r'<a class="card row[^"]*" href="([^"]+)" data-complaint-id="([^"]+)"')
NEXT = re.compile(r'id="next-page" href="([^"]+)"')
MAX_PAGES = 50


class NotListed(Exception):
    """The case is not in the person's list (it is not theirs, or no longer open)."""


@dataclass
class WorklistPerson:
    """One holder's person at a phone: their contact (where login links come) and their session."""

    base_url: str  # the pages' public base, e.g. http://127.0.0.1:8123/prod
    inbox: Inbox
    email: str | None
    mobile: str | None
    http: requests.Session = field(default_factory=requests.Session)
    signed_in: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.http.headers["Origin"] = f"{parts.scheme}://{parts.netloc}"  # as a browser's POST from our pages

    def _login_links(self) -> list[str]:
        return [u for m in self.inbox.received_by(self.email, self.mobile) for u in LOGIN.findall(m.body)]

    def sign_in(self) -> None:
        """Ask for a link, follow it (it was sent while the request was answered), press the button."""
        seen = len(self._login_links())
        contact = self.email or self.mobile
        asked = self.http.post(f"{self.base_url}/w/signin", data={"contact": contact}, timeout=30)
        asked.raise_for_status()
        links = self._login_links()
        if len(links) <= seen:
            raise RuntimeError(f"no login link reached {contact}")
        used = self.http.post(links[-1], allow_redirects=False, timeout=30)
        if used.status_code != 303:
            raise RuntimeError(f"the login link was refused ({used.status_code})")
        # The cookie is Secure: over the local stack's http, the client keeps it itself (a browser would too).
        cookie = used.headers["Set-Cookie"].split(";", 1)[0]
        self.http.headers["Cookie"] = cookie if cookie.startswith(f"{COOKIE_NAME}=") else ""
        self.signed_in = True

    def _get(self, url: str, **params: str) -> requests.Response:
        if not self.signed_in:
            self.sign_in()
        got = self.http.get(url, params=params or None, allow_redirects=False, timeout=30)
        if got.status_code == 303:  # the session ended: a new link
            self.sign_in()
            got = self.http.get(url, params=params or None, allow_redirects=False, timeout=30)
        return got

    def find(self, complaint_id: str, phase: str) -> str:
        """The case page's address, found by walking the list of cases in ``phase`` page by page."""
        page = self._get(f"{self.base_url}/w/cases", phase=phase)
        for _ in range(MAX_PAGES):
            for href, listed in ROW.findall(page.text):
                if listed == complaint_id:
                    return html.unescape(href)
            more = NEXT.search(page.text)
            if more is None:
                break
            page = self._get(html.unescape(more.group(1)))
        raise NotListed(f"{complaint_id} is not in the {phase} list")

    def act(self, complaint_id: str, phase: str, action: str, fields: dict[str, Any]) -> Seen:
        """Open the case from the list and submit the form for ``action`` (the page's own fields, CSRF token
        included, and the person's input)."""
        url = self.find(complaint_id, phase)
        page = see(url, self._get(url))
        if action not in page.forms:
            return page  # nothing to do on it now (the case moved on): the page says why
        return submit(page, action, fields, self.http)

    def note(self, complaint_id: str, text: str) -> Seen | None:
        """Write a note from the case's page (opened by its address, as from the list); None when the page offers
        no note form (the case is closed, or not dispatched)."""
        url = f"{self.base_url}/w/cases/{complaint_id}"
        page = see(url, self._get(url))
        if "note" not in page.forms:
            return None
        return submit(page, "note", {"note": text}, self.http)
