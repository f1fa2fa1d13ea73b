"""SMPP PDU values and their byte encoding, sans I/O.

A `Pdu` is one generic value (command id, status, sequence, mandatory parameters by name and
TLVs in wire order) rather than a class per command: the layouts live in `spec.BODY_SPEC`, so
decode and encode share one table. Unknown TLVs keep their raw bytes and re-encode byte for
byte. Every decode failure raises `CodecError` carrying the command_status to answer with.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from simulator.smpp.codec.constants import (
    HEADER_SIZE,
    RESPONSE_BIT,
    CommandId,
    command_name,
    status_name,
)
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.spec import (
    BODY_OPTIONAL_ON_ERROR,
    BODY_SPEC,
    CSTR,
    DESTS,
    SM,
    TAKES_TLVS,
    TLV_SPEC,
    U8,
    UNSUCCESS,
    FieldSpec,
)

_HEADER = struct.Struct(">IIII")
_TLV_HEAD = struct.Struct(">HH")
_U32 = struct.Struct(">I")


class DestAddress(NamedTuple):
    """One submit_multi destination: an SME address (flag 1) or a distribution list (flag 2)."""

    address: str
    ton: int = 0
    npi: int = 0
    dest_flag: int = 1


class UnsuccessSme(NamedTuple):
    """One entry of submit_multi_resp's unsuccess list."""

    address: str
    error_status: int
    ton: int = 0
    npi: int = 0


ParamValue = int | str | bytes | list[DestAddress] | list[UnsuccessSme]


