"""Enterprise API keys: random, shown once; only their SHA-256 is stored, with the enterprise's USCC."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "odr_"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
