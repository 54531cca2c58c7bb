"""Masking of personal information (consumer name, phone, e-mail, address, ID number).

Every log line and error message goes through these; the clear values live only in the case table.
"""

from __future__ import annotations

from typing import Any

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


def masked_record(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of a complaint record safe to log: consumer fields masked, the rest untouched."""
    out = dict(raw)
    consumer = raw.get("consumer")
    if isinstance(consumer, dict):
        out["consumer"] = mask_consumer(consumer)
    return out
