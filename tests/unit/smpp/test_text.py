"""data_coding, splitting into parts, UDH parsing and reassembly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smpplib.gsm import make_parts  # type: ignore[import-untyped]

from simulator.smpp.codec.constants import CommandStatus
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.gsm import TextEncodingError
from simulator.smpp.codec.text import (
    Concat,
    DataCoding,
    InformationElement,
    Reassembler,
    Udh,
    UdhError,
    build_udh,
    choose_coding,
    decode_text,
    encode_text,
    is_text_coding,
    parse_udh,
    split_message,
    split_payload,
    whole_text,
)

GSM_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\f^{}\\[~]|€"
)


def _alphabet(codec: str) -> str:
    chars = []
    for octet in range(256):
        try:
            chars.append(bytes((octet,)).decode(codec))
        except UnicodeDecodeError:
            continue
    return "".join(chars)


# --- codings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "coding", "octets"),
    [
        ("Hello", DataCoding.SMSC_DEFAULT, b"Hello"),
        ("5€", DataCoding.SMSC_DEFAULT, b"5\x1b\x65"),
        ("Hi`", DataCoding.IA5, b"Hi`"),
        ("café", DataCoding.LATIN_1, b"caf\xe9"),
        ("Жук", DataCoding.CYRILLIC, b"\xb6\xe3\xda"),
        ("שלום", DataCoding.LATIN_HEBREW, b"\xf9\xec\xe5\xed"),
        ("€", DataCoding.UCS2, b"\x20\xac"),
        ("a😀", DataCoding.UCS2, b"\x00a\xd8\x3d\xde\x00"),
        ("Hi", DataCoding.GSM_CLASS_1, b"Hi"),
        ("Hi", DataCoding.GSM_MWI_STORE, b"Hi"),
        ("Hi", DataCoding.GSM_MWI_STORE_UCS2, b"\x00H\x00i"),
    ],
)
def test_encode_and_decode_literals(text: str, coding: int, octets: bytes) -> None:
    assert encode_text(text, coding) == octets
    assert decode_text(octets, coding) == text


@pytest.mark.parametrize("coding", [0x02, 0x04, 0xF4, 0xF7])
def test_binary_codings_are_not_text(coding: int) -> None:
    assert not is_text_coding(coding)
    with pytest.raises(TextEncodingError, match="binary"):
        decode_text(b"\x01\x02", coding)
    with pytest.raises(TextEncodingError, match="binary"):
        encode_text("x", coding)


@pytest.mark.parametrize("coding", [0x05, 0x09, 0x0A, 0x0D, 0x0E, 0x0F, 0x80, 0xBF])
def test_codings_without_a_decoder_are_refused(coding: int) -> None:
    assert not is_text_coding(coding)
    with pytest.raises(TextEncodingError, match="not supported"):
        decode_text(b"abc", coding)


@pytest.mark.parametrize("coding", [0x00, 0x01, 0x03, 0x06, 0x07, 0x08, 0xC3, 0xD8, 0xE0, 0xF0])
def test_text_codings(coding: int) -> None:
    assert is_text_coding(coding)


def test_out_of_range_coding() -> None:
    assert not is_text_coding(256)
    assert not is_text_coding(-1)
    with pytest.raises(TextEncodingError):
        decode_text(b"", 256)


def test_unencodable_text_answers_submit_fail() -> None:
    with pytest.raises(TextEncodingError) as caught:
        encode_text("é", DataCoding.IA5)
    assert caught.value.status == CommandStatus.ESME_RSUBMITFAIL
    with pytest.raises(TextEncodingError):
        encode_text("😀", DataCoding.LATIN_1)
    with pytest.raises(TextEncodingError):
        encode_text("\ud83d", DataCoding.UCS2)  # a lone surrogate has no UTF-16 form


def test_odd_ucs2_length_is_a_length_error() -> None:
    with pytest.raises(TextEncodingError) as caught:
        decode_text(b"\x00a\x00", DataCoding.UCS2)
    assert caught.value.status == CommandStatus.ESME_RINVMSGLEN


def test_ia5_refuses_8bit_octets() -> None:
    with pytest.raises(TextEncodingError):
        decode_text(b"\xe9", DataCoding.IA5)


def test_choose_coding() -> None:
    assert choose_coding("Pay 5€ {now}") == DataCoding.SMSC_DEFAULT
    assert choose_coding("") == DataCoding.SMSC_DEFAULT
    assert choose_coding("Привет") == DataCoding.UCS2
    assert choose_coding("price `5`") == DataCoding.UCS2


# --- splitting --------------------------------------------------------------------------------


def test_three_part_gsm_split_of_400_characters() -> None:
    text = ("The quick brown fox jumps over the lazy dog. " * 9)[:400]
    parts = split_message(text, DataCoding.SMSC_DEFAULT, 0x42)
    assert [len(p) for p in parts] == [6 + 153, 6 + 153, 6 + 94]
    assert [p[:6] for p in parts] == [
        b"\x05\x00\x03\x42\x03\x01",
        b"\x05\x00\x03\x42\x03\x02",
        b"\x05\x00\x03\x42\x03\x03",
    ]
    assert b"".join(p[6:] for p in parts) == text.encode("ascii")


def test_sixteen_bit_reference_split() -> None:
    parts = split_message("x" * 400, DataCoding.SMSC_DEFAULT, 0x1234, udh16=True)
    assert [len(p) for p in parts] == [7 + 152, 7 + 152, 7 + 96]
    assert parts[1][:7] == b"\x06\x08\x04\x12\x34\x03\x02"


def test_single_message_limits_carry_no_udh() -> None:
    assert split_message("a" * 160, DataCoding.SMSC_DEFAULT, 1) == [b"a" * 160]
    assert len(split_message("a" * 161, DataCoding.SMSC_DEFAULT, 1)) == 2
    assert split_message("€" * 80, DataCoding.SMSC_DEFAULT, 1) == [b"\x1b\x65" * 80]
    assert len(split_message("€" * 81, DataCoding.SMSC_DEFAULT, 1)) == 2
    assert split_message("é" * 140, DataCoding.LATIN_1, 1) == [b"\xe9" * 140]
    assert [len(p) for p in split_message("é" * 141, DataCoding.LATIN_1, 1)] == [140, 13]
    assert len(split_message("ж" * 70, DataCoding.UCS2, 1)) == 1
    assert [len(p) for p in split_message("ж" * 71, DataCoding.UCS2, 1)] == [6 + 134, 6 + 8]


def test_empty_text_is_one_empty_part() -> None:
    assert split_message("", DataCoding.SMSC_DEFAULT, 7) == [b""]
    assert split_message("", DataCoding.UCS2, 7) == [b""]


def test_escape_pair_at_the_153_boundary_moves_to_the_next_part() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = split_message(text, DataCoding.SMSC_DEFAULT, 9)
    assert parts[0][6:] == b"a" * 152
    assert parts[1][6:] == b"\x1b\x65" + b"b" * 10
    assert [decode_text(p[6:], 0) for p in parts] == ["a" * 152, "€" + "b" * 10]


def test_escape_pair_ending_exactly_at_the_boundary_stays() -> None:
    parts = split_message("a" * 151 + "€" + "b" * 10, DataCoding.SMSC_DEFAULT, 9)
    assert parts[0][6:] == b"a" * 151 + b"\x1b\x65"


def test_double_escape_is_not_taken_for_an_open_pair() -> None:
    payload = b"a" * 151 + b"\x1b\x1b" + b"c" * 20
    parts = split_payload(payload, DataCoding.SMSC_DEFAULT, 3)
    assert parts[0][6:] == b"a" * 151 + b"\x1b\x1b"


def test_surrogate_pair_at_the_67_boundary_moves_to_the_next_part() -> None:
    text = "a" * 66 + "😀" + "b" * 10
    parts = split_message(text, DataCoding.UCS2, 5)
    assert parts[0][6:] == "a".encode("utf-16-be") * 66
    assert parts[1][6:8] == b"\xd8\x3d"
    assert [decode_text(p[6:], DataCoding.UCS2) for p in parts] == ["a" * 66, "😀" + "b" * 10]


def test_too_many_parts() -> None:
    with pytest.raises(UdhError) as caught:
        split_message("a" * (153 * 255 + 1), DataCoding.SMSC_DEFAULT, 1)
    assert caught.value.status == CommandStatus.ESME_RINVMSGLEN
    assert len(split_message("a" * (153 * 255), DataCoding.SMSC_DEFAULT, 1)) == 255


def test_reference_must_fit() -> None:
    with pytest.raises(ValueError):
        split_message("a" * 200, DataCoding.SMSC_DEFAULT, 256)
    assert split_message("a" * 200, DataCoding.SMSC_DEFAULT, 256, udh16=True)[0][3:5] == b"\x01\x00"


def test_split_odd_ucs2_payload() -> None:
    with pytest.raises(TextEncodingError):
        split_payload(b"\x00" * 201, DataCoding.UCS2, 1)


def test_binary_payload_splits_at_134_octets() -> None:
    parts = split_payload(bytes(range(200)), DataCoding.OCTET_UNSPECIFIED, 1)
    assert [len(p) for p in parts] == [140, 72]


# --- UDH --------------------------------------------------------------------------------------


def test_parse_udh_with_ports_and_concat() -> None:
    body = b"\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x2a\x02\x01payload"
    udh, payload = parse_udh(body)
    assert payload == b"payload"
    assert udh.elements == (
        InformationElement(0x05, b"\x0b\x84\x23\xf0"),
        InformationElement(0x00, b"\x2a\x02\x01"),
    )
    assert udh.concat == Concat(reference=0x2A, total=2, seq=1, ref_bits=8)
    assert udh.length == 12
    assert udh.to_bytes() == body[:12]


def test_parse_sixteen_bit_concat() -> None:
    udh, payload = parse_udh(b"\x06\x08\x04\xbe\xef\x04\x03hi")
    assert udh.concat == Concat(0xBEEF, 4, 3, 16)
    assert payload == b"hi"


def test_udh_without_concat_and_empty_udh() -> None:
    assert parse_udh(b"\x00abc") == (Udh(()), b"abc")
    udh, _ = parse_udh(b"\x03\x24\x01\x01text")
    assert udh.concat is None


def test_repeated_concat_ie_counts_by_the_last() -> None:
    udh, _ = parse_udh(b"\x0a\x00\x03\x01\x02\x01\x00\x03\x07\x03\x02")
    assert udh.concat == Concat(7, 3, 2, 8)


@pytest.mark.parametrize(
    "body",
    [
        b"",  # UDHI set but nothing at all
        b"\x05\x00\x03\x01",  # header longer than the body
        b"\x01\x00",  # IE header cut short
        b"\x04\x00\x03\x01\x02",  # IE data runs past the header
        b"\x04\x00\x02\x01\x02",  # 8-bit concat with 2 octets
        b"\x05\x08\x03\x01\x02\x01",  # 16-bit concat with 3 octets
        b"\x05\x00\x03\x01\x02\x00",  # part 0
        b"\x05\x00\x03\x01\x02\x03",  # part 3 of 2
        b"\x05\x00\x03\x01\x00\x00",  # zero parts
    ],
)
def test_malformed_udh(body: bytes) -> None:
    with pytest.raises(UdhError) as caught:
        parse_udh(body)
    assert caught.value.status == CommandStatus.ESME_RINVMSGLEN
    assert isinstance(caught.value, CodecError)


def test_build_udh() -> None:
    assert build_udh([Concat(0x42, 3, 1).to_element()]) == b"\x05\x00\x03\x42\x03\x01"
    assert build_udh([Concat(0x1234, 3, 1, 16).to_element()]) == b"\x06\x08\x04\x12\x34\x03\x01"
    assert build_udh([]) == b"\x00"
    with pytest.raises(UdhError):
        build_udh([InformationElement(0x20, b"x" * 256)])
    with pytest.raises(UdhError):
        build_udh([InformationElement(0x20, b"x" * 138)])


# --- whole_text and reassembly ----------------------------------------------------------------


def test_whole_text_sources() -> None:
    assert whole_text(b"Hello", None, 0, 0x00) == "Hello"
    assert whole_text(b"", "Привет".encode("utf-16-be"), 8, 0x00) == "Привет"
    assert whole_text(b"short", b"", 0, 0x00) == "short"
    assert whole_text(b"\x03\x24\x01\x01Hi", None, 0, 0x40) == "Hi"
    assert whole_text(b"\x05\x00\x03\x01\x01\x01Hi", None, 0, 0x40) == "Hi"
    assert whole_text(b"\x05\x00\x03\x01\x02\x01Hi", None, 0, 0x40) is None
    # without UDHI the same octets are text
    assert whole_text(b"\x05\x00\x03\x01\x02\x01Hi", None, 0, 0x00) == "é@¥£$£Hi"


def test_reassembly_in_any_order_with_duplicates() -> None:
    parts = split_message("x" * 320 + "€", DataCoding.SMSC_DEFAULT, 77)
    assert len(parts) == 3
    box = Reassembler()
    assert box.add_short_message("acct", parts[2], 0, now=1.0) is None
    assert box.add_short_message("acct", parts[2], 0, now=1.0) is None
    assert box.add_short_message("acct", parts[0], 0, now=1.0) is None
    assert len(box) == 1
    assert box.add_short_message("acct", parts[1], 0, now=2.0) == "x" * 320 + "€"
    assert len(box) == 0


def test_same_reference_from_two_originators_does_not_mix() -> None:
    a = split_message("a" * 200, DataCoding.SMSC_DEFAULT, 5)
    b = split_message("b" * 200, DataCoding.SMSC_DEFAULT, 5)
    box = Reassembler()
    assert box.add_short_message("one", a[0], 0, now=0) is None
    assert box.add_short_message("two", b[1], 0, now=0) is None
    assert box.add_short_message("two", b[0], 0, now=0) == "b" * 200
    assert box.add_short_message("one", a[1], 0, now=0) == "a" * 200


def test_inconsistent_total_is_an_error() -> None:
    box = Reassembler()
    box.add_short_message("o", b"\x05\x00\x03\x09\x03\x01aa", 0, now=0)
    with pytest.raises(UdhError, match="open with 3"):
        box.add_short_message("o", b"\x05\x00\x03\x09\x02\x02bb", 0, now=0)


def test_mixed_data_coding_is_an_error() -> None:
    box = Reassembler()
    box.add_short_message("o", b"\x05\x00\x03\x09\x02\x01aa", 0, now=0)
    with pytest.raises(UdhError, match="data_coding"):
        box.add_short_message("o", b"\x05\x00\x03\x09\x02\x02bb", 3, now=0)


def test_binary_parts_are_refused() -> None:
    with pytest.raises(TextEncodingError):
        Reassembler().add_short_message("o", b"\x05\x00\x03\x09\x02\x01aa", 4, now=0)


def test_single_part_and_plain_udh_come_straight_back() -> None:
    box = Reassembler()
    assert box.add_short_message("o", b"\x05\x00\x03\x09\x01\x01solo", 0, now=0) == "solo"
    assert box.add_short_message("o", b"\x03\x24\x01\x01plain", 0, now=0) == "plain"
    assert box.add_sar("o", 1, 1, 1, b"sar", 0, now=0) == "sar"
    assert len(box) == 0


def test_sar_parts() -> None:
    box = Reassembler()
    assert box.add_sar("o", 0x1234, 2, 2, "ld".encode("utf-16-be"), 8, now=0) is None
    assert box.add_sar("o", 0x1234, 2, 1, "wor".encode("utf-16-be"), 8, now=0) == "world"
    with pytest.raises(UdhError):
        box.add_sar("o", 1, 2, 3, b"x", 0, now=0)
    with pytest.raises(UdhError):
        box.add_sar("o", 1, 0, 0, b"x", 0, now=0)


def test_sar_and_udh_references_are_separate() -> None:
    box = Reassembler()
    box.add_sar("o", 9, 2, 1, b"sar-", 0, now=0)
    assert box.add_short_message("o", b"\x05\x00\x03\x09\x03\x01udh", 0, now=0) is None
    assert len(box) == 2


def test_bounded_buffer_evicts_the_oldest() -> None:
    box = Reassembler(max_open=2)
    for ref in (1, 2, 3):
        box.add_sar("o", ref, 2, 1, b"first-", 0, now=float(ref))
    assert len(box) == 2
    assert box.evicted == 1
    assert box.add_sar("o", 1, 2, 2, b"second", 0, now=9) is None  # ref 1 was dropped
    assert box.add_sar("o", 3, 2, 2, b"second", 0, now=9) == "first-second"
    with pytest.raises(ValueError):
        Reassembler(max_open=0)


def test_expire_drops_old_messages_only() -> None:
    box = Reassembler()
    box.add_sar("o", 1, 2, 1, b"old", 0, now=10.0)
    box.add_sar("o", 2, 2, 1, b"new", 0, now=20.0)
    assert box.expire(older_than=15.0) == 1
    assert len(box) == 1
    assert box.add_sar("o", 2, 2, 2, b"er", 0, now=21.0) == "newer"
    # the expired reference may start afresh, even with another total
    assert box.add_sar("o", 1, 3, 1, b"a", 0, now=22.0) is None


def test_smpplib_parts_with_a_split_escape_still_reassemble() -> None:
    # smpplib cuts at 153 octets even inside an escape pair; joining octets first repairs it
    text = "a" * 152 + "€" + "b" * 20
    parts, coding, esm_class = make_parts(text)
    assert (coding, esm_class) == (0, 0x40)
    assert parts[0][-1:] == b"\x1b"
    box = Reassembler()
    results = [box.add_short_message("o", p, coding, now=0) for p in parts]
    assert results[-1] == text


# --- properties -------------------------------------------------------------------------------

_GSM_CHARS = st.one_of(st.sampled_from(GSM_ALPHABET), st.sampled_from("€[]{}|^~\\\f"))
# (coding, characters); astral characters and escapes are drawn often so boundaries hit them
CODING_CHARS: list[tuple[int, st.SearchStrategy[str]]] = [
    (DataCoding.SMSC_DEFAULT, _GSM_CHARS),
    (DataCoding.GSM_CLASS_0, _GSM_CHARS),
    (DataCoding.IA5, st.characters(max_codepoint=0x7F)),
    (DataCoding.LATIN_1, st.characters(max_codepoint=0xFF)),
    (DataCoding.CYRILLIC, st.sampled_from(_alphabet("iso8859_5"))),
    (DataCoding.LATIN_HEBREW, st.sampled_from(_alphabet("iso8859_8"))),
    (DataCoding.UCS2, st.characters(codec="utf-8") | st.characters(min_codepoint=0x10000)),
]


@st.composite
def coding_and_text(draw: st.DrawFn) -> tuple[int, str]:
    coding, chars = draw(st.sampled_from(CODING_CHARS))
    low, high = draw(st.sampled_from([(0, 30), (60, 200), (300, 800)]))
    return coding, draw(st.text(chars, min_size=low, max_size=high))


@given(st.text())
def test_ucs2_round_trip_of_any_text(text: str) -> None:
    assert decode_text(encode_text(text, DataCoding.UCS2), DataCoding.UCS2) == text


@given(coding_and_text())
def test_round_trip_per_coding(case: tuple[int, str]) -> None:
    coding, text = case
    assert decode_text(encode_text(text, coding), coding) == text


@given(coding_and_text(), st.integers(0, 0xFFFF), st.booleans(), st.data())
def test_split_then_reassemble_shuffled(
    case: tuple[int, str], reference: int, udh16: bool, data: st.DataObject
) -> None:
    coding, text = case
    reference = reference if udh16 else reference & 0xFF
    parts = split_message(text, coding, reference, udh16=udh16)
    if len(parts) == 1:
        assert parts[0] == encode_text(text, coding)
        return
    udh_len = 7 if udh16 else 6
    limit = 153 - udh16 if coding in (0x00, 0xF0) else 140 - udh_len
    pieces = []
    for seq, part in enumerate(parts, 1):
        udh, payload = parse_udh(part)
        assert udh.concat == Concat(reference, len(parts), seq, 16 if udh16 else 8)
        assert len(payload) <= limit
        pieces.append(decode_text(payload, coding))  # no part ends inside a character
    assert "".join(pieces) == text
    box = Reassembler()
    shuffled = data.draw(st.permutations(parts))
    results = [box.add_short_message("esme", p, coding, now=0.0) for p in shuffled]
    assert results[:-1] == [None] * (len(parts) - 1)
    assert results[-1] == text
    assert len(box) == 0
