"""A small smpplib client for the plugin's tests: submits, and answers receipts.

The inner pytester suites get this file as `esme.py`. A reader thread answers deliver_sm
(a receipt only counts once a client answers it); one lock guards the client, which smpplib
does not make thread-safe.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Any

import smpplib.client  # type: ignore[import-untyped]


class Esme:
    def __init__(self, address: tuple[str, int], system_id: str = "tester",
                 password: str = "secret", bind: bool = True) -> None:
        self.client: Any = smpplib.client.Client(
            *address, timeout=5, allow_unknown_opt_params=True
        )
        self.received: list[Any] = []
        self.responses: dict[int, Any] = {}
        self.client.set_message_received_handler(self._on_deliver)
        self.client.set_message_sent_handler(self._on_response)
        self.client.set_error_pdu_handler(lambda pdu: None)
        self.client.connect()
        self.client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lock = threading.Lock()
        self.running = False
        self.thread: threading.Thread | None = None
        if bind:
            self.bind(system_id, password)

    def bind(self, system_id: str, password: str) -> None:
        self.client.bind_transceiver(system_id=system_id, password=password)
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _on_deliver(self, pdu: Any, **_: Any) -> int:
        self.received.append(pdu)
        return 0

    def _on_response(self, pdu: Any, **_: Any) -> None:
        self.responses[pdu.sequence] = pdu

    def submit(self, destination: str, text: str = "hello",
               registered_delivery: int = 1) -> tuple[int, str]:
        """Submit and wait for the response; returns (command_status, message_id)."""
        with self.lock:
            pdu = self.client.send_message(
                source_addr="Tester", destination_addr=destination,
                short_message=text.encode(), registered_delivery=registered_delivery)
            while pdu.sequence not in self.responses:
                self.client.read_once(auto_send_enquire_link=False)
            response = self.responses.pop(pdu.sequence)
        message_id = response.message_id.decode() if response.message_id else ""
        return int(response.status), message_id

    def _read(self) -> None:
        sock = self.client._socket
        while self.running:
            ready, _, _ = select.select([sock], [], [], 0.02)
            if ready and self.running:
                with self.lock:
                    try:
                        self.client.poll(auto_send_enquire_link=False)
                    except Exception:  # the SMSC hung up: stop reading
                        self.running = False

    def close(self) -> None:
        self.running = False
        if self.thread is not None:
            self.thread.join(5)
        with contextlib.suppress(Exception):  # unbind politely unless the SMSC already left
            self.client.unbind()
        self.client.disconnect()
