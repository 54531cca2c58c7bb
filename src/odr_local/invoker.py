"""Runs the real handlers in-process whenever moto invokes a Lambda function.

moto routes every invocation (Step Functions tasks, ``lambda.invoke``) through
``LambdaFunction._invoke_lambda``, which would start a Docker container; the local stack replaces that one
method with a call into the function's ``app.py``.

As in Lambda, each function has metrics of its own (Powertools keeps them in class attributes shared by
every ``Metrics`` in a process: each function module is loaded with fresh ones), and, where the local stack
asks for it (:class:`FunctionOutput`), a log stream of its own.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from aws_lambda_powertools import Metrics
from moto.awslambda.models import LambdaFunction

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
    seconds: float = 0.0  # real time spent in the handler, summed (a run's profile by function)
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
                _fresh_metric_sets()
                spec.loader.exec_module(module)
                self.module = module
        return getattr(self.module, self.handler.rsplit(".", 1)[1])


class LambdaContext:
    """The parts of the Lambda context object that Powertools reads."""

    def __init__(self, fn: LocalFunction) -> None:
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws-cn:lambda:cn-north-1:123456789012:function:{fn.name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = "local"
        self._timeout = fn.timeout

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout * 1000


FUNCTIONS: dict[str, LocalFunction] = {}
_original = LambdaFunction._invoke_lambda
_current = threading.local()  # the function this thread runs, for FunctionOutput
_METRIC_SETS = ("_metrics", "_dimensions", "_metadata", "_default_dimensions")


def _fresh_metric_sets() -> None:
    """The next ``Metrics()`` created binds to dicts of its own (Powertools shares class-level ones)."""
    for name in _METRIC_SETS:
        if not isinstance(getattr(Metrics, name, None), dict):
            raise RuntimeError(f"Powertools' Metrics.{name} is gone: per-function metrics must be adapted")
        setattr(Metrics, name, {})


class FunctionOutput:
    """``sys.stdout`` for a process of in-process handlers: what a function prints (its JSON logs and EMF
    metrics) goes to ``<folder>/<function>.log``, as each function has its own log group in CloudWatch."""

    def __init__(self, folder: Path, other: TextIO) -> None:
        self.folder, self.other = folder, other
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, TextIO] = {}
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        name = getattr(_current, "logical_id", None)
        if name is None:
            return self.other.write(text)
        with self._lock:
            if name not in self._files:
                self._files[name] = (self.folder / f"{name}.log").open("w", encoding="utf-8")
            return self._files[name].write(text)

    def flush(self) -> None:
        with self._lock:
            for stream in self._files.values():
                stream.flush()
        self.other.flush()


def run(fn: LocalFunction, event: Any) -> tuple[str, bool, str]:
    """Call the handler; an exception becomes Lambda's error payload (``errorType`` = exception class)."""
    fn.invocations += 1
    began = time.perf_counter()
    outer = getattr(_current, "logical_id", None)
    _current.logical_id = fn.logical_id
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
    finally:
        fn.seconds += time.perf_counter() - began
        _current.logical_id = outer


def invoke(function_name: str, event: Any) -> tuple[bool, Any]:
    """Call a deployed function the way the Lambda service calls it for a trigger: (succeeded, payload)."""
    payload, failed, _ = run(FUNCTIONS[function_name], event)
    return not failed, json.loads(payload)


def invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Replacement of ``LambdaFunction._invoke_lambda`` (installed by :mod:`odr_local.moto_patches`)."""
    fn = FUNCTIONS.get(self.function_name)
    if fn is None:
        return _original(self, event)
    return run(fn, event)
