"""The virtual-time kernel on its own: timers in order, time that stands still while work runs, and kernel
threads whose waits are simulated seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from odr_local.kernel import Kernel, SimThread, VirtualEvent

START = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    running = Kernel(START).start()
    yield running
    running.stop()


def test_timers_fire_in_time_order_then_in_the_order_they_were_set(kernel: Kernel) -> None:
    fired: list[tuple[str, datetime]] = []
    for label, hours in (("c", 3), ("a", 1), ("b", 1)):
        kernel.call_at(START + timedelta(hours=hours), lambda label=label: fired.append((label, datetime.now(UTC))))
    assert kernel.run_until(lambda: len(fired) == 3)
    hour = timedelta(hours=1)
    assert fired == [("a", START + hour), ("b", START + hour), ("c", START + 3 * hour)]


def test_the_clock_stands_still_while_work_runs_and_jumps_when_idle(kernel: Kernel) -> None:
    seen: list[datetime] = []

    def slow_work() -> None:
        seen.append(datetime.now(UTC))
        time.sleep(0.2)  # real time passes; simulated time does not
        seen.append(datetime.now(UTC))

    kernel.call_later(86400 * 30, slow_work)
    kernel.run_until(until=START + timedelta(days=60))
    assert seen == [START + timedelta(days=30)] * 2
    assert kernel.now() == START + timedelta(days=60)


def test_a_kernel_thread_waits_in_simulated_seconds_and_wakes_at_once_when_set(kernel: Kernel) -> None:
    timed_out, answered = VirtualEvent(), VirtualEvent()
    results: dict[str, tuple[bool, datetime]] = {}

    def wait(name: str, event: VirtualEvent) -> None:
        results[name] = (event.wait(timeout=2 * 86400), datetime.now(UTC))

    for name, event in (("timed_out", timed_out), ("answered", answered)):
        SimThread(target=wait, args=(name, event), daemon=True).start()
    kernel.call_at(START + timedelta(hours=5), answered.set)
    began = time.monotonic()
    assert kernel.run_until(lambda: len(results) == 2)
    assert results == {
        "answered": (True, START + timedelta(hours=5)),
        "timed_out": (False, START + timedelta(days=2)),
    }
    assert time.monotonic() - began < 5  # two simulated days took no real time


def test_kernel_threads_run_one_at_a_time_in_the_order_they_became_runnable(kernel: Kernel) -> None:
    order: list[str] = []

    def step(name: str) -> None:
        order.append(f"{name} starts")
        time.sleep(0.01)  # were threads to overlap, another would start here
        order.append(f"{name} ends")

    for name in ("first", "second", "third"):
        SimThread(target=step, args=(name,), daemon=True).start()
    kernel.settle()
    assert order == [f"{n} {e}" for n in ("first", "second", "third") for e in ("starts", "ends")]


def test_join_and_is_alive_follow_the_kernel(kernel: Kernel) -> None:
    child = SimThread(target=lambda: VirtualEvent().wait(60), daemon=True)
    joined: list[tuple[bool, datetime]] = []

    def parent() -> None:
        child.start()
        child.join(timeout=10)
        joined.append((child.is_alive(), datetime.now(UTC)))

    SimThread(target=parent, daemon=True).start()
    assert kernel.run_until(lambda: bool(joined))
    assert joined == [(True, START + timedelta(seconds=10))]  # the join timed out first
    kernel.advance(timedelta(minutes=1))
    assert not child.is_alive()


def test_a_paced_kernel_leaps_forward_firing_what_is_due_in_order_then_goes_on_at_its_pace() -> None:
    paced = Kernel(START, seconds_per_day=86400).start()  # the wall clock's own pace
    try:
        fired: list[tuple[str, datetime]] = []
        for label, hours in (("b", 11), ("a", 2), ("later", 13)):
            paced.call_at(START + timedelta(hours=hours), lambda label=label: fired.append((label, datetime.now(UTC))))
        paced.leap(timedelta(hours=12))
        assert [label for label, _ in fired] == ["a", "b"]
        assert fired[0][1] == START + timedelta(hours=2) and paced.now() >= START + timedelta(hours=12)
        assert paced.now() < START + timedelta(hours=12, minutes=1)  # then on at the pace, not further
    finally:
        paced.stop()
    with pytest.raises(RuntimeError):
        Kernel(START).leap(timedelta(hours=1))
