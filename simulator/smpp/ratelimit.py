"""Token bucket for an account's submit rate (ESME_RTHROTTLED above it)."""

from __future__ import annotations

from simulator.core.clock import Clock


class TokenBucket:
    """`rate` tokens per second, holding at most `burst` (default: one second's worth)."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, clock: Clock, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock.now()

    def take(self) -> bool:
        now = self._clock.now()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
