"""Time for the whole simulator comes from one `Clock`.

Production runs on `RealClock` (asyncio's loop time, optionally sped up by a time scale, so a
48-hour expiry can pass in under a minute). Tests run on `VirtualClock`, where nothing happens
until the test advances time: a receipt planned "after 48 hours" fires the moment the test calls
`advance(48 * 3600)`, with no real waiting and no flakiness.

Both expose simulated seconds (`now()`), simulated wall time (`time()`, epoch seconds, used for
receipt dates) and `call_later` timers that can be cancelled.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Simulated seconds since an arbitrary origin; only differences mean anything."""
        ...

    def time(self) -> float:
        """Simulated wall-clock time in epoch seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle: ...


class _VirtualTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A clock that only moves when told to; timers fire in time order as it moves.

    Callbacks run synchronously inside `advance()`; a callback may schedule more timers, and
    those fire in the same call when they fall inside the advanced span.
    """

    def __init__(self, start_wall: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = 0.0
        self._start_wall = start_wall
        self._heap: list[tuple[float, int, _VirtualTimer]] = []
        self._counter = itertools.count()

    def now(self) -> float:
        return self._now

    def time(self) -> float:
        return self._start_wall + self._now

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        timer = _VirtualTimer(self._now + max(0.0, delay), callback)
        heapq.heappush(self._heap, (timer.when, next(self._counter), timer))
        return timer

    @property
    def pending(self) -> int:
        return sum(1 for _, _, timer in self._heap if not timer.cancelled)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> int:
        """Move time forward, firing every timer due on the way; returns how many fired."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        fired = 0
        while True:
            due = self.next_due()
            if due is None or due > target:
                break
            _, _, timer = heapq.heappop(self._heap)
            self._now = max(self._now, timer.when)
            timer.callback()
            fired += 1
        self._now = target
        return fired

    def run_until_idle(self, limit: float = 400 * 24 * 3600.0, max_timers: int = 1_000_000) -> int:
        """Fire timers until none is left (bounded, so a timer that re-arms forever stops)."""
        fired = 0
        horizon = self._now + limit
        while fired < max_timers:
            due = self.next_due()
            if due is None or due > horizon:
                break
            fired += self.advance(due - self._now)
        return fired


class _BatchedTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class BatchedTimers:
    """Many callbacks due at the same moment share one clock timer.

    At thousands of messages a second with fixed delays, most steps fall due in the same
    millisecond as others; one heap entry per tick instead of one per step is much of the
    difference between 15k and 25k messages a second. Due times are rounded up to
    `resolution` (0 keeps them exact, as tests on the virtual clock want); callbacks of one
    tick run in the order they were scheduled.
    """

    def __init__(self, clock: Clock, resolution: float = 0.001) -> None:
        self.clock = clock
        self.resolution = resolution
        self._buckets: dict[float, list[_BatchedTimer]] = {}

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        now = self.clock.now()
        due = now + max(0.0, delay)
        if self.resolution > 0:
            due = math.ceil(due / self.resolution) * self.resolution
        timer = _BatchedTimer(callback)
        bucket = self._buckets.get(due)
        if bucket is None:
            self._buckets[due] = [timer]
            self.clock.call_later(due - now, lambda: self._fire(due))
        else:
            bucket.append(timer)
        return timer

    def _fire(self, due: float) -> None:
        for timer in self._buckets.pop(due, ()):
            if not timer.cancelled:
                timer.callback()
