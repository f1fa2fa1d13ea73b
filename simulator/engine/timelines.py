"""Runs accepted messages along their planned timelines, whatever transport took them.

The SMSC and the provider HTTP APIs both hand an accepted message here with its `Plan`; each
step, when due on the simulation clock, updates the message record (what query_sm and the
providers' status endpoints read) and is handed to the transport's `on_step` sink (an SMPP
receipt, a provider webhook). Steps due in the same millisecond share one clock timer.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.catalog.model import MESSAGE_STATE_BY_STAT
from simulator.core.clock import BatchedTimers, Clock, TimerHandle
from simulator.engine.plan import Step
from simulator.store.messages import MessageRecord, MessageStore

StepSink = Callable[[MessageRecord, Step], None]
#: (key, record, steps, start): a timeline began; its delays count from `start` (simulated epoch).
StartObserver = Callable[[str, MessageRecord, tuple[Step, ...], float], None]
#: (key, record, step): a record changed; `step` is None when it was not a step (cancel, replace).
ChangeObserver = Callable[[str, MessageRecord, Step | None], None]
_UNKNOWN_STATE = MESSAGE_STATE_BY_STAT["UNKNOWN"]
_DELETED_STATE = MESSAGE_STATE_BY_STAT["DELETED"]


class Timelines:
    def __init__(self, clock: Clock, store: MessageStore, resolution: float = 0.0) -> None:
        self.clock = clock
        self.store = store
        self._timers = BatchedTimers(clock, resolution)
        self._running: dict[str, list[TimerHandle]] = {}
        self._deferred: dict[str, Callable[[], None]] = {}
        # Observers (the SQLite store): empty lists cost the hot path one truth test each.
        self.on_start: list[StartObserver] = []
        self.on_change: list[ChangeObserver] = []

    def __len__(self) -> int:
        return len(self._running)

    def start(
        self,
        key: str,
        record: MessageRecord,
        steps: tuple[Step, ...],
        on_step: StepSink,
        *,
        offset: float = 0.0,
        defer: bool = False,
    ) -> None:
        """Schedule `steps` for a stored message; with `defer`, only once `release(key)` runs."""

        def begin() -> None:
            handles = [
                self._timers.call_later(
                    offset + step.delay, self._firing(key, record, step, on_step)
                )
                for step in steps
            ]
            if handles:
                self._running[key] = handles
            if self.on_start:
                start = self.clock.time() + offset
                for observer in self.on_start:
                    observer(key, record, steps, start)

        if defer:
            self._deferred[key] = begin
        else:
            begin()

    def release(self, key: str) -> None:
        begin = self._deferred.pop(key, None)
        if begin is not None:
            begin()

    def _firing(
        self, key: str, record: MessageRecord, step: Step, on_step: StepSink
    ) -> Callable[[], None]:
        def fire() -> None:
            if record.final:
                return
            self.apply(record, step, key)
            if step.final:
                self._running.pop(key, None)
                self.store.mark_finished(record, key)
            on_step(record, step)

        return fire

    def apply(self, record: MessageRecord, step: Step, key: str | None = None) -> None:
        """Move a record to a step's state (also used to push a status by hand)."""
        record.stat = step.stat
        record.err = step.err
        record.state = MESSAGE_STATE_BY_STAT.get(step.stat, _UNKNOWN_STATE)
        record.catalog_key = step.catalog_key or record.catalog_key
        record.history.append((self.clock.now(), step.stat, step.err))
        if step.final:
            record.final = True
            record.done_at = self.clock.time()
        if self.on_change:
            self.touch(key or record.message_id, record, step)

    def touch(self, key: str, record: MessageRecord, step: Step | None = None) -> None:
        """Tell the observers a stored record changed (called for steps, cancels, replaces)."""
        for observer in self.on_change:
            observer(key, record, step)

    def stop(self, key: str) -> None:
        """Drop a message's remaining steps without touching its record (a pushed final state)."""
        for handle in self._running.pop(key, []):
            handle.cancel()
        self._deferred.pop(key, None)

    def cancel(self, key: str, record: MessageRecord) -> None:
        """Stop a message's timeline and mark it deleted (cancel_sm)."""
        for handle in self._running.pop(key, []):
            handle.cancel()
        self._deferred.pop(key, None)
        record.final = True
        record.state = _DELETED_STATE
        record.stat = "DELETED"
        record.done_at = self.clock.time()
        record.history.append((self.clock.now(), "DELETED", record.err))
        self.store.mark_finished(record, key)
        if self.on_change:
            self.touch(key, record)

    def clear(self) -> None:
        for handles in self._running.values():
            for handle in handles:
                handle.cancel()
        self._running.clear()
        self._deferred.clear()
