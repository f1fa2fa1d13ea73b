"""End-to-end harness: a real dlrsim listening on 127.0.0.1, driven by real SMPP clients.

Strategy. Each `Simulator` runs on its own asyncio loop in a background thread; the tests stay
blocking and single-threaded. Clients are smpplib sessions (one per SMPP session, only ever
used from the test thread) and, for byte-level cases smpplib cannot produce (malformed frames,
unknown commands, cancel/replace/submit_multi, withheld responses), a raw socket client built
on the project's sans-I/O codec.

Nothing sleeps and hopes: every wait is a `select()` with a deadline, and a missed deadline
fails with what did arrive. Message timelines run on a `VirtualClock` by default, moved only
by the test and only on the loop thread, so a receipt can never race its submit_sm_resp.
Absence ("no receipt") is proven with a marker message submitted afterwards: receipts of one
account reach a single receiver in order, so once the marker's receipt is in, nothing earlier
is still on its way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import select
import socket
import textwrap
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import smpplib.client  # type: ignore[import-untyped]
import smpplib.exceptions  # type: ignore[import-untyped]
import smpplib.smpp  # type: ignore[import-untyped]

from simulator.app import Simulator
from simulator.config import Settings
from simulator.core.clock import VirtualClock
from simulator.engine.plan import Planner
from simulator.smpp.codec import CodecError, CommandId, FrameDecoder, Pdu, encode_pdu
from simulator.smpp.codec.constants import CommandStatus
from simulator.smpp.smsc import Smsc

T = TypeVar("T")

#: Upper bound for any single wait; a healthy run never gets near it.
WAIT = 5.0
SOURCE = "4930123456"
DESTINATION = "4915112345678"

S = CommandStatus


# -- the simulator on its own loop ----------------------------------------------------------


class SimHandle:
    """A started `Simulator` plus the thread and loop it runs on."""

    def __init__(self, settings: Settings, *, virtual: bool, planner: Planner | None) -> None:
        self.clock: VirtualClock | None = VirtualClock() if virtual else None
        self.sim = Simulator(settings, clock=self.clock, planner=planner)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="dlrsim-e2e", daemon=True)
        self._running = False

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        self.run(self.sim.start())
        self._running = True

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = WAIT) -> T:
        """Run a plain function on the loop thread (the simulator is not thread-safe)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def invoke() -> None:
            try:
                future.set_result(fn())
            except BaseException as error:  # handed to the test thread
                future.set_exception(error)

        self.loop.call_soon_threadsafe(invoke)
        return future.result(timeout)

    @property
    def address(self) -> tuple[str, int]:
        return self.sim.smpp_address

    @property
    def smsc(self) -> Smsc:
        smsc = self.sim.smsc
        assert smsc is not None, "the simulator is not started"
        return smsc

    def advance(self, seconds: float) -> int:
        """Move simulated time forward on the loop thread; returns how many timers fired."""
        clock = self.clock
        assert clock is not None, "this simulator runs on a real clock"
        return self.call(lambda: clock.advance(seconds))

    def settle(self) -> int:
        """Fire every pending simulated timer (all message timelines run to their end)."""
        clock = self.clock
        assert clock is not None, "this simulator runs on a real clock"
        return self.call(clock.run_until_idle)

    def counter(self, name: str) -> int:
        return self.call(lambda: self.smsc.counters[name])

    def pending_deliveries(self, system_id: str) -> int:
        return self.call(lambda: self.smsc.pending_deliveries(system_id))

    def send_mo(self, system_id: str, source: str, destination: str, text: str,
                **options: Any) -> int:
        return self.call(lambda: self.smsc.send_mo(system_id, source, destination, text, **options))

    def wait_until(self, probe: Callable[[Smsc], bool], what: str, timeout: float = WAIT) -> None:
        """Poll simulator state (read on the loop thread) until `probe` holds."""
        deadline = time.monotonic() + timeout
        while not self.call(lambda: probe(self.smsc)):
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.01)

    def begin_stop(self, timeout: float = 1.0) -> concurrent.futures.Future[None]:
        """Start `Simulator.stop()` without waiting: a test can answer the unbind meanwhile."""
        self._running = False
        return asyncio.run_coroutine_threadsafe(self.sim.stop(timeout), self.loop)

    def mark_stopped(self) -> None:
        """The test stopped the simulator itself; teardown must not stop it again."""
        self._running = False

    def close(self) -> None:
        try:
            if self._running:
                self._running = False
                self.run(self.sim.stop(1.0), WAIT)
        finally:
            if self._thread.is_alive():
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(WAIT)
            if not self._thread.is_alive() and not self.loop.is_closed():
                self.loop.close()


# -- smpplib, the reference real client -----------------------------------------------------


