"""The local stack's changes to moto 5.2.1 (pinned in pyproject.toml because of them).

- Lambda invocations run the real handlers in-process (no Docker here).
- StartExecution deep-copies the state machine *with its running executions* (and their locks), which
  fails as soon as two executions of one state machine run at once: the snapshot leaves the runs out.
- Every request lists moto's package folders from disk under a global lock; the list is computed once.
"""

from __future__ import annotations

import copy
from typing import Any

import moto.backends as moto_backends
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.models import StateMachine

from .invoker import invoke_in_process


def _clone_without_executions(self: Any, memo: dict[int, Any]) -> Any:
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        setattr(clone, key, [] if key == "executions" else copy.deepcopy(value, memo))
    return clone


def install() -> None:
    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]
    StateMachine.__deepcopy__ = _clone_without_executions  # type: ignore[attr-defined]
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
