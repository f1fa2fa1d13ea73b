"""The composition root: one `Simulator` wires clock, SMSC, planner and listeners together.

No module-level state: everything hangs off the instance, so two simulators can run in one
process (the tests do). The CLI, the pytest plugin and scripts all start dlrsim through here.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from simulator.config import Settings
from simulator.core.clock import Clock, RealClock
from simulator.core.errors import ConfigError
from simulator.core.events import EventBus
from simulator.engine.plan import FixedDeliveryPlanner, Planner
from simulator.smpp.accounts import AccountRegistry
from simulator.smpp.server import SmppServer
from simulator.smpp.session import SessionSettings
from simulator.smpp.smsc import Smsc


@dataclass(frozen=True)
class Listener:
    name: str
    host: str
    port: int
    tls: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'smpps' if self.tls else 'smpp'}://{host}:{self.port}"


class Simulator:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        planner: Planner | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.events = EventBus()
        self._clock = clock
        self._planner = planner
        self.smsc: Smsc | None = None
        self.smpp: SmppServer | None = None
        self.listeners: list[Listener] = []

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            raise RuntimeError("the simulator is not started")
        return self._clock

    async def start(self) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        net_clock = RealClock(loop)
        if self._clock is None:
            self._clock = RealClock(loop, settings.time_scale)
        # An ENROUTE step later than the final one makes no sense: it then comes with it.
        enroute = min(settings.enroute_after, settings.delivered_after)
        planner = self._planner or FixedDeliveryPlanner(enroute, settings.delivered_after)
        accounts = AccountRegistry(settings.accounts, accept_any=settings.accepts_any)
        self.smsc = Smsc(
            accounts, planner, self._clock, net_clock, events=self.events, seed=settings.seed
        )
        session_settings = SessionSettings(
            system_id=settings.system_id,
            enquire_link_interval=settings.enquire_link_interval,
            idle_timeout=settings.idle_timeout,
            response_timeout=settings.response_timeout,
            max_command_length=settings.max_command_length,
        )
        self.smpp = SmppServer(self.smsc, net_clock, session_settings)
        host, port = await self.smpp.listen(settings.smpp_host, settings.smpp_port)
        self.listeners.append(Listener("smpp", host, port))
        if settings.smpp_tls_port is not None:
            tls = self._tls_context()
            host, port = await self.smpp.listen(
                settings.smpp_tls_host or settings.smpp_host, settings.smpp_tls_port, tls
            )
            self.listeners.append(Listener("smpp-tls", host, port, tls=True))

    def _tls_context(self) -> ssl.SSLContext:
        settings = self.settings
        if settings.tls_cert is None or settings.tls_key is None:
            raise ConfigError("a TLS listener needs both --tls-cert and --tls-key")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(f"cannot load TLS certificate/key: {error}") from error
        return context

    @property
    def smpp_address(self) -> tuple[str, int]:
        for listener in self.listeners:
            if listener.name == "smpp":
                return listener.host, listener.port
        raise RuntimeError("the SMPP listener is not running")

    async def stop(self, timeout: float = 2.0) -> None:
        if self.smpp is not None:
            await self.smpp.stop(timeout)
        self.listeners.clear()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