def _status_of(error: smpplib.exceptions.PDUError) -> int:
    return int(error.args[1]) if len(error.args) > 1 else -1


class Esme:
    """One smpplib session. Records every PDU it reads; answers deliver_sm via `deliver_status`."""

    def __init__(self, address: tuple[str, int], name: str) -> None:
        self.name = name
        self.client: Any = smpplib.client.Client(
            address[0], address[1], timeout=WAIT, allow_unknown_opt_params=True
        )
        self.inbox: list[Any] = []
        self.delivered: list[Any] = []
        self.deliver_status: Callable[[Any], int] = lambda pdu: 0
        self.closed_by_peer = False
        original_read = self.client.read_pdu

        def recording_read() -> Any:
            pdu = original_read()
            self.inbox.append(pdu)
            return pdu

        self.client.read_pdu = recording_read
        self.client.set_message_received_handler(self._on_deliver)
        # Statuses are asserted from the inbox, so error responses must not raise mid-read.
        self.client.set_error_pdu_handler(lambda pdu: None)
        self.client.set_message_sent_handler(lambda pdu: None)
        self.client.set_query_resp_handler(lambda pdu: None)
        self.client.connect()

    def _on_deliver(self, pdu: Any) -> int:
        self.delivered.append(pdu)
        return self.deliver_status(pdu)

    # binding
    def bind(self, kind: str, system_id: str, password: str = "secret") -> int:
        """Bind as `kind`; returns the command_status (0 on success) instead of raising."""
        try:
            getattr(self.client, f"bind_{kind}")(system_id=system_id, password=password)
        except smpplib.exceptions.PDUError as error:
            return _status_of(error)
        return 0

    # sending
    def send(self, command: str, **fields: Any) -> int:
        """Send through smpplib (which enforces its own bind-state table); returns the sequence."""
        pdu = smpplib.smpp.make_pdu(command, client=self.client, **fields)
        self.client.send_pdu(pdu)
        return int(pdu.sequence)

    def answer(self, command: str, sequence: int, status: int = 0) -> None:
        """Send a response to a server request (smpplib leaves unbind unanswered)."""
        pdu = smpplib.smpp.make_pdu(command, client=self.client, status=status)
        pdu.sequence = sequence
        self.client.send_pdu(pdu)

    def send_unchecked(self, command: str, **fields: Any) -> int:
        """Build the PDU with smpplib but write it directly, as a misbehaving client would."""
        pdu = smpplib.smpp.make_pdu(command, client=self.client, **fields)
        self.client._socket.sendall(pdu.generate())
        return int(pdu.sequence)

    def submit(self, short_message: bytes = b"hello", *, destination: str = DESTINATION,
               source: str = SOURCE, data_coding: int = 0, esm_class: int = 0,
               registered_delivery: int = 0, unchecked: bool = False) -> int:
        fields: dict[str, Any] = {
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": source,
            "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": destination,
            "esm_class": esm_class, "data_coding": data_coding,
            "registered_delivery": registered_delivery, "short_message": short_message,
        }
        if unchecked:
            return self.send_unchecked("submit_sm", **fields)
        return self.send("submit_sm", **fields)

    def submit_ok(self, short_message: bytes = b"hello", **options: Any) -> str:
        """Submit and wait for an accepting submit_sm_resp; returns its message_id."""
        response = self.response(self.submit(short_message, **options))
        assert response.command == "submit_sm_resp", response.command
        assert response.status == 0, f"{self.name}: submit refused with 0x{response.status:X}"
        message_id = text_of(response.message_id)
        assert message_id, "an accepted submit must carry a message_id"
        return message_id

    def query(self, message_id: str, source: str = SOURCE) -> Any:
        seq = self.send("query_sm", message_id=message_id, source_addr_ton=1,
                        source_addr_npi=1, source_addr=source)
        return self.response(seq)

    # reading
    def read_available(self, timeout: float) -> bool:
        """Read one PDU if one arrives within `timeout`; the socket timeout bounds the rest."""
        sock = self.client._socket
        if sock is None:
            raise smpplib.exceptions.ConnectionError("not connected")
        ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
        if not ready:
            return False
        self.client.read_once(auto_send_enquire_link=False)
        return True

    def pump_until(self, done: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: timed out waiting for {what}; read "
                                     f"{[p.command for p in self.inbox]}")
            self.read_available(min(remaining, 0.25))

    def expect(self, match: Callable[[Any], bool], what: str, timeout: float = WAIT) -> Any:
        found: list[Any] = []

        def done() -> bool:
            found[:] = [pdu for pdu in self.inbox if match(pdu)]
            return bool(found)

        self.pump_until(done, what, timeout)
        return found[0]

    def response(self, sequence: int, timeout: float = WAIT) -> Any:
        """The response (or generic_nack) carrying `sequence`."""
        return self.expect(
            lambda p: p.sequence == sequence
            and (p.command.endswith("_resp") or p.command == "generic_nack"),
            f"the response to sequence {sequence}", timeout)

    def wait_deliveries(self, count: int, timeout: float = WAIT) -> list[Any]:
        self.pump_until(lambda: len(self.delivered) >= count, f"{count} deliver_sm", timeout)
        return list(self.delivered)

    def receipt_for(self, message_id: str, stat: str, timeout: float = WAIT) -> Any:
        def match(pdu: Any) -> bool:
            return (pdu.command == "deliver_sm" and pdu.receipted_message_id is not None
                    and text_of(pdu.receipted_message_id) == message_id
                    and receipt_fields(pdu.short_message).get("stat") == stat)

        return self.expect(match, f"a {stat} receipt for {message_id}", timeout)

    def wait_closed(self, timeout: float = WAIT) -> None:
        """Read until the server closes the connection (fails if it stays open)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read_available(min(deadline - time.monotonic(), 0.25))
        except smpplib.exceptions.ConnectionError:
            self.closed_by_peer = True
            return
        raise AssertionError(f"{self.name}: the server kept the connection open")

    def assert_working(self) -> None:
        """A healthy transmitting session: enquire_link answered and a submit accepted."""
        seq = self.send("enquire_link")
        assert self.response(seq).command == "enquire_link_resp"
        self.submit_ok(b"still working")

    def close(self) -> None:
        if self.client._socket is not None:
            self.client.disconnect()


def pump_all(esmes: Sequence[Esme], done: Callable[[], bool], what: str,
             timeout: float = WAIT) -> None:
    """Read from several smpplib sessions at once until `done()` holds."""
    deadline = time.monotonic() + timeout
    while not done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        sockets = {esme.client._socket: esme for esme in esmes}
        ready, _, _ = select.select(list(sockets), [], [], min(remaining, 0.25))
        for sock in ready:
            sockets[sock].client.read_once(auto_send_enquire_link=False)


# -- a raw client on our own codec -----------------------------------------------------------


class RawEsme:
    """A socket client that sends exactly the bytes a test builds and decodes what comes back."""

    def __init__(self, address: tuple[str, int], name: str) -> None:
        self.name = name
        self.sock = socket.create_connection(address, timeout=WAIT)
        self.decoder = FrameDecoder()
        self.inbox: list[Pdu] = []
        #: Status to answer each deliver_sm with; None leaves it unanswered.
        self.deliver_answer: Callable[[Pdu], int | None] = lambda pdu: S.ESME_ROK
        self.answer_enquire_link = True
        self.eof = False
        self._sequence = 0

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def send(self, pdu: Pdu) -> int:
        if not pdu.sequence_number:
            pdu.sequence_number = self.next_sequence()
        self.sock.sendall(encode_pdu(pdu))
        return pdu.sequence_number

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_available(self, timeout: float) -> bool:
        if self.eof:
            return False
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return True
        for item in self.decoder.feed(data):
            if isinstance(item, CodecError):
                raise AssertionError(f"{self.name}: the server sent a malformed PDU: {item}")
            self.inbox.append(item)
            self._auto_answer(item)
        return True

    def _auto_answer(self, pdu: Pdu) -> None:
        if pdu.command_id == CommandId.DELIVER_SM:
            status = self.deliver_answer(pdu)
            if status is not None:
                self.send(Pdu(CommandId.DELIVER_SM_RESP, pdu.sequence_number, status,
                              {"message_id": ""} if status == 0 else {}))
        elif pdu.command_id == CommandId.ENQUIRE_LINK and self.answer_enquire_link:
            self.send(Pdu(CommandId.ENQUIRE_LINK_RESP, pdu.sequence_number))

    def pump_until(self, done: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if self.eof:
                raise AssertionError(f"{self.name}: connection closed while waiting for {what}")
            if remaining <= 0:
                raise AssertionError(f"{self.name}: timed out waiting for {what}; read "
                                     f"{[p.name for p in self.inbox]}")
            self.read_available(min(remaining, 0.25))

    def expect(self, match: Callable[[Pdu], bool], what: str, timeout: float = WAIT) -> Pdu:
        found: list[Pdu] = []

        def done() -> bool:
            found[:] = [pdu for pdu in self.inbox if match(pdu)]
            return bool(found)

        self.pump_until(done, what, timeout)
        return found[0]

    def response(self, sequence: int, timeout: float = WAIT) -> Pdu:
        return self.expect(lambda p: p.is_response and p.sequence_number == sequence,
                           f"the response to sequence {sequence}", timeout)

    def request(self, pdu: Pdu, timeout: float = WAIT) -> Pdu:
        return self.response(self.send(pdu), timeout)

    def bind(self, kind: str, system_id: str, password: str = "secret") -> int:
        command = {"transmitter": CommandId.BIND_TRANSMITTER, "receiver": CommandId.BIND_RECEIVER,
                   "transceiver": CommandId.BIND_TRANSCEIVER}[kind]
        response = self.request(Pdu(command, params={
            "system_id": system_id, "password": password, "system_type": "",
            "interface_version": 0x34}))
        assert response.command_id == command | 0x80000000, response
        return response.command_status

    def submit(self, text: bytes = b"hello", *, destination: str = DESTINATION,
               source: str = SOURCE, registered_delivery: int = 0) -> Pdu:
        return self.request(submit_pdu(text, destination=destination, source=source,
                                       registered_delivery=registered_delivery))

    def submit_ok(self, text: bytes = b"hello", **options: Any) -> str:
        response = self.submit(text, **options)
        assert response.command_id == CommandId.SUBMIT_SM_RESP, response
        assert response.command_status == S.ESME_ROK, response
        message_id = response.str_param("message_id")
        assert message_id
        return message_id

    def deliveries(self) -> list[Pdu]:
        return [pdu for pdu in self.inbox if pdu.command_id == CommandId.DELIVER_SM]

    def wait_closed(self, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not self.eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: the server kept the connection open")
            self.read_available(min(remaining, 0.25))

    def close(self) -> None:
        self.sock.close()


def submit_pdu(text: bytes = b"hello", *, destination: str = DESTINATION, source: str = SOURCE,
               registered_delivery: int = 0, data_coding: int = 0) -> Pdu:
    return Pdu(CommandId.SUBMIT_SM, params={
        "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": source,
        "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": destination,
        "registered_delivery": registered_delivery, "data_coding": data_coding,
        "short_message": text,
    })


# -- receipt text, read independently of the project's own parser -------------------------

_RECEIPT_FIELD = re.compile(r"(?<!\S)(id|sub|dlvrd|submit date|done date|stat|err):(\S*)")
_RECEIPT_TEXT = re.compile(r"(?<!\S)[Tt]ext:(.*)\Z", re.DOTALL)


def text_of(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def receipt_fields(short_message: bytes | str | None) -> dict[str, str]:
    body = text_of(short_message)
    fields = {key: value for key, value in _RECEIPT_FIELD.findall(body)}
    text = _RECEIPT_TEXT.search(body)
    if text is not None:
        fields["text"] = text.group(1)
    return fields


# -- the fixture -----------------------------------------------------------------------------


class Harness:
    """Starts simulators and clients for one test and tears them all down (clients first)."""

    def __init__(self) -> None:
        self._sims: list[SimHandle] = []
        self._clients: list[Esme | RawEsme] = []

    def sim(self, *, virtual: bool = True, planner: Planner | None = None,
            **settings: Any) -> SimHandle:
        """A started simulator on a free port; simulated delays default to 1 s and 5 s."""
        fields: dict[str, Any] = {"smpp_port": 0, "seed": 7, "enroute_after": 1.0,
                                  "delivered_after": 5.0, "quiet": True}
        fields.update(settings)
        handle = SimHandle(Settings(**fields), virtual=virtual, planner=planner)
        self._sims.append(handle)
        handle.start()
        return handle

    def esme(self, sim: SimHandle, name: str = "esme") -> Esme:
        client = Esme(sim.address, name)
        self._clients.append(client)
        return client

    def bound(self, sim: SimHandle, kind: str = "transceiver", system_id: str = "tester",
              password: str = "secret", name: str | None = None) -> Esme:
        client = self.esme(sim, name or f"{kind}:{system_id}")
        status = client.bind(kind, system_id, password)
        assert status == 0, f"bind {kind} as {system_id} refused with 0x{status:X}"
        return client

    def raw(self, sim: SimHandle, name: str = "raw") -> RawEsme:
        client = RawEsme(sim.address, name)
        self._clients.append(client)
        return client

    def raw_bound(self, sim: SimHandle, kind: str = "transceiver", system_id: str = "tester",
                  password: str = "secret") -> RawEsme:
        client = self.raw(sim, f"raw {kind}:{system_id}")
        status = client.bind(kind, system_id, password)
        assert status == 0, f"raw bind {kind} as {system_id} refused with 0x{status:X}"
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for handle in self._sims:
            handle.close()


@pytest.fixture
def harness() -> Iterator[Harness]:
    world = Harness()
    try:
        yield world
    finally:
        world.close()


# -- scenario files ---------------------------------------------------------------------------

#: The shipped scenarios (`scenarios/` at the repository root).
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def write_scenario(directory: Path, text: str, name: str = "scenario.yaml") -> Path:
    """Write scenario YAML (dedented) to `directory/name` and return the path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path
