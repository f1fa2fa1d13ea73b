"""Shared harness for the provider HTTP tests: a simulator with its HTTP API on a background
loop (virtual clock for timelines), and a real HTTP receiver for the delivery callbacks.

    def test_x(http_sim, receiver):
        receiver.respond(500, 500, 200)          # scripted answers, then 200 forever
        r = http_sim.post("/sms/3/messages", json={...}, headers={...})
        http_sim.advance(10)                      # run the timeline on the virtual clock
        calls = receiver.wait_for(1)              # real HTTP requests the simulator made
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from simulator.app import Simulator
from simulator.config import Settings
from simulator.core.clock import VirtualClock

T = TypeVar("T")
WAIT = 10.0
SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


class LoopThread:
    """An asyncio loop in a daemon thread; `run(coro)` executes there and returns the result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = WAIT) -> T:
        async def wrapper() -> T:
            return fn()

        return self.run(wrapper(), timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


@dataclass
class Call:
    """One request the receiver got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records callbacks and answers as scripted."""

    url: str
    calls: list[Call] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    hang: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self, *statuses: int) -> None:
        """Answer the next calls with these statuses, then 200."""
        with self.lock:
            self.script = list(statuses)

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= count:
                    return list(self.calls)
            time.sleep(0.01)
        with self.lock:
            raise AssertionError(f"expected {count} callbacks, got {len(self.calls)}: {self.calls}")

    def settle(self, quiet: float = 0.3) -> list[Call]:
        """Wait until no call arrived for `quiet` seconds; return all calls."""
        last = -1
        while True:
            with self.lock:
                now = len(self.calls)
            if now == last:
                return list(self.calls)
            last = now
            time.sleep(quiet)


class HttpSim:
    """A running simulator with HTTP on, on a virtual clock driven from the test."""

    def __init__(self, loop: LoopThread, sim: Simulator, clock: VirtualClock) -> None:
        self.loop = loop
        self.sim = sim
        self.clock = clock
        assert sim.http_url is not None
        self.url = sim.http_url

    def advance(self, seconds: float) -> None:
        """Advance the virtual clock on the simulator's loop, then let sends start."""
        self.loop.call(lambda: self.clock.advance(seconds))
        self.loop.run(asyncio.sleep(0.05))

    def run_until_idle(self) -> None:
        self.loop.call(lambda: self.clock.run_until_idle())
        self.loop.run(asyncio.sleep(0.05))

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        async def go() -> tuple[int, dict[str, str], bytes]:
            async with (
                aiohttp.ClientSession() as session,
                session.request(method, self.url + path, **kwargs) as response,
            ):
                return response.status, dict(response.headers), await response.read()

        return self.loop.run(go())

    def post(self, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, **kwargs)

    def journal(self, kind: str | None = None) -> list[Any]:
        return self.loop.call(lambda: self.sim.journal.find(kind))

    def stored(self) -> int:
        return self.loop.call(lambda: len(self.sim.store))


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def receiver(loop_thread: LoopThread) -> Iterator[Receiver]:
    holder: dict[str, Any] = {}

    async def start() -> str:
        rec: Receiver | None = None

        async def handle(request: web.Request) -> web.StreamResponse:
            assert rec is not None
            body = await request.read()
            with rec.lock:
                rec.calls.append(Call(request.method, request.path, dict(request.query),
                                      dict(request.headers), body, time.monotonic()))
                status = rec.script.pop(0) if rec.script else 200
            if rec.hang:
                await asyncio.sleep(3600)
            return web.Response(status=status, text="OK")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        # A hanging receiver must not hold teardown for aiohttp's default 60 s.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        holder["runner"] = runner
        rec = Receiver(f"http://127.0.0.1:{port}")
        holder["receiver"] = rec
        return rec.url

    loop_thread.run(start())
    yield holder["receiver"]
    loop_thread.run(holder["runner"].cleanup())


@pytest.fixture
def make_http_sim(loop_thread: LoopThread) -> Iterator[Callable[..., HttpSim]]:
    """Factory: make_http_sim(scenario=None | path, callback_urls={...}, accounts=[...], ...)."""
    started: list[Simulator] = []

    def make(scenario: Path | str | None = None, **settings: Any) -> HttpSim:
        clock = VirtualClock()
        if isinstance(scenario, str):
            scenario = SCENARIOS / scenario if "/" not in scenario else Path(scenario)
        options: dict[str, Any] = {"smpp_port": 0, "http_port": 0, "scenario": scenario,
                                   "seed": 7}
        options.update(settings)
        sim = Simulator(Settings(**options), clock=clock)
        loop_thread.run(sim.start())
        started.append(sim)
        return HttpSim(loop_thread, sim, clock)

    yield make
    for sim in started:
        loop_thread.run(sim.stop(0.5))


@pytest.fixture
def http_sim(make_http_sim: Callable[..., HttpSim]) -> HttpSim:
    """The simulator with the embedded default scenario (test numbers work for all providers)."""
    return make_http_sim("default.yaml")
