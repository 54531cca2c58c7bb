"""The JSON API for large enterprises: per-enterprise API keys instead of links.

A key is random and shown once; only its SHA-256 is stored, with the enterprise's USCC. A key reaches only
its enterprise's cases: any other case answers as if it did not exist.

The key is checked before anything of the body is read (an anonymous caller gets 401, never a list of fields);
then the body within :data:`MAX_REQUEST_BYTES` (413), UTF-8, JSON nested at most :data:`MAX_REQUEST_DEPTH` deep
with finite, short numbers (400); then its fields (422). Booleans are JSON ``true``/``false`` only, money a decimal
string (:class:`~odr_adapter.people.actions.ResultReport`).
"""

from __future__ import annotations

from typing import Any

from odr_adapter.messages.sending import Delivery
from odr_adapter.models.api_keys import KEY_PREFIX, api_key_hash
from odr_adapter.models.case import Case
from odr_adapter.models.limits import RequestRejected, body_bytes, loads_limited
from odr_adapter.models.links import ActionName
from odr_adapter.models.sessions import Holder
from odr_adapter.people.notes import Author, NoteOutcome, add_note
from odr_adapter.people.submissions import Outcome, act
from odr_adapter.people.views import case_view
from odr_adapter.people.worklists import Filters, api_item, listing
from odr_adapter.ports import ApiKeyRepository, CasePages, Services

MAX_REQUEST_BYTES = 64 * 1024  # a result's summary is at most 2000 characters: a few KB
MAX_REQUEST_DEPTH = 8  # the API's bodies are flat objects


def is_api(path: str) -> bool:
    """The enterprise API's paths (authenticated by key); the rest are the action pages (by their link)."""
    return path.startswith("/api/")


def request_text(body: str | None, is_base64_encoded: bool) -> str:
    """A request's body as text, or :class:`RequestRejected`: 413 over :data:`MAX_REQUEST_BYTES`, 400 not UTF-8."""
    raw = body_bytes(body, is_base64_encoded)
    if len(raw) > MAX_REQUEST_BYTES:
        raise RequestRejected(413, f"body is {len(raw)} bytes; at most {MAX_REQUEST_BYTES}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "body is not UTF-8") from None


def request_json(text: str) -> Any:
    """A JSON body within the limits (400/413 otherwise, never a crash)."""
    return loads_limited(text, MAX_REQUEST_BYTES, MAX_REQUEST_DEPTH)


class Unauthorised(Exception):
    """No key, or a key that is unknown or revoked."""


class CaseNotFound(Exception):
    """No such case for this enterprise (whether it exists for another is not said)."""


def authenticate(authorization: str | None, keys: ApiKeyRepository) -> str:
    """The USCC of the enterprise whose key is in ``Authorization: Bearer <key>``."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip().startswith(KEY_PREFIX):
        raise Unauthorised("an API key is required: Authorization: Bearer <key>")
    uscc = keys.enterprise_for(api_key_hash(key.strip()))
    if uscc is None:
        raise Unauthorised("unknown or revoked API key")
    return uscc


def own_case(complaint_id: str, uscc: str, svc: Services) -> Case:
    case = svc.cases.get(complaint_id)
    if case is None or case.enterprise is None or case.enterprise.uscc != uscc:
        raise CaseNotFound(f"no case {complaint_id}")
    return case


def case_list(uscc: str, filters: Filters, pages: CasePages, svc: Services, key: bytes) -> dict[str, Any]:
    """One page of the enterprise's cases, as its worklist shows them (open first; the same filters and cursor):
    raises BadCursor for a cursor not issued to this enterprise with these filters."""
    found = listing(Holder("enterprise", uscc), filters, pages, svc.cases, key)
    now = svc.clock.now()
    return {"cases": [api_item(c, now) for c in found.cases], "next_cursor": found.next_cursor}


def enterprise_act(
    uscc: str, complaint_id: str, action: ActionName, payload: dict[str, Any], svc: Services, delivery: Delivery
) -> Outcome:
    own_case(complaint_id, uscc, svc)
    return act(complaint_id, action, f"enterprise:{uscc}", payload, "api", svc, delivery)


def enterprise_note(
    uscc: str, complaint_id: str, text: str, key: str | None, svc: Services, delivery: Delivery
) -> NoteOutcome:
    """The enterprise's question to the station on one of its cases (see :mod:`odr_adapter.people.notes`)."""
    own_case(complaint_id, uscc, svc)
    return add_note(complaint_id, Author("enterprise", uscc), text, key, "api", svc, delivery)


def note_answer(outcome: NoteOutcome) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of a note: 201 when this request added it, 200 for a repeat of the same key."""
    body = {"result": outcome.status, "note": outcome.note.as_dict(), "case": case_view(outcome.case)}
    return (201 if outcome.status == "added" else 200), body


def api_answer(outcome: Outcome) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(HTTP status, JSON body, headers) of an action's outcome."""
    view = case_view(outcome.case)
    if outcome.status in ("done", "repeated"):
        return 200, {"result": outcome.status, "case": view}, {}
    if outcome.status == "not_ready":
        body = {"error": "the workflow is not waiting for this action yet; retry shortly", "code": "not_ready"}
        return 409, body, {"Retry-After": "2"}
    if outcome.status == "busy":  # nothing was done: write contention outlasted the retries
        return 409, {"error": outcome.reason, "code": "busy"}, {"Retry-After": "2"}
    if outcome.status == "too_late":
        body = {"error": "the deadline passed: the case went back to the regulator (退回监管部门常规处理)"}
        return 409, {**body, "code": "deadline_passed", "case": view}, {}
    return 409, {"error": outcome.reason, "code": "not_allowed", "case": view}, {}
