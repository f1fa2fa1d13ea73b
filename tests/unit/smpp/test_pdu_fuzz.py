"""Malformed PDUs: each defect maps to the right command_status, and nothing but CodecError escapes.

The first half feeds hand-made defects and checks the status a server would answer with; the
second half throws random bytes and mutated golden frames at `decode_pdu` and `FrameDecoder`.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.smpp.codec import (
    CodecError,
    CommandId,
    CommandStatus,
    DestAddress,
    FrameDecoder,
    Pdu,
    UnsuccessSme,
    decode_pdu,
    encode_pdu,
)
from simulator.smpp.codec.constants import status_name

C = CommandId
S = CommandStatus
KNOWN_STATUSES = frozenset(int(status) for status in CommandStatus)
GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "pdu"


def load_golden(name: str) -> bytes:
    text = (GOLDEN_DIR / f"{name}.hex").read_text(encoding="ascii")
    digits = "".join(line.split("#", 1)[0] for line in text.splitlines())
    return bytes.fromhex("".join(digits.split()))


GOLDEN_NAMES = sorted(path.stem for path in GOLDEN_DIR.glob("*.hex"))
GOLDEN_FRAMES = [load_golden(name) for name in GOLDEN_NAMES]


def _cs(text: str) -> bytes:
    return text.encode("latin-1") + b"\x00"


def _frame(command_id: int, sequence: int, body: bytes, status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def _relength(frame: bytes) -> bytes:
    """The frame with its command_length rewritten to its real size."""
    return struct.pack(">I", len(frame)) + frame[4:]


def _bind_body(**raw: bytes) -> bytes:
    fields = {
        "system_id": _cs("esme"), "password": _cs("pw"), "system_type": _cs(""),
        "interface_version": b"\x34", "addr_ton": b"\x00", "addr_npi": b"\x00",
        "address_range": _cs(""),
    }
    fields.update(raw)
    return b"".join(fields.values())


def _submit_body(**raw: bytes) -> bytes:
    fields = {
        "service_type": _cs(""), "source_addr_ton": b"\x01", "source_addr_npi": b"\x01",
        "source_addr": _cs("447700900999"), "dest_addr_ton": b"\x01", "dest_addr_npi": b"\x01",
        "destination_addr": _cs("447700900123"), "esm_class": b"\x00", "protocol_id": b"\x00",
        "priority_flag": b"\x00", "schedule_delivery_time": _cs(""), "validity_period": _cs(""),
        "registered_delivery": b"\x00", "replace_if_present_flag": b"\x00",
        "data_coding": b"\x00", "sm_default_msg_id": b"\x00", "short_message": b"\x02hi",
    }
    fields.update(raw)
    return b"".join(fields.values())


def _replace_body(**raw: bytes) -> bytes:
    fields = {
        "message_id": _cs("abc"), "source_addr_ton": b"\x01", "source_addr_npi": b"\x01",
        "source_addr": _cs("447700900999"), "schedule_delivery_time": _cs(""),
        "validity_period": _cs(""), "registered_delivery": b"\x00",
        "sm_default_msg_id": b"\x00", "short_message": b"\x02hi",
    }
    fields.update(raw)
    return b"".join(fields.values())


#: submit_multi's fields after the destination list (esm_class .. short_message)
MULTI_TAIL = b"\x00\x00\x00" + _cs("") + _cs("") + b"\x00\x00\x00\x00" + b"\x02hi"


def _data_sm_body(source_addr: str) -> bytes:
    return _cs("") + b"\x01\x01" + _cs(source_addr) + b"\x01\x01" + _cs("4477") + b"\x00\x00\x00"


def _expect_error(frame: bytes, status: int) -> CodecError:
    with pytest.raises(CodecError) as caught:
        decode_pdu(frame)
    error = caught.value
    assert error.status == status, f"got {status_name(error.status)}: {error}"
    if len(frame) >= 16:
        command_id, sequence = struct.unpack_from(">I4xI", frame, 4)
        assert error.command_id == command_id
        assert error.sequence_number == sequence
    return error


# --- C-strings longer than their field ---------------------------------------------------------

A16, A64 = "A" * 16, "7" * 64
TOO_LONG: list[tuple[str, bytes, int]] = [
    ("bind.system_id", _frame(C.BIND_TRANSMITTER, 1, _bind_body(system_id=_cs(A16))),
     S.ESME_RINVSYSID),
    ("bind.password", _frame(C.BIND_RECEIVER, 2, _bind_body(password=_cs("p" * 9))),
     S.ESME_RINVPASWD),
    ("bind.system_type", _frame(C.BIND_TRANSCEIVER, 3, _bind_body(system_type=_cs("t" * 13))),
     S.ESME_RINVSYSTYP),
    ("bind_resp.system_id", _frame(C.BIND_TRANSCEIVER_RESP, 4, _cs(A16)), S.ESME_RINVSYSID),
    ("outbind.system_id", _frame(C.OUTBIND, 5, _cs(A16) + _cs("pw")), S.ESME_RINVSYSID),
    ("outbind.password", _frame(C.OUTBIND, 6, _cs("smsc") + _cs("p" * 9)), S.ESME_RINVPASWD),
    ("submit_sm.service_type", _frame(C.SUBMIT_SM, 7, _submit_body(service_type=_cs("CMTXYZ"))),
     S.ESME_RINVSERTYP),
    ("submit_sm.source_addr", _frame(C.SUBMIT_SM, 8, _submit_body(source_addr=_cs("1" * 21))),
     S.ESME_RINVSRCADR),
    ("submit_sm.destination_addr",
     _frame(C.SUBMIT_SM, 9, _submit_body(destination_addr=_cs("2" * 21))), S.ESME_RINVDSTADR),
    ("submit_sm.schedule_delivery_time",
     _frame(C.SUBMIT_SM, 10, _submit_body(schedule_delivery_time=_cs("240102153045000+0"))),
     S.ESME_RINVSCHED),
    ("submit_sm.validity_period",
     _frame(C.SUBMIT_SM, 11, _submit_body(validity_period=_cs("000001000000000R0"))),
     S.ESME_RINVEXPIRY),
    ("deliver_sm.source_addr", _frame(C.DELIVER_SM, 12, _submit_body(source_addr=_cs("3" * 21))),
     S.ESME_RINVSRCADR),
    ("replace_sm.schedule_delivery_time",
     _frame(C.REPLACE_SM, 13, _replace_body(schedule_delivery_time=_cs("9" * 17))),
     S.ESME_RINVSCHED),
    ("replace_sm.validity_period",
     _frame(C.REPLACE_SM, 14, _replace_body(validity_period=_cs("9" * 17))), S.ESME_RINVEXPIRY),
    ("replace_sm.message_id", _frame(C.REPLACE_SM, 15, _replace_body(message_id=_cs("m" + A64))),
     S.ESME_RINVMSGID),
    ("submit_sm_resp.message_id", _frame(C.SUBMIT_SM_RESP, 16, _cs("m" + A64)), S.ESME_RINVMSGID),
    ("query_sm.message_id",
     _frame(C.QUERY_SM, 17, _cs("m" + A64) + b"\x00\x00" + _cs("")), S.ESME_RINVMSGID),
    ("cancel_sm.message_id",
     _frame(C.CANCEL_SM, 18, _cs("") + _cs("m" + A64) + b"\x00\x00" + _cs("") + b"\x00\x00"
            + _cs("")), S.ESME_RINVMSGID),
    ("data_sm.source_addr", _frame(C.DATA_SM, 19, _data_sm_body("4" * 65)), S.ESME_RINVSRCADR),
    ("submit_multi.destination_addr",
     _frame(C.SUBMIT_MULTI, 20, _cs("") + b"\x01\x01" + _cs("4477") + b"\x01\x01\x01\x01"
            + _cs("5" * 21) + MULTI_TAIL), S.ESME_RINVDSTADR),
    ("submit_multi.dl_name",
     _frame(C.SUBMIT_MULTI, 21, _cs("") + b"\x01\x01" + _cs("4477") + b"\x01\x02"
            + _cs("d" * 21) + MULTI_TAIL), S.ESME_RINVDLNAME),
]


@pytest.mark.parametrize(("frame", "status"), [case[1:] for case in TOO_LONG],
                         ids=[case[0] for case in TOO_LONG])
def test_too_long_c_string_gets_the_fields_status(frame: bytes, status: int) -> None:
    _expect_error(frame, status)


def test_size_limits_differ_between_commands() -> None:
    # data_sm allows 64-octet addresses where submit_sm allows 20
    pdu = decode_pdu(_frame(C.DATA_SM, 1, _data_sm_body("4" * 64)))
    assert pdu.str_param("source_addr") == "4" * 64
    # and the submit_multi tail used above is a well-formed one when the address fits
    ok = _frame(C.SUBMIT_MULTI, 2, _cs("") + b"\x01\x01" + _cs("4477") + b"\x01\x01\x01\x01"
                + _cs("5" * 20) + MULTI_TAIL)
    assert decode_pdu(ok).params["dest_addresses"] == [DestAddress("5" * 20, 1, 1, 1)]


# --- truncation and lengths -------------------------------------------------------------------

#: Frames made only of fixed fields and C-strings: every cut inside the body is a short body.
PLAIN_BODIES = ["bind_transmitter", "bind_receiver", "outbind", "query_sm", "cancel_sm",
                "query_sm_resp", "submit_sm_resp", "bind_transmitter_resp"]


@pytest.mark.parametrize("name", PLAIN_BODIES)
def test_every_cut_of_a_plain_body_is_invalid_command_length(name: str) -> None:
    frame = load_golden(name)
    for cut in range(17, len(frame)):
        _expect_error(_relength(frame[:cut]), S.ESME_RINVCMDLEN)


@pytest.mark.parametrize("name", ["bind_transmitter", "outbind", "query_sm", "cancel_sm"])
def test_request_without_its_body_is_invalid_command_length(name: str) -> None:
    _expect_error(_relength(load_golden(name)[:16]), S.ESME_RINVCMDLEN)


def test_every_cut_of_submit_sm() -> None:
    frame = load_golden("submit_sm")
    # golden layout: mandatory fields 16..65, sm_length at 66, short_message 67..77,
    # user_message_reference TLV 78..83, vendor TLV 84..91
    assert len(frame) == 92 and frame[66] == 11
    for cut in range(16, len(frame)):
        short = _relength(frame[:cut])
        if cut in (78, 84):  # ends on a TLV boundary: a complete, shorter PDU
            assert len(decode_pdu(short).tlvs) == (0 if cut == 78 else 1)
        elif cut <= 66:
            _expect_error(short, S.ESME_RINVCMDLEN)
        elif cut < 78:
            _expect_error(short, S.ESME_RINVMSGLEN)
        else:
            _expect_error(short, S.ESME_RINVOPTPARSTREAM)


def test_sm_length_past_the_end() -> None:
    frame = bytearray(load_golden("submit_sm")[:78])
    frame[66] = 12
    _expect_error(_relength(bytes(frame)), S.ESME_RINVMSGLEN)
    whole = bytearray(load_golden("submit_sm"))
    whole[66] = 0xFE  # swallows the TLVs and still runs out
    _expect_error(bytes(whole), S.ESME_RINVMSGLEN)


def test_missing_nul_at_the_end_is_a_short_body() -> None:
    _expect_error(_frame(C.SUBMIT_SM_RESP, 3, b"abc"), S.ESME_RINVCMDLEN)


@pytest.mark.parametrize("delta", [-5, -1, 1, 7, 1000])
def test_command_length_not_matching_the_frame(delta: int) -> None:
    frame = load_golden("submit_sm_resp")
    bad = struct.pack(">I", len(frame) + delta) + frame[4:]
    _expect_error(bad, S.ESME_RINVCMDLEN)


@pytest.mark.parametrize("size", [0, 1, 8, 15])
def test_frame_shorter_than_a_header(size: int) -> None:
    error = _expect_error(load_golden("enquire_link")[:size], S.ESME_RINVCMDLEN)
    assert error.command_id is None


@pytest.mark.parametrize(
    ("name", "extra"),
    [("enquire_link", b"\x00"), ("cancel_sm_resp", b"\x00\x00\x00\x00"),
     ("query_sm", bytes.fromhex("1401000101")), ("generic_nack", b"\xff")],
)
def test_octets_after_a_body_without_tlvs(name: str, extra: bytes) -> None:
    _expect_error(_relength(load_golden(name) + extra), S.ESME_RINVCMDLEN)


@pytest.mark.parametrize(
    "command_id", [C.SUBMIT_SM_RESP, C.DELIVER_SM_RESP, C.BIND_TRANSMITTER_RESP, C.QUERY_SM_RESP]
)
def test_bodyless_ok_response_is_tolerated(command_id: int) -> None:
    # Peers sometimes leave the body out even of a successful response; the decoder lets that
    # through with no parameters (re-encoding it writes the empty body back in).
    pdu = decode_pdu(_frame(command_id, 5, b""))
    assert (pdu.command_id, pdu.command_status, pdu.params) == (command_id, 0, {})
    assert len(encode_pdu(pdu)) > 16


# --- TLVs ------------------------------------------------------------------------------------


def test_tlv_header_cut_short() -> None:
    # bind_transceiver_resp ends in a 5-octet TLV; keep only its tag and half its length field
    _expect_error(_relength(load_golden("bind_transceiver_resp")[:-3]), S.ESME_RINVOPTPARSTREAM)


def test_tlv_value_longer_than_the_rest_of_the_pdu() -> None:
    head = load_golden("bind_transceiver_resp")[:-5]
    frame = _relength(head + bytes.fromhex("1401 0008 01020304"))
    _expect_error(frame, S.ESME_RINVOPTPARSTREAM)


@pytest.mark.parametrize(
    ("tlv", "what"),
    [
        ("0210 0002 0034", "sc_interface_version is one octet"),
        ("0423 0002 0300", "network_error_code is three octets"),
        ("0427 0000", "message_state is one octet"),
        ("001e 0000", "receipted_message_id needs at least its NUL"),
        ("0204 0001 2a", "user_message_reference is two octets"),
        ("0424 0000", None),
    ],
)
def test_tlv_length_wrong_for_its_tag(tlv: str, what: str | None) -> None:
    frame = _relength(load_golden("bind_transceiver_resp")[:-5] + bytes.fromhex(tlv))
    if what is None:  # control: an empty message_payload is allowed
        assert decode_pdu(frame).tlv(0x0424) == b""
    else:
        _expect_error(frame, S.ESME_RINVPARLEN)


# --- command ids and submit_multi lists -------------------------------------------------------


@pytest.mark.parametrize(
    "command_id", [0x00000000, 0x00000099, 0x80000099, 0x0000000A, 0x00000111]
)
def test_unknown_command_id(command_id: int) -> None:
    error = _expect_error(_frame(command_id, 0x1234, b""), S.ESME_RINVCMDID)
    assert error.command_id == command_id and error.sequence_number == 0x1234


def test_dest_flag_3() -> None:
    frame = bytearray(load_golden("submit_multi"))
    at = frame.index(b"\x02vip_list\x00")
    frame[at] = 3
    _expect_error(bytes(frame), S.ESME_RINVDESTFLAG)


@pytest.mark.parametrize("count", [0, 255])
def test_number_of_dests_out_of_range(count: int) -> None:
    frame = bytearray(load_golden("submit_multi"))
    at = frame.index(b"\x02\x01\x01\x01447700900001")
    frame[at] = count
    _expect_error(bytes(frame), S.ESME_RINVNUMDESTS)


def test_unsuccess_list_cut_inside_an_entry() -> None:
    frame = load_golden("submit_multi_resp")
    for cut in range(frame.index(b"mm-001\x00") + 7, len(frame)):
        _expect_error(_relength(frame[:cut]), S.ESME_RINVCMDLEN)


# --- regressions: bugs this suite found, since fixed in the codec ---


def test_sm_length_255_is_rejected() -> None:
    body = _submit_body(short_message=b"\xff" + b"x" * 255)
    _expect_error(_frame(C.SUBMIT_SM, 1, body), S.ESME_RINVMSGLEN)


def test_encoding_an_invalid_dest_flag_fails() -> None:
    pdu = Pdu(C.SUBMIT_MULTI, 1, 0, {"dest_addresses": [DestAddress("4477", 1, 1, 3)]})
    with pytest.raises(CodecError) as caught:
        encode_pdu(pdu)
    assert caught.value.status == S.ESME_RINVDESTFLAG


def test_encoding_a_too_long_unsuccess_address_fails() -> None:
    pdu = Pdu(C.SUBMIT_MULTI_RESP, 1, 0,
              {"message_id": "x", "unsuccess_smes": [UnsuccessSme("1" * 25, 11, 1, 1)]})
    with pytest.raises(CodecError) as caught:
        encode_pdu(pdu)
    assert caught.value.status == S.ESME_RINVDSTADR


def test_encoding_an_out_of_range_dest_ton_fails_with_codec_error() -> None:
    pdu = Pdu(C.SUBMIT_MULTI, 1, 0, {"dest_addresses": [DestAddress("4477", 300, 1, 1)]})
    with pytest.raises(CodecError):
        encode_pdu(pdu)


# --- random input -----------------------------------------------------------------------------


def _check_decode(frame: bytes) -> Pdu | CodecError:
    """Decode; only CodecError may escape, and a decoded value must re-encode faithfully."""
    try:
        pdu = decode_pdu(frame)
    except CodecError as error:
        assert error.status in KNOWN_STATUSES, error
        assert not error.fatal
        return error
    if len(frame) == 16 and not pdu.params and pdu.command_status == 0:
        # A bodyless ESME_ROK response is tolerated on input, but encoding fills in the body.
        return pdu
    try:
        again = encode_pdu(pdu)
    except CodecError as error:  # e.g. a value the decoder is lenient about
        assert error.status in KNOWN_STATUSES, error
        return pdu
    assert decode_pdu(again) == pdu
    return pdu


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _check_decode(data)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.sampled_from(sorted(int(c) for c in CommandId)), st.integers(0, 0xFFFFFFFF)),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=300),
)
def test_random_body_behind_a_valid_header(command_id: int, status: int, body: bytes) -> None:
    _check_decode(_frame(command_id, 1, body, status))


def _mutate(frame: bytes, rng: random.Random) -> bytes:
    data = bytearray(frame)
    kind = rng.randrange(7)
    if kind == 0:  # flip a few bits anywhere, header included
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1 and len(data) > 16:  # flip bits in the body only
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(16, len(data))] ^= 1 << rng.randrange(8)
    elif kind == 2:  # truncate, with or without fixing command_length
        data = data[: rng.randrange(len(data))]
        if len(data) >= 4 and rng.random() < 0.7:
            data = bytearray(_relength(bytes(data)))
    elif kind == 3:  # rewrite command_length
        value = rng.choice([0, 15, 16, len(data) - 1, len(data) + 1, rng.randrange(1 << 32)])
        data[0:4] = struct.pack(">I", max(0, value))
    elif kind == 4:  # garbage appended, with or without fixing command_length
        data += rng.randbytes(rng.randint(1, 24))
        if rng.random() < 0.7:
            data = bytearray(_relength(bytes(data)))
    elif kind == 5 and len(data) > 16:  # one body octet set to an edge value
        data[rng.randrange(16, len(data))] = rng.choice([0x00, 0x01, 0x7F, 0xFE, 0xFF])
    elif len(data) > 16:  # insert or delete one body octet and fix command_length
        at = rng.randrange(16, len(data))
        if rng.random() < 0.5:
            data.insert(at, rng.randrange(256))
        else:
            del data[at]
        data = bytearray(_relength(bytes(data)))
    return bytes(data)


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_mutated_golden_frames(name: str) -> None:
    rng = random.Random(f"mutate-{name}")
    frame = load_golden(name)
    for _ in range(300):
        _check_decode(_mutate(frame, rng))


def _check_feed(decoder: FrameDecoder, chunk: bytes) -> list[Pdu | CodecError]:
    was_broken = decoder.broken
    items = decoder.feed(chunk)  # must never raise
    if was_broken:
        assert items == []
    for index, item in enumerate(items):
        assert isinstance(item, Pdu | CodecError)
        if isinstance(item, CodecError):
            assert item.status in KNOWN_STATUSES
            if item.fatal:
                assert item.status == S.ESME_RINVCMDLEN
                assert index == len(items) - 1, "nothing may follow a fatal error"
    fatal_now = bool(items) and isinstance(items[-1], CodecError) and items[-1].fatal
    assert decoder.broken == (was_broken or fatal_now)
    return items


@pytest.mark.parametrize("seed", range(12))
def test_frame_decoder_on_a_mutated_stream(seed: int) -> None:
    rng = random.Random(seed)
    stream = bytearray()
    for _ in range(rng.randint(5, 40)):
        frame = rng.choice(GOLDEN_FRAMES)
        stream += _mutate(frame, rng) if rng.random() < 0.4 else frame
    decoder = FrameDecoder(max_command_length=rng.choice([64, 200, 4096, 64 * 1024]))
    offset = 0
    while offset < len(stream):
        step = rng.randint(1, 64)
        _check_feed(decoder, bytes(stream[offset : offset + step]))
        offset += step
    if decoder.broken:
        assert decoder.buffered == 0
        assert decoder.feed(GOLDEN_FRAMES[0]) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=12))
def test_frame_decoder_on_random_chunks(chunks: list[bytes]) -> None:
    decoder = FrameDecoder(max_command_length=256)
    for chunk in chunks:
        _check_feed(decoder, chunk)
