"""Counter items as stored: (scope, bucket) keys and metric values; the case changes they are counted from
and what each adds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from odr_adapter.models.case import Case

ALL = "ALL"
LIFETIME = "T"
CounterKey = tuple[str, str]  # (scope, bucket)
Values = dict[str, Decimal]
Deltas = dict[CounterKey, Values]


@dataclass(frozen=True)
class Counted:
    """What one change of a case adds to the counters (non-zero deltas), to be counted once."""

    complaint_id: str
    version: int
    deltas: Deltas


@dataclass(frozen=True)
class CaseChange:
    complaint_id: str
    version: int
    old: Case | None
    new: Case


class CounterItem(NamedTuple):
    bucket: str
    values: Values
