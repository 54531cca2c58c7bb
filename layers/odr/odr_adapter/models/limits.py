"""What the adapter takes in, in size and shape: request bodies, queue messages, stored records.

Every limit has a reason and a clear answer, never a crash:

- **Request bodies** are parsed by :func:`loads_limited`: at most ``max_bytes`` (413), nested at most ``max_depth``
  deep, numbers at most ``MAX_NUMBER_CHARS`` characters and finite (no ``NaN``/``Infinity``: they are not JSON);
  anything else is a 400 with the reason. Python's own parser would otherwise raise ``RecursionError`` on deep
  nesting and ``ValueError`` on a 5000-digit integer, and the caller would get a 502.
- **Feed envelopes** (a signed push, a page of the pull API) are read by :func:`feed_items` under the same limits,
  each record on its own: the webhook refuses a push holding a record over them (400, naming the record), the
  poller queues such a record as :class:`OverLimits` (its digest and every reason) to be quarantined, and the rest
  of its page goes on. One place, so a record the push refuses never reaches intake by the pull.
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
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

QUEUE_MESSAGE_BYTES = 256 * 1024  # SQS's maximum message size (the queues keep their default)
MAX_RECORD_BYTES = 128 * 1024  # a legitimate record is under 40 KB: 4000 + 1000 characters of text, 20 attachments
MAX_QUARANTINED_BYTES = 128 * 1024  # raw text kept per quarantine item (the item's limit is 400 KB)
MAX_NUMBER_CHARS = 32  # a JSON number literal: far above any revision, quantity or count
DEFAULT_MAX_DEPTH = 32  # a push envelope holding a record is 5 deep; later fields may add a few levels
MAX_REASONS = 10  # values out of bounds named per record or body; the rest counted (a queue message stays small)
MAX_FEED_RECORD_DEPTH = DEFAULT_MAX_DEPTH - 2  # a record inside {"items": [...]}, as the webhook always allowed
MAX_FEED_RECORD_BYTES = 1024 * 1024  # the most a push body may be, so the most a record may be by either path

_UNSAFE = re.compile("[\ud800-\udfff\ufffe\uffff]")  # cannot be UTF-8 (surrogates) or in an SQS message (U+FFFE/F)
_STRUCTURE = re.compile(rb'["\[\]{},:]')
_STRING_TAIL = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # from after the opening quote: linear
_NUMBER_START = frozenset(b"-0123456789")
_IDENTITY = {b'"complaint_id"': "complaint_id", b'"revision"': "revision", b'"updated_at"': "updated_at"}


class RequestRejected(Exception):
    """A request refused for its form, before any field is looked at: 400 (or 413 when too large)."""

    def __init__(self, status: int, message: str, reasons: list[str] | None = None) -> None:
        self.status = status
        self.message = message
        self.reasons = reasons or [message]  # every reason found, the first being ``message``
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


def _scalar_problem(chunk: bytes, what: str) -> str | None:
    """Why a value outside strings (a number, ``true``...) is refused, if it is: too long a literal (Python would
    spend quadratic time on, or refuse, a 5000-digit integer), ``NaN``/``Infinity`` (not JSON), or out of range."""
    if len(chunk) > MAX_NUMBER_CHARS:
        return f"a number in the {what} is {len(chunk)} characters long; at most {MAX_NUMBER_CHARS}"
    if chunk in (b"NaN", b"Infinity", b"-Infinity"):
        return f"{chunk.decode()} is not a JSON number; send a finite number or, for money, a decimal string"
    if chunk[0] in _NUMBER_START:
        with suppress(ValueError):
            if not math.isfinite(float(chunk)):
                return f"a number in the {what} is out of range"
    return None


@dataclass
class _Span:
    """A stretch of JSON text as one pass over it found it: where it ends, how deep it nests, what in it is out of
    bounds, and (for an item of an envelope) the identity fields at its top level, as text."""

    start: int
    end: int = 0
    deepest: int = 0
    problems: list[str] = field(default_factory=list)
    more: int = 0  # problems found beyond MAX_REASONS
    identity: dict[str, bytes] = field(default_factory=dict)

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_REASONS:
            self.problems.append(problem)
        else:
            self.more += 1


def _scan(data: bytes, what: str, split_items: bool = False) -> tuple[_Span, list[_Span] | None]:
    """One linear pass over JSON text, strings skipped (brackets inside them do not nest): its depth and the values
    outside strings that are out of bounds. With ``split_items``, the elements of the top-level ``"items"`` array
    are told apart, each with its own depth (counted from the element) and problems; the first span then stands
    for the text around them, its ``start`` and ``end`` the bounds of the array. Raises 400 for a string never
    closed: nothing after it can be told apart."""
    whole = _Span(0, len(data))
    items: list[_Span] | None = None
    item: _Span | None = None  # the element of "items" being read
    depth, pos, last, key = 0, 0, b"", b""
    while True:
        found = _STRUCTURE.search(data, pos)
        at = found.start() if found else len(data)
        chunk = data[pos:at].strip()
        if chunk:
            part = item or whole
            if problem := _scalar_problem(chunk, "record" if item else what):
                part.add(problem)
            if item is not None and depth == 3 and last == b":" and key in _IDENTITY:
                item.identity[_IDENTITY[key]] = chunk
        if found is None:
            return whole, items
        char, pos = data[at : at + 1], at + 1
        if char == b'"':
            tail = _STRING_TAIL.match(data, pos)
            if tail is None:
                raise RequestRejected(400, f"{what} is not JSON: a string is not closed")
            pos = tail.end()
            if last in (b"{", b",") and (depth == 1 or (item is not None and depth == 3)):
                key = data[at:pos]
            elif item is not None and depth == 3 and last == b":" and key in _IDENTITY:
                item.identity[_IDENTITY[key]] = data[at:pos]
            last = b'"'
            continue
        if char in b"[{":
            depth += 1
            if item is not None:
                item.deepest = max(item.deepest, depth - 2)
            else:
                whole.deepest = max(whole.deepest, depth)
            if split_items and char == b"[" and depth == 2 and last == b":" and key == b'"items"':
                items, item, whole.start = [], _Span(pos), at
        elif char in b"]}":
            if item is not None and items is not None and depth == 2:  # the end of "items"
                _close(item, at, items, whole, data, alone=char == b"]" and not items)
                whole.end, item = pos, None  # whole.end: just past the items array
            depth -= 1
        elif char == b"," and item is not None and items is not None and depth == 2:
            _close(item, at, items, whole, data, alone=False)
            item = _Span(pos)
        last = char


def _close(item: _Span, at: int, items: list[_Span], whole: _Span, data: bytes, alone: bool) -> None:
    item.end = at
    if data[item.start : at].strip():
        items.append(item)
    elif not alone:  # [1,,2] or [1,]; [] is an empty array
        whole.add("body is not JSON: an element of items is missing")


def _judge(text: bytes, span: _Span, max_depth: int, what: str, lenient: bool = False, too_large: str = "") -> Any:
    """The value of ``text`` (``span`` its scan), or :class:`RequestRejected` with every reason it is refused."""
    reasons = [too_large] if too_large else []
    if span.deepest > max_depth:
        reasons.append(f"{what} is nested {span.deepest} levels deep; at most {max_depth}")
    reasons += span.problems
    if span.more:
        reasons.append(f"{span.more} more values outside strings are out of bounds")
    try:
        decoded = text.decode("utf-8", "surrogatepass" if lenient else "strict")
    except UnicodeDecodeError:
        reasons.append(f"{what} is not UTF-8")
    if reasons:
        raise RequestRejected(400, reasons[0], reasons)
    try:
        return json.loads(decoded)  # within the limits: no RecursionError, no number Python refuses
    except json.JSONDecodeError as exc:
        raise RequestRejected(400, f"{what} is not JSON: {exc.msg} at character {exc.pos}") from None


def loads_limited(body: bytes | str, max_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse a request body as JSON within the limits, or raise :class:`RequestRejected` (400/413)."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(data) > max_bytes:
        raise RequestRejected(413, f"body is {len(data)} bytes; at most {max_bytes}")
    whole, _ = _scan(data, "body")
    return _judge(data, whole, max_depth, "body", lenient=isinstance(body, str))


@dataclass(frozen=True)
class OverLimits:
    """A feed record over the record limits: what is known of it without reading it, and every reason.

    ``digest`` is what is kept (:func:`is_digest_stub`): its size, the SHA-256 of its text as the platform sent it,
    and its complaint id, revision and ``updated_at`` when they stand at its top level."""

    digest: dict[str, Any]
    reasons: list[str]

    @property
    def identity(self) -> dict[str, Any]:
        return {k: v for k, v in self.digest[TRUNCATED].items() if k in _IDENTITY.values()}


def _over_limits(text: bytes, span: _Span, reasons: list[str]) -> OverLimits:
    kept: dict[str, Any] = {"sha256": hashlib.sha256(text).hexdigest(), "bytes": len(text), "hashed": "as sent"}
    for name, literal in span.identity.items():
        with suppress(ValueError):
            value = json.loads(literal) if len(literal) <= 100 else None
            if _scalar(value) is not None and (name != "revision" or type(value) is int):
                kept[name] = value
    return OverLimits({TRUNCATED: json.loads(json_text(kept))}, reasons)


class _OutOfBounds(Exception):
    """A value out of bounds: the text is read again the exact way, to say which record and why."""


def _literal(text: str) -> Any:
    if _scalar_problem(text.encode(), "body"):
        raise _OutOfBounds
    return float(text) if any(c in text for c in ".eE") else int(text)


def _constant(name: str) -> Any:
    raise _OutOfBounds


def _depth(value: Any) -> int:
    """How deep a parsed value nests, as the scan counts it (``{}`` is 1), walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def _within_limits(body: bytes) -> dict[str, Any] | None:
    """The envelope when it and every record are within the limits, read at the C parser's speed (the scan is a
    loop in Python, some fifteen times slower on a page of 200 records); None when anything is not."""
    if len(body) > MAX_FEED_RECORD_BYTES:  # then a record may be over the size limit: the exact way says
        return None
    try:
        value = json.loads(body.decode("utf-8"), parse_int=_literal, parse_float=_literal, parse_constant=_constant)
    except (_OutOfBounds, ValueError, RecursionError):  # ValueError: not UTF-8, not JSON
        return None
    items = value.get("items") if isinstance(value, dict) else None
    if not isinstance(items, list) or _depth({**value, "items": []}) > DEFAULT_MAX_DEPTH:
        return None
    return value if all(_depth(item) <= MAX_FEED_RECORD_DEPTH for item in items) else None


