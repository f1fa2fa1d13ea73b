"""`Controller`: a dlrsim in-process for any test runner, driven from the test's thread.

Strategy. The simulator is not thread-safe, so it lives on its own asyncio loop in a daemon
thread and every helper runs its work there (`_call`), blocking the caller until it is done.
Message timelines run on a `VirtualClock` that only the helpers move, always on the loop
thread: a receipt planned "after 48 hours" arrives the moment a wait needs it, and never races
its submit response. Waits alternate between firing the next due simulated timer and waiting
(really) for network I/O, woken by the journal, and on timeout fail with a near-miss report.
Anything the simulator logs as an error, and any exception escaping a callback on its loop,
is kept and raised in the test at the next helper call (or at `stop`).

`base.BaseController` holds what does not depend on where the loop runs;
`aio.AsyncController` is the same for async tests, on the test's own loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from simulator.catalog.registry import CatalogRegistry
from simulator.testing.base import (
    CALL_TIMEOUT,
    DEFAULT_WAIT,
    BaseController,
    ClockControl,
    SimulatorInternalError,
)
from simulator.testing.options import DlrsimSettings, start_simulator
from simulator.testing.records import (
    Receipt,
    Record,
    Submit,
    Webhook,
    matches,
    normalise_filters,
    records,
)

__all__ = ["BaseController", "ClockControl", "Controller", "SimulatorInternalError"]

T = TypeVar("T")


class Controller(BaseController):
    """A simulator on its own loop thread: `with Controller() as sim:` or `start()`/`stop()`."""

    def __init__(
        self,
        settings: DlrsimSettings | Mapping[str, Any] | None = None,
        *,
        registry: CatalogRegistry | None = None,
        port: int = 0,
        **changes: Any,
    ) -> None:
        super().__init__(settings, registry=registry, port=port, **changes)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Controller:
        if self._sim is not None:
            return self
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._on_loop_error)
        thread = threading.Thread(target=self._serve, args=(loop,), name="dlrsim", daemon=True)
        self._loop, self._thread = loop, thread
        thread.start()
        assert thread.ident is not None
        self._install_trap(thread.ident)
        future = asyncio.run_coroutine_threadsafe(
            start_simulator(self.settings, self.virtual_clock, self.registry, self._port), loop
        )
        try:
            self._sim, self._base = future.result(CALL_TIMEOUT)
        except BaseException:
            self._shutdown_loop()
            raise
        return self

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    def stop(self) -> None:
        """Unbind every session, close the listeners and end the loop thread."""
        sim, self._sim = self._sim, None
        try:
            if sim is not None and self._loop is not None:
                asyncio.run_coroutine_threadsafe(sim.stop(1.0), self._loop).result(CALL_TIMEOUT)
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CALL_TIMEOUT)
            if not thread.is_alive():
                loop.close()
        self._remove_trap()

    def __enter__(self) -> Controller:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if kind is None:
            self._raise_errors()

    def _call(self, fn: Callable[[], T]) -> T:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            raise RuntimeError("the dlrsim simulator is not running (call start() first)")
        if threading.get_ident() == thread.ident:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def invoke() -> None:
            try:
                future.set_result(fn())
            except BaseException as error:  # handed to the calling thread
                future.set_exception(error)

        loop.call_soon_threadsafe(invoke)
        return future.result(CALL_TIMEOUT)

    # -- waiting ----------------------------------------------------------------------------------
    def wait_for_submits(
        self, count: int = 1, *, timeout: float = DEFAULT_WAIT, **filters: Any
    ) -> list[Submit]:
        """Wait (real time) until `count` matching submits arrived; returns all that match."""
        found = self._wait("submit", count, timeout, filters, advance=False)
        return [r for r in found if isinstance(r, Submit)]

    def wait_for_receipts(
        self, count: int = 1, *, timeout: float = DEFAULT_WAIT, **filters: Any
    ) -> list[Receipt]:
        """Advance simulated time as needed until `count` matching receipts were answered."""
        found = self._wait("receipt", count, timeout, filters, advance=True)
        return [r for r in found if isinstance(r, Receipt)]

    def wait_for_webhooks(
        self, count: int = 1, *, timeout: float = DEFAULT_WAIT, **filters: Any
    ) -> list[Webhook]:
        """Advance simulated time as needed until `count` matching callbacks were attempted."""
        found = self._wait("webhook", count, timeout, filters, advance=True)
        return [r for r in found if isinstance(r, Webhook)]

    def _wait(
        self, kind: str, count: int, timeout: float, filters: Mapping[str, Any], *, advance: bool
    ) -> list[Record]:
        wanted = normalise_filters(kind, filters)
        deadline = time.monotonic() + timeout
        changed = threading.Event()
        journal = self.simulator.journal
        unsubscribe = self._call(lambda: journal.subscribe(lambda entry: changed.set()))
        try:
            while True:
                self._raise_errors()
                changed.clear()
                found = [r for r in records(kind, self._entries()) if matches(r, wanted)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._report(kind, count, wanted, timeout)
                if not (advance and self._call(self._step)):
                    changed.wait(min(remaining, 0.05))
        finally:
            self._call(unsubscribe)
