"""Property tests: random valid PDUs of every command survive encode and decode unchanged.

The layouts below are our own transcription of the SMPP 3.4 bodies (kept apart from
`spec.BODY_SPEC` on purpose), and `_wire` is a small reference encoder built on them. So the
properties check the codec against an outside model, not only against itself.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.smpp.codec import (
    CommandId,
    DestAddress,
    Pdu,
    UnsuccessSme,
    decode_pdu,
    encode_pdu,
)
from simulator.smpp.codec.pdu import ParamValue
from simulator.smpp.codec.spec import BODY_OPTIONAL_ON_ERROR, BODY_SPEC, TAKES_TLVS

C = CommandId

# --- SMPP 3.4 body layouts: (field, kind, max octets including the NUL for C-strings) ---------

Layout = tuple[tuple[str, str, int], ...]

_BIND: Layout = (
    ("system_id", "cstr", 16), ("password", "cstr", 9), ("system_type", "cstr", 13),
    ("interface_version", "u8", 0), ("addr_ton", "u8", 0), ("addr_npi", "u8", 0),
    ("address_range", "cstr", 41),
)
_SRC21: Layout = (("source_addr_ton", "u8", 0), ("source_addr_npi", "u8", 0),
                  ("source_addr", "cstr", 21))
_DST21: Layout = (("dest_addr_ton", "u8", 0), ("dest_addr_npi", "u8", 0),
                  ("destination_addr", "cstr", 21))
_TAIL: Layout = (
    ("esm_class", "u8", 0), ("protocol_id", "u8", 0), ("priority_flag", "u8", 0),
    ("schedule_delivery_time", "cstr", 17), ("validity_period", "cstr", 17),
    ("registered_delivery", "u8", 0), ("replace_if_present_flag", "u8", 0),
    ("data_coding", "u8", 0), ("sm_default_msg_id", "u8", 0), ("short_message", "sm", 254),
)
_MSGID: Layout = (("message_id", "cstr", 65),)
_SVC: Layout = (("service_type", "cstr", 6),)

LAYOUTS: dict[int, Layout] = {
    C.GENERIC_NACK: (),
    C.BIND_RECEIVER: _BIND,
    C.BIND_TRANSMITTER: _BIND,
    C.BIND_TRANSCEIVER: _BIND,
    C.BIND_RECEIVER_RESP: (("system_id", "cstr", 16),),
    C.BIND_TRANSMITTER_RESP: (("system_id", "cstr", 16),),
    C.BIND_TRANSCEIVER_RESP: (("system_id", "cstr", 16),),
    C.OUTBIND: (("system_id", "cstr", 16), ("password", "cstr", 9)),
    C.UNBIND: (),
    C.UNBIND_RESP: (),
    C.ENQUIRE_LINK: (),
    C.ENQUIRE_LINK_RESP: (),
    C.SUBMIT_SM: _SVC + _SRC21 + _DST21 + _TAIL,
    C.SUBMIT_SM_RESP: _MSGID,
    C.DELIVER_SM: _SVC + _SRC21 + _DST21 + _TAIL,
    C.DELIVER_SM_RESP: _MSGID,
    C.DATA_SM: (
        *_SVC,
        ("source_addr_ton", "u8", 0), ("source_addr_npi", "u8", 0), ("source_addr", "cstr", 65),
        ("dest_addr_ton", "u8", 0), ("dest_addr_npi", "u8", 0), ("destination_addr", "cstr", 65),
        ("esm_class", "u8", 0), ("registered_delivery", "u8", 0), ("data_coding", "u8", 0),
    ),
    C.DATA_SM_RESP: _MSGID,
    C.QUERY_SM: _MSGID + _SRC21,
    C.QUERY_SM_RESP: (
        *_MSGID,
        ("final_date", "cstr", 17), ("message_state", "u8", 0), ("error_code", "u8", 0),
    ),
    C.CANCEL_SM: _SVC + _MSGID + _SRC21 + _DST21,
    C.CANCEL_SM_RESP: (),
    C.REPLACE_SM: (
        *_MSGID,
        *_SRC21,
        ("schedule_delivery_time", "cstr", 17), ("validity_period", "cstr", 17),
        ("registered_delivery", "u8", 0), ("sm_default_msg_id", "u8", 0),
        ("short_message", "sm", 254),
    ),
    C.REPLACE_SM_RESP: (),
    C.SUBMIT_MULTI: (*_SVC, *_SRC21, ("dest_addresses", "dests", 0), *_TAIL),
    C.SUBMIT_MULTI_RESP: (*_MSGID, ("unsuccess_smes", "unsuccess", 0)),
    C.ALERT_NOTIFICATION: (
        ("source_addr_ton", "u8", 0), ("source_addr_npi", "u8", 0), ("source_addr", "cstr", 65),
        ("esme_addr_ton", "u8", 0), ("esme_addr_npi", "u8", 0), ("esme_addr", "cstr", 65),
    ),
}

#: Commands that may carry TLVs in SMPP 3.4.
WITH_TLVS = frozenset({
    C.BIND_RECEIVER_RESP, C.BIND_TRANSMITTER_RESP, C.BIND_TRANSCEIVER_RESP, C.SUBMIT_SM,
    C.DELIVER_SM, C.DATA_SM, C.DATA_SM_RESP, C.SUBMIT_MULTI, C.ALERT_NOTIFICATION,
    # SMPP 5.0 allows TLVs on these responses too.
    C.SUBMIT_SM_RESP, C.SUBMIT_MULTI_RESP, C.DELIVER_SM_RESP,
})
#: Responses whose body may be left out when command_status is not ESME_ROK.
BODYLESS_ON_ERROR = frozenset({
    C.BIND_RECEIVER_RESP, C.BIND_TRANSMITTER_RESP, C.BIND_TRANSCEIVER_RESP, C.SUBMIT_SM_RESP,
    C.SUBMIT_MULTI_RESP, C.DATA_SM_RESP, C.DELIVER_SM_RESP, C.QUERY_SM_RESP,
})


def test_codec_tables_match_our_transcription() -> None:
    assert set(BODY_SPEC) == set(LAYOUTS) == {int(command) for command in CommandId}
    for command, layout in LAYOUTS.items():
        theirs = [
            (f.name, f.kind, f.size if f.kind in ("cstr", "sm") else 0) for f in BODY_SPEC[command]
        ]
        assert theirs == list(layout), CommandId(command).name
    assert set(TAKES_TLVS) == WITH_TLVS
    assert set(BODY_OPTIONAL_ON_ERROR) == BODYLESS_ON_ERROR


# --- reference encoder ------------------------------------------------------------------------


def _cstr(text: str) -> bytes:
    return text.encode("latin-1") + b"\x00"


def _wire(pdu: Pdu) -> bytes:
    body = bytearray()
    header_only = (
        pdu.command_status != 0 and pdu.command_id in BODYLESS_ON_ERROR and not pdu.params
    )
    for name, kind, _size in () if header_only else LAYOUTS[pdu.command_id]:
        value = pdu.params[name]
        if kind == "u8":
            assert isinstance(value, int)
            body.append(value)
        elif kind == "cstr":
            assert isinstance(value, str)
            body += _cstr(value)
        elif kind == "sm":
            assert isinstance(value, bytes)
            body.append(len(value))
            body += value
        elif kind == "dests":
            assert isinstance(value, list)
            body.append(len(value))
            for dest in value:
                assert isinstance(dest, DestAddress)
                if dest.dest_flag == 1:
                    body += bytes((1, dest.ton, dest.npi)) + _cstr(dest.address)
                else:
                    body += b"\x02" + _cstr(dest.address)
        elif kind == "unsuccess":
            assert isinstance(value, list)
            body.append(len(value))
            for sme in value:
                assert isinstance(sme, UnsuccessSme)
                body += bytes((sme.ton, sme.npi)) + _cstr(sme.address)
                body += struct.pack(">I", sme.error_status)
    for tag, raw in pdu.tlvs:
        body += struct.pack(">HH", tag, len(raw)) + raw
    return struct.pack(
        ">IIII", 16 + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
    ) + bytes(body)


# --- strategies -------------------------------------------------------------------------------

U8 = st.integers(0, 0xFF)
U32 = st.integers(0, 0xFFFFFFFF)


def text(max_octets: int) -> st.SearchStrategy[str]:
    """Latin-1 text without NUL: one octet per character on the wire."""
    return st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=max_octets)


dest_address = st.one_of(
    st.builds(DestAddress, text(20), U8, U8, st.just(1)),
    st.builds(DestAddress, text(20), st.just(0), st.just(0), st.just(2)),
)
unsuccess_sme = st.builds(UnsuccessSme, text(20), U32, U8, U8)


def field_value(kind: str, size: int) -> st.SearchStrategy[ParamValue]:
    if kind == "u8":
        return U8
    if kind == "cstr":
        return text(size - 1)
    if kind == "sm":
        return st.binary(max_size=size)
    if kind == "dests":
        return st.lists(dest_address, min_size=1, max_size=6)
    assert kind == "unsuccess"
    return st.lists(unsuccess_sme, max_size=6)


def _exact(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


def _cstr_tlv(max_octets: int) -> st.SearchStrategy[bytes]:
    return text(max_octets - 1).map(_cstr)


#: A sample of standard TLVs with values of lengths the specification allows.
STANDARD_TLVS: dict[int, st.SearchStrategy[bytes]] = {
    0x0005: _exact(1),  # dest_addr_subunit
    0x0017: _exact(4),  # qos_time_to_live
    0x001D: _cstr_tlv(256),  # additional_status_info_text
    0x001E: _cstr_tlv(65),  # receipted_message_id
    0x0204: _exact(2),  # user_message_reference
    0x020A: _exact(2),  # source_port
    0x020B: _exact(2),  # destination_port
    0x020C: _exact(2),  # sar_msg_ref_num
    0x020E: _exact(1),  # sar_total_segments
    0x020F: _exact(1),  # sar_segment_seqnum
    0x0210: _exact(1),  # sc_interface_version
    0x0381: st.binary(min_size=4, max_size=19),  # callback_num
    0x0422: _exact(1),  # ms_availability_status
    0x0423: _exact(3),  # network_error_code
    0x0424: st.binary(max_size=600),  # message_payload
    0x0425: _exact(1),  # delivery_failure_reason
    0x0427: _exact(1),  # message_state
}

tlv = st.one_of(
    st.sampled_from(sorted(STANDARD_TLVS)).flatmap(
        lambda tag: STANDARD_TLVS[tag].map(lambda raw: (tag, raw))
    ),
    # vendor-specific tags, unknown to the codec: any octets, kept as they are
    st.tuples(st.integers(0x1400, 0x3FFF), st.binary(max_size=40)),
)


@st.composite
def full_pdu(draw: st.DrawFn) -> Pdu:
    command = draw(st.sampled_from(sorted(LAYOUTS)))
    params = {name: draw(field_value(kind, size)) for name, kind, size in LAYOUTS[command]}
    tlvs = draw(st.lists(tlv, max_size=4)) if command in WITH_TLVS else []
    return Pdu(command, draw(U32), draw(U32), params, tlvs)


@st.composite
def bodyless_error_response(draw: st.DrawFn) -> Pdu:
    command = draw(st.sampled_from(sorted(BODYLESS_ON_ERROR)))
    return Pdu(command, draw(U32), draw(st.integers(1, 0xFFFFFFFF)))


any_pdu = st.one_of(full_pdu(), bodyless_error_response())


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(any_pdu)
def test_value_round_trip(pdu: Pdu) -> None:
    assert encode_pdu(pdu) == _wire(pdu)
    assert decode_pdu(encode_pdu(pdu)) == pdu


@settings(max_examples=200, deadline=None)
@given(any_pdu)
def test_bytes_round_trip(pdu: Pdu) -> None:
    frame = _wire(pdu)
    decoded = decode_pdu(frame)
    assert decoded == pdu
    assert encode_pdu(decoded) == frame


def _max_dest(index: int) -> DestAddress:
    if index % 2:
        return DestAddress("9" * 20, 0xFF, 0xFF, 1)
    return DestAddress("d" * 20, 0, 0, 2)


@pytest.mark.parametrize("command", sorted(LAYOUTS), ids=lambda c: CommandId(c).name)
def test_every_field_at_its_maximum_size(command: int) -> None:
    params: dict[str, ParamValue] = {}
    for name, kind, size in LAYOUTS[command]:
        if kind == "u8":
            params[name] = 0xFF
        elif kind == "cstr":
            params[name] = "\xff" * (size - 1)
        elif kind == "sm":
            params[name] = b"\x01" * size
        elif kind == "dests":
            params[name] = [_max_dest(index) for index in range(254)]
        else:
            params[name] = [UnsuccessSme("9" * 20, 0xFFFFFFFF, 0xFF, 0xFF)] * 255
    pdu = Pdu(command, 0x7FFFFFFF, 0, params)
    frame = _wire(pdu)
    assert encode_pdu(pdu) == frame
    assert decode_pdu(frame) == pdu
