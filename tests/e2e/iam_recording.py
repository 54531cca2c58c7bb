"""pytest plugin of test_iam.py (registered by its ``pytest_plugins``): the IAM tests judge the AWS calls the
other e2e scenarios made, so they run last, and each recorded stack gets the resolver its template was
deployed with (a fixture whose value has a ``stack`` is a scenario run on that stack)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from odr_local import aws_calls
from odr_local.stack import LocalStack

IAM_TESTS = "test_iam.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name == IAM_TESTS)  # stable: the others keep their order


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    value = yield
    remember(fixturedef.argname, getattr(value, "stack", None))
    return value


def remember(label: str, stack: Any) -> None:
    """Tie the calls recorded on ``stack`` to its resolver (and the scenario's name)."""
    if not isinstance(stack, LocalStack):
        return
    segment = aws_calls.segment_for(stack.endpoint)
    if segment is not None:
        segment.resolver = stack.deployment.resolver
        segment.label = label
