"""Masking of personal information (consumer name, phone, e-mail, address, ID number).

What an operator sees of a record (quarantine, explain) goes through these; handlers log no personal fields at
all, and the clear values live only in the case table.
"""

from __future__ import annotations

import re
from typing import Any

from odr_adapter.models.record import Complaint

PII_FIELDS = frozenset({"name", "phone", "email", "address", "id_number"})


def mask_name(value: str) -> str:
    """Keep the surname of a name of two or more characters; hide a one-character name entirely."""
    if len(value) < 2:
        return "*" * len(value)
    return value[:1] + "*" * (len(value) - 1)


def mask_phone(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(value)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_email(value: str) -> str:
    user, _, domain = value.partition("@")
    return (user[:1] + "***@" + domain) if domain else "***"


def mask_text(value: str) -> str:
    return value[:3] + "***" if len(value) > 3 else "***"


_MASKERS = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_text,
    "id_number": lambda v: v[:2] + "*" * 12 + v[-2:] if len(v) >= 6 else "*" * len(v),
}


def mask_consumer(consumer: dict[str, Any]) -> dict[str, Any]:
    def one(key: str, value: Any) -> Any:
        if key not in _MASKERS or value is None:
            return value
        # A wrongly typed value (what invalid records carry) is hidden whole rather than shown.
        return _MASKERS[key](value) if isinstance(value, str) else "***"

    return {k: one(k, v) for k, v in consumer.items()}


_FREE_TEXT = ("description", "demand", "handled_elsewhere")
_CONTRACT_FIELDS = frozenset(Complaint.model_fields)
_PHONE_OR_ID = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}|[0-9]{17}[0-9Xx])(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


def masked_consumer(consumer: Any) -> Any:
    """Every field of the consumer is personal: known ones masked their way, anything else hidden whole."""
    if consumer is None:
        return None
    if not isinstance(consumer, dict):
        return "***"
    masked = mask_consumer(consumer)
    known = {"name", "phone", "email", "address", "id_number"}
    return {k: (v if k in known else "***") for k, v in masked.items()}


def _scrub(value: Any) -> Any:
    """Phone numbers, ID numbers and e-mail addresses a consumer typed into free text, hidden."""
    if isinstance(value, str):
        return _EMAIL.sub("***@***", _PHONE_OR_ID.sub(lambda m: m[0][:3] + "****", value))
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def masked_raw(raw: Any) -> Any:
    """A raw (possibly invalid) record safe to print: consumer masked, free text and unknown fields scrubbed."""
    if not isinstance(raw, dict):
        return f"(a JSON {type(raw).__name__}, not an object: not shown, it may hold personal data)"
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "consumer":
            out[key] = masked_consumer(value)
        elif key in _FREE_TEXT or key not in _CONTRACT_FIELDS:
            out[key] = _scrub(value)
        else:
            out[key] = value
    return out
