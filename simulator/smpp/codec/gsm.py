"""GSM 03.38 (3GPP TS 23.038) default alphabet: the text coding behind data_coding 0.

Strategy: SMPP carries GSM text unpacked, one octet per septet, so encoding and decoding are
table lookups done in C by the `codecs.charmap_*` helpers with tables built once at import.
Characters of the extension table travel as two octets (0x1B, code). The rare escape sequences
are resolved after the bulk decode with one compiled regex. Some SMSCs pack septets eight to
seven octets; `pack_septets` / `unpack_septets` cover that, including the fill bits that align
the text on a septet boundary after a user data header.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from simulator.smpp.codec.constants import CommandStatus
from simulator.smpp.codec.errors import CodecError

__all__ = [
    "ESCAPE",
    "TextEncodingError",
    "gsm_decode",
    "gsm_encode",
    "gsm_septet_count",
    "is_gsm",
    "pack_septets",
    "udh_fill_bits",
    "unpack_septets",
]

ESCAPE: Final = 0x1B

# The 128 characters of the default alphabet, in code order. Position 0x1B is the escape to the
# extension table, not a character; it is kept here as "\x1b" and handled separately.
_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(_BASIC) == 128

# The basic extension table: code that follows 0x1B -> character.
_EXTENSION: Final[dict[int, str]] = {
    0x0A: "\f",  # form feed (page break)
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}


class TextEncodingError(CodecError):
    """Text that cannot be carried in the requested coding, or octets that are not valid in it.

    The default status is ESME_RSUBMITFAIL: the message itself cannot be sent as given.
    """

    def __init__(self, message: str, status: int = CommandStatus.ESME_RSUBMITFAIL) -> None:
        super().__init__(message, status)


def _build_encode_map() -> dict[int, int | bytes]:
    table: dict[int, int | bytes] = {}
    for code, char in enumerate(_BASIC):
        if code != ESCAPE:
            table[ord(char)] = code
    for code, char in _EXTENSION.items():
        table[ord(char)] = bytes((ESCAPE, code))
    return table


_ENCODE_MAP: Final = _build_encode_map()
# Octets 0x80-0xFF map to U+FFFE, which charmap_decode treats as "undefined" and rejects.
_DECODE_TABLE: Final = _BASIC + "\ufffe" * 128
# After the bulk decode, the octet following an escape shows up as its basic-table character;
# this maps that character to the extension character. Codes without an extension character fall
# back to the basic-table character (the spec's rule for receivers); a second escape is the
# reserved "another extension table" code, shown as a space.
_ESCAPED: Final[dict[str, str]] = {
    char: _EXTENSION.get(code, char) for code, char in enumerate(_BASIC) if code != ESCAPE
}
_ESCAPED["\x1b"] = " "
_ESCAPED[""] = " "  # an escape as the very last octet: nothing follows it
_ESCAPE_RE: Final = re.compile("\x1b(.?)", re.DOTALL)
_NON_GSM_RE: Final = re.compile(
    "[^" + re.escape("".join(c for c in _BASIC if c != "\x1b") + "".join(_EXTENSION.values())) + "]"
)


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPED[match.group(1)]


def gsm_encode(text: str) -> bytes:
    """Encode text as unpacked GSM septets (one octet each; extension characters take two)."""
    try:
        return codecs.charmap_encode(text, "strict", _ENCODE_MAP)[0]
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        raise TextEncodingError(
            f"character {char!r} (U+{ord(char):04X}) at index {exc.start} "
            "is not in the GSM 03.38 alphabet"
        ) from None


def gsm_decode(data: bytes) -> str:
    """Decode unpacked GSM septets; unknown escape codes fall back to the basic character."""
    try:
        text = codecs.charmap_decode(data, "strict", _DECODE_TABLE)[0]
    except UnicodeDecodeError as exc:
        raise TextEncodingError(
            f"octet 0x{data[exc.start]:02X} at offset {exc.start} is not a GSM septet"
        ) from None
    if "\x1b" in text:
        return _ESCAPE_RE.sub(_unescape, text)
    return text


def is_gsm(text: str) -> bool:
    """True when every character has a GSM 03.38 code (basic or extension table)."""
    return _NON_GSM_RE.search(text) is None


def gsm_septet_count(text: str) -> int:
    """Septets the text needs (extension characters count two); raises for non-GSM text."""
    return len(gsm_encode(text))


def udh_fill_bits(udh_length: int) -> int:
    """Fill bits that put the first septet on a septet boundary after a UDH of that many octets."""
    return (7 - (udh_length * 8) % 7) % 7


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets eight into seven octets, least significant bit first (TS 23.038 6.1.2.1).

    `fill_bits` zero bits come first, as when the packed text follows a user data header.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0..6, got {fill_bits}")
    out = bytearray()
    acc = 0
    bits = fill_bits
    for septet in septets:
        if septet > 0x7F:
            raise TextEncodingError(f"value 0x{septet:02X} is not a septet")
        acc |= septet << bits
        bits += 7
        if bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits and septets:  # fill bits alone need no octet
        out.append(acc)
    return bytes(out)


def unpack_septets(data: bytes, count: int | None = None, fill_bits: int = 0) -> bytes:
    """Unpack 7-bit packed octets into one octet per septet.

    Without `count`, every complete septet is returned; a packing whose last octet has seven
    spare bits then yields a trailing 0x00 ("@"), which only the septet count can tell apart.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0..6, got {fill_bits}")
    available = (len(data) * 8 - fill_bits) // 7 if data else 0
    if count is None:
        count = available
    elif count > available:
        raise TextEncodingError(
            f"{len(data)} packed octets hold {available} septets, not {count}",
            CommandStatus.ESME_RINVMSGLEN,
        )
    out = bytearray(count)
    acc = 0
    bits = 0
    octets = iter(data)
    skip = fill_bits
    for position in range(count):
        while bits < 7 + skip:
            acc |= next(octets) << bits
            bits += 8
        if skip:
            acc >>= skip
            bits -= skip
            skip = 0
        out[position] = acc & 0x7F
        acc >>= 7
        bits -= 7
    return bytes(out)
