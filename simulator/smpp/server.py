"""The SMPP listener: asyncio `Protocol`s that feed bytes to sans-I/O sessions.

`asyncio.Protocol` rather than streams keeps the hot path to one callback per read and one
write per read (the session coalesces its responses). Each connection gets its own session,
so a malformed PDU or a crash in one handler closes that connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from typing import cast

from simulator.core.clock import Clock
from simulator.smpp.session import SessionSettings, SmscSession
from simulator.smpp.smsc import Smsc

log = logging.getLogger("dlrsim.smpp")


class _SmppProtocol(asyncio.Protocol):
    """One connection. Writes are coalesced: everything written while a read is handled goes
    out in one `transport.write` at its end, and writes made from timers (receipts, MO) are
    gathered until the loop's next turn, so a burst of receipts costs one system call."""

    def __init__(self, server: SmppServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._pending: bytearray | None = None
        self._in_read = False
        self.session: SmscSession | None = None

    # SessionTransport
    def write(self, data: bytes) -> None:
        if self._pending is None:
            self._pending = bytearray(data)
            if not self._in_read:
                self._loop.call_soon(self._flush)
        else:
            self._pending += data

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        transport = self._transport
        if pending and transport is not None and not transport.is_closing():
            transport.write(pending)

    def close(self) -> None:
        self._flush()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport.
        self._transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        self.session = self._server.new_session(self, peer)

    def data_received(self, data: bytes) -> None:
        session = self.session
        if session is None:
            return
        self._in_read = True
        try:
            session.data_received(data)
        except Exception:  # one broken session must never take the server down
            log.exception("%s: internal error; closing this session only", session.label)
            session.close("internal error")
        finally:
            self._in_read = False
            self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is not None:
            self.session.connection_lost()
        self._server.forget(self)


class SmppServer:
    def __init__(self, smsc: Smsc, net_clock: Clock, settings: SessionSettings) -> None:
        self.smsc = smsc
        self.net_clock = net_clock
        self.settings = settings
        self._servers: list[asyncio.Server] = []
        self._protocols: set[_SmppProtocol] = set()
        self._ids = itertools.count(1)
        self._stopping = False
        self.addresses: list[tuple[str, int, bool]] = []

    def new_session(self, protocol: _SmppProtocol, peer: str) -> SmscSession:
        self._protocols.add(protocol)
        if self._stopping:  # accepted by the loop just as we stopped: do not serve it
            protocol.close()
        session = SmscSession(
            self.smsc,
            protocol,
            self.net_clock,
            self.settings,
            session_id=str(next(self._ids)),
            peer=peer,
        )
        self.smsc.register_session(session)
        return session

    def forget(self, protocol: _SmppProtocol) -> None:
        self._protocols.discard(protocol)

    async def listen(
        self, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _SmppProtocol(self), host, port, ssl=tls, reuse_address=True
        )
        self._servers.append(server)
        sockname = server.sockets[0].getsockname()
        address = (str(sockname[0]), int(sockname[1]))
        self.addresses.append((*address, tls is not None))
        return address

    @property
    def session_count(self) -> int:
        return len(self._protocols)

    async def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, unbind every session politely, then close what is left.

        Accepting stops before the listening sockets close: on Python 3.11 a connection
        accepted in the same loop turn as `Server.close()` fails to attach to the closed
        server and its socket is leaked open, so we stop reading the listener first, let
        in-flight accepts finish (new_session refuses them), and only then close it.
        """
        self._stopping = True
        loop = asyncio.get_running_loop()
        for server in self._servers:
            for sock in server.sockets:
                with contextlib.suppress(Exception):  # uvloop has no per-fd reader to drop
                    loop.remove_reader(sock.fileno())
        await self._turns(10)
        sessions = [p.session for p in list(self._protocols) if p.session is not None]
        if sessions:
            done = loop.create_future()
            remaining = len(sessions)

            def one_done() -> None:
                nonlocal remaining
                remaining -= 1
                if remaining == 0 and not done.done():
                    done.set_result(None)

            for session in sessions:
                session.unbind(one_done, timeout=timeout)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), timeout + 0.5)
        for server in self._servers:
            server.close()
        for protocol in list(self._protocols):
            if protocol.session is not None:
                protocol.session.close("server stopped")
            else:
                protocol.close()
        # A transport closes its socket in a callback: let those run before we return.
        await self._turns(10, until_empty=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _turns(self, count: int, *, until_empty: bool = False) -> None:
        for _ in range(count):
            if until_empty and not self._protocols:
                return
            await asyncio.sleep(0)
