"""What the adapter takes in, in size and shape: request bodies, queue messages, stored records.

Every limit has a reason and a clear answer, never a crash:

- **Request bodies** are parsed by :func:`loads_limited`: at most ``max_bytes`` (413), nested at most ``max_depth``
  deep, numbers at most ``MAX_NUMBER_CHARS`` characters and finite (no ``NaN``/``Infinity``: they are not JSON);
  anything else is a 400 with the reason. Python's own parser would otherwise raise ``RecursionError`` on deep
  nesting and ``ValueError`` on a 5000-digit integer, and the caller would get a 502.
- **JSON text** for a queue or a table is written by :func:`json_text`: UTF-8 as it came, except when a string
  holds something UTF-8 (or SQS) cannot carry, such as a lone surrogate (``"\\ud83d"``: half an emoji cut by the
  sender, which is valid JSON). Then the whole text is written with ``\\u`` escapes, which every store takes and
  every JSON reader reads back to the same value.
- **Queue messages** are at most :data:`QUEUE_MESSAGE_BYTES` (SQS's limit); **a record stored in a case** at most
  :data:`MAX_RECORD_BYTES` (the case item, with its history, must stay under DynamoDB's 400 KB); **a quarantined
  record** at most :data:`MAX_QUARANTINED_BYTES`. A record over a limit is not stored whole: see
  :func:`digest_stub`.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import math
import re
from base64 import b64decode
from typing import Any

QUEUE_MESSAGE_BYTES = 256 * 1024  # SQS's maximum message size (the queues keep their default)
MAX_RECORD_BYTES = 128 * 1024  # a legitimate record is under 40 KB: 4000 + 1000 characters of text, 20 attachments
MAX_QUARANTINED_BYTES = 128 * 1024  # raw text kept per quarantine item (the item's limit is 400 KB)
MAX_NUMBER_CHARS = 32  # a JSON number literal: far above any revision, quantity or count
DEFAULT_MAX_DEPTH = 32  # a push envelope holding a record is 5 deep; later fields may add a few levels

_UNSAFE = re.compile("[\ud800-\udfff\ufffe\uffff]")  # cannot be UTF-8 (surrogates) or in an SQS message (U+FFFE/F)
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class RequestRejected(Exception):
    """A request refused for its form, before any field is looked at: 400 (or 413 when too large)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def body_bytes(body: str | None, is_base64_encoded: bool) -> bytes:
    """The bytes of an API Gateway body: text as it came, binary in base64 (400 when that is not base64)."""
    text = body or ""
    if not is_base64_encoded:
        return text.encode("utf-8", "surrogatepass")
    try:
        return b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestRejected(400, "body is not valid base64") from None


def _number(text: str) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise RequestRejected(400, f"a number in the body is {len(text)} characters long; at most {MAX_NUMBER_CHARS}")
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise RequestRejected(400, "a number in the body is out of range")
    return value


def _not_json(name: str) -> Any:
    raise RequestRejected(400, f"{name} is not a JSON number; send a finite number or, for money, a decimal string")


def loads_limited(body: bytes | str, max_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse a request body as JSON within the limits, or raise :class:`RequestRejected` (400/413)."""
    size = len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    if size > max_bytes:
        raise RequestRejected(413, f"body is {size} bytes; at most {max_bytes}")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise RequestRejected(400, "body is not UTF-8") from None
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):  # brackets inside strings do not nest
        depth += 1 if bracket[0] in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > max_depth:
        raise RequestRejected(400, f"body is nested {deepest} levels deep; at most {max_depth}")
    try:
        return json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise RequestRejected(400, f"body is not JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:  # pragma: no cover - the depth check above comes first
        raise RequestRejected(400, "body is nested too deep") from None


def json_text(value: Any, sort_keys: bool = False) -> str:
    """JSON text any store can carry: UTF-8 as is, or ``\\u`` escapes when a string holds a lone surrogate."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=sort_keys)
    return json.dumps(value, sort_keys=sort_keys) if _UNSAFE.search(text) else text


def text_bytes(value: Any) -> int:
    """How many bytes :func:`json_text` takes for ``value``."""
    return len(json_text(value).encode("utf-8"))


def surrogates_and_size(value: Any) -> tuple[list[str], int]:
    """:func:`unpaired_surrogates` and :func:`text_bytes` of ``value`` from one JSON dump: a lone surrogate in a
    key or a string shows in the text, so the walk that finds its paths runs only when there is one."""
    text = json.dumps(value, ensure_ascii=False)
    if not _UNSAFE.search(text):
        return [], len(text.encode("utf-8"))
    return unpaired_surrogates(value), len(json.dumps(value).encode("utf-8"))


def unpaired_surrogates(value: Any, path: str = "") -> list[str]:
    """The paths (``consumer.name``, ``attachments.0.url``) of keys and strings holding a lone surrogate."""
    if isinstance(value, str):
        return [path or "(record)"] if re.search("[\ud800-\udfff]", value) else []
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            safe_key = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
            here = f"{path}.{safe_key}" if path else safe_key
            if re.search("[\ud800-\udfff]", str(key)):
                found.append(here)
            found += unpaired_surrogates(item, here)
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in unpaired_surrogates(item, f"{path}.{i}" if path else str(i))]
    return []


TRUNCATED = "_odr_truncated"  # the key of a digest stub; never a field of the 12315 contract


def _scalar(value: Any) -> Any:
    return value if isinstance(value, int | bool) or (isinstance(value, str) and len(value) <= 64) else None


def digest_stub(raw: Any) -> dict[str, Any]:
    """What is kept of a record too large to store: its identity, its size, which fields are large, and the
    SHA-256 of its JSON text, so the platform's copy can be matched byte for byte. No field's value is kept
    (a large record is mostly text a consumer typed, and may hold personal data)."""
    text = json_text(raw, sort_keys=True)
    encoded = text.encode("utf-8")
    kept: dict[str, Any] = {"sha256": hashlib.sha256(encoded).hexdigest(), "bytes": len(encoded)}
    if isinstance(raw, dict):
        for key in ("complaint_id", "revision", "updated_at"):
            if _scalar(raw.get(key)) is not None:
                kept[key] = raw[key]
        sizes = sorted(((text_bytes(v), str(k)[:64]) for k, v in raw.items()), reverse=True)[:10]
        kept["largest_fields"] = {key: size for size, key in sizes}
    return {TRUNCATED: json.loads(json_text(kept))}


def is_digest_stub(raw: Any) -> bool:
    return isinstance(raw, dict) and set(raw) == {TRUNCATED}
