"""A tiny asyncio ESME: enough to bind, submit, read receipts and answer them.

Used by `dlrsim send` and `dlrsim readyz` for smoke checks. It is deliberately small and
strict (every wait has a timeout); applications should use a full SMPP client library.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from simulator.smpp.codec.constants import (
    ESM_CLASS_TYPE_MASK,
    CommandId,
    CommandStatus,
    Tag,
    status_name,
)
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.pdu import (
    FrameDecoder,
    Pdu,
    encode_header_only,
    encode_message_id_resp,
    encode_pdu,
)


class EsmeError(Exception):
    pass


class MiniEsme:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._decoder = FrameDecoder()
        self._sequence = 0
        self._inbox: list[Pdu] = []

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float = 5.0) -> MiniEsme:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        return cls(reader, writer)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    async def request(self, pdu: Pdu, timeout: float = 5.0) -> Pdu:
        self._sequence += 1
        pdu.sequence_number = self._sequence
        self._writer.write(encode_pdu(pdu))
        await self._writer.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, item in enumerate(self._inbox):
                if item.is_response and item.sequence_number == pdu.sequence_number:
                    return self._inbox.pop(index)
            await self._read(deadline - loop.time())

    async def _read(self, timeout: float) -> None:
        if timeout <= 0:
            raise TimeoutError("no answer in time")
        data = await asyncio.wait_for(self._reader.read(65536), timeout)
        if not data:
            raise EsmeError("the SMSC closed the connection")
        for item in self._decoder.feed(data):
            if isinstance(item, CodecError):
                raise EsmeError(f"malformed PDU from the SMSC: {item}")
            if item.command_id == CommandId.DELIVER_SM:
                self._writer.write(
                    encode_message_id_resp(CommandId.DELIVER_SM_RESP, item.sequence_number, b"")
                )
            if item.command_id == CommandId.ENQUIRE_LINK:
                self._writer.write(
                    encode_header_only(CommandId.ENQUIRE_LINK_RESP, item.sequence_number)
                )
                continue
            self._inbox.append(item)

    async def bind(self, system_id: str, password: str, bind_type: str = "transceiver") -> None:
        command = {
            "transceiver": CommandId.BIND_TRANSCEIVER,
            "transmitter": CommandId.BIND_TRANSMITTER,
            "receiver": CommandId.BIND_RECEIVER,
        }[bind_type]
        response = await self.request(
            Pdu(
                command,
                params={
                    "system_id": system_id,
                    "password": password,
                    "system_type": "",
                    "interface_version": 0x34,
                    "addr_ton": 0,
                    "addr_npi": 0,
                    "address_range": "",
                },
            )
        )
        if response.command_status:
            raise EsmeError(f"bind refused: {status_name(response.command_status)}")

    async def enquire_link(self, timeout: float = 2.0) -> None:
        response = await self.request(Pdu(CommandId.ENQUIRE_LINK), timeout)
        if response.command_id != CommandId.ENQUIRE_LINK_RESP:
            raise EsmeError(f"expected enquire_link_resp, got {response.name}")

    async def submit(
        self, params: dict[str, object], tlvs: list[tuple[int, bytes]] | None = None
    ) -> str:
        response = await self.request(Pdu(CommandId.SUBMIT_SM, params=dict(params), tlvs=tlvs))  # type: ignore[arg-type]
        if response.command_status != CommandStatus.ESME_ROK:
            raise EsmeError(f"submit_sm refused: {status_name(response.command_status)}")
        return response.str_param("message_id")

    async def receipts(self, timeout: float) -> AsyncIterator[Pdu]:
        """Yield delivery receipts (deliver_sm with a receipt esm_class) until `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, item in enumerate(self._inbox):
                if (
                    item.command_id == CommandId.DELIVER_SM
                    and item.int_param("esm_class") & ESM_CLASS_TYPE_MASK
                ):
                    yield self._inbox.pop(index)
                    break
            else:
                await self._read(deadline - loop.time())

    async def unbind(self) -> None:
        with contextlib.suppress(TimeoutError, EsmeError):
            await self.request(Pdu(CommandId.UNBIND), timeout=2.0)


def receipted_id(pdu: Pdu) -> str | None:
    return pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID)
