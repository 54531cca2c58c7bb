"""Virtual time for the local stack: a discrete-event kernel driving real threads, one at a time.

The whole process reads one clock: ``time.time()`` and ``datetime.now()`` are moved by time-machine, so the
handlers (``odr_adapter.clock``), moto (timestamps, SQS visibility, execution history), the 12315 simulator and
the scenario runner all see the same simulated instant. In **virtual** mode that instant stands still while
anything works and jumps to the next due event when everything is idle; in **paced** mode (``--realtime``) it
follows the wall clock at a scale.

Who works, and in what order:

- *Simulated threads* are the threads moto's Step Functions interpreter starts (one per execution, one per
  state, one per callback wait). They run only while they hold the kernel's baton, one at a time, and give it
  back when they block in a :class:`VirtualEvent` wait (a callback, a timeout, a retry interval) or end.
  A wait with a timeout is a timer on the kernel's queue; ``set()`` makes the waiter runnable at once.
- *Driver work* runs in the thread that drives the kernel: timer callbacks (schedules, the platform's pushes,
  the simulated people) and *sources* (the SQS and DynamoDB-stream event source mappings), which are polled
  until none has anything to do.

Idle means: no runnable thread and no source with work. The kernel then moves the clock to the earliest timer
(or *hint*: a due time known elsewhere, such as a message's SQS visibility) and fires it. Runnable threads are
granted the baton in the order they became runnable, and timers fire in (time, registration) order, so a run
is the same sequence of steps whatever the machine's load.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

log = logging.getLogger("odr_local.kernel")

Source = Callable[[], bool]  # does one piece of work if it has any; True when it did
Hint = Callable[[], float | None]  # the next epoch second at which it will have work, if known
WATCHDOG_SECONDS = 120.0  # a thread holding the baton this long (real time) is reported, not killed

_running: list[Kernel] = []  # the innermost drives new threads; an inner one (a test's own) stops first


def active() -> Kernel | None:
    """The kernel driving this process's time, if any (handlers never need it; the local stack's parts do)."""
    return _running[-1] if _running else None


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)


@dataclass(eq=False)
class _Waiter:
    thread: SimThread
    event: VirtualEvent
    timer: _Timer | None = None
    done: bool = False


class Kernel:
    """The clock, the timer queue and the baton (see the module docstring)."""

    def __init__(self, start: datetime, seconds_per_day: float | None = None) -> None:
        self.paced = seconds_per_day is not None
        self.scale = 86400.0 / seconds_per_day if seconds_per_day else 1.0
        self._now = start.timestamp()
        self._lock = threading.RLock()
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._runnable: deque[SimThread] = deque()
        self._returned = threading.Event()
        self._wakeup = threading.Event()
        self._holder: SimThread | None = None
        self._sources: list[Source] = []
        self._hints: list[Hint] = []
        self._travel = time_machine.travel(datetime.fromtimestamp(self._now, UTC), tick=False)
        self._coordinates: Any = None
        self._driver: threading.Thread | None = None
        self._stopping = threading.Event()
        self._pace_origin = (0.0, 0.0)  # (wall, simulated) at the moment pacing (re)started
        self.fired = 0  # timers fired: a measure of the run's work

    # -- life ---------------------------------------------------------------------------------------------

    def start(self) -> Kernel:
        self._coordinates = self._travel.start()
        _running.append(self)
        if self.paced:
            self._start_pacing()
        return self

    def stop(self) -> None:
        """Stop driving. Threads still waiting (open cases) stay blocked; the process clock is real again."""
        self._stopping.set()
        self._wakeup.set()
        if self._driver is not None and self._driver is not threading.current_thread():
            self._driver.join(timeout=30)
        if _running[-1] is not self:
            raise RuntimeError("kernels stop in the reverse order of their start")
        self._travel.stop()
        _running.pop()

    def go_paced(self, seconds_per_day: float) -> None:
        """From now on follow the wall clock (after a virtual run, for people clicking through pages)."""
        self.scale = 86400.0 / seconds_per_day
        self.paced = True
        self._start_pacing()

    def _start_pacing(self) -> None:
        self._pace_origin = (time.monotonic(), self._now)
        self._driver = threading.Thread(target=self._paced_loop, name="kernel-pacer", daemon=True)
        self._driver.start()

    # -- the clock ----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def pace_spec(self) -> str:
        """``<simulated epoch>|<wall epoch>|<scale>``: enough for another process to tell this clock's time
        (scale 0 while virtual: the clock stands still between runs)."""
        wall = time_machine.escape_hatch.time.time()
        return f"{self._now}|{wall}|{self.scale if self.paced else 0.0}"

    def _move(self, epoch: float) -> None:
        if epoch > self._now:
            self._now = epoch
            self._coordinates.move_to(datetime.fromtimestamp(epoch, UTC))

    # -- registration (any thread) ------------------------------------------------------------------------

    def call_at(self, when: datetime, action: Callable[[], None], label: str = "") -> _Timer:
        """Run ``action`` in the driver at ``when`` (at once if it is past), after what is due before it."""
        return self._add_timer(max(when.timestamp(), self._now), action, label)

    def call_later(self, seconds: float, action: Callable[[], None], label: str = "") -> _Timer:
        return self._add_timer(self._now + max(0.0, seconds), action, label)

    def every(self, seconds: float, action: Callable[[], None], label: str = "") -> None:
        """A rate schedule: first at now + ``seconds``, then every ``seconds`` (as EventBridge does)."""

        def fire() -> None:
            self.call_later(seconds, fire, label)
            action()

        self.call_later(seconds, fire, label)

    def add_source(self, source: Source, hint: Hint | None = None) -> None:
        with self._lock:
            self._sources.append(source)
            if hint is not None:
                self._hints.append(hint)

    def _add_timer(self, due: float, action: Callable[[], None], label: str) -> _Timer:
        with self._lock:
            timer = _Timer(due, next(self._seq), action, label)
            heapq.heappush(self._timers, timer)
        self._wakeup.set()
        return timer

    # -- threads (called from SimThread and VirtualEvent) -------------------------------------------------

    def _enqueue(self, thread: SimThread) -> None:
        with self._lock:
            self._runnable.append(thread)
        self._wakeup.set()

    def _wake(self, waiter: _Waiter) -> None:
        with self._lock:
            if waiter.done:
                return
            waiter.done = True
            if waiter.timer is not None:
                waiter.timer.cancelled = True
            if waiter in waiter.event._waiters:
                waiter.event._waiters.remove(waiter)
            self._enqueue(waiter.thread)

    def _block(self, thread: SimThread, event: VirtualEvent, timeout: float | None) -> None:
        """Called by the baton holder: give the baton back until ``event`` is set or ``timeout`` passes."""
        with self._lock:
            waiter = _Waiter(thread, event)
            event._waiters.append(waiter)
            if timeout is not None:
                waiter.timer = self._add_timer(self._now + max(0.0, timeout), lambda: self._wake(waiter), "timeout")
        self._give_back(thread)
        thread._await_turn()

    def _give_back(self, thread: SimThread) -> None:
        with self._lock:
            if self._holder is thread:
                self._holder = None
        self._returned.set()

    def _grant(self, thread: SimThread) -> None:
        self._returned.clear()
        with self._lock:
            self._holder = thread
        thread._go.set()
        while not self._returned.wait(WATCHDOG_SECONDS):
            frame = sys._current_frames().get(thread.ident or -1)
            where = "".join(traceback.format_stack(frame)[-6:]) if frame else "(not started)"
            log.warning("thread %s has held the baton for %.0f s:\n%s", thread.name, WATCHDOG_SECONDS, where)

    # -- driving ------------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Run everything that can run at this instant: runnable threads first, then sources, until idle."""
        if self.paced and threading.current_thread() is not self._driver:
            raise RuntimeError("a paced kernel is driven by its own thread; wait for conditions instead")
        while True:
            with self._lock:
                thread = self._runnable.popleft() if self._runnable else None
            if thread is not None:
                self._grant(thread)
                continue
            if not any(source() for source in list(self._sources)):
                return

    def next_due(self) -> float | None:
        with self._lock:
            while self._timers and self._timers[0].cancelled:
                heapq.heappop(self._timers)
            candidates = [self._timers[0].due] if self._timers else []
            hints = list(self._hints)
        candidates += [h for h in (hint() for hint in hints) if h is not None and h > self._now]
        return min(candidates) if candidates else None

    def _fire_due(self, until: float) -> bool:
        """Fire the earliest timer due by ``until`` (moving the clock to it); False when there is none."""
        with self._lock:
            while self._timers and self._timers[0].cancelled:
                heapq.heappop(self._timers)
            if not self._timers or self._timers[0].due > until:
                return False
            timer = heapq.heappop(self._timers)
        self._move(timer.due)
        self.fired += 1
        timer.action()
        return True

    def run_until(
        self,
        done: Callable[[], bool] | None = None,
        until: datetime | None = None,
        max_wall_seconds: float | None = None,
    ) -> bool:
        """Virtual mode: advance from event to event until ``done()`` holds, ``until`` is reached or nothing is
        left to happen. True when ``done()`` held (or, without ``done``, when the run reached its end)."""
        if self.paced:
            raise RuntimeError("a paced kernel follows the wall clock; wait for conditions instead")
        limit = until.timestamp() if until else None
        wall_end = time.monotonic() + max_wall_seconds if max_wall_seconds else None
        self.settle()
        while True:
            if done is not None and done():
                return True
            if wall_end is not None and time.monotonic() > wall_end:
                return False
            due = self.next_due()
            if due is None or (limit is not None and due > limit):
                if limit is not None:
                    self._move(limit)
                return done is None
            self._move(due)
            self._fire_due(due)
            self.settle()

    def advance(self, delta: timedelta) -> None:
        """Virtual mode: let ``delta`` of simulated time pass, with everything due in it."""
        self.run_until(until=self.now() + delta)

    def leap(self, delta: timedelta, max_wall_seconds: float = 300.0) -> None:
        """Paced mode: let ``delta`` of simulated time pass at once, everything due in it firing in order, then go
        on at the pace (a person who comes back the next day). Returns once the clock has passed it."""
        if not self.paced:
            raise RuntimeError("a virtual kernel moves with advance()")
        target = self._now + delta.total_seconds()
        with self._lock:
            wall, simulated = self._pace_origin
            self._pace_origin = (wall, simulated + delta.total_seconds())
        self._wakeup.set()
        end = time.monotonic() + max_wall_seconds
        while self._now < target:
            if time.monotonic() > end:
                raise TimeoutError(f"the paced clock did not pass {datetime.fromtimestamp(target, UTC)} in time")
            self._stopping.wait(0.05)

    def _paced_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                wall0, sim0 = self._pace_origin  # read each turn: a leap moves it
                target = sim0 + (time.monotonic() - wall0) * self.scale
                while self._fire_due(target):
                    self.settle()
                self._move(target)
                self.settle()
            except Exception:  # the pacer must outlive any one failing callback
                log.exception("kernel pacer")
            self._wakeup.clear()
            due = self.next_due()
            pause = 0.05 if due is None else min(0.05, max(0.0, (due - self._now) / self.scale))
            self._wakeup.wait(pause)


