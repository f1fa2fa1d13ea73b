"""Link upkeep: enquire_link both ways, idle sessions, and a graceful simulator stop.

Keepalive intervals are set to fractions of a second; every wait still ends at a deadline and
the assertions are about which PDUs arrive and which connections close, never how long it took.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Callable

import pytest
import smpplib.exceptions  # type: ignore[import-untyped]

from simulator.smpp.codec import CommandId, Pdu

from .conftest import WAIT, Esme, Harness, SimHandle


def _keep_busy_until(healthy: Esme, done: Callable[[], bool], what: str) -> None:
    """Ping with `healthy` until `done()` (which reads the session under test) holds.

    The healthy session is never idle, so only idleness or silence can explain a close.
    """
    deadline = time.monotonic() + WAIT
    while not done():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        healthy.response(healthy.send("enquire_link"))


def test_client_enquire_link_is_answered(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    raw = harness.raw(sim, "unbound")

    seq = esme.send("enquire_link")
    response = esme.response(seq)
    unbound = raw.request(Pdu(CommandId.ENQUIRE_LINK))

    assert response.command == "enquire_link_resp" and response.status == 0
    assert unbound.command_id == CommandId.ENQUIRE_LINK_RESP  # allowed before a bind too
    assert unbound.command_status == 0


def test_server_sends_enquire_link_on_an_idle_bound_session(harness: Harness) -> None:
    sim = harness.sim(enquire_link_interval=0.2, idle_timeout=30.0)
    esme = harness.bound(sim)

    # smpplib answers each one by itself; a second one proves the first answer was taken
    esme.pump_until(lambda: sum(p.command == "enquire_link" for p in esme.inbox) >= 2,
                    "two server enquire_links")

    sent = [p for p in esme.inbox if p.command == "enquire_link"]
    assert sent[0].sequence != sent[1].sequence
    esme.assert_working()


def test_unanswered_server_enquire_link_closes_the_session(harness: Harness) -> None:
    sim = harness.sim(enquire_link_interval=0.2, response_timeout=0.2, idle_timeout=30.0)
    healthy = harness.bound(sim, name="healthy")
    raw = harness.raw_bound(sim)
    raw.answer_enquire_link = False

    def raw_closed() -> bool:
        raw.read_available(0.05)
        return raw.eof

    _keep_busy_until(healthy, raw_closed, "the silent session to be closed")

    assert any(p.command_id == CommandId.ENQUIRE_LINK for p in raw.inbox)
    healthy.assert_working()


def test_idle_session_is_closed_after_idle_timeout(harness: Harness) -> None:
    sim = harness.sim(idle_timeout=0.5, enquire_link_interval=30.0)
    healthy = harness.bound(sim, name="healthy")
    idle = harness.bound(sim, name="idle")

    def idle_closed() -> bool:
        try:
            idle.read_available(0.05)
        except smpplib.exceptions.ConnectionError:  # how smpplib reports a closed socket
            return True
        return False

    _keep_busy_until(healthy, idle_closed, "the idle session to be closed")

    assert not any(p.command == "enquire_link" for p in idle.inbox)  # interval was never reached
    healthy.assert_working()


def test_stop_unbinds_bound_clients_politely(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim, name="smpplib")
    raw = harness.raw_bound(sim)
    unbound = harness.raw(sim, "never bound")
    assert unbound.request(Pdu(CommandId.ENQUIRE_LINK)).command_status == 0  # session exists
    address = sim.address

    # a long unbind timeout: finishing within WAIT proves both answers were taken
    stopping = sim.begin_stop(timeout=30.0)
    request = esme.expect(lambda p: p.command == "unbind", "the server's unbind")
    esme.answer("unbind_resp", request.sequence)
    raw_request = raw.expect(lambda p: p.command_id == CommandId.UNBIND, "the server's unbind")
    raw.send(Pdu(CommandId.UNBIND_RESP, raw_request.sequence_number))

    stopping.result(WAIT)
    esme.wait_closed()
    raw.wait_closed()
    unbound.wait_closed()
    # an open, unbound session is just closed: it never sees an unbind
    assert [p.command_id for p in unbound.inbox] == [CommandId.ENQUIRE_LINK_RESP]
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=WAIT).close()


async def _connect_then_stop(handle: SimHandle, loop_turns: int) -> socket.socket:
    """Connect (the kernel completes the handshake), let the loop turn a few times, stop."""
    sock = socket.create_connection(handle.address, timeout=WAIT)
    for _ in range(loop_turns):
        await asyncio.sleep(0)
    await handle.sim.stop(0.5)
    return sock


def _closed_by_server(sock: socket.socket, timeout: float = 1.0) -> bool:
    ready, _, _ = select.select([sock], [], [], timeout)
    if not ready:
        return False
    try:
        return sock.recv(16) == b""
    except OSError:  # reset by the peer: closed as well
        return True


def test_stop_closes_a_connection_accepted_while_stopping(harness: Harness) -> None:
    # Each simulator is stopped at a different point of accepting the same kind of connection;
    # whichever point it is, the connection must not outlive stop().
    for loop_turns in range(8):
        handle = harness.sim()
        sock = handle.run(_connect_then_stop(handle, loop_turns))
        handle.mark_stopped()
        try:
            assert _closed_by_server(sock), f"open after stop() ({loop_turns} loop turns)"
        finally:
            sock.close()
