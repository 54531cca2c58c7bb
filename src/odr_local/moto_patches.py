"""The local stack's changes to moto 5.2.1 (pinned in pyproject.toml because of them). Each patch first checks
that moto still has what it replaces and fails loudly at start-up if not, naming the module.

- Lambda invocations run the real handlers in-process (no Docker here).
- StartExecution deep-copies the state machine *with its running executions* (and their locks), which
  fails as soon as two executions of one state machine run at once: the snapshot leaves the runs out.
- Every request lists moto's package folders from disk under a global lock; the list is computed once.
- Virtual time (kernel.py): the Step Functions interpreter's threads become kernel threads and its waits
  (task timeouts, callback waits, Retry intervals, Wait states, joins) kernel waits, so they take simulated
  seconds and give the baton back while they wait.
- Finished executions: moto keeps every thread it ever started in ``TMP_THREADS``; finished ones are pruned.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import types
from typing import Any

import moto
import moto.backends as moto_backends
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser import utils as sfn_utils

from . import kernel
from .invoker import invoke_in_process

_SFN = "moto.stepfunctions.parser."

# module -> (the source text the patch relies on, {global name: replacement})
_VIRTUAL_TIME: dict[str, tuple[str, dict[str, Any]]] = {
    "backend.execution_worker": ("Thread(target=self._execution_logic", {"Thread": kernel.SimThread}),
    "asl.component.program.program": ("worker_thread.join(timeout=timeout)", {"threading": "shim"}),
    "asl.component.state.exec.execute_state": (
        "finished_on_time: bool = terminated_event.wait(timeout_seconds)",
        {"threading": "shim", "Thread": kernel.SimThread},
    ),
    "asl.component.state.exec.state_task.service.state_task_service_callback": (
        "thread_wait_for_task_token = threading.Thread(",
        {"threading": "shim", "time": "time"},
    ),
    "asl.eval.callback.callback": ("self._notify_event.wait(timeout=timeout)", {"Event": kernel.VirtualEvent}),
    "asl.eval.environment": ("self.program_state_event = threading.Event()", {"threading": "shim"}),
    "asl.component.common.retry.retrier_decl": ("time.sleep(interval_seconds)", {"time": "time"}),
    "asl.component.state.wait.wait_function.wait_function": ("env.program_state_event.wait(wait_seconds)", {}),
}


class _Shim(types.ModuleType):
    """A module's view of ``threading`` or ``time`` with the kernel's versions of a few names."""

    def __init__(self, real: types.ModuleType, **overrides: Any) -> None:
        super().__init__(real.__name__)
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _virtual_time() -> None:
    import threading
    import time

    shims = {
        "shim": _Shim(threading, Thread=kernel.SimThread, Event=kernel.VirtualEvent),
        "time": _Shim(time, sleep=kernel.sleep),
    }
    for name, (expected, replacements) in _VIRTUAL_TIME.items():
        module = importlib.import_module(_SFN + name)
        if expected not in inspect.getsource(module):
            raise RuntimeError(
                f"moto {moto.__version__}: {module.__name__} no longer has {expected!r}; "
                "the local stack's virtual time (odr_local/moto_patches.py) must be adapted"
            )
        for attr, replacement in replacements.items():
            if not hasattr(module, attr):
                raise RuntimeError(f"moto {moto.__version__}: {module.__name__}.{attr} is gone")
            setattr(module, attr, shims.get(replacement, replacement) if isinstance(replacement, str) else replacement)


def prune_finished_threads() -> None:
    sfn_utils.TMP_THREADS[:] = [t for t in sfn_utils.TMP_THREADS if t.is_alive()]


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
    _virtual_time()