class VirtualEvent:
    """``threading.Event`` whose waits are the kernel's: a simulated thread gives the baton back while it waits,
    and a timeout is simulated seconds. Other threads wait in real time, as before."""

    def __init__(self) -> None:
        self._flag = False
        self._real = threading.Event()
        self._waiters: list[_Waiter] = []

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set

    def set(self) -> None:
        self._flag = True
        self._real.set()
        for waiter in list(self._waiters):
            kernel = waiter.thread._kernel
            if kernel is not None:
                kernel._wake(waiter)

    def clear(self) -> None:
        self._flag = False
        self._real.clear()

    def wait(self, timeout: float | None = None) -> bool:
        thread = threading.current_thread()
        if not isinstance(thread, SimThread) or thread._kernel is None:
            return self._real.wait(timeout)
        with thread._kernel._lock:
            if self._flag:
                return True
        thread._kernel._block(thread, self, timeout)
        return self._flag


class SimThread(threading.Thread):
    """A thread that runs only while it holds the kernel's baton (see the module docstring)."""

    _kernel: Kernel | None = None

    def start(self) -> None:
        self._kernel = active()
        self._go = threading.Event()
        self._finished = VirtualEvent()
        if self._kernel is not None:
            self._kernel._enqueue(self)
        super().start()

    def _await_turn(self) -> None:
        self._go.wait()
        self._go.clear()

    def run(self) -> None:
        kernel = self._kernel
        if kernel is not None:
            self._await_turn()
        try:
            super().run()
        finally:
            self._finished.set()
            if kernel is not None:
                kernel._give_back(self)

    def join(self, timeout: float | None = None) -> None:
        if self._kernel is not None and isinstance(threading.current_thread(), SimThread):
            self._finished.wait(timeout)
        else:
            super().join(timeout)

    def is_alive(self) -> bool:
        if self._kernel is not None:
            return not self._finished.is_set()
        return super().is_alive()


def sleep(seconds: float) -> None:
    """``time.sleep`` for simulated threads: the interval passes on the kernel's clock."""
    thread = threading.current_thread()
    if isinstance(thread, SimThread) and thread._kernel is not None:
        VirtualEvent().wait(seconds)
    else:
        time.sleep(seconds)
