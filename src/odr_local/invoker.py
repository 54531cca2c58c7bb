"""Runs the real handlers in-process whenever moto invokes a Lambda function.

moto routes every invocation (Step Functions tasks, ``lambda.invoke``) through
``LambdaFunction._invoke_lambda``, which would start a Docker container; the local stack replaces that one
method with a call into the function's ``app.py``.

As in Lambda, each function has its own environment (:class:`FunctionEnvironment`: while a function runs, a
thread sees exactly the variables template.yaml gives that function, and none of another's), metrics of its
own (Powertools keeps them in class attributes shared by every ``Metrics`` in a process: each function module
is loaded with fresh ones), and, where the local stack asks for it (:class:`FunctionOutput`), a log stream of
its own.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from aws_lambda_powertools import Metrics
from moto.awslambda.models import LambdaFunction

log = logging.getLogger("odr_local.invoker")


class _Stdout:
    """The stream a function's log handlers write to: ``sys.stdout`` as it is when they write, as a Lambda
    container's stdout is its own for its whole life. A handler keeps the stream it was made with, and a function
    first loaded while a test had replaced ``sys.stdout`` (pytest's capsys) went on writing to that stream after
    the test had closed it ("Logging error: I/O operation on closed file" from a later run of the function)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


STDOUT = _Stdout()


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
    environment: dict[str, str] = field(default_factory=dict)  # the template's variables for this function
    lock: threading.Lock = field(default_factory=threading.Lock)
    idle: list[ModuleType] = field(default_factory=list)  # warm containers not running an invocation
    containers: int = 0

    def runtime_environment(self) -> dict[str, str]:
        """What the Lambda runtime adds to the template's variables."""
        return {
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "_HANDLER": self.handler,
        }

    def load(self) -> Any:
        """The handler of the first container (cold-starting it if need be)."""
        with self.lock:
            if self.module is None:
                self.module = self._cold_start()
                self.idle.append(self.module)
        return getattr(self.module, self.handler.rsplit(".", 1)[1])

    @contextmanager
    def container(self) -> Iterator[Any]:
        """A container for one invocation, as Lambda gives it: a warm one that is idle, else a new one (a cold
        start). A container runs one invocation at a time, so concurrent invocations never share a module."""
        self.load()
        with self.lock:
            module = self.idle.pop() if self.idle else None
        if module is None:
            with self.lock:
                module = self._cold_start()
        try:
            yield getattr(module, self.handler.rsplit(".", 1)[1])
        finally:
            with self.lock:
                self.idle.append(module)

    def _cold_start(self) -> ModuleType:
        with running(self):
            module_name, _ = self.handler.rsplit(".", 1)
            path = self.code_dir / f"{module_name}.py"
            suffix = f"_{self.containers}" if self.containers else ""
            spec = importlib.util.spec_from_file_location(f"odr_fn_{self.logical_id}{suffix}", path)
            assert spec and spec.loader, f"cannot load {path}"
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            _fresh_metric_sets()
            spec.loader.exec_module(module)
            self._log_to_stdout()
            self.containers += 1
            return module

    def _log_to_stdout(self) -> None:
        """Point the stream handlers of the function's logger (Powertools': named after its service, made once a
        process) at :data:`STDOUT`."""
        service = self.environment.get("POWERTOOLS_SERVICE_NAME")
        for handler in logging.getLogger(service).handlers if service else ():
            if type(handler) is logging.StreamHandler and handler.stream is not STDOUT:
                handler.setStream(STDOUT)


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
_current = threading.local()  # the function this thread runs: its environment and log stream
_METRIC_SETS = ("_metrics", "_dimensions", "_metadata", "_default_dimensions")


class FunctionEnvironment(MutableMapping[str, str]):
    """``os.environ`` of a process of in-process handlers. A thread running a function sees the process's own
    variables (region, credentials, the emulator's endpoint) with that function's template variables on top,
    and no variable that template.yaml gives only to other functions; any other thread (a test, the runner,
    the ``odr`` CLI in-process) sees the process's variables as they are."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self.template_names: set[str] = set()  # every function's variables: hidden from the others

    def _view(self) -> tuple[dict[str, str], set[str]] | None:
        fn: LocalFunction | None = getattr(_current, "function", None)
        if fn is None:
            return None
        own = {**fn.environment, **fn.runtime_environment()}
        return own, self.template_names - set(own)

    def __getitem__(self, key: str) -> str:
        view = self._view()
        if view is not None:
            own, hidden = view
            if key in own:
                return own[key]
            if key in hidden:
                raise KeyError(key)
        return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.base[key] = value

    def __delitem__(self, key: str) -> None:
        del self.base[key]

    def __iter__(self) -> Iterator[str]:
        view = self._view()
        if view is None:
            return iter(self.base)
        own, hidden = view
        return iter(sorted({k for k in self.base if k not in hidden} | set(own)))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self)


def use_function_environments() -> FunctionEnvironment:
    """Put :class:`FunctionEnvironment` in place of ``os.environ`` (once per process)."""
    if not isinstance(os.environ, FunctionEnvironment):
        os.environ = FunctionEnvironment(os.environ)  # type: ignore[assignment]  # noqa: B003 - a view, not a reset
    environ = os.environ
    assert isinstance(environ, FunctionEnvironment)
    environ.template_names = {k for fn in FUNCTIONS.values() for k in fn.environment}
    return environ


def current() -> LocalFunction | None:
    """The function this thread runs, if any (the harness's own calls run in none)."""
    return getattr(_current, "function", None)


@contextmanager
def running(fn: LocalFunction) -> Iterator[None]:
    """This thread runs ``fn``: its environment and log stream are the function's."""
    outer = getattr(_current, "function", None)
    _current.function = fn
    try:
        yield
    finally:
        _current.function = outer


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
        fn = getattr(_current, "function", None)
        if fn is None:
            return self.other.write(text)
        name = fn.logical_id
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
    try:
        with fn.container() as handler, running(fn):
            result = handler(event if event is not None else {}, LambdaContext(fn))
        return json.dumps(result, default=str), False, ""
    except Exception as exc:
        fn.errors += 1
        payload = {
            "errorType": getattr(exc, "lambda_error_type", type(exc).__name__),  # as Lambda reports it
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
        }
        if type(exc).__name__ not in ("CaseWithdrawn",):
            log.warning("%s raised %s: %s", fn.name, type(exc).__name__, exc)
        return json.dumps(payload), True, ""
    finally:
        fn.seconds += time.perf_counter() - began


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
