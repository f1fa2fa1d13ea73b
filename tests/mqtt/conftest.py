"""A real mosquitto for the MQTT tests, and helpers to drive a simulator against it.

`scripts/mosquitto.sh` installs Debian's broker when it is missing (CI runs as root); each
broker here runs from its own temporary config on 127.0.0.1 and a free port, with persistence
on, so a subscriber with a persistent session keeps receiving across a broker restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import smpplib.client  # type: ignore[import-untyped]
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from simulator.app import Simulator
from simulator.config import Settings
from simulator.core.clock import VirtualClock

ROOT = Path(__file__).resolve().parents[2]
WAIT = 10.0
SCENARIO = """\
name: mqtt-bus
provider: infobip
states:
  initial: open
  names: [open, closed]
rules:
  - name: route-closed
    when: {state: closed}
    then:
      reject: {smpp: ESME_RSUBMITFAIL, reason: route closed}
default:
  outcome: DELIVERED_TO_HANDSET
  after: 2s
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """One mosquitto process; `stop()` and `start()` again keep its port and its data."""

    def __init__(self, binary: str, directory: Path, port: int | None = None) -> None:
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.config = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {directory}/",
            "max_queued_messages 100000",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # stay root: the data directory is root's
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log.read_text()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()  # SIGTERM: mosquitto saves its sessions, then exits
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(WAIT)


@pytest.fixture(scope="session")
def mosquitto_binary() -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "mosquitto.sh")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"scripts/mosquitto.sh failed: {done.stderr}"
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def broker(mosquitto_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = Broker(mosquitto_binary, tmp_path_factory.mktemp("mosquitto"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def make_broker(mosquitto_binary: str, tmp_path: Path) -> Iterator[Callable[[], Broker]]:
    """A broker of the test's own (for tests that stop it), stopped at the end."""
    made: list[Broker] = []

    def make() -> Broker:
        directory = tmp_path / f"broker{len(made)}"
        directory.mkdir()
        made.append(Broker(mosquitto_binary, directory))
        return made[-1]

    yield make
    for each in made:
        each.stop()


# -- the simulator ---------------------------------------------------------------------------


@pytest.fixture
async def make_sim(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Simulator]]]:
    """make_sim(mqtt_url=..., **settings): a started simulator on a virtual clock."""
    started: list[Simulator] = []
    scenario = tmp_path / "mqtt-bus.yaml"
    scenario.write_text(SCENARIO)

    async def make(**options: Any) -> Simulator:
        settings: dict[str, Any] = {
            "smpp_port": 0,
            "http_port": 0,
            "scenario": scenario,
            "seed": 3,
            "instance": f"t{len(started)}-{os.getpid()}-{time.monotonic_ns() % 10**9}",
        }
        settings.update(options)
        sim = Simulator(Settings(**settings), clock=VirtualClock())
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.stop(0.5)


def advance(sim: Simulator, seconds: float) -> None:
    clock = sim.clock
    assert isinstance(clock, VirtualClock)
    clock.advance(seconds)


# -- MQTT clients of the test ----------------------------------------------------------------


class Subscriber:
    """Collects everything published under a filter (JSON payloads decoded)."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in self.client.messages:
                payload = bytes(message.payload) if message.payload is not None else b""
                self.messages.append((str(message.topic), json.loads(payload or b"null")))
                self._changed.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            body
            for topic, body in self.messages
            if "/events/" in topic and (kind is None or topic.endswith(f"/events/{kind}"))
        ]

    async def wait_for(
        self, done: Callable[[Subscriber], bool], what: str, timeout: float = WAIT
    ) -> None:
        deadline = time.monotonic() + timeout
        while not done(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out waiting for {what}; got {len(self.messages)} messages, the last "
                    f"ones: {self.messages[-3:]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


@contextlib.asynccontextmanager
async def subscribed(url_port: int, topic: str, **options: Any) -> AsyncIterator[Subscriber]:
    client = aiomqtt.Client("127.0.0.1", url_port, protocol=aiomqtt.ProtocolVersion.V5, **options)
    async with client:
        await client.subscribe(topic, qos=1)
        subscriber = Subscriber(client)
        subscriber.start()
        try:
            yield subscriber
        finally:
            await subscriber.stop()


async def request(
    port: int, topic: str, body: Any, *, timeout: float = WAIT
) -> tuple[dict[str, Any], bytes | None]:
    """Publish a command with an MQTT v5 response topic; the reply and its correlation data."""
    reply_topic = f"test-replies/{time.monotonic_ns()}"
    correlation = os.urandom(6)
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe(reply_topic, qos=1)
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.ResponseTopic = reply_topic
        properties.CorrelationData = correlation
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        await client.publish(topic, payload, qos=1, properties=properties)
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                got = getattr(message.properties, "CorrelationData", None)
                reply = json.loads(bytes(message.payload))
                assert isinstance(reply, dict)
                return reply, got
    raise AssertionError("no reply")


# -- smpplib, the reference SMPP client ------------------------------------------------------


class Esme:
    """A blocking smpplib session; every call runs in a worker thread, one at a time."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.client: Any = smpplib.client.Client(
            address[0], address[1], timeout=WAIT, allow_unknown_opt_params=True
        )
        self.delivered: list[Any] = []
        self.responses: list[Any] = []
        self.client.set_message_received_handler(self._on_deliver)
        self.client.set_message_sent_handler(lambda pdu: self.responses.append(pdu))
        self.client.set_error_pdu_handler(lambda pdu: None)  # refusals are read as responses

    def _on_deliver(self, pdu: Any) -> int:
        self.delivered.append(pdu)
        return 0

    async def bind(self, kind: str, system_id: str, password: str = "secret") -> None:
        def go() -> None:
            self.client.connect()
            getattr(self.client, f"bind_{kind}")(system_id=system_id, password=password)

        await asyncio.to_thread(go)

    async def submit(
        self, destination: str, text: bytes = b"hello", registered_delivery: int = 1
    ) -> str:
        """submit_sm that must be accepted; returns the message id."""
        response = await self.submit_sm(destination, text, registered_delivery)
        assert response.status == 0, f"submit refused: 0x{response.status:X}"
        message_id = response.message_id
        return str(message_id.decode() if isinstance(message_id, bytes) else message_id)

    async def submit_sm(
        self, destination: str, text: bytes = b"hello", registered_delivery: int = 1
    ) -> Any:
        """submit_sm; returns its response PDU (accepted or not)."""
        before = len(self.responses)

        def go() -> None:
            self.client.send_message(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr="4917000000001",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=destination,
                short_message=text,
                registered_delivery=registered_delivery,
            )
            while len(self.responses) == before:
                self.client.read_once(auto_send_enquire_link=False)

        await asyncio.to_thread(go)
        return self.responses[-1]

    async def wait_deliveries(self, count: int) -> list[Any]:
        def go() -> None:
            while len(self.delivered) < count:
                self.client.read_once(auto_send_enquire_link=False)

        await asyncio.wait_for(asyncio.to_thread(go), WAIT)
        return list(self.delivered)

    async def close(self) -> None:
        def go() -> None:
            with contextlib.suppress(Exception):
                self.client.unbind()
            with contextlib.suppress(Exception):
                self.client.disconnect()

        await asyncio.to_thread(go)


@pytest.fixture
async def esmes() -> AsyncIterator[Callable[[tuple[str, int]], Esme]]:
    made: list[Esme] = []

    def make(address: tuple[str, int]) -> Esme:
        made.append(Esme(address))
        return made[-1]

    yield make
    for esme in made:
        await esme.close()
