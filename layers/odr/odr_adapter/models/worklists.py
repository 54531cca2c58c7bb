"""What one page of a holder's cases is asked with, and what it answers (a Query on ByStation or ByEnterprise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from odr_adapter.models.case import Case, Status

Section = Literal["open", "closed"]


@dataclass(frozen=True)
class CaseQuery:
    """One section of a holder's cases (open or closed), narrowed to one status, one enterprise and a period
    of registration (``registered_from <= registered_at < registered_before``). Open cases come oldest first
    (registration order: the indexes' sort key), closed ones newest first."""

    section: Section
    status: Status | None = None
    enterprise_uscc: str | None = None
    registered_from: datetime | None = None
    registered_before: datetime | None = None

    @property
    def newest_first(self) -> bool:
        return self.section == "closed"


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    next_key: dict[str, str] | None  # where the next page starts: the index key of the last case read
