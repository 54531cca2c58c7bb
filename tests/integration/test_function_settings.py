"""Each function's settings load, at cold start, from exactly the environment template.yaml gives it."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from odr_adapter.settings import FunctionSettings, SettingsInvalid
from odr_local.invoker import FUNCTIONS, LocalFunction
from odr_local.stack import LocalStack


def cold(fn: LocalFunction, **changes: object) -> LocalFunction:
    """The function as a new container would load it."""
    return replace(fn, module=None, lock=threading.Lock(), idle=[], containers=0, **changes)  # type: ignore[arg-type]


def test_every_function_loads_its_settings_from_its_own_template_environment(stack: LocalStack) -> None:
    assert len(FUNCTIONS) >= 15
    for fn in FUNCTIONS.values():
        fresh = cold(fn)
        fresh.load()
        settings = fresh.module.obs.settings  # type: ignore[union-attr]
        assert isinstance(settings, FunctionSettings), fn.logical_id
        for name, variable in type(settings).variables().items():
            if variable.required:  # every variable it needs came from its own template environment
                assert getattr(settings, name) == fn.environment[variable.name], (fn.logical_id, name)


@pytest.mark.parametrize(
    ("function", "variable"),
    [("NotifyFunction", "SENDER_EMAIL"), ("PollerFunction", "FEED_BASE_URL"), ("CloseFunction", "REPORT_QUEUE_URL")],
)
def test_a_variable_missing_from_a_functions_template_stops_its_cold_start_by_name(
    stack: LocalStack, function: str, variable: str
) -> None:
    fn = next(f for f in FUNCTIONS.values() if f.logical_id == function)
    without = {k: v for k, v in fn.environment.items() if k != variable}
    with pytest.raises(SettingsInvalid, match=f"{fn.name} .*{variable} is not set"):
        cold(fn, environment=without).load()  # another function's value for it is not seen either
