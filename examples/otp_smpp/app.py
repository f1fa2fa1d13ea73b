"""An OTP sender over SMPP, the way a small service would write one with smpplib.

It binds as a transceiver, submits "Your code is NNNNNN" with a delivery receipt requested,
and follows each code's fate from the receipts a background thread reads. smpplib is not
thread-safe, so one lock guards every use of the client: the reader thread takes it only
once the socket has something to read.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import select
import socket
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import smpplib.client  # type: ignore[import-untyped]
import smpplib.consts  # type: ignore[import-untyped]
import smpplib.exceptions  # type: ignore[import-untyped]

_RECEIPT = re.compile(r"\bstat:(\w+)\s+err:(\w+)")
ESM_CLASS_RECEIPT = 0x04
FINAL_RECEIPT = 0x01
FINAL_AND_INTERMEDIATE = 0x11
_STATUS_BY_STAT = {"DELIVRD": "delivered", "EXPIRED": "expired"}


class OtpError(Exception):
    """The SMSC refused the code (its command_status is in `status`)."""

    def __init__(self, phone: str, status: int) -> None:
        super().__init__(f"sending a code to {phone} was refused with status 0x{status:X}")
        self.status = status


@dataclass
class Delivery:
    phone: str
    code: str
    stat: str | None = None
    err: str | None = None
    final: bool = False

    @property
    def status(self) -> str:
        """What the app tells its user: sent, pending, delivered, expired or failed."""
        if self.stat is None:
            return "sent"
        if not self.final:
            return "pending"
        return _STATUS_BY_STAT.get(self.stat, "failed")


class OtpSender:
    def __init__(self, host: str, port: int, *, system_id: str = "otp-app",
                 password: str = "secret", sender: str = "MyApp",
                 intermediate_reports: bool = False, timeout: float = 5.0) -> None:
        self.system_id, self.password, self.sender = system_id, password, sender
        self.registered_delivery = FINAL_AND_INTERMEDIATE if intermediate_reports else FINAL_RECEIPT
        self.deliveries: dict[str, Delivery] = {}
        self._client: Any = smpplib.client.Client(
            host, port, timeout=timeout, allow_unknown_opt_params=True
        )
        self._client.set_message_received_handler(self._on_deliver_sm)
        self._client.set_message_sent_handler(self._on_submit_sm_resp)
        self._client.set_error_pdu_handler(self._on_error_pdu)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._responses: dict[int, tuple[int, str]] = {}
        self._wake_reader, self._wake = socket.socketpair()
        self._reader: threading.Thread | None = None
        self._running = False

    # -- connection ---------------------------------------------------------------------------
    def connect(self) -> OtpSender:
        self._client.connect()
        # Small PDUs each way (deliver_sm_resp, unbind): without this, Nagle's algorithm holds
        # one back until the SMSC's delayed ACK, some 40 ms later.
        self._client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client.bind_transceiver(system_id=self.system_id, password=self.password)
        self._running = True
        self._reader = threading.Thread(target=self._read_forever, name="otp-reader", daemon=True)
        self._reader.start()
        return self

    def close(self) -> None:
        self._running = False
        self._wake.send(b"x")
        if self._reader is not None:
            self._reader.join(5)
        with self._lock:
            # If the SMSC went away first, there is nothing left to unbind.
            with contextlib.suppress(
                smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError
            ):
                self._client.unbind()
            self._client.disconnect()
        self._wake.close()
        self._wake_reader.close()

    def __enter__(self) -> OtpSender:
        return self.connect()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- sending -------------------------------------------------------------------------------
    def send_code(self, phone: str, code: str | None = None) -> str:
        """Submit a fresh code to `phone`; returns the SMSC's message id."""
        code = code or f"{secrets.randbelow(1_000_000):06d}"
        with self._lock:
            pdu = self._client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr=self.sender,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr=phone,
                short_message=f"Your code is {code}".encode(),
                registered_delivery=self.registered_delivery,
            )
            while pdu.sequence not in self._responses:
                self._client.read_once(auto_send_enquire_link=False)
            status, message_id = self._responses.pop(pdu.sequence)
            if status:
                raise OtpError(phone, status)
            self.deliveries[message_id] = Delivery(phone, code)
        return message_id

    def status(self, message_id: str) -> str:
        with self._lock:
            return self.deliveries[message_id].status

    def wait_for_status(self, message_id: str, timeout: float = 5.0) -> str:
        """Block until the code's final receipt came in (or `timeout`); returns its status."""
        with self._changed:
            self._changed.wait_for(lambda: self.deliveries[message_id].final, timeout)
            return self.deliveries[message_id].status

    # -- smpplib callbacks (called with the lock held) -----------------------------------------
    def _on_submit_sm_resp(self, pdu: Any, **_: Any) -> None:
        message_id = getattr(pdu, "message_id", None)
        text = message_id.decode() if isinstance(message_id, bytes) else ""
        self._responses[pdu.sequence] = (int(pdu.status), text)

    def _on_error_pdu(self, pdu: Any) -> None:
        # A refused submit_sm_resp also reaches _on_submit_sm_resp; a generic_nack does not.
        self._responses[pdu.sequence] = (int(pdu.status), "")

    def _on_deliver_sm(self, pdu: Any, **_: Any) -> int:
        text = pdu.short_message.decode("latin-1") if pdu.short_message else ""
        found = _RECEIPT.search(text)
        receipted = pdu.receipted_message_id
        message_id = receipted.decode() if isinstance(receipted, bytes) else None
        delivery = self.deliveries.get(message_id or "")
        if found and delivery is not None:
            delivery.stat, delivery.err = found.group(1), found.group(2)
            delivery.final = bool(pdu.esm_class & ESM_CLASS_RECEIPT)
            self._changed.notify_all()
        return 0  # ESME_ROK: receipt accepted

    def _read_forever(self) -> None:
        sock = self._client._socket  # smpplib offers no public way to wait for input
        while self._running:
            ready, _, _ = select.select([sock, self._wake_reader], [], [], 1.0)
            if sock not in ready or not self._running:
                continue
            with self._lock:
                try:
                    self._client.poll(auto_send_enquire_link=False)
                except (smpplib.exceptions.ConnectionError, OSError):
                    self._running = False


def main() -> int:
    """Send one code and print what became of it: `python -m otp_smpp.app --to NUMBER`."""
    import argparse

    parser = argparse.ArgumentParser(description="Send one OTP code over SMPP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--to", required=True, help="destination number")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    with OtpSender(args.host, args.port) as app:
        message_id = app.send_code(args.to)
        print(f"sent {message_id} to {args.to}: {app.wait_for_status(message_id, args.timeout)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
