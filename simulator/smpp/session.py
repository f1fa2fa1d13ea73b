"""One SMPP connection as a state machine, with no sockets in it.

Bytes come in through `data_received`; bytes go out through a `SessionTransport` the server
provides (or an in-memory wire in tests). Which command is allowed in which bind state is one
table (`ALLOWED`), so a command in the wrong state always gets ESME_RINVBNDSTS. What a command
*does* (authenticate, accept a message, look one up) is asked of a `SessionCore`, the SMSC.

Output produced while handling one read is coalesced into a single write: a client with a
window of 100 gets 100 responses in one `transport.write`, which is most of the speed.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Protocol

from simulator.core.clock import Clock, TimerHandle
from simulator.smpp.codec.constants import (
    INTERFACE_VERSION_34,
    CommandId,
    Tag,
    command_name,
    status_name,
)
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.pdu import (
    FrameDecoder,
    Pdu,
    encode_header_only,
    encode_message_id_resp,
    encode_pdu,
)

log = logging.getLogger("dlrsim.smpp")

C = CommandId


class BindState(enum.Enum):
    OPEN = "open"
    BOUND_TX = "transmitter"
    BOUND_RX = "receiver"
    BOUND_TRX = "transceiver"
    CLOSED = "closed"


_ANY_STATE_IN = {C.ENQUIRE_LINK, C.ENQUIRE_LINK_RESP, C.GENERIC_NACK}
_BOUND_IN = {*_ANY_STATE_IN, C.UNBIND, C.UNBIND_RESP, C.DATA_SM, C.DATA_SM_RESP}
_TX_IN = {C.SUBMIT_SM, C.SUBMIT_MULTI, C.QUERY_SM, C.CANCEL_SM, C.REPLACE_SM}
_RX_IN = {C.DELIVER_SM_RESP}
_BINDS = {C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER}

#: Commands an ESME may send us in each state; anything else is ESME_RINVBNDSTS.
ALLOWED: dict[BindState, frozenset[int]] = {
    BindState.OPEN: frozenset({*_ANY_STATE_IN, *_BINDS}),
    BindState.BOUND_TX: frozenset({*_BOUND_IN, *_TX_IN}),
    BindState.BOUND_RX: frozenset({*_BOUND_IN, *_RX_IN}),
    BindState.BOUND_TRX: frozenset({*_BOUND_IN, *_TX_IN, *_RX_IN}),
    BindState.CLOSED: frozenset(),
}
_BIND_TYPES = {
    C.BIND_TRANSMITTER: (BindState.BOUND_TX, "transmitter"),
    C.BIND_RECEIVER: (BindState.BOUND_RX, "receiver"),
    C.BIND_TRANSCEIVER: (BindState.BOUND_TRX, "transceiver"),
}
#: Requests that count against the account's window (binds and keepalives do not).
_WINDOWED = frozenset({C.SUBMIT_SM, C.DATA_SM, C.SUBMIT_MULTI})
_MESSAGE_ID_RESPONSES = {C.SUBMIT_SM: C.SUBMIT_SM_RESP, C.DATA_SM: C.DATA_SM_RESP}


class SessionTransport(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SessionCore(Protocol):
    """What a session asks of the SMSC it belongs to."""

    def on_bind(
        self, session: SmscSession, bind_type: str, system_id: str, password: str
    ) -> int: ...

    def on_submit(self, session: SmscSession, pdu: Pdu) -> tuple[int, str]: ...

    def on_response_sent(self, session: SmscSession, message_id: str) -> None: ...

    @property
    def faults_active(self) -> bool: ...

    def pdu_fault(self, session: SmscSession, pdu: Pdu) -> tuple[str, int, float] | None: ...

    def on_submit_multi(self, session: SmscSession, pdu: Pdu) -> Pdu: ...

    def on_query(self, session: SmscSession, pdu: Pdu) -> Pdu: ...

    def on_cancel(self, session: SmscSession, pdu: Pdu) -> int: ...

    def on_replace(self, session: SmscSession, pdu: Pdu) -> int: ...

    def on_closed(self, session: SmscSession) -> None: ...


ResponseCallback = Callable[[Pdu | None], None]


class SessionSettings:
    __slots__ = (
        "enquire_link_interval",
        "idle_timeout",
        "max_command_length",
        "response_timeout",
        "system_id",
    )

    def __init__(
        self,
        *,
        system_id: str = "dlrsim",
        enquire_link_interval: float = 30.0,
        idle_timeout: float = 300.0,
        response_timeout: float = 10.0,
        max_command_length: int = 64 * 1024,
    ) -> None:
        self.system_id = system_id
        self.enquire_link_interval = enquire_link_interval
        self.idle_timeout = idle_timeout
        self.response_timeout = response_timeout
        self.max_command_length = max_command_length


class _Outstanding:
    __slots__ = ("callback", "command_id", "deadline")

    def __init__(self, command_id: int, callback: ResponseCallback, deadline: float) -> None:
        self.command_id = command_id
        self.callback = callback
        self.deadline = deadline


class SmscSession:
    """The SMSC side of one SMPP connection."""

    def __init__(
        self,
        core: SessionCore,
        transport: SessionTransport,
        net_clock: Clock,
        settings: SessionSettings | None = None,
        *,
        session_id: str = "",
        peer: str = "",
    ) -> None:
        self.core = core
        self.transport = transport
        self.net_clock = net_clock
        self.settings = settings or SessionSettings()
        self.session_id = session_id
        self.peer = peer
        self.state = BindState.OPEN
        self.system_id = ""
        self.interface_version = INTERFACE_VERSION_34
        self.account: object | None = None
        self.decoder = FrameDecoder(self.settings.max_command_length)
        self.pending_responses = 0
        self.batch_requests = 0  # requests in the read being handled: all outstanding at once
        self.response_delay = 0.0
        self.fault_delay = 0.0
        self.bind_type: str | None = None
        self.counters: dict[str, int] = {"in": 0, "out": 0, "errors": 0}
        self._batch: bytearray | None = None
        self._next_sequence = 0
        self._outstanding: dict[int, _Outstanding] = {}
        self._sweep_timer: TimerHandle | None = None
        self._sweep_at: float | None = None
        self._last_activity = net_clock.now()
        self._keepalive: TimerHandle | None = None
        self._closing = False
        self._schedule_keepalive()

    # -- state ---------------------------------------------------------------------------
    @property
    def bound(self) -> bool:
        return self.state in (BindState.BOUND_TX, BindState.BOUND_RX, BindState.BOUND_TRX)

    @property
    def can_receive(self) -> bool:
        return self.state in (BindState.BOUND_RX, BindState.BOUND_TRX) and not self._closing

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def inflight(self) -> int:
        """Requests the client has outstanding right now, the one being handled included."""
        return self.pending_responses + self.batch_requests

    # -- output --------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.state is BindState.CLOSED:
            return
        self.counters["out"] += 1
        if self._batch is not None:
            self._batch += data
        else:
            self.transport.write(data)

    def send_pdu(self, pdu: Pdu) -> None:
        self.write(encode_pdu(pdu))

    def next_sequence(self) -> int:
        self._next_sequence = self._next_sequence % 0x7FFFFFFF + 1
        return self._next_sequence

    def send_request(
        self, pdu: Pdu, callback: ResponseCallback, timeout: float | None = None
    ) -> int:
        """Send a request we expect an answer to; `callback(None)` means it timed out."""
        sequence = self.next_sequence()
        pdu.sequence_number = sequence
        wait = self.settings.response_timeout if timeout is None else timeout
        deadline = self.net_clock.now() + wait
        self._outstanding[sequence] = _Outstanding(pdu.command_id, callback, deadline)
        if self._sweep_at is None or deadline < self._sweep_at:
            self._arm_sweep(deadline)
        self.send_pdu(pdu)
        return sequence

    def _arm_sweep(self, deadline: float) -> None:
        # One timer per session finds unanswered requests, instead of one timer per request.
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
        self._sweep_at = deadline
        self._sweep_timer = self.net_clock.call_later(deadline - self.net_clock.now(), self._sweep)

    def _sweep(self) -> None:
        self._sweep_timer = self._sweep_at = None
        now = self.net_clock.now()
        expired = [seq for seq, pending in self._outstanding.items() if pending.deadline <= now]
        for sequence in expired:
            pending = self._outstanding.pop(sequence)
            log.debug(
                "%s: no response to %s seq=%d",
                self.label,
                command_name(pending.command_id),
                sequence,
            )
            pending.callback(None)
        if self._outstanding and self.state is not BindState.CLOSED:
            self._arm_sweep(min(pending.deadline for pending in self._outstanding.values()))

    # -- input ---------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self._last_activity = self.net_clock.now()
        self._batch = bytearray()
        self.batch_requests = 0
        try:
            for item in self.decoder.feed(data):
                if isinstance(item, CodecError):
                    self._on_decode_error(item)
                else:
                    self.counters["in"] += 1
                    self._dispatch(item)
                if self.state is BindState.CLOSED:
                    break
        finally:
            batch, self._batch = self._batch, None
            if batch and self.state is not BindState.CLOSED:
                self.transport.write(bytes(batch))
            if self.decoder.broken and self.state is not BindState.CLOSED:
                self.close("stream could not be resynchronised")

    def _on_decode_error(self, error: CodecError) -> None:
        self.counters["errors"] += 1
        log.warning("%s: malformed PDU: %s -> %s", self.label, error, status_name(error.status))
        sequence = error.sequence_number or 0
        command_id = error.command_id
        if error.fatal or command_id is None:
            self.write(encode_header_only(C.GENERIC_NACK, sequence, error.status))
        elif command_id & 0x80000000:
            return  # a malformed response from the client: nothing to answer
        elif command_id in _RESPONSE_OF:
            self.write(encode_header_only(_RESPONSE_OF[command_id], sequence, error.status))
        else:  # unknown command, or one that has no response of its own
            self.write(encode_header_only(C.GENERIC_NACK, sequence, error.status))

    def _dispatch(self, pdu: Pdu) -> None:
        command_id = pdu.command_id
        if command_id not in ALLOWED[self.state]:
            self._refuse_in_state(pdu)
            return
        if command_id & 0x80000000:
            self._on_response(pdu)
            return
        handler = _HANDLERS.get(command_id)
        if handler is None:  # pragma: no cover - ALLOWED only lists handled commands
            self.write(encode_header_only(C.GENERIC_NACK, pdu.sequence_number, S.ESME_RINVCMDID))
            return
        if command_id in _WINDOWED:
            self.batch_requests += 1
        if self.core.faults_active and self._fault_applied(pdu):
            return
        handler(self, pdu)
        self.fault_delay = 0.0

    def _fault_applied(self, pdu: Pdu) -> bool:
        """Let the scenario's faults act on a request; True when it must not be handled."""
        fault = self.core.pdu_fault(self, pdu)
        if fault is None:
            return False
        action, status, delay = fault
        if action == "disconnect":
            self.close("fault: disconnect")
        elif action == "generic_nack":
            self.write(encode_header_only(C.GENERIC_NACK, pdu.sequence_number, status))
        elif action == "reject":
            response_id = _RESPONSE_OF.get(pdu.command_id, C.GENERIC_NACK)
            self.write(encode_header_only(response_id, pdu.sequence_number, status))
        elif action == "delay":
            self.fault_delay = delay
            return False
        return True  # "no_response" and the above: the request is not processed

    def _refuse_in_state(self, pdu: Pdu) -> None:
        command_id = pdu.command_id
        log.info("%s: %s refused in state %s", self.label, pdu.name, self.state.value)
        if command_id & 0x80000000:
            return  # a stray response: nothing to answer
        if command_id in _BINDS:
            self.write(
                encode_header_only(command_id | 0x80000000, pdu.sequence_number, S.ESME_RALYBND)
            )
        elif command_id in _RESPONSE_OF:
            self.write(
                encode_header_only(_RESPONSE_OF[command_id], pdu.sequence_number, S.ESME_RINVBNDSTS)
            )
        else:
            self.write(encode_header_only(C.GENERIC_NACK, pdu.sequence_number, S.ESME_RINVBNDSTS))

    def _on_response(self, pdu: Pdu) -> None:
        pending = self._outstanding.pop(pdu.sequence_number, None)
        if pending is None:
            if pdu.command_id == C.GENERIC_NACK:
                log.info("%s: generic_nack %s", self.label, status_name(pdu.command_status))
            return
        pending.callback(pdu)

    # -- handlers ------------------------------------------------------------------------
    def _handle_bind(self, pdu: Pdu) -> None:
        new_state, bind_type = _BIND_TYPES[CommandId(pdu.command_id)]
        system_id = pdu.str_param("system_id")
        status = self.core.on_bind(self, bind_type, system_id, pdu.str_param("password"))
        response = Pdu(pdu.command_id | 0x80000000, pdu.sequence_number, status)
        if status == S.ESME_ROK:
            self.state = new_state
            self.bind_type = bind_type
            self.system_id = system_id
            self.interface_version = pdu.int_param("interface_version")
            response.params["system_id"] = self.settings.system_id
            if self.interface_version >= INTERFACE_VERSION_34:
                response.set_tlv(Tag.SC_INTERFACE_VERSION, min(self.interface_version, 0x50))
        self.send_pdu(response)

    def _handle_submit(self, pdu: Pdu) -> None:
        status, message_id = self.core.on_submit(self, pdu)
        response_id = _MESSAGE_ID_RESPONSES[CommandId(pdu.command_id)]
        if status:
            # Refusals go out at once: a full window must not grow by its own refusals.
            self.write(encode_header_only(response_id, pdu.sequence_number, status))
        else:
            data = encode_message_id_resp(response_id, pdu.sequence_number, message_id.encode())
            delay = self.response_delay + self.fault_delay
            if delay > 0:
                # The message's timeline starts only once its id is out: a receipt must never
                # overtake the submit_sm_resp that gave the id.
                self.respond(data, delay, lambda: self.core.on_response_sent(self, message_id))
            else:
                self.write(data)

    def respond(
        self, data: bytes, delay: float = 0.0, then: Callable[[], None] | None = None
    ) -> None:
        """Write a response now, or after `delay` seconds (a slow SMSC) counting the window."""
        if delay <= 0:
            self.write(data)
            if then is not None:
                then()
            return
        self.pending_responses += 1
        self.batch_requests = max(0, self.batch_requests - 1)  # now a pending response instead

        def later() -> None:
            self.pending_responses -= 1
            if self.state is BindState.CLOSED:
                return
            self.write(data)
            if then is not None:
                then()

        self.net_clock.call_later(delay, later)

    def _handle_submit_multi(self, pdu: Pdu) -> None:
        self.send_pdu(self.core.on_submit_multi(self, pdu))

    def _handle_query(self, pdu: Pdu) -> None:
        self.send_pdu(self.core.on_query(self, pdu))

    def _handle_cancel(self, pdu: Pdu) -> None:
        status = self.core.on_cancel(self, pdu)
        self.write(encode_header_only(C.CANCEL_SM_RESP, pdu.sequence_number, status))

    def _handle_replace(self, pdu: Pdu) -> None:
        status = self.core.on_replace(self, pdu)
        self.write(encode_header_only(C.REPLACE_SM_RESP, pdu.sequence_number, status))

    def _handle_enquire_link(self, pdu: Pdu) -> None:
        self.respond(encode_header_only(C.ENQUIRE_LINK_RESP, pdu.sequence_number), self.fault_delay)

    def _handle_unbind(self, pdu: Pdu) -> None:
        self.write(encode_header_only(C.UNBIND_RESP, pdu.sequence_number))
        self.close("client unbound")

    # -- keepalive and shutdown ------------------------------------------------------------
    def _schedule_keepalive(self) -> None:
        interval = min(self.settings.enquire_link_interval, self.settings.idle_timeout)
        if interval > 0:
            self._keepalive = self.net_clock.call_later(interval, self._check_idle)

    def _check_idle(self) -> None:
        if self.state is BindState.CLOSED:
            return
        idle = self.net_clock.now() - self._last_activity
        if idle >= self.settings.idle_timeout:
            self.close(f"idle for {idle:.0f} s")
            return
        if idle >= self.settings.enquire_link_interval and self.bound:
            self.send_request(Pdu(C.ENQUIRE_LINK), self._on_enquire_link_answer)
        self._schedule_keepalive()

    def _on_enquire_link_answer(self, response: Pdu | None) -> None:
        if response is None and self.state is not BindState.CLOSED:
            self.close("enquire_link unanswered")

    def unbind(self, on_done: Callable[[], None] | None = None, timeout: float = 2.0) -> None:
        """Polite shutdown: send unbind, close when answered (or after `timeout`)."""
        if self.state is BindState.CLOSED:
            if on_done:
                on_done()
            return
        if not self.bound:
            self.close("shutting down")
            if on_done:
                on_done()
            return
        self._closing = True

        def finished(_: Pdu | None) -> None:
            self.close("unbound by the SMSC")
            if on_done:
                on_done()

        self.send_request(Pdu(C.UNBIND), finished, timeout=timeout)

    def close(self, reason: str = "") -> None:
        if self.state is BindState.CLOSED:
            return
        was_bound = self.bound
        self.state = BindState.CLOSED
        if self._keepalive is not None:
            self._keepalive.cancel()
        outstanding, self._outstanding = self._outstanding, {}
        if self._batch:
            self.transport.write(bytes(self._batch))
            self._batch = bytearray()
        self.transport.close()
        log.info("%s: closed (%s)", self.label, reason or "connection lost")
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
        for pending in outstanding.values():
            pending.callback(None)
        if was_bound or self.account is not None:
            self.core.on_closed(self)

    def connection_lost(self) -> None:
        self.close("connection lost")

    @property
    def label(self) -> str:
        who = self.system_id or "-"
        return f"session {self.session_id} {who}@{self.peer}"


