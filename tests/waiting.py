"""Waiting on a case of a local stack, in either of its modes: one helper for every suite."""

from __future__ import annotations

from collections.abc import Callable

from odr_adapter.models.case import Case
from odr_local.stack import LocalStack


def wait_for_case(
    stack: LocalStack, complaint_id: str, condition: Callable[[Case], bool], seconds: float = 30.0
) -> Case:
    """Let the stack run until the case meets ``condition`` (virtual: event by event; paced: in real time, up to
    ``seconds``)."""
    seen: list[Case] = []

    def reached() -> bool:
        case = stack.cases.get(complaint_id)
        if case is not None and condition(case):
            seen.append(case)
            return True
        return False

    if not stack.wait_for(reached, seconds):
        raise AssertionError(f"{complaint_id} never got there: {stack.cases.get(complaint_id)}")
    return seen[-1]
