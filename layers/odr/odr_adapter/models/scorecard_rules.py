"""The bureau's rules for enterprise scorecards (动态管理), stored with the deadline policies and changed the same way
(``odr policies set``): which enterprises are named for exit review (动态退出) and which are commended (红榜).

Rates are percent of whole cases. A rate over a handful of cases says little either way, so each rule asks for at
least ``min_cases`` cases behind a rate before it names anyone.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ExitReviewRule(BaseModel):
    """Named for exit review when any rate with at least ``min_cases`` cases behind it is below its minimum."""

    min_cases: int = Field(default=5, ge=1)
    min_on_time_acceptance: int = Field(default=90, ge=0, le=100)
    min_on_time_closure: int = Field(default=80, ge=0, le=100)
    min_settlement: int = Field(default=60, ge=0, le=100)


class CommendationRule(BaseModel):
    """Commended (红榜) when, with at least ``min_cases`` cases dispatched and ``min_cases`` handled in the period,
    on-time acceptance and on-time closure reach their minimums and, if ``settlement_at_least_class``, the
    settlement rate is at or above the rate of the enterprise's class over the same period."""

    min_cases: int = Field(default=5, ge=1)
    min_on_time_acceptance: int = Field(default=95, ge=0, le=100)
    min_on_time_closure: int = Field(default=95, ge=0, le=100)
    settlement_at_least_class: bool = True


class ScorecardRules(BaseModel):
    exit_review: ExitReviewRule = Field(default_factory=ExitReviewRule)
    commend: CommendationRule = Field(default_factory=CommendationRule)
