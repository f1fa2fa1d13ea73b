"""Message text: data_coding, splitting into concatenated parts, UDH parsing, reassembly.

Strategy: a 256-entry table, built at import, maps every data_coding value to a coding family
(GSM 7-bit, ASCII, Latin-1, Cyrillic, Hebrew, UCS-2, binary, or unsupported), so each call is
one tuple index plus a C-level codec. Splitting works on the encoded octets (one octet per GSM
septet, as SMPP carries them) and moves a cut back when it would separate a GSM escape pair or
a UTF-16 surrogate pair. Reassembly is an explicit, bounded buffer without timers: the caller
passes the time in and calls `expire`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

from simulator.smpp.codec.constants import ESM_CLASS_UDHI, CommandStatus
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.gsm import TextEncodingError, gsm_decode, gsm_encode, is_gsm

__all__ = [
    "IEI_CONCAT_8BIT",
    "IEI_CONCAT_16BIT",
    "Concat",
    "DataCoding",
    "InformationElement",
    "Reassembler",
    "Udh",
    "UdhError",
    "build_udh",
    "choose_coding",
    "decode_text",
    "encode_text",
    "is_text_coding",
    "parse_udh",
    "split_message",
    "split_payload",
    "whole_text",
]

IEI_CONCAT_8BIT: Final = 0x00
IEI_CONCAT_16BIT: Final = 0x08
_MAX_USER_DATA: Final = 140  # octets of TP-UD in one SMS


class DataCoding(IntEnum):
    """SMPP 3.4 data_coding values (section 5.2.19)."""

    SMSC_DEFAULT = 0x00  # GSM 03.38 default alphabet in this simulator
    IA5 = 0x01  # IA5 / ASCII
    OCTET_UNSPECIFIED_2 = 0x02  # 8-bit binary
    LATIN_1 = 0x03  # ISO-8859-1
    OCTET_UNSPECIFIED = 0x04  # 8-bit binary
    JIS = 0x05  # JIS X 0208-1990 (not decoded here)
    CYRILLIC = 0x06  # ISO-8859-5
    LATIN_HEBREW = 0x07  # ISO-8859-8
    UCS2 = 0x08  # UCS-2, decoded as UTF-16-BE so surrogate pairs survive
    PICTOGRAM = 0x09  # not decoded here
    ISO_2022_JP = 0x0A  # music codes (not decoded here)
    EXTENDED_KANJI = 0x0D  # JIS X 0212-1990 (not decoded here)
    KS_C_5601 = 0x0E  # not decoded here
    GSM_MWI_DISCARD = 0xC0  # 1100xxxx: message waiting group, GSM 7-bit text
    GSM_MWI_STORE = 0xD0  # 1101xxxx: message waiting group, GSM 7-bit text
    GSM_MWI_STORE_UCS2 = 0xE0  # 1110xxxx: message waiting group, UCS-2 text (TS 23.038)
    GSM_CLASS_0 = 0xF0  # 1111xxxx: message class group; bit 2 clear = GSM 7-bit
    GSM_CLASS_1 = 0xF1
    GSM_CLASS_2 = 0xF2
    GSM_CLASS_3 = 0xF3
    GSM_CLASS_0_8BIT = 0xF4  # bit 2 set = 8-bit data
    GSM_CLASS_1_8BIT = 0xF5
    GSM_CLASS_2_8BIT = 0xF6
    GSM_CLASS_3_8BIT = 0xF7


_GSM, _ASCII, _LATIN1, _CYRILLIC, _HEBREW, _UCS2, _BINARY = range(7)
_UNSUPPORTED: Final = -1


_SIMPLE_FAMILY: Final = {
    0x00: _GSM,
    0x01: _ASCII,
    0x02: _BINARY,
    0x03: _LATIN1,
    0x04: _BINARY,
    0x06: _CYRILLIC,
    0x07: _HEBREW,
    0x08: _UCS2,
}


def _family_of(dc: int) -> int:
    if dc in _SIMPLE_FAMILY:
        return _SIMPLE_FAMILY[dc]
    group = dc >> 4
    if group in (0xC, 0xD):
        return _GSM
    if group == 0xE:
        return _UCS2
    if group == 0xF:  # bit 3 is reserved; bit 2 picks GSM 7-bit or 8-bit data
        return _BINARY if dc & 0x04 else _GSM
    return _UNSUPPORTED


_FAMILY: Final = tuple(_family_of(dc) for dc in range(256))
_PYTHON_CODEC: Final = {
    _ASCII: "ascii",
    _LATIN1: "latin-1",
    _CYRILLIC: "iso8859_5",
    _HEBREW: "iso8859_8",
    _UCS2: "utf-16-be",
}


class UdhError(CodecError):
    """A user data header, part count or part sequence that does not add up."""

    def __init__(self, message: str, status: int = CommandStatus.ESME_RINVMSGLEN) -> None:
        super().__init__(message, status)


def _family(data_coding: int) -> int:
    if not 0 <= data_coding <= 0xFF:
        raise TextEncodingError(f"data_coding {data_coding} is not an octet")
    family = _FAMILY[data_coding]
    if family == _UNSUPPORTED:
        raise TextEncodingError(f"data_coding 0x{data_coding:02X} is not supported as text")
    return family


def is_text_coding(data_coding: int) -> bool:
    """True when `decode_text` can turn octets of this coding into text (binary is not text)."""
    return 0 <= data_coding <= 0xFF and _FAMILY[data_coding] not in (_BINARY, _UNSUPPORTED)


def decode_text(data: bytes, data_coding: int) -> str:
    """Decode a short_message or message_payload body (without UDH) to text."""
    family = _family(data_coding)
    if family == _GSM:
        return gsm_decode(data)
    if family == _BINARY:
        raise TextEncodingError(f"data_coding 0x{data_coding:02X} carries binary data, not text")
    try:
        return data.decode(_PYTHON_CODEC[family])
    except UnicodeDecodeError as exc:
        odd_ucs2 = family == _UCS2 and len(data) % 2 == 1
        status = CommandStatus.ESME_RINVMSGLEN if odd_ucs2 else CommandStatus.ESME_RSUBMITFAIL
        raise TextEncodingError(
            f"octets at {exc.start}..{exc.end} are not valid for data_coding "
            f"0x{data_coding:02X}: {exc.reason}",
            status,
        ) from None


def encode_text(text: str, data_coding: int) -> bytes:
    """Encode text for a data_coding; raises TextEncodingError when a character does not fit."""
    family = _family(data_coding)
    if family == _GSM:
        return gsm_encode(text)
    if family == _BINARY:
        raise TextEncodingError(f"data_coding 0x{data_coding:02X} is binary; text cannot use it")
    try:
        return text.encode(_PYTHON_CODEC[family])
    except UnicodeEncodeError as exc:
        raise TextEncodingError(
            f"character {text[exc.start]!r} at index {exc.start} cannot be encoded with "
            f"data_coding 0x{data_coding:02X}"
        ) from None


def choose_coding(text: str) -> int:
    """GSM default alphabet when every character has a GSM code, UCS-2 otherwise."""
    return DataCoding.SMSC_DEFAULT if is_gsm(text) else DataCoding.UCS2


@dataclass(frozen=True, slots=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Concat:
    """The concatenation IE: which long message (reference) and which part of how many."""

    reference: int
    total: int
    seq: int
    ref_bits: int = 8

    def to_element(self) -> InformationElement:
        if self.ref_bits == 16:
            data = bytes((self.reference >> 8, self.reference & 0xFF, self.total, self.seq))
            return InformationElement(IEI_CONCAT_16BIT, data)
        return InformationElement(IEI_CONCAT_8BIT, bytes((self.reference, self.total, self.seq)))


def _concat_from(element: InformationElement) -> Concat:
    data = element.data
    if element.iei == IEI_CONCAT_8BIT:
        if len(data) != 3:
            raise UdhError(f"8-bit concatenation IE needs 3 octets, got {len(data)}")
        concat = Concat(data[0], data[1], data[2], 8)
    else:
        if len(data) != 4:
            raise UdhError(f"16-bit concatenation IE needs 4 octets, got {len(data)}")
        concat = Concat((data[0] << 8) | data[1], data[2], data[3], 16)
    if concat.total == 0 or not 1 <= concat.seq <= concat.total:
        raise UdhError(f"concatenation part {concat.seq} of {concat.total} is out of range")
    return concat


@dataclass(frozen=True, slots=True)
class Udh:
    """A parsed user data header; `concat` is the (last) concatenation IE, if any."""

    elements: tuple[InformationElement, ...]
    concat: Concat | None = field(init=False)

    def __post_init__(self) -> None:
        concat = None
        for element in self.elements:  # a repeated IE counts by its last occurrence
            if element.iei in (IEI_CONCAT_8BIT, IEI_CONCAT_16BIT):
                concat = _concat_from(element)
        object.__setattr__(self, "concat", concat)

    @property
    def length(self) -> int:
        """Octets the header takes, length octet included."""
        return 1 + sum(2 + len(element.data) for element in self.elements)

    def to_bytes(self) -> bytes:
        return build_udh(self.elements)


def build_udh(elements: Iterable[InformationElement]) -> bytes:
    """Serialise information elements with their leading UDH length octet."""
    body = bytearray()
    for element in elements:
        if not 0 <= element.iei <= 0xFF or len(element.data) > 0xFF:
            raise UdhError(f"information element 0x{element.iei:X} does not fit its fields")
        body += bytes((element.iei, len(element.data)))
        body += element.data
    if len(body) >= _MAX_USER_DATA:
        raise UdhError(f"a {len(body)}-octet header leaves no room in a message")
    return bytes((len(body),)) + body


def parse_udh(short_message: bytes) -> tuple[Udh, bytes]:
    """Split a UDHI body into its header and the payload that follows it."""
    if not short_message:
        raise UdhError("UDHI is set but the message body is empty")
    end = 1 + short_message[0]
    if end > len(short_message):
        raise UdhError(f"UDH length {short_message[0]} exceeds the {len(short_message)}-octet body")
    elements = []
    pos = 1
    while pos < end:
        if pos + 2 > end:
            raise UdhError(f"information element header truncated at offset {pos}")
        data_end = pos + 2 + short_message[pos + 1]
        if data_end > end:
            raise UdhError(f"information element 0x{short_message[pos]:02X} overruns the UDH")
        elements.append(InformationElement(short_message[pos], short_message[pos + 2 : data_end]))
        pos = data_end
    return Udh(tuple(elements)), short_message[end:]


def _limits(family: int, udh_length: int) -> tuple[int, int]:
    """(whole-message limit, per-part limit) in encoded octets for a family."""
    room = _MAX_USER_DATA - udh_length
    if family == _GSM:
        fill = (7 - (udh_length * 8) % 7) % 7
        return 160, (room * 8 - fill) // 7
    if family == _UCS2:
        return _MAX_USER_DATA, room - room % 2
    return _MAX_USER_DATA, room


def split_payload(
    payload: bytes, data_coding: int, reference: int, *, udh16: bool = False
) -> list[bytes]:
    """Cut encoded octets into short_message bodies, each with a concatenation UDH.

    A body that fits one message is returned alone, without UDH. Cuts never separate a GSM
    escape from its code nor the two halves of a UTF-16 surrogate pair.
    """
    family = _family(data_coding)
    if family == _UCS2 and len(payload) % 2:
        raise TextEncodingError(
            "UCS-2 data has an odd number of octets", CommandStatus.ESME_RINVMSGLEN
        )
    udh_length = 7 if udh16 else 6
    single, part = _limits(family, udh_length)
    size = len(payload)
    if size <= single:
        return [payload]
    if not 0 <= reference <= (0xFFFF if udh16 else 0xFF):
        raise ValueError(f"reference {reference} does not fit {16 if udh16 else 8} bits")
    chunks = []
    start = 0
    while start < size:
        end = min(start + part, size)
        if end < size:
            if family == _GSM:
                run = 0  # escapes ending the chunk; an odd run leaves one without its code
                while run < end - start and payload[end - 1 - run] == 0x1B:
                    run += 1
                end -= run % 2
            elif family == _UCS2 and 0xD8 <= payload[end - 2] <= 0xDB:
                end -= 2
        chunks.append(payload[start:end])
        start = end
    total = len(chunks)
    if total > 0xFF:
        raise UdhError(f"text needs {total} parts; a concatenated message holds at most 255")
    if udh16:
        prefix = bytes((6, IEI_CONCAT_16BIT, 4, reference >> 8, reference & 0xFF, total))
    else:
        prefix = bytes((5, IEI_CONCAT_8BIT, 3, reference, total))
    return [prefix + bytes((seq,)) + chunk for seq, chunk in enumerate(chunks, 1)]


def split_message(
    text: str, data_coding: int, reference: int, *, udh16: bool = False
) -> list[bytes]:
    """Encode text and cut it into short_message bodies (see `split_payload`)."""
    return split_payload(encode_text(text, data_coding), data_coding, reference, udh16=udh16)


def whole_text(
    short_message: bytes, message_payload: bytes | None, data_coding: int, esm_class: int
) -> str | None:
    """Text of a PDU that carries a whole message; None when it is one part of a long message.

    A non-empty message_payload is the body (SMPP lets it replace short_message). A part
    with a concatenation UDH returns None: feed it to a `Reassembler` instead.
    """
    body = message_payload if message_payload else short_message
    if esm_class & ESM_CLASS_UDHI:
        udh, body = parse_udh(body)
        if udh.concat is not None and udh.concat.total > 1:
            return None
    return decode_text(body, data_coding)


@dataclass(slots=True)
class _Pending:
    data_coding: int
    created: float
    parts: dict[int, bytes]


_Key = tuple[Hashable, str, int, int]


class Reassembler:
    """Collects the parts of concatenated messages and returns each text once it is complete.

    Messages are keyed by (originator, reference scheme, reference, total). Parts may arrive in
    any order and duplicates are ignored; a part whose total disagrees with an open message of
    the same reference is an error. At most `max_open` messages wait at once (the oldest is
    dropped and counted in `evicted`); `expire` drops the ones older than a given time.
    """

    def __init__(self, max_open: int = 4096) -> None:
        if max_open < 1:
            raise ValueError("max_open must be at least 1")
        self.max_open = max_open
        self.evicted = 0
        self._open: dict[_Key, _Pending] = {}
        self._totals: dict[tuple[Hashable, str, int], int] = {}

    def __len__(self) -> int:
        return len(self._open)

    def add_short_message(
        self, origin: Hashable, short_message: bytes, data_coding: int, *, now: float
    ) -> str | None:
        """Take a short_message that starts with a UDH (esm_class has UDHI)."""
        udh, payload = parse_udh(short_message)
        concat = udh.concat
        if concat is None:
            return decode_text(payload, data_coding)
        scheme = "udh16" if concat.ref_bits == 16 else "udh8"
        return self._add(
            origin, scheme, concat.reference, concat.total, concat.seq, payload, data_coding, now
        )

    def add_sar(
        self,
        origin: Hashable,
        sar_msg_ref_num: int,
        sar_total_segments: int,
        sar_segment_seqnum: int,
        payload: bytes,
        data_coding: int,
        *,
        now: float,
    ) -> str | None:
        """Take a part described by the SAR TLVs instead of a UDH."""
        if not 1 <= sar_segment_seqnum <= sar_total_segments <= 0xFF:
            raise UdhError(
                f"SAR segment {sar_segment_seqnum} of {sar_total_segments} is out of range"
            )
        return self._add(
            origin,
            "sar",
            sar_msg_ref_num,
            sar_total_segments,
            sar_segment_seqnum,
            payload,
            data_coding,
            now,
        )

    def _add(
        self,
        origin: Hashable,
        scheme: str,
        reference: int,
        total: int,
        seq: int,
        payload: bytes,
        data_coding: int,
        now: float,
    ) -> str | None:
        if not is_text_coding(data_coding):
            raise TextEncodingError(f"data_coding 0x{data_coding:02X} parts are not text")
        if total == 1:
            return decode_text(payload, data_coding)
        ref_key = (origin, scheme, reference)
        known_total = self._totals.get(ref_key)
        if known_total is not None and known_total != total:
            raise UdhError(
                f"part says {total} parts but reference {reference} is open with {known_total}"
            )
        key = (origin, scheme, reference, total)
        pending = self._open.get(key)
        if pending is None:
            if len(self._open) >= self.max_open:
                self._drop(next(iter(self._open)))
                self.evicted += 1
            pending = _Pending(data_coding, now, {})
            self._open[key] = pending
            self._totals[ref_key] = total
        elif pending.data_coding != data_coding:
            raise UdhError(
                f"part {seq} uses data_coding 0x{data_coding:02X}, earlier parts "
                f"0x{pending.data_coding:02X}"
            )
        pending.parts.setdefault(seq, payload)
        if len(pending.parts) < total:
            return None
        self._drop(key)
        parts = pending.parts
        return decode_text(b"".join(parts[i] for i in range(1, total + 1)), data_coding)

    def _drop(self, key: _Key) -> None:
        del self._open[key]
        del self._totals[key[:3]]

    def expire(self, older_than: float) -> int:
        """Drop messages whose first part came before `older_than`; returns how many."""
        stale = [key for key, pending in self._open.items() if pending.created < older_than]
        for key in stale:
            self._drop(key)
        return len(stale)
