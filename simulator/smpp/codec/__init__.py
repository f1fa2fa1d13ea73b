"""Sans-I/O SMPP codec: bytes in, PDU values out, and back. No sockets, no asyncio."""

from simulator.smpp.codec.constants import CommandId, CommandStatus, MessageState, Tag
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.pdu import (
    DestAddress,
    FrameDecoder,
    Pdu,
    UnsuccessSme,
    decode_pdu,
    encode_header_only,
    encode_message_id_resp,
    encode_pdu,
    generic_nack,
    response_for,
)

__all__ = [
    "CodecError",
    "CommandId",
    "CommandStatus",
    "DestAddress",
    "FrameDecoder",
    "MessageState",
    "Pdu",
    "Tag",
    "UnsuccessSme",
    "decode_pdu",
    "encode_header_only",
    "encode_message_id_resp",
    "encode_pdu",
    "generic_nack",
    "response_for",
]
