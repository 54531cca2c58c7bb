"""The district's reference data: market-supervision stations and the ODR enterprise directory."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

EnterpriseClass = Literal["A", "B", "C"]
CLASS_NAMES: dict[str, str] = {"A": "大型综合类电商", "B": "中型专业类电商", "C": "小型电商"}


def normalise_name(value: str) -> str:
    """Fold the ways one shop or company name is written: full/half width, spaces, bracket styles, case."""
    folded = unicodedata.normalize("NFKC", value)
    folded = folded.replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")
    folded = re.sub(r"\s+", "", folded)
    return folded.casefold()


class Station(BaseModel):
    """A market-supervision station (市场监管所) and its responsible person (负责人)."""

    code: str
    name: str
    division_codes: list[str] = Field(default_factory=list)
    reviewer_name: str
    reviewer_email: str | None = None
    reviewer_mobile: str | None = None
    manual_screening: bool = False


class Enterprise(BaseModel):
    """An enterprise of the ODR directory (ODR企业目录) and its ODR specialist (ODR专员)."""

    uscc: str
    name: str
    enterprise_class: EnterpriseClass
    station_code: str
    shop_names: list[str] = Field(default_factory=list)
    contact_name: str
    contact_email: str | None = None
    contact_mobile: str | None = None
    listed_on: date
    delisted_on: date | None = None

    def listed_at(self, day: date) -> bool:
        """In the directory on ``day``: ``listed_on <= day`` and not delisted before it."""
        return self.listed_on <= day and (self.delisted_on is None or day <= self.delisted_on)


class District(BaseModel):
    """One district's configuration: its county code, stations, directory and intake desk."""

    county_code: str = "310116"
    name: str = "金山区"
    intake_station_code: str = "JS-INTAKE"
    stations: list[Station]
    enterprises: list[Enterprise]

    def station(self, code: str) -> Station | None:
        return next((s for s in self.stations if s.code == code), None)

    def station_for_division(self, division_code: str) -> Station | None:
        return next((s for s in self.stations if division_code in s.division_codes), None)

    def by_uscc(self, uscc: str) -> Enterprise | None:
        return next((e for e in self.enterprises if e.uscc == uscc), None)

    def by_shop_name(self, shop_name: str) -> Enterprise | None:
        key = normalise_name(shop_name)
        return next((e for e in self.enterprises if key in {normalise_name(s) for s in e.shop_names}), None)

    def by_registered_name(self, name: str) -> Enterprise | None:
        key = normalise_name(name)
        return next((e for e in self.enterprises if normalise_name(e.name) == key), None)


ChangeKind = Literal["added", "changed", "delisted", "removed"]


Kind = Literal["STATION", "ENTERPRISE"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    key: str
    name: str
    fields: tuple[FieldChange, ...] = ()
    row: dict[str, Any] | None = None  # the stored form to write; None for a removal


@dataclass(frozen=True)
class Plan:
    """What an accepted file changes in the directory table; unchanged rows are not written."""

    kind: Kind
    changes: list[Change]
    unchanged: int
    notes: list[str] = field(default_factory=list)

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)
