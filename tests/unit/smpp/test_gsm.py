"""GSM 03.38 default alphabet: literal vectors, the escape table, septet packing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.smpp.codec.constants import CommandStatus
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.gsm import (
    TextEncodingError,
    gsm_decode,
    gsm_encode,
    gsm_septet_count,
    is_gsm,
    pack_septets,
    udh_fill_bits,
    unpack_septets,
)

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = "\f^{}\\[~]|€"
GSM_CHARS = st.sampled_from(BASIC + EXTENDED)


def test_ascii_letters_keep_their_codes() -> None:
    assert gsm_encode("Hello") == b"\x48\x65\x6c\x6c\x6f"
    assert gsm_decode(b"\x48\x65\x6c\x6c\x6f") == "Hello"


@pytest.mark.parametrize(
    ("char", "code"),
    [("@", b"\x00"), ("£", b"\x01"), ("$", b"\x02"), ("_", b"\x11"), ("Δ", b"\x10"),
     ("¤", b"\x24"), ("¡", b"\x40"), ("§", b"\x5f"), ("¿", b"\x60"), ("à", b"\x7f"),
     ("\n", b"\x0a"), ("\r", b"\x0d"), ("É", b"\x1f")],
)
def test_basic_table_positions(char: str, code: bytes) -> None:
    assert gsm_encode(char) == code
    assert gsm_decode(code) == char


@pytest.mark.parametrize(
    ("char", "code"),
    [("€", 0x65), ("\f", 0x0A), ("^", 0x14), ("{", 0x28), ("}", 0x29), ("\\", 0x2F),
     ("[", 0x3C), ("~", 0x3D), ("]", 0x3E), ("|", 0x40)],
)
def test_extension_table_uses_escape(char: str, code: int) -> None:
    assert gsm_encode(char) == bytes((0x1B, code))
    assert gsm_decode(bytes((0x1B, code))) == char
    assert gsm_septet_count(char) == 2


def test_the_whole_alphabet_has_137_characters() -> None:
    # 128 codes minus the escape, plus the ten extension characters
    assert len(set(BASIC)) == 127
    assert all(is_gsm(c) for c in BASIC + EXTENDED)
    assert gsm_encode(BASIC) == bytes(c for c in range(128) if c != 0x1B)


def test_price_with_euro() -> None:
    assert gsm_encode("5€") == b"\x35\x1b\x65"
    assert gsm_septet_count("Price: 5€ [net]") == 18


@pytest.mark.parametrize("text", ["`", "ç", "Ä\u0301", "😀", "\x1b", "ü ÿ"])
def test_characters_outside_the_alphabet_are_refused(text: str) -> None:
    assert not is_gsm(text)
    with pytest.raises(TextEncodingError) as caught:
        gsm_encode(text)
    assert caught.value.status == CommandStatus.ESME_RSUBMITFAIL
    assert isinstance(caught.value, CodecError)


def test_error_names_the_position() -> None:
    with pytest.raises(TextEncodingError, match="index 3"):
        gsm_encode("abc`")


def test_unknown_escape_falls_back_to_the_basic_character() -> None:
    assert gsm_decode(b"\x1b\x41") == "A"
    assert gsm_decode(b"x\x1b\x00y") == "x@y"


def test_double_escape_and_trailing_escape_show_a_space() -> None:
    assert gsm_decode(b"a\x1b\x1bb") == "a b"
    assert gsm_decode(b"ab\x1b") == "ab "


def test_octets_above_0x7f_are_errors() -> None:
    with pytest.raises(TextEncodingError, match="0x80 at offset 2"):
        gsm_decode(b"ab\x80")


def test_empty_text() -> None:
    assert gsm_encode("") == b""
    assert gsm_decode(b"") == ""
    assert is_gsm("")
    assert gsm_septet_count("") == 0


def test_known_packed_vector() -> None:
    # the classic "hellohello" example: ten septets in nine octets
    packed = bytes.fromhex("e8329bfd4697d9ec37")
    assert pack_septets(gsm_encode("hellohello")) == packed
    assert gsm_decode(unpack_septets(packed, 10)) == "hellohello"


def test_eight_septets_fill_seven_octets() -> None:
    packed = pack_septets(b"\x7f" * 8)
    assert packed == b"\xff" * 7
    assert unpack_septets(packed) == b"\x7f" * 8


def test_seven_septets_leave_an_ambiguous_last_septet() -> None:
    packed = pack_septets(b"\x41" * 7)
    assert len(packed) == 7
    assert unpack_septets(packed) == b"\x41" * 7 + b"\x00"
    assert unpack_septets(packed, 7) == b"\x41" * 7


def test_fill_bits_shift_the_text() -> None:
    assert udh_fill_bits(6) == 1
    assert udh_fill_bits(7) == 0
    assert udh_fill_bits(5) == 2
    assert pack_septets(b"\x41", fill_bits=1) == b"\x82"
    assert unpack_septets(b"\x82", 1, fill_bits=1) == b"\x41"


def test_packing_refuses_bad_input() -> None:
    with pytest.raises(TextEncodingError):
        pack_septets(b"\x80")
    with pytest.raises(ValueError):
        pack_septets(b"a", fill_bits=7)
    with pytest.raises(TextEncodingError) as caught:
        unpack_septets(b"\x00", 2)
    assert caught.value.status == CommandStatus.ESME_RINVMSGLEN


@given(st.text(GSM_CHARS))
def test_gsm_round_trip(text: str) -> None:
    encoded = gsm_encode(text)
    assert gsm_decode(encoded) == text
    assert gsm_septet_count(text) == len(text) + sum(c in EXTENDED for c in text)
    assert is_gsm(text)


@given(st.text())
def test_is_gsm_agrees_with_the_encoder(text: str) -> None:
    try:
        gsm_encode(text)
    except TextEncodingError:
        assert not is_gsm(text)
    else:
        assert is_gsm(text)


@given(st.binary().map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_unpack_round_trip(septets: bytes, fill: int) -> None:
    packed = pack_septets(septets, fill)
    assert len(packed) == ((len(septets) * 7 + fill + 7) // 8 if septets else 0)
    assert unpack_septets(packed, len(septets), fill) == septets
