"""Deadline policies (per enterprise class and phase, stored in the directory table) and the deadlines
they give a case; :mod:`odr_adapter.rules.calendars` counts the days. The scorecards' rules are kept in the same
stored document (:mod:`odr_adapter.models.scorecard_rules`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from odr_adapter.models.scorecard_rules import ScorecardRules

Phase = Literal["screening", "acceptance", "resolution", "review", "rework"]
DayKind = Literal["natural", "working"]
PHASE_NAMES: dict[str, str] = {
    "screening": "受理审查",
    "acceptance": "受理",
    "resolution": "办理反馈",
    "review": "审核办结",
    "rework": "退回重办",
}


class Policy(BaseModel):
    days: int = Field(ge=1)
    kind: DayKind = "natural"


class HolidayTable(BaseModel):
    """An operator's table for a year the packaged calendar lacks: its days off and make-up working days."""

    year: int
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    source: str = "operator"


class DeadlinePolicies(BaseModel):
    """Per enterprise class and phase; the default is the Jinshan rule (2 days to accept, 7 to resolve)."""

    default: dict[Phase, Policy] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "acceptance": Policy(days=2),
            "resolution": Policy(days=7),
            "review": Policy(days=2),
            "rework": Policy(days=2),
            "screening": Policy(days=1),
        }
    )
    by_class: dict[str, dict[Phase, Policy]] = Field(default_factory=dict)
    holiday_tables: list[HolidayTable] = Field(default_factory=list)
    scorecards: ScorecardRules = Field(default_factory=ScorecardRules)  # exit review and commendation (红榜)

    def policy(self, phase: Phase, enterprise_class: str | None) -> Policy:
        return self.by_class.get(enterprise_class or "", {}).get(phase) or self.default[phase]


class Deadline(BaseModel):
    phase: Phase
    due_at: datetime
    remind_at: datetime
    policy: str
    calendar: str
    calendar_version: str
    fallback: bool = False
