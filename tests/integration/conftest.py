"""A local stack with every resource deployed but no triggers running: handlers are invoked one by one."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from odr_local.kernel import Kernel
from odr_local.simulator import Simulator
from odr_local.stack import LocalStack

START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")


class Invoker:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.lam = stack.client("lambda")

    def __call__(self, logical_id: str, event: dict[str, Any]) -> tuple[bool, Any]:
        """Invoke the deployed function through the emulated Lambda API (the real handler runs)."""
        got = self.lam.invoke(FunctionName=self.stack.deployment.ref(logical_id), Payload=json.dumps(event).encode())
        return "FunctionError" not in got, json.loads(got["Payload"].read() or b"null")


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Virtual time: it stands still while a test acts, and moves only as far as a test lets the stack run.
    local = LocalStack(START).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="package")
def invoke(stack: LocalStack) -> Invoker:
    return Invoker(stack)


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    """Virtual time of the test's own (inside the stack's, if one runs): it moves only when the test moves it."""
    running = Kernel(START).start()
    yield running
    running.stop()


@pytest.fixture
def sim(kernel: Kernel) -> Iterator[Simulator]:
    """A 12315 simulator of the test's own, on the test's clock."""
    simulator = Simulator()
    simulator.start()
    yield simulator
    simulator.stop()