def feed_items(body: bytes, max_body_bytes: int | None = None) -> Any:
    """A feed envelope (a push body, a page of the pull API) read within the limits, with each record of its
    ``"items"`` read on its own: a record within the record limits as its value, one over them as
    :class:`OverLimits` with every reason, so one bad record does not take its push or page with it.

    The same limits for both paths: a record nested at most :data:`MAX_FEED_RECORD_DEPTH` deep, of at most
    :data:`MAX_FEED_RECORD_BYTES`, UTF-8, numbers of at most :data:`MAX_NUMBER_CHARS` characters, finite.
    Raises :class:`RequestRejected` when the envelope around the records is over its limits or not JSON."""
    if max_body_bytes is not None and len(body) > max_body_bytes:
        raise RequestRejected(413, f"body is {len(body)} bytes; at most {max_body_bytes}")
    if (within := _within_limits(body)) is not None:
        return within
    whole, spans = _scan(body, "body", split_items=True)
    if spans is None:  # no "items" array at the top: the body is one value, read whole (the caller judges it)
        return _judge(body, whole, DEFAULT_MAX_DEPTH, "body")
    envelope = _judge(body[: whole.start] + b"[]" + body[whole.end :], whole, DEFAULT_MAX_DEPTH, "body")
    items: list[Any] = []
    for span in spans:
        text = body[span.start : span.end].strip()
        large = len(text) > MAX_FEED_RECORD_BYTES
        try:
            too_large = f"record is {len(text)} bytes; at most {MAX_FEED_RECORD_BYTES}" if large else ""
            items.append(_judge(text, span, MAX_FEED_RECORD_DEPTH, "record", too_large=too_large))
        except RequestRejected as refused:
            items.append(_over_limits(text, span, refused.reasons))
    envelope["items"] = items
    return envelope


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
