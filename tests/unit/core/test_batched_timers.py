from __future__ import annotations

from simulator.core.clock import BatchedTimers, VirtualClock


def test_callbacks_due_together_share_one_clock_timer_and_keep_their_order() -> None:
    clock = VirtualClock()
    timers = BatchedTimers(clock, resolution=0.0)
    fired: list[str] = []
    for name in ("a", "b", "c"):
        timers.call_later(2.0, lambda name=name: fired.append(name))
    cancelled = timers.call_later(2.0, lambda: fired.append("cancelled"))
    timers.call_later(1.0, lambda: fired.append("first"))
    cancelled.cancel()
    assert clock.pending == 2  # one clock timer per distinct due time
    clock.advance(2.0)
    assert fired == ["first", "a", "b", "c"]


def test_resolution_rounds_due_times_up() -> None:
    clock = VirtualClock()
    timers = BatchedTimers(clock, resolution=0.001)
    fired: list[float] = []
    timers.call_later(0.0004, lambda: fired.append(clock.now()))
    timers.call_later(0.0007, lambda: fired.append(clock.now()))
    assert clock.pending == 1
    clock.advance(0.0009)
    assert fired == []
    clock.advance(0.0002)
    assert len(fired) == 2 and abs(fired[0] - 0.001) < 1e-12
