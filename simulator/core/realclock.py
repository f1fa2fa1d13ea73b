"""The production clock: the event loop's time, optionally sped up (`--time-scale`).

Kept apart from `core.clock` so that the sans-I/O layers (engine, codec) can use clocks
without importing asyncio.
"""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import Callable

from simulator.core.clock import TimerHandle


class RealClock:
    """Loop time, optionally scaled: at `scale=3600` one real second is one simulated hour."""

    def __init__(self, loop: asyncio.AbstractEventLoop, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self._loop = loop
        self.scale = scale
        self._origin_loop = loop.time()
        self._origin_wall = _time.time()

    def set_scale(self, scale: float) -> None:
        """Change the speed of simulated time without making it jump."""
        if scale <= 0:
            raise ValueError("time scale must be positive")
        now = self.now()
        self.scale = scale
        self._origin_loop = self._loop.time() - now / scale

    def now(self) -> float:
        return (self._loop.time() - self._origin_loop) * self.scale

    def time(self) -> float:
        return self._origin_wall + self.now()

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        return self._loop.call_later(max(0.0, delay) / self.scale, callback)
