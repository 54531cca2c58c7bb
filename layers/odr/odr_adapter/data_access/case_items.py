"""The case item codec: a case as DynamoDB stores it (and as a stream image shows it), both ways.

Keys: ``pk=CASE#<id>``, ``sk=CASE``; beside the case document, the sparse index attributes derived from it.
The 12315 record is kept as its JSON text (DynamoDB would turn its integers into decimals), compressed (zlib, a
binary attribute): every version of the case rewrites the item, and the record is a third of it, mostly
Chinese text that compresses to about two thirds. An item written before holds the JSON text itself; both read.
Fields at their defaults are not stored (an item written before holds them; both read).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from odr_adapter.clock import iso_z
from odr_adapter.models.case import Case
from odr_adapter.models.counters import CaseChange

OPEN_DUE = "OPEN"
OWES = "OWES"  # ByOwed's one partition: a case is on it only while it owes something (owes_since)


class CaseItemInvalid(ValueError):
    """A case item that cannot be read; says which fields, never their values (they may be personal)."""


_ALWAYS = frozenset({"status", "version", "history"})  # status is read raw: the stream's filter, index projections
_DEFAULTS = {
    name: to_jsonable_python(field.get_default(call_default_factory=True))
    for name, field in Case.model_fields.items()
    if not field.is_required() and name not in _ALWAYS
}


def case_item(case: Case) -> dict[str, Any]:
    """The stored form (plain values): the case document plus the index attributes derived from it.

    A field at its default is left out (reading fills it in): most of a case's flags and lists stay at theirs
    for its whole life, and each one stored is an attribute to write, name and all, with every version."""
    doc = case.model_dump(mode="json", exclude_none=True, exclude={"record"})
    for name, default in _DEFAULTS.items():
        if name in doc and doc[name] == default:
            del doc[name]
    doc["record"] = zlib.compress(json.dumps(case.record, ensure_ascii=False, separators=(",", ":")).encode(), 9)
    due = case.next_due_at
    remind = case.next_remind_at
    owes = case.owes_since
    extra = {
        "pk": f"CASE#{case.complaint_id}",
        "sk": "CASE",
        "due_pk": OPEN_DUE if due else None,
        "due_at": iso_z(due) if due else None,
        "remind_at": iso_z(remind) if remind else None,
        "owes_pk": OWES if owes else None,
        "owes_since": iso_z(owes) if owes else None,
        "station_pk": f"STATION#{case.station_code}" if case.station_code else None,
        "enterprise_pk": f"ENT#{case.enterprise.uscc}" if case.enterprise else None,
        "reg_sk": f"{iso_z(case.registered_at)}#{case.complaint_id}",
    }
    return {k: v for k, v in {**doc, **extra}.items() if v is not None}


def is_case_item(item: Mapping[str, Any]) -> bool:
    return str(item.get("pk", "")).startswith("CASE#") and item.get("sk") == "CASE"


def case_of(item: Mapping[str, Any]) -> Case:
    """The case in a stored case item (plain values); raises CaseItemInvalid naming the fields at fault."""
    doc = {k: v for k, v in item.items() if k in Case.model_fields}  # not the index attributes
    try:
        doc["record"] = record_of(doc.get("record"))
        return Case.model_validate(doc)
    except (ValueError, ValidationError, zlib.error) as exc:
        problems = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors(include_input=False))
            if isinstance(exc, ValidationError)
            else "record is not JSON"
        )
        raise CaseItemInvalid(
            f"{item.get('pk')} version {item.get('version')} is not a readable case: {problems}"
        ) from None


def record_of(stored: Any) -> dict[str, Any]:
    """The record as a case item holds it: compressed JSON (bytes, boto3's Binary, or base64 text as a Lambda
    event carries a binary attribute), or the JSON text of an item written before."""
    if isinstance(stored, str):
        text = stored if stored.startswith("{") else zlib.decompress(base64.b64decode(stored, validate=True)).decode()
    elif stored is None:
        return {}
    elif isinstance(stored, dict):
        return stored
    else:
        raw = getattr(stored, "value", stored)  # boto3.dynamodb.types.Binary holds its bytes in .value
        text = zlib.decompress(bytes(raw)).decode()
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("record is not a JSON object")
    return record


def case_from_item(item: Mapping[str, Any]) -> Case | None:
    """The case in an item of the case table; None for the table's other items (links, feed state, ...)."""
    return case_of(item) if is_case_item(item) else None


def case_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> CaseChange | None:
    """A change of a case item (INSERT or MODIFY) from a stream record's images; None for other items and
    for deletions, which do not rewrite statistics (purging old cases must not change past figures)."""
    after = case_from_item(new) if new else None
    if after is None:
        return None
    return CaseChange(after.complaint_id, after.version, case_from_item(old) if old else None, after)
