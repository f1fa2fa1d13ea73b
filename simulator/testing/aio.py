"""`AsyncController`: the same simulator and helpers for async tests, on the test's loop.

An async test's own client code runs on its event loop, so the simulator runs there too
(`await controller.start()`): no thread, and every helper runs directly, since the caller is
already on the loop thread. Queries, `expect`, `send_mo`, `reset` and the clock stay plain
calls; only the waits are coroutines (`await dlrsim.wait_for_receipts(1)`), because they must
hand the loop to the application's I/O while they wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from simulator.catalog.registry import CatalogRegistry
from simulator.testing.base import DEFAULT_WAIT, BaseController
from simulator.testing.options import DlrsimSettings, start_simulator
from simulator.testing.records import Receipt, Record, Submit, Webhook, matches, normalise_filters
from simulator.testing.records import records as journal_records

T = TypeVar("T")


class AsyncController(BaseController):
    """`async with AsyncController() as sim:` inside a running loop."""

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
        self._previous_handler: Any = None

    async def start(self) -> AsyncController:
        if self._sim is not None:
            return self
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._chained_loop_error)
        self._install_trap(threading.get_ident())
        try:
            self._sim, self._base = await start_simulator(
                self.settings, self.virtual_clock, self.registry, self._port
            )
        except BaseException:
            self._restore_loop()
            raise
        return self

    async def stop(self) -> None:
        sim, self._sim = self._sim, None
        try:
            if sim is not None:
                await sim.stop(1.0)
        finally:
            self._restore_loop()

    def _restore_loop(self) -> None:
        if self._loop is not None:
            self._loop.set_exception_handler(self._previous_handler)
            self._loop = None
        self._remove_trap()

    def _chained_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Keep the error for the test, and let the loop's previous handler see it too."""
        self._on_loop_error(loop, context)
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    async def __aenter__(self) -> AsyncController:
        return await self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if kind is None:
            self._raise_errors()

    def _call(self, fn: Callable[[], T]) -> T:
        if self._loop is None:
            raise RuntimeError("the dlrsim simulator is not running (await start() first)")
        return fn()

    # -- waiting ----------------------------------------------------------------------------------
    async def wait_for_submits(
        self, count: int = 1, *, timeout: float = DEFAULT_WAIT, **filters: Any
    ) -> list[Submit]:
        found = await self._wait("submit", count, timeout, filters, advance=False)
        return [r for r in found if isinstance(r, Submit)]

    async def wait_for_receipts(
        self, count: int = 1, *, timeout: float = DEFAULT_WAIT, **filters: Any
    ) -> list[Receipt]:
        found = await self._wait("receipt", count, timeout, filters, advance=True)
        return [r for r in found if isinstance(r, Receipt)]

    async def wait_for_webhooks(
        self, count: int = 1, *, timeout: float = DEFAULT_WAIT, **filters: Any
    ) -> list[Webhook]:
        found = await self._wait("webhook", count, timeout, filters, advance=True)
        return [r for r in found if isinstance(r, Webhook)]

    async def _wait(
        self, kind: str, count: int, timeout: float, filters: Mapping[str, Any], *, advance: bool
    ) -> list[Record]:
        wanted = normalise_filters(kind, filters)
        deadline = time.monotonic() + timeout
        changed = asyncio.Event()
        unsubscribe = self.simulator.journal.subscribe(lambda entry: changed.set())
        try:
            while True:
                self._raise_errors()
                changed.clear()
                entries = list(self.simulator.journal)
                found = [r for r in journal_records(kind, entries) if matches(r, wanted)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._report(kind, count, wanted, timeout)
                if advance and self._step():
                    await asyncio.sleep(0)  # let the writes and reads of that step happen
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(remaining, 0.05))
        finally:
            unsubscribe()
