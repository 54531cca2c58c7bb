"""Runs the real handlers in-process whenever moto invokes a Lambda function.

moto routes every invocation (Step Functions tasks, ``lambda.invoke``) through
``LambdaFunction._invoke_lambda``, which would start a Docker container; the local stack replaces that one
method (moto is pinned in pyproject.toml for this reason) with a call into the function's ``app.py``.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.models import StateMachine

log = logging.getLogger("odr_local.invoker")


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    timeout: int
    module: ModuleType | None = None
    invocations: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> Any:
        with self.lock:
            if self.module is None:
                module_name, _ = self.handler.rsplit(".", 1)
                path = self.code_dir / f"{module_name}.py"
                spec = importlib.util.spec_from_file_location(f"odr_fn_{self.logical_id}", path)
                assert spec and spec.loader, f"cannot load {path}"
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
                self.module = module
        return getattr(self.module, self.handler.rsplit(".", 1)[1])


class LambdaContext:
    """The parts of the Lambda context object that Powertools reads."""

    def __init__(self, fn: LocalFunction) -> None:
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{fn.name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = "local"
        self._timeout = fn.timeout

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout * 1000


FUNCTIONS: dict[str, LocalFunction] = {}
_original = LambdaFunction._invoke_lambda


def run(fn: LocalFunction, event: Any) -> tuple[str, bool, str]:
    """Call the handler; an exception becomes Lambda's error payload (``errorType`` = exception class)."""
    fn.invocations += 1
    try:
        result = fn.load()(event if event is not None else {}, LambdaContext(fn))
        return json.dumps(result, default=str), False, ""
    except Exception as exc:
        fn.errors += 1
        payload = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
        }
        if type(exc).__name__ not in ("CaseWithdrawn",):
            log.warning("%s raised %s: %s", fn.name, type(exc).__name__, exc)
        return json.dumps(payload), True, ""


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    fn = FUNCTIONS.get(self.function_name)
    if fn is None:
        return _original(self, event)
    return run(fn, event)


def _clone_without_executions(self: StateMachine, memo: dict[int, Any]) -> StateMachine:
    """moto deep-copies the state machine at each StartExecution, running executions (and their locks)
    included, which fails as soon as two run at once; the snapshot needs the definition, not the runs."""
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        setattr(clone, key, [] if key == "executions" else copy.deepcopy(value, memo))
    return clone


def install() -> None:
    """Patch moto 5.2.1 (pinned): in-process handlers, and concurrent executions of one state machine."""
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
    StateMachine.__deepcopy__ = _clone_without_executions  # type: ignore[attr-defined]
