"""The composition root: one `Simulator` wires clock, SMSC, planner and listeners together.

No module-level state: everything hangs off the instance, so two simulators can run in one
process (the tests do). The CLI, the pytest plugin and scripts all start dlrsim through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.catalog.registry import CatalogRegistry, load_registry
from simulator.config import Settings, default_instance, parse_mqtt_url
from simulator.control import register_control_api
from simulator.control.metrics import Metrics
from simulator.control.ui import register_ui
from simulator.core.clock import Clock
from simulator.core.errors import ConfigError, SimulatorError
from simulator.core.events import Event, EventBus
from simulator.core.realclock import RealClock
from simulator.engine.faults import FaultDecider
from simulator.engine.plan import FixedDeliveryPlanner, Planner, Step
from simulator.engine.runtime import ScenarioRuntime
from simulator.engine.timelines import Timelines
from simulator.http.server import HttpServer
from simulator.http.webhooks import WebhookEmitter
from simulator.providers import load_adapters
from simulator.providers.base import ProviderAdapter, ProviderContext
from simulator.scenario.loader import load_scenario
from simulator.scenario.model import Scenario
from simulator.smpp.accounts import AccountRegistry
from simulator.smpp.codec import decode_pdu, encode_pdu
from simulator.smpp.codec.constants import CommandId, CommandStatus
from simulator.smpp.delivery import Delivery
from simulator.smpp.server import SmppServer
from simulator.smpp.session import SessionSettings
from simulator.smpp.smsc import Smsc
from simulator.store.journal import Journal
from simulator.store.messages import MessageRecord, MessageStore
from simulator.store.persistence import Persistence

if TYPE_CHECKING:
    from simulator.mqtt.bus import MqttBus

log = logging.getLogger("dlrsim")

#: SMPP names scenarios may use, handed to the SMPP-agnostic scenario layer.
SMPP_STATUSES: dict[str, int] = {member.name: int(member) for member in CommandStatus}
SMPP_COMMANDS: frozenset[str] = frozenset(
    member.name.lower() for member in CommandId if not member.name.endswith("_RESP")
)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return None


@dataclass(frozen=True)
class Listener:
    name: str
    host: str
    port: int
    tls: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = {"smpp": "smpp", "smpp-tls": "smpps", "http": "http", "https": "https"}[self.name]
        return f"{scheme}://{host}:{self.port}"


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
        self.journal = Journal(max(1, self.settings.journal_size))
        if self.settings.journal_size:
            self.events.subscribe(self.journal.record_event)
        self.metrics = Metrics()
        self.events.subscribe(self.metrics.observe)
        self.mqtt: MqttBus | None = None
        self._clock = clock
        self._planner = planner
        self.smsc: Smsc | None = None
        self.smpp: SmppServer | None = None
        self.listeners: list[Listener] = []
        self.registry: CatalogRegistry | None = None
        self.scenario: ScenarioRuntime | None = None
        self.scenario_path: Path | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self.http: HttpServer | None = None
        self.webhooks: WebhookEmitter | None = None
        self.providers: dict[str, ProviderAdapter] = {}
        self.store = MessageStore()
        self.timelines: Timelines | None = None
        self.persistence: Persistence | None = None  # --store sqlite:PATH
        self._id_seed = self.settings.seed

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
        # Steps due within the same simulated millisecond share a timer on a real clock; a
        # clock the caller supplies (a VirtualClock in tests) keeps exact due times.
        resolution = 0.001 if isinstance(self._clock, RealClock) else 0.0
        accounts = list(settings.accounts)
        planner: Planner
        faults: FaultDecider | None = None
        if self._planner is not None:
            planner = self._planner
        elif settings.scenario is not None:
            self.registry = load_registry()
            self.scenario_path = settings.scenario
            scenario = self.load_scenario_file(settings.scenario)
            self.scenario = ScenarioRuntime(
                self.registry, SMPP_STATUSES, scenario, seed=settings.seed
            )
            planner, faults = self.scenario, self.scenario.faults
            accounts.extend(scenario.accounts)
        else:
            # No scenario: the plain timeline. An ENROUTE step later than the final one
            # makes no sense, so it then comes with it.
            enroute = min(settings.enroute_after, settings.delivered_after)
            planner = FixedDeliveryPlanner(enroute, settings.delivered_after)
        accept_any = settings.accept_any if settings.accept_any is not None else not accounts
        registry = AccountRegistry(accounts, accept_any=accept_any)
        impersonating = any(account.provider is not None for account in accounts)
        self.store = MessageStore()
        self.timelines = Timelines(self._clock, self.store, resolution)
        self._open_store(net_clock)
        mqtt_since = self.journal.last_seq  # MQTT publishes from here: not a reloaded history
        self.smsc = Smsc(
            registry,
            planner,
            self._clock,
            net_clock,
            events=self.events,
            seed=self._id_seed,
            faults=faults,
            store=self.store,
            timelines=self.timelines,
            registry=self.registry or (load_registry() if impersonating else None),
        )
        if self.persistence is not None:
            self.persistence.watch(self.timelines, self.smsc)
        if self.scenario is not None:
            smsc = self.smsc
            self.scenario.listeners.append(lambda runtime: smsc.set_faults(runtime.faults))
        session_settings = SessionSettings(
            system_id=settings.system_id,
            enquire_link_interval=settings.enquire_link_interval,
            idle_timeout=settings.idle_timeout,
            response_timeout=settings.response_timeout,
            max_command_length=settings.max_command_length,
        )
        self.smpp = SmppServer(self.smsc, net_clock, session_settings)
        # Load certificates before anything listens: a bad one must not leave ports open.
        needs_tls = settings.smpp_tls_port is not None or settings.https_port is not None
        tls = self._tls_context() if needs_tls else None
        host, port = await self.smpp.listen(settings.smpp_host, settings.smpp_port)
        self.listeners.append(Listener("smpp", host, port))
        if settings.smpp_tls_port is not None:
            host, port = await self.smpp.listen(
                settings.smpp_tls_host or settings.smpp_host, settings.smpp_tls_port, tls
            )
            self.listeners.append(Listener("smpp-tls", host, port, tls=True))
        if settings.http_port is not None or settings.https_port is not None:
            await self._start_http(planner, registry, tls)
        if self.persistence is not None:
            self.persistence.resume(self._resume_timeline, self.smsc.requeue)
        if settings.watch and self.scenario_path is not None:
            self._watch_task = asyncio.create_task(self._watch(self.scenario_path))
        if settings.mqtt_url is not None:
            await self._start_mqtt(settings.mqtt_url, mqtt_since)

    def _open_store(self, net_clock: Clock) -> None:
        """--store sqlite:PATH: load the journal and messages back, then record every change."""
        path = self.settings.store_path
        if path is not None:
            self.persistence = Persistence.open(
                path,
                self.clock,
                net_clock,
                journal=self.journal if self.settings.journal_size else None,
                store=self.store,
                make_step=Step,
                make_delivery=Delivery,
                encode_pdu=encode_pdu,
                decode_pdu=decode_pdu,
            )
            self._id_seed = self.persistence.id_seed(self.settings.seed)

    def _resume_timeline(
        self, key: str, record: MessageRecord, steps: tuple[Step, ...], offset: float
    ) -> bool:
        """Run the rest of a reloaded message's timeline through the transport that took it."""
        if record.transport != "http":
            assert self.smsc is not None
            self.smsc.resume(key, record, steps, offset)
            return True
        adapter = self.providers.get(record.provider or "")
        if adapter is None or self.timelines is None:
            return False
        sink = functools.partial(adapter.context.on_step, adapter)
        self.timelines.start(key, record, steps, sink, offset=offset)
        return True

    async def _start_mqtt(self, url: str, since: int) -> None:
        try:
            from simulator.mqtt.bus import MqttBus
            from simulator.mqtt.commands import build_commands
        except ImportError as error:
            raise ConfigError(
                f"--mqtt needs aiomqtt ({error}); install it with: pip install 'dlrsim[mqtt]'"
            ) from None
        address = parse_mqtt_url(url)
        self.mqtt = MqttBus(
            self.journal,
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            instance=self.instance,
            commands=build_commands(self),
            buffer_size=self.settings.mqtt_buffer,
        )
        self.metrics.mqtt = self.mqtt
        if not self.settings.journal_size:
            log.warning("mqtt: the journal is off (journal_size 0), so no events are published")
        await self.mqtt.start(since=since)

    @property
    def instance(self) -> str:
        """This simulator's name in MQTT topics (`dlrsim/<instance>/...`)."""
        if self.settings.instance:
            return self.settings.instance
        smpp = [listener.port for listener in self.listeners if listener.name == "smpp"]
        return default_instance(smpp[0] if smpp else self.settings.smpp_port)

    async def _start_http(
        self, planner: Planner, accounts: AccountRegistry, tls: ssl.SSLContext | None
    ) -> None:
        settings = self.settings
        assert self.timelines is not None
        self.registry = self.registry or load_registry()
        self.webhooks = WebhookEmitter(self.clock, self.events)
        context = ProviderContext(
            registry=self.registry,
            planner=planner,
            store=self.store,
            timelines=self.timelines,
            clock=self.clock,
            events=self.events,
            webhooks=self.webhooks,
            accounts=lambda: list(accounts),
            accept_any=accounts.accept_any,
            callback_urls=settings.callback_urls,
            faults=lambda: self.scenario.faults if self.scenario is not None else None,
            seed=self._id_seed,
        )
        self.providers = {adapter.name: adapter for adapter in load_adapters(context)}
        self.http = HttpServer()
        for adapter in self.providers.values():
            self.http.add_routes(adapter.routes())
        register_control_api(self)
        register_ui(self)
        self.http.add_routes(self.metrics.routes())
        if settings.http_port is not None:
            host, port = await self.http.listen(settings.http_host, settings.http_port)
            self.listeners.append(Listener("http", host, port))
        if settings.https_port is not None:
            host, port = await self.http.listen(
                settings.https_host or settings.http_host, settings.https_port, tls
            )
            self.listeners.append(Listener("https", host, port, tls=True))

    @property
    def https_url(self) -> str | None:
        for listener in self.listeners:
            if listener.name == "https":
                return listener.url
        return None

    @property
    def http_url(self) -> str | None:
        """Base URL of the provider APIs (point a provider SDK's base URL here)."""
        for listener in self.listeners:
            if listener.name in ("http", "https"):
                return listener.url
        return None

    def _tls_context(self) -> ssl.SSLContext:
        settings = self.settings
        if settings.tls_cert is None or settings.tls_key is None:
            raise ConfigError("a TLS listener needs both --tls-cert and --tls-key")
        for label, path in (("certificate", settings.tls_cert), ("key", settings.tls_key)):
            if not path.is_file():
                raise ConfigError(f"TLS {label} file {path} does not exist (or is not a file)")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(
                f"cannot load TLS certificate {settings.tls_cert} with key {settings.tls_key}: "
                f"{getattr(error, 'reason', None) or error}"
            ) from error
        return context

    def load_scenario_file(self, path: Path) -> Scenario:
        registry = self.registry or load_registry()
        return load_scenario(
            path, registry, known_smpp_statuses=SMPP_STATUSES, known_commands=SMPP_COMMANDS
        )

    def replace_scenario(self, scenario: Scenario) -> None:
        """Switch the running simulator to another scenario; binds and queues carry on."""
        if self.scenario is None or self.smsc is None:
            raise ConfigError("this simulator was started without a scenario")
        self.scenario.activate(scenario)
        for account in scenario.accounts:
            self.smsc.accounts.add(account)
        self.events.publish(
            Event(
                "scenario",
                self.clock.time(),
                None,
                {"name": scenario.name, "rules": len(scenario.rules)},
            )
        )

    async def _watch(self, path: Path, interval: float = 1.0) -> None:
        """Reload the scenario file when it changes; an invalid edit keeps the old one."""
        last = _mtime(path)
        while True:
            await asyncio.sleep(interval)
            current = _mtime(path)
            if current == last:
                continue
            last = current
            try:
                scenario = self.load_scenario_file(path)
                self.replace_scenario(scenario)
            except SimulatorError as error:
                log.error("scenario %s not reloaded; keeping the previous one:\n%s", path, error)
                self.events.publish(
                    Event(
                        "scenario",
                        self.clock.time(),
                        None,
                        {"reload": "refused", "error": str(error)},
                    )
                )
            else:
                log.warning("scenario %s reloaded (%s)", path, scenario.name)

    @property
    def smpp_address(self) -> tuple[str, int]:
        for listener in self.listeners:
            if listener.name == "smpp":
                return listener.host, listener.port
        raise RuntimeError("the SMPP listener is not running")

    async def stop(self, timeout: float = 2.0) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None
        if self.smpp is not None:
            await self.smpp.stop(timeout)
        if self.http is not None:
            await self.http.stop()
            self.http = None
        if self.webhooks is not None:
            await self.webhooks.close()
            self.webhooks = None
        if self.mqtt is not None:
            await self.mqtt.stop()
            self.mqtt = None
        if self.persistence is not None:
            self.persistence.close()
            self.persistence = None
        self.listeners.clear()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
