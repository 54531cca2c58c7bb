"""transition: the next version of a case, validated field by field (never stores what the model refuses)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from odr_adapter.models.case import Case, EnterpriseRef, InvalidChange, transition

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _case() -> Case:
    return Case(
        complaint_id="3101160000000202611300012",
        revision=1,
        registered_at=AT,
        received_at=AT,
        record={"complaint_id": "3101160000000202611300012"},
        execution_name="case-3101160000000202611300012",
    )


def test_a_transition_applies_its_changes_and_records_one_event() -> None:
    case = _case()
    updated, event = transition(case, "dispatched", "adapter", AT, status="dispatched", detail={"k": "v"})
    assert (updated.status, updated.version, updated.history) == ("dispatched", 1, [event])
    assert (event.version, event.event, event.actor, event.detail) == (1, "dispatched", "adapter", {"k": "v"})
    assert (case.status, case.version, case.history) == ("received", 0, [])  # the old version is untouched


def test_changed_values_are_validated_into_their_types() -> None:
    updated, _ = transition(
        _case(),
        "closed",
        "adapter",
        AT,
        cycle_days="1.50",
        enterprise={"uscc": "91310116MA1J8XXX0X", "name": "某公司", "enterprise_class": "large"},
    )
    assert updated.cycle_days == Decimal("1.50")
    assert isinstance(updated.enterprise, EnterpriseRef)


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "bogus"},
        {"outcome": "maybe"},
        {"overdue": "perhaps"},
        {"deadlines": {"acceptance": "tomorrow"}},
    ],
)
def test_an_invalid_value_is_refused_without_echoing_it(changes: dict[str, Any]) -> None:
    [(name, value)] = changes.items()
    with pytest.raises(InvalidChange, match=f"invalid '{name}'") as raised:
        transition(_case(), "changed", "adapter", AT, **changes)
    assert str(value) not in str(raised.value)


@pytest.mark.parametrize("name", ["stauts", "version", "history"])
def test_an_unknown_or_reserved_field_is_refused(name: str) -> None:
    with pytest.raises(InvalidChange, match=f"sets '{name}'"):
        transition(_case(), "changed", "adapter", AT, **{name: 1})