class Pdu:
    """One SMPP PDU: header fields, mandatory parameters by name, TLVs in wire order."""

    __slots__ = ("command_id", "command_status", "params", "sequence_number", "tlvs")

    def __init__(
        self,
        command_id: int,
        sequence_number: int = 0,
        command_status: int = 0,
        params: dict[str, ParamValue] | None = None,
        tlvs: list[tuple[int, bytes]] | None = None,
    ) -> None:
        self.command_id = command_id
        self.sequence_number = sequence_number
        self.command_status = command_status
        self.params: dict[str, ParamValue] = params if params is not None else {}
        self.tlvs: list[tuple[int, bytes]] = tlvs if tlvs is not None else []

    # -- typed access -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return command_name(self.command_id)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    def str_param(self, name: str) -> str:
        value = self.params.get(name, "")
        if value.__class__ is str:  # the common case first: this runs per field per message
            return value
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return value if isinstance(value, str) else str(value)

    def int_param(self, name: str) -> int:
        value = self.params.get(name, 0)
        if value.__class__ is int:
            return value
        if not isinstance(value, int):
            raise TypeError(f"{self.name}.{name} is not an integer")
        return value

    def bytes_param(self, name: str) -> bytes:
        value = self.params.get(name, b"")
        if isinstance(value, str):
            return value.encode("latin-1")
        if not isinstance(value, bytes):
            raise TypeError(f"{self.name}.{name} is not an octet string")
        return value

    def tlv(self, tag: int) -> bytes | None:
        for item_tag, value in self.tlvs:
            if item_tag == tag:
                return value
        return None

    def tlv_int(self, tag: int) -> int | None:
        raw = self.tlv(tag)
        return None if raw is None else int.from_bytes(raw, "big")

    def tlv_str(self, tag: int) -> str | None:
        raw = self.tlv(tag)
        if raw is None:
            return None
        return raw.rstrip(b"\x00").decode("latin-1")

    def set_tlv(self, tag: int, value: int | str | bytes) -> None:
        """Set (or replace) a TLV, encoding ints and strings the way the tag's spec says."""
        raw = encode_tlv_value(tag, value)
        self.tlvs = [(t, v) for t, v in self.tlvs if t != tag]
        self.tlvs.append((tag, raw))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pdu):
            return NotImplemented
        return (
            self.command_id == other.command_id
            and self.sequence_number == other.sequence_number
            and self.command_status == other.command_status
            and self.params == other.params
            and self.tlvs == other.tlvs
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        status = "" if not self.command_status else f" status={status_name(self.command_status)}"
        head = f"<Pdu {self.name} seq={self.sequence_number}{status}"
        return f"{head} {self.params!r} tlvs={self.tlvs!r}>"

    def describe(self) -> dict[str, object]:
        """A JSON-friendly view (for logs, the journal and the UI)."""
        out: dict[str, object] = {
            "command": self.name,
            "command_status": status_name(self.command_status),
            "sequence_number": self.sequence_number,
        }
        for key, value in self.params.items():
            if isinstance(value, bytes):
                out[key] = value.hex()
            elif isinstance(value, list):
                out[key] = [item._asdict() for item in value]
            else:
                out[key] = value
        if self.tlvs:
            out["tlvs"] = {f"0x{tag:04X}": value.hex() for tag, value in self.tlvs}
        return out


def encode_tlv_value(tag: int, value: int | str | bytes) -> bytes:
    spec = TLV_SPEC.get(tag)
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        size = spec.max_len if spec is not None and spec.kind == "int" else 4
        return value.to_bytes(size, "big")
    return value.encode("latin-1") + b"\x00"


# -- decoding ------------------------------------------------------------------------------


def decode_pdu(frame: bytes) -> Pdu:
    """Decode one whole frame (header included) into a `Pdu`."""
    length = len(frame)
    if length < HEADER_SIZE:
        raise CodecError(f"frame of {length} octets is shorter than a header", S.ESME_RINVCMDLEN)
    command_length, command_id, command_status, sequence = _HEADER.unpack_from(frame, 0)
    if command_length != length:
        raise CodecError(
            f"command_length {command_length} does not match the frame's {length} octets",
            S.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=sequence,
        )
    spec = BODY_SPEC.get(command_id)
    if spec is None:
        raise CodecError(
            f"unknown command_id 0x{command_id:08X}",
            S.ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=sequence,
        )
    pdu = Pdu(command_id, sequence, command_status)
    if length == HEADER_SIZE and command_id in BODY_OPTIONAL_ON_ERROR:
        # Many peers leave the body out of an error response (and some out of any response).
        return pdu
    try:
        offset = _decode_fields(frame, HEADER_SIZE, spec, pdu.params)
        if offset < length:
            if command_id not in TAKES_TLVS:
                raise CodecError(
                    f"{length - offset} unexpected octets after the body of {pdu.name}",
                    S.ESME_RINVCMDLEN,
                )
            _decode_tlvs(frame, offset, pdu.tlvs)
    except CodecError as error:
        error.command_id = command_id
        error.sequence_number = sequence
        raise
    return pdu


def _decode_fields(
    frame: bytes, offset: int, spec: tuple[FieldSpec, ...], params: dict[str, ParamValue]
) -> int:
    end = len(frame)
    for field in spec:
        kind = field.kind
        if kind == U8:
            if offset >= end:
                raise _truncated(field)
            params[field.name] = frame[offset]
            offset += 1
        elif kind == CSTR:
            offset = _read_cstr(frame, offset, field, params)
        elif kind == SM:
            if offset >= end:
                raise _truncated(field)
            sm_length = frame[offset]
            offset += 1
            if sm_length > field.size:
                raise CodecError(
                    f"sm_length {sm_length} is over the {field.size} octets SMPP allows",
                    S.ESME_RINVMSGLEN,
                )
            if offset + sm_length > end:
                raise CodecError(
                    f"sm_length {sm_length} runs past the end of the PDU", S.ESME_RINVMSGLEN
                )
            params[field.name] = frame[offset : offset + sm_length]
            offset += sm_length
        elif kind == DESTS:
            offset = _read_dests(frame, offset, params)
        elif kind == UNSUCCESS:
            offset = _read_unsuccess(frame, offset, params)
        else:  # pragma: no cover - the spec table only uses the kinds above
            raise AssertionError(kind)
    return offset


def _truncated(field: FieldSpec) -> CodecError:
    return CodecError(f"PDU body ends before field {field.name}", S.ESME_RINVCMDLEN)


def _read_cstr(frame: bytes, offset: int, field: FieldSpec, params: dict[str, ParamValue]) -> int:
    limit = min(offset + field.size, len(frame))
    nul = frame.find(b"\x00", offset, limit)
    if nul < 0:
        if limit == len(frame) and limit - offset < field.size:
            raise _truncated(field)
        raise CodecError(
            f"{field.name} is longer than its {field.size - 1} octets (or lacks its NUL)",
            field.status,
        )
    params[field.name] = frame[offset:nul].decode("latin-1")
    return nul + 1


def _read_dests(frame: bytes, offset: int, params: dict[str, ParamValue]) -> int:
    if offset >= len(frame):
        raise CodecError("PDU body ends before number_of_dests", S.ESME_RINVCMDLEN)
    count = frame[offset]
    offset += 1
    if count == 0 or count > 254:
        raise CodecError(f"number_of_dests {count} is outside 1..254", S.ESME_RINVNUMDESTS)
    dests: list[DestAddress] = []
    holder: dict[str, ParamValue] = {}
    for _ in range(count):
        if offset >= len(frame):
            raise CodecError("PDU body ends inside dest_address list", S.ESME_RINVCMDLEN)
        flag = frame[offset]
        offset += 1
        if flag == 1:
            if offset + 2 > len(frame):
                raise CodecError("PDU body ends inside dest_address", S.ESME_RINVCMDLEN)
            ton, npi = frame[offset], frame[offset + 1]
            offset = _read_cstr(
                frame,
                offset + 2,
                FieldSpec("destination_addr", CSTR, 21, S.ESME_RINVDSTADR),
                holder,
            )
            dests.append(DestAddress(str(holder["destination_addr"]), ton, npi, 1))
        elif flag == 2:
            offset = _read_cstr(
                frame, offset, FieldSpec("dl_name", CSTR, 21, S.ESME_RINVDLNAME), holder
            )
            dests.append(DestAddress(str(holder["dl_name"]), 0, 0, 2))
        else:
            raise CodecError(f"dest_flag {flag} is neither 1 nor 2", S.ESME_RINVDESTFLAG)
    params["dest_addresses"] = dests
    return offset


def _read_unsuccess(frame: bytes, offset: int, params: dict[str, ParamValue]) -> int:
    if offset >= len(frame):
        raise CodecError("PDU body ends before no_unsuccess", S.ESME_RINVCMDLEN)
    count = frame[offset]
    offset += 1
    smes: list[UnsuccessSme] = []
    holder: dict[str, ParamValue] = {}
    for _ in range(count):
        if offset + 2 > len(frame):
            raise CodecError("PDU body ends inside unsuccess_sme", S.ESME_RINVCMDLEN)
        ton, npi = frame[offset], frame[offset + 1]
        offset = _read_cstr(
            frame, offset + 2, FieldSpec("address", CSTR, 21, S.ESME_RINVDSTADR), holder
        )
        if offset + 4 > len(frame):
            raise CodecError("PDU body ends inside unsuccess_sme", S.ESME_RINVCMDLEN)
        (status,) = _U32.unpack_from(frame, offset)
        offset += 4
        smes.append(UnsuccessSme(str(holder["address"]), status, ton, npi))
    params["unsuccess_smes"] = smes
    return offset


def _decode_tlvs(frame: bytes, offset: int, out: list[tuple[int, bytes]]) -> None:
    end = len(frame)
    while offset < end:
        if offset + 4 > end:
            raise CodecError("truncated TLV header", S.ESME_RINVOPTPARSTREAM)
        tag, size = _TLV_HEAD.unpack_from(frame, offset)
        offset += 4
        if offset + size > end:
            raise CodecError(
                f"TLV 0x{tag:04X} length {size} runs past the end of the PDU",
                S.ESME_RINVOPTPARSTREAM,
            )
        spec = TLV_SPEC.get(tag)
        if spec is not None and not spec.min_len <= size <= spec.max_len:
            raise CodecError(
                f"TLV 0x{tag:04X} has length {size}; expected {spec.min_len}..{spec.max_len}",
                S.ESME_RINVPARLEN,
            )
        out.append((tag, frame[offset : offset + size]))
        offset += size


# -- encoding ------------------------------------------------------------------------------


def encode_pdu(pdu: Pdu) -> bytes:
    """Encode a `Pdu` to its wire bytes (header included)."""
    spec = BODY_SPEC.get(pdu.command_id)
    if spec is None:
        raise CodecError(f"cannot encode unknown command_id 0x{pdu.command_id:08X}")
    parts: list[bytes] = []
    if not (
        pdu.command_status
        and pdu.command_id in BODY_OPTIONAL_ON_ERROR
        and not pdu.params
        and not pdu.tlvs
    ):
        fast = _encode_sm_fields(pdu.params) if pdu.command_id in _SM_LAYOUT else None
        if fast is not None:
            parts.append(fast)
        else:
            _encode_fields(pdu, spec, parts)
    for tag, value in pdu.tlvs:
        parts.append(_TLV_HEAD.pack(tag, len(value)))
        parts.append(value)
    body = b"".join(parts)
    if not 0 <= pdu.sequence_number <= 0xFFFFFFFF or not 0 <= pdu.command_status <= 0xFFFFFFFF:
        raise CodecError("sequence_number and command_status must fit 32 bits")
    return (
        _HEADER.pack(
            HEADER_SIZE + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
        )
        + body
    )


_SM_LAYOUT = frozenset({CommandId.SUBMIT_SM, CommandId.DELIVER_SM})
_SM_STRINGS = (
    ("service_type", 6),
    ("source_addr", 21),
    ("destination_addr", 21),
    ("schedule_delivery_time", 17),
    ("validity_period", 17),
)
_SM_OCTETS = (
    "source_addr_ton",
    "source_addr_npi",
    "dest_addr_ton",
    "dest_addr_npi",
    "esm_class",
    "protocol_id",
    "priority_flag",
    "registered_delivery",
    "replace_if_present_flag",
    "data_coding",
    "sm_default_msg_id",
)


def _encode_sm_fields(params: dict[str, ParamValue]) -> bytes | None:
    """submit_sm/deliver_sm mandatory fields in one pass (receipts are the hot path).

    Returns None for anything unusual (a missing or ill-typed field, a value out of bounds):
    the generic encoder then produces the exact error.
    """
    strings = []
    for name, size in _SM_STRINGS:
        value = params.get(name, "")
        if type(value) is not str or len(value) >= size or "\x00" in value:
            return None
        strings.append(value.encode("latin-1"))
    octets = []
    for name in _SM_OCTETS:
        number = params.get(name, 0)
        if type(number) is not int or not 0 <= number <= 0xFF:
            return None
        octets.append(number)
    short_message = params.get("short_message", b"")
    if type(short_message) is not bytes or len(short_message) > 254:
        return None
    service_type, source, destination, schedule, validity = strings
    (s_ton, s_npi, d_ton, d_npi, esm, pid, priority, registered, replace, coding, default_id) = (
        octets
    )
    return b"".join(
        (
            service_type,
            b"\x00",
            bytes((s_ton, s_npi)),
            source,
            b"\x00",
            bytes((d_ton, d_npi)),
            destination,
            b"\x00",
            bytes((esm, pid, priority)),
            schedule,
            b"\x00",
            validity,
            b"\x00",
            bytes((registered, replace, coding, default_id, len(short_message))),
            short_message,
        )
    )


def _encode_fields(pdu: Pdu, spec: tuple[FieldSpec, ...], parts: list[bytes]) -> None:
    params = pdu.params
    for field in spec:
        kind = field.kind
        value = params.get(field.name)
        if kind == U8:
            number = 0 if value is None else value
            if not isinstance(number, int) or not 0 <= number <= 0xFF:
                raise CodecError(f"{pdu.name}.{field.name} must be an int 0..255", field.status)
            parts.append(bytes((number,)))
        elif kind == CSTR:
            parts.append(_encode_cstr(pdu, field, value))
        elif kind == SM:
            raw = b"" if value is None else value
            if isinstance(raw, str):
                raw = raw.encode("latin-1")
            if not isinstance(raw, bytes) or len(raw) > field.size:
                raise CodecError(
                    f"{pdu.name}.short_message must be at most {field.size} octets",
                    S.ESME_RINVMSGLEN,
                )
            parts.append(bytes((len(raw),)))
            parts.append(raw)
        elif kind == DESTS:
            parts.append(_encode_dests(value))
        elif kind == UNSUCCESS:
            parts.append(_encode_unsuccess(value))


def _encode_cstr(pdu: Pdu, field: FieldSpec, value: object) -> bytes:
    if value is None:
        return b"\x00"
    raw = value.encode("latin-1") if isinstance(value, str) else value
    if not isinstance(raw, bytes) or len(raw) >= field.size or b"\x00" in raw:
        raise CodecError(
            f"{pdu.name}.{field.name} must be text of at most {field.size - 1} octets",
            field.status,
        )
    return raw + b"\x00"


def _encode_dests(value: object) -> bytes:
    dests = list(_as_list(value))
    if not 1 <= len(dests) <= 254:
        raise CodecError("submit_multi needs 1..254 destinations", S.ESME_RINVNUMDESTS)
    out = bytearray((len(dests),))
    for item in dests:
        dest = item if isinstance(item, DestAddress) else DestAddress(str(item))
        address = _short_address(dest.address, S.ESME_RINVDSTADR)
        if dest.dest_flag == 2:
            out += b"\x02" + address + b"\x00"
        elif dest.dest_flag == 1:
            out += bytes((1, _octet(dest.ton, "ton"), _octet(dest.npi, "npi"))) + address + b"\x00"
        else:
            raise CodecError(f"dest_flag {dest.dest_flag} is neither 1 nor 2", S.ESME_RINVDESTFLAG)
    return bytes(out)


def _encode_unsuccess(value: object) -> bytes:
    smes = list(_as_list(value))
    out = bytearray((len(smes),))
    for item in smes:
        if not isinstance(item, UnsuccessSme):
            raise CodecError("unsuccess_smes items must be UnsuccessSme values")
        out += bytes((_octet(item.ton, "ton"), _octet(item.npi, "npi")))
        out += _short_address(item.address, S.ESME_RINVDSTADR) + b"\x00"
        if not 0 <= item.error_status <= 0xFFFFFFFF:
            raise CodecError("error_status_code must fit 32 bits")
        out += _U32.pack(item.error_status)
    return bytes(out)


def _octet(value: int, name: str) -> int:
    if not 0 <= value <= 0xFF:
        raise CodecError(f"{name} must be an int 0..255; found {value}")
    return value


def _short_address(address: str, status: int) -> bytes:
    raw = address.encode("latin-1")
    if len(raw) > 20 or b"\x00" in raw:
        raise CodecError(f"address {address!r} is longer than 20 octets", status)
    return raw


def _as_list(value: object) -> Iterable[object]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    raise CodecError("expected a list")


def encode_message_id_resp(
    command_id: int, sequence_number: int, message_id: bytes, command_status: int = 0
) -> bytes:
    """Fast path for submit_sm_resp / data_sm_resp / deliver_sm_resp: one pack, no Pdu."""
    return (
        _HEADER.pack(HEADER_SIZE + len(message_id) + 1, command_id, command_status, sequence_number)
        + message_id
        + b"\x00"
    )


def encode_header_only(command_id: int, sequence_number: int, command_status: int = 0) -> bytes:
    return _HEADER.pack(HEADER_SIZE, command_id, command_status, sequence_number)


def response_for(request: Pdu, command_status: int = 0, **params: ParamValue) -> Pdu:
    """The response PDU matching a request (same sequence number)."""
    return Pdu(request.command_id | RESPONSE_BIT, request.sequence_number, command_status, params)


def generic_nack(sequence_number: int, command_status: int) -> Pdu:
    return Pdu(CommandId.GENERIC_NACK, sequence_number, command_status)


# -- framing -------------------------------------------------------------------------------


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, get whole PDUs (or errors) out.

    A frame whose body is malformed yields a non-fatal `CodecError` (the frame is skipped and
    decoding goes on); a command_length outside 16..max yields a fatal one, after which the
    stream cannot be trusted and the decoder refuses more input.
    """

    __slots__ = ("_buffer", "broken", "max_command_length")

    def __init__(self, max_command_length: int = 64 * 1024) -> None:
        self.max_command_length = max_command_length
        self._buffer = bytearray()
        self.broken = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Pdu | CodecError]:
        if self.broken:
            return []
        buffer = self._buffer
        buffer += data
        out: list[Pdu | CodecError] = []
        for item in self._frames(buffer):
            out.append(item)
            if isinstance(item, CodecError) and item.fatal:
                self.broken = True
                buffer.clear()
                break
        return out

    def _frames(self, buffer: bytearray) -> Iterator[Pdu | CodecError]:
        offset = 0
        size = len(buffer)
        try:
            while size - offset >= HEADER_SIZE:
                command_length, command_id, _, sequence = _HEADER.unpack_from(buffer, offset)
                if command_length < HEADER_SIZE or command_length > self.max_command_length:
                    yield CodecError(
                        f"command_length {command_length} is outside "
                        f"{HEADER_SIZE}..{self.max_command_length}",
                        S.ESME_RINVCMDLEN,
                        fatal=True,
                        command_id=command_id,
                        sequence_number=sequence,
                    )
                    return
                if size - offset < command_length:
                    break
                frame = bytes(buffer[offset : offset + command_length])
                offset += command_length
                try:
                    yield decode_pdu(frame)
                except CodecError as error:
                    yield error
        finally:
            if offset:
                del buffer[:offset]
