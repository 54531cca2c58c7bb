"""Counter items as stored: (scope, bucket) keys and metric values; the markers that make counting
exactly-once; the case changes they are counted from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from odr_adapter.models.case import Case

ALL = "ALL"
LIFETIME = "T"
CounterKey = tuple[str, str]  # (scope, bucket)
Values = dict[str, Decimal]
Deltas = dict[CounterKey, Values]


@dataclass(frozen=True)
class Marker:
    """Says that one version of one case was counted; it may exist only once."""

    complaint_id: str
    version: int
    expires_at: datetime


@dataclass(frozen=True)
class CaseChange:
    complaint_id: str
    version: int
    old: Case | None
    new: Case


class CounterItem(NamedTuple):
    bucket: str
    values: Values