_RESPONSE_OF: dict[int, int] = {
    C.BIND_TRANSMITTER: C.BIND_TRANSMITTER_RESP,
    C.BIND_RECEIVER: C.BIND_RECEIVER_RESP,
    C.BIND_TRANSCEIVER: C.BIND_TRANSCEIVER_RESP,
    C.SUBMIT_SM: C.SUBMIT_SM_RESP,
    C.DELIVER_SM: C.DELIVER_SM_RESP,
    C.DATA_SM: C.DATA_SM_RESP,
    C.QUERY_SM: C.QUERY_SM_RESP,
    C.CANCEL_SM: C.CANCEL_SM_RESP,
    C.REPLACE_SM: C.REPLACE_SM_RESP,
    C.SUBMIT_MULTI: C.SUBMIT_MULTI_RESP,
    C.UNBIND: C.UNBIND_RESP,
    C.ENQUIRE_LINK: C.ENQUIRE_LINK_RESP,
}

_HANDLERS: dict[int, Callable[[SmscSession, Pdu], None]] = {
    C.BIND_TRANSMITTER: SmscSession._handle_bind,
    C.BIND_RECEIVER: SmscSession._handle_bind,
    C.BIND_TRANSCEIVER: SmscSession._handle_bind,
    C.SUBMIT_SM: SmscSession._handle_submit,
    C.DATA_SM: SmscSession._handle_submit,
    C.SUBMIT_MULTI: SmscSession._handle_submit_multi,
    C.QUERY_SM: SmscSession._handle_query,
    C.CANCEL_SM: SmscSession._handle_cancel,
    C.REPLACE_SM: SmscSession._handle_replace,
    C.ENQUIRE_LINK: SmscSession._handle_enquire_link,
    C.UNBIND: SmscSession._handle_unbind,
}
