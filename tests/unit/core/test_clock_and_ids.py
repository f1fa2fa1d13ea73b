from __future__ import annotations

import pytest

from simulator.core.clock import VirtualClock
from simulator.core.ids import MessageIdGenerator


def test_virtual_clock_fires_in_order_and_only_when_advanced() -> None:
    clock = VirtualClock()
    fired: list[str] = []
    clock.call_later(48 * 3600, lambda: fired.append("late"))
    clock.call_later(1, lambda: fired.append("early"))
    cancelled = clock.call_later(2, lambda: fired.append("cancelled"))
    cancelled.cancel()
    assert fired == []
    clock.advance(1)
    assert fired == ["early"]
    clock.run_until_idle()
    assert fired == ["early", "late"] and clock.now() == 48 * 3600


def test_timers_scheduled_by_timers_fire_within_the_same_advance() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    clock.call_later(1, lambda: clock.call_later(1, lambda: fired.append(clock.now())))
    clock.advance(5)
    assert fired == [2.0]
    with pytest.raises(ValueError):
        clock.advance(-1)


@pytest.mark.parametrize("fmt", ["hex", "decimal", "uuid", "uuid_upper", "alnum"])
def test_ids_are_unique_and_reproducible(fmt: str) -> None:
    first = [MessageIdGenerator(fmt, seed=7).next_id() for _ in range(1)]
    gen_a, gen_b = MessageIdGenerator(fmt, seed=7), MessageIdGenerator(fmt, seed=7)
    a = [gen_a.next_id() for _ in range(20000)]
    assert a == [gen_b.next_id() for _ in range(20000)]
    assert len(set(a)) == len(a) and a[0] == first[0]
