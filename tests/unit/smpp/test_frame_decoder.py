"""FrameDecoder: cutting a TCP byte stream into PDUs, and what it does with bad frames."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.smpp.codec import (
    CodecError,
    CommandId,
    CommandStatus,
    FrameDecoder,
    Pdu,
    decode_pdu,
)

S = CommandStatus
GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "pdu"


def load_golden(name: str) -> bytes:
    text = (GOLDEN_DIR / f"{name}.hex").read_text(encoding="ascii")
    digits = "".join(line.split("#", 1)[0] for line in text.splitlines())
    return bytes.fromhex("".join(digits.split()))


GOLDEN_NAMES = sorted(path.stem for path in GOLDEN_DIR.glob("*.hex"))
GOLDEN = {name: load_golden(name) for name in GOLDEN_NAMES}


def _header(command_length: int, command_id: int, sequence: int, status: int = 0) -> bytes:
    return struct.pack(">IIII", command_length, command_id, status, sequence)


def _only_pdus(items: list[Pdu | CodecError]) -> list[Pdu]:
    assert all(isinstance(item, Pdu) for item in items), items
    return [item for item in items if isinstance(item, Pdu)]


# --- partial input ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_frame_fed_one_byte_at_a_time(name: str) -> None:
    frame = GOLDEN[name]
    decoder = FrameDecoder()
    for index, byte in enumerate(frame[:-1]):
        assert decoder.feed(bytes((byte,))) == []
        assert decoder.buffered == index + 1
    assert decoder.feed(frame[-1:]) == [decode_pdu(frame)]
    assert decoder.buffered == 0
    assert not decoder.broken


def test_empty_feed_is_harmless() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(GOLDEN["enquire_link"][:5]) == []
    assert decoder.feed(b"") == []
    assert decoder.feed(GOLDEN["enquire_link"][5:]) == [decode_pdu(GOLDEN["enquire_link"])]


def test_frame_split_across_two_frames_boundary() -> None:
    first, second = GOLDEN["submit_sm"], GOLDEN["deliver_sm_receipt"]
    decoder = FrameDecoder()
    items = decoder.feed(first + second[:20])
    assert items == [decode_pdu(first)]
    assert decoder.buffered == 20
    assert decoder.feed(second[20:]) == [decode_pdu(second)]


# --- many frames ------------------------------------------------------------------------------


def test_every_golden_frame_in_one_feed() -> None:
    stream = b"".join(GOLDEN[name] for name in GOLDEN_NAMES)
    items = FrameDecoder().feed(stream)
    assert _only_pdus(items) == [decode_pdu(GOLDEN[name]) for name in GOLDEN_NAMES]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(GOLDEN_NAMES), min_size=1, max_size=15),
    st.lists(st.integers(1, 200), min_size=1, max_size=40),
)
def test_any_split_gives_the_same_pdus(names: list[str], sizes: list[int]) -> None:
    stream = b"".join(GOLDEN[name] for name in names)
    decoder = FrameDecoder()
    items: list[Pdu | CodecError] = []
    offset, turn = 0, 0
    while offset < len(stream):
        size = sizes[turn % len(sizes)]
        items += decoder.feed(stream[offset : offset + size])
        offset, turn = offset + size, turn + 1
    assert _only_pdus(items) == [decode_pdu(GOLDEN[name]) for name in names]
    assert decoder.buffered == 0


# --- bad frames -------------------------------------------------------------------------------

UNKNOWN_COMMAND = _header(20, 0x00000099, 77) + b"\x00\x00\x00\x00"
SHORT_BODY = _header(20, CommandId.SUBMIT_SM, 78) + b"\x00\x01\x01\x00"
# sc_interface_version with length 0 instead of 1
BAD_TLV_LENGTH = _header(27, CommandId.BIND_TRANSCEIVER_RESP, 79) + b"DLRSIM\x00\x02\x10\x00\x00"


@pytest.mark.parametrize(
    ("bad", "status"),
    [
        (UNKNOWN_COMMAND, S.ESME_RINVCMDID),
        (SHORT_BODY, S.ESME_RINVCMDLEN),
        (BAD_TLV_LENGTH, S.ESME_RINVPARLEN),
    ],
    ids=["unknown-command", "short-body", "bad-tlv"],
)
def test_bad_frame_in_the_middle_does_not_stop_the_rest(bad: bytes, status: int) -> None:
    before, after = GOLDEN["submit_sm"], GOLDEN["enquire_link"]
    decoder = FrameDecoder()
    items = decoder.feed(before + bad + after + GOLDEN["unbind"])
    assert len(items) == 4
    assert items[0] == decode_pdu(before)
    error = items[1]
    assert isinstance(error, CodecError)
    assert error.status == status
    assert not error.fatal
    assert error.command_id == int.from_bytes(bad[4:8], "big")
    assert error.sequence_number == int.from_bytes(bad[12:16], "big")
    assert items[2:] == [decode_pdu(after), decode_pdu(GOLDEN["unbind"])]
    assert not decoder.broken
    assert decoder.feed(GOLDEN["unbind_resp"]) == [decode_pdu(GOLDEN["unbind_resp"])]


@pytest.mark.parametrize("command_length", [0, 1, 15])
def test_command_length_below_header_size_is_fatal(command_length: int) -> None:
    decoder = FrameDecoder()
    good = GOLDEN["enquire_link"]
    items = decoder.feed(good + _header(command_length, CommandId.ENQUIRE_LINK, 9) + good)
    assert items[0] == decode_pdu(good)
    assert len(items) == 2
    error = items[1]
    assert isinstance(error, CodecError)
    assert error.fatal
    assert error.status == S.ESME_RINVCMDLEN
    assert error.sequence_number == 9
    assert decoder.broken
    assert decoder.buffered == 0
    assert decoder.feed(good) == []


def test_fatal_length_is_reported_as_soon_as_the_header_arrives() -> None:
    decoder = FrameDecoder(max_command_length=1000)
    header = _header(5000, CommandId.SUBMIT_SM, 3)
    assert decoder.feed(header[:15]) == []
    items = decoder.feed(header[15:])
    assert len(items) == 1 and isinstance(items[0], CodecError) and items[0].fatal
    assert decoder.broken


def test_max_command_length_is_honoured() -> None:
    resp = GOLDEN["submit_sm_resp"]  # 25 octets
    limit = len(resp)
    decoder = FrameDecoder(max_command_length=limit)
    assert decoder.feed(resp) == [decode_pdu(resp)]
    too_big = GOLDEN["submit_sm"]
    items = decoder.feed(resp + too_big + resp)
    assert items[0] == decode_pdu(resp)
    assert len(items) == 2
    error = items[1]
    assert isinstance(error, CodecError) and error.fatal
    assert error.status == S.ESME_RINVCMDLEN
    assert error.command_id == CommandId.SUBMIT_SM
    assert decoder.broken
    assert decoder.feed(resp) == []


def test_default_limit_is_64_kib() -> None:
    decoder = FrameDecoder()
    assert decoder.max_command_length == 64 * 1024
    # one octet more than 64 KiB is refused from the header alone
    (error,) = decoder.feed(_header(64 * 1024 + 1, CommandId.DATA_SM, 1))
    assert isinstance(error, CodecError) and error.fatal


def test_frame_at_the_default_limit_is_decoded() -> None:
    body = (
        b"\x00" + b"\x01\x01" + b"4477\x00" + b"\x01\x01" + b"4478\x00" + b"\x00\x00\x00"
    )
    payload_size = 64 * 1024 - 16 - len(body) - 4
    frame = _header(64 * 1024, CommandId.DATA_SM, 2) + body
    frame += struct.pack(">HH", 0x0424, payload_size) + b"p" * payload_size
    assert len(frame) == 64 * 1024
    items = FrameDecoder().feed(frame)
    assert len(items) == 1 and isinstance(items[0], Pdu)
    assert items[0].tlv(0x0424) == b"p" * payload_size
