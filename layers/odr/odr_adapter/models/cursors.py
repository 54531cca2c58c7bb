"""Opaque page cursors: where a listing stopped (DynamoDB's LastEvaluatedKey), signed with the server's key.

The HMAC covers the position and a scope (who listed, with which filters), so a cursor cannot be forged,
altered, or replayed by another holder or with other filters: anything else is :class:`BadCursor` (a 400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

MAX_CURSOR_CHARS = 1024


class BadCursor(ValueError):
    """A cursor this server did not issue for this listing."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, scope: str, body: bytes) -> bytes:
    return hmac.new(key, scope.encode() + b"\n" + body, hashlib.sha256).digest()


def sign_cursor(position: dict[str, Any], scope: str, key: bytes) -> str:
    body = json.dumps(position, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{_b64(body)}.{_b64(_mac(key, scope, body))}"


def read_cursor(text: str, scope: str, key: bytes) -> dict[str, Any]:
    """The position a cursor holds, after checking it was signed for ``scope``."""
    if len(text) > MAX_CURSOR_CHARS or text.count(".") != 1:
        raise BadCursor("not a cursor of this listing")
    body_text, mac_text = text.split(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (binascii.Error, ValueError):
        raise BadCursor("not a cursor of this listing") from None
    if not hmac.compare_digest(mac, _mac(key, scope, body)):
        raise BadCursor("not a cursor of this listing")
    position = json.loads(body)
    if not isinstance(position, dict):
        raise BadCursor("not a cursor of this listing")
    return position
