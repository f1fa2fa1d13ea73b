"""Golden PDUs: hand-laid SMPP 3.4 frames in tests/golden/pdu/*.hex against their PDU values.

Each .hex file was written field by field from the SMPP 3.4 body layouts (one field per line,
commented), not produced by our encoder, so encode and decode are both checked against an outside
reference. Where smpplib can build the same PDU, its bytes are compared with the file as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import smpplib.smpp  # type: ignore[import-untyped]

from simulator.smpp.codec import (
    CommandId,
    CommandStatus,
    DestAddress,
    MessageState,
    Pdu,
    Tag,
    UnsuccessSme,
    decode_pdu,
    encode_header_only,
    encode_message_id_resp,
    encode_pdu,
)

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "pdu"


def load_golden(name: str) -> bytes:
    """Bytes of tests/golden/pdu/<name>.hex; `#` starts a comment, whitespace is ignored."""
    text = (GOLDEN_DIR / f"{name}.hex").read_text(encoding="ascii")
    digits = "".join(line.split("#", 1)[0] for line in text.splitlines())
    return bytes.fromhex("".join(digits.split()))


def _bind(system_id: str, password: str, system_type: str, version: int, ton: int, npi: int,
          address_range: str) -> dict[str, Any]:
    return {
        "system_id": system_id, "password": password, "system_type": system_type,
        "interface_version": version, "addr_ton": ton, "addr_npi": npi,
        "address_range": address_range,
    }


RECEIPT_TEXT = (
    b"id:5f3c9a01 sub:001 dlvrd:000 submit date:2401021530 done date:2401021531 "
    b"stat:UNDELIV err:001 text:Hello world"
)

C = CommandId
S = CommandStatus

#: The PDU value each golden file encodes.
GOLDEN: dict[str, Pdu] = {
    "generic_nack": Pdu(C.GENERIC_NACK, 10, S.ESME_RINVCMDID),
    "bind_transmitter": Pdu(
        C.BIND_TRANSMITTER, 1, 0, _bind("esme_tx", "s3cret", "VMA", 0x34, 1, 1, "")
    ),
    "bind_transmitter_resp": Pdu(C.BIND_TRANSMITTER_RESP, 1, 0, {"system_id": "DLRSIM"}),
    "bind_receiver": Pdu(
        C.BIND_RECEIVER, 2, 0, _bind("esme_rx", "s3cret", "", 0x34, 1, 1, "^4477")
    ),
    "bind_receiver_resp": Pdu(C.BIND_RECEIVER_RESP, 2, 0, {"system_id": "DLRSIM"}),
    "bind_transceiver": Pdu(C.BIND_TRANSCEIVER, 3, 0, _bind("esme_trx", "pw", "", 0x34, 0, 0, "")),
    "bind_transceiver_resp": Pdu(
        C.BIND_TRANSCEIVER_RESP, 3, 0, {"system_id": "DLRSIM"},
        [(Tag.SC_INTERFACE_VERSION, b"\x34")],
    ),
    "bind_transmitter_v50": Pdu(
        C.BIND_TRANSMITTER, 4, 0, _bind("esme50", "pw5", "", 0x50, 1, 1, "")
    ),
    "outbind": Pdu(C.OUTBIND, 5, 0, {"system_id": "DLRSIM", "password": "outpw"}),
    "unbind": Pdu(C.UNBIND, 6),
    "unbind_resp": Pdu(C.UNBIND_RESP, 6),
    "enquire_link": Pdu(C.ENQUIRE_LINK, 7),
    "enquire_link_resp": Pdu(C.ENQUIRE_LINK_RESP, 7),
    "submit_sm": Pdu(
        C.SUBMIT_SM, 8, 0,
        {
            "service_type": "",
            "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "DLRSim",
            "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "447700900123",
            "esm_class": 0, "protocol_id": 0, "priority_flag": 0,
            "schedule_delivery_time": "", "validity_period": "000001000000000R",
            "registered_delivery": 1, "replace_if_present_flag": 0,
            "data_coding": 0, "sm_default_msg_id": 0,
            "short_message": b"Hello world",
        },
        [(Tag.USER_MESSAGE_REFERENCE, b"\x00\x2a"), (0x1401, b"\xde\xad\xbe\xef")],
    ),
    "submit_sm_resp": Pdu(C.SUBMIT_SM_RESP, 8, 0, {"message_id": "5f3c9a01"}),
    "submit_sm_resp_throttled": Pdu(C.SUBMIT_SM_RESP, 9, S.ESME_RTHROTTLED),
    "submit_multi": Pdu(
        C.SUBMIT_MULTI, 10, 0,
        {
            "service_type": "CMT",
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "447700900999",
            "dest_addresses": [
                DestAddress("447700900001", 1, 1, 1),
                DestAddress("vip_list", 0, 0, 2),
            ],
            "esm_class": 0, "protocol_id": 0, "priority_flag": 1,
            "schedule_delivery_time": "240315120000004+", "validity_period": "",
            "registered_delivery": 1, "replace_if_present_flag": 0,
            "data_coding": 0, "sm_default_msg_id": 0,
            "short_message": b"Promo",
        },
    ),
    "submit_multi_resp": Pdu(
        C.SUBMIT_MULTI_RESP, 10, 0,
        {
            "message_id": "mm-001",
            "unsuccess_smes": [UnsuccessSme("447700900002", S.ESME_RINVDSTADR, 1, 1)],
        },
    ),
    "deliver_sm_receipt": Pdu(
        C.DELIVER_SM, 11, 0,
        {
            "service_type": "",
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "447700900123",
            "dest_addr_ton": 5, "dest_addr_npi": 0, "destination_addr": "DLRSim",
            "esm_class": 0x04, "protocol_id": 0, "priority_flag": 0,
            "schedule_delivery_time": "", "validity_period": "",
            "registered_delivery": 0, "replace_if_present_flag": 0,
            "data_coding": 0, "sm_default_msg_id": 0,
            "short_message": RECEIPT_TEXT,
        },
        [
            (Tag.NETWORK_ERROR_CODE, b"\x03\x00\x01"),
            (Tag.MESSAGE_STATE, b"\x05"),
            (Tag.RECEIPTED_MESSAGE_ID, b"5f3c9a01\x00"),
        ],
    ),
    "deliver_sm_resp": Pdu(C.DELIVER_SM_RESP, 11, 0, {"message_id": ""}),
    "data_sm": Pdu(
        C.DATA_SM, 12, 0,
        {
            "service_type": "",
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "447700900123",
            "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "447700900456",
            "esm_class": 0, "registered_delivery": 1, "data_coding": 0,
        },
        [(Tag.MESSAGE_PAYLOAD, b"Payload carried in a TLV")],
    ),
    "data_sm_resp": Pdu(
        C.DATA_SM_RESP, 12, S.ESME_RDELIVERYFAILURE, {"message_id": ""},
        [(Tag.DELIVERY_FAILURE_REASON, b"\x01")],
    ),
    "query_sm": Pdu(
        C.QUERY_SM, 13, 0,
        {"message_id": "5f3c9a01", "source_addr_ton": 5, "source_addr_npi": 0,
         "source_addr": "DLRSim"},
    ),
    "query_sm_resp": Pdu(
        C.QUERY_SM_RESP, 13, 0,
        {"message_id": "5f3c9a01", "final_date": "240102153105000+", "message_state": 2,
         "error_code": 0},
    ),
    "cancel_sm": Pdu(
        C.CANCEL_SM, 14, 0,
        {
            "service_type": "", "message_id": "5f3c9a01",
            "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "DLRSim",
            "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "447700900123",
        },
    ),
    "cancel_sm_resp": Pdu(C.CANCEL_SM_RESP, 14),
    "replace_sm": Pdu(
        C.REPLACE_SM, 15, 0,
        {
            "message_id": "5f3c9a01",
            "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "DLRSim",
            "schedule_delivery_time": "", "validity_period": "000000020000000R",
            "registered_delivery": 1, "sm_default_msg_id": 0,
            "short_message": b"Updated",
        },
    ),
    "replace_sm_resp": Pdu(C.REPLACE_SM_RESP, 15),
    "alert_notification": Pdu(
        C.ALERT_NOTIFICATION, 16, 0,
        {
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "447700900123",
            "esme_addr_ton": 5, "esme_addr_npi": 0, "esme_addr": "DLRSim",
        },
        [(Tag.MS_AVAILABILITY_STATUS, b"\x00")],
    ),
}

NAMES = sorted(GOLDEN)


# --- the golden set itself ----------------------------------------------------------------------


def test_every_golden_file_has_a_value_and_back() -> None:
    on_disk = {path.stem for path in GOLDEN_DIR.glob("*.hex")}
    assert on_disk == set(GOLDEN)


def test_every_command_id_has_a_golden_case() -> None:
    covered = {pdu.command_id for pdu in GOLDEN.values()}
    assert covered == {int(command) for command in CommandId}


@pytest.mark.parametrize("name", NAMES)
def test_golden_header_is_consistent(name: str) -> None:
    frame = load_golden(name)
    pdu = GOLDEN[name]
    assert int.from_bytes(frame[0:4], "big") == len(frame)
    assert int.from_bytes(frame[4:8], "big") == pdu.command_id
    assert int.from_bytes(frame[8:12], "big") == pdu.command_status
    assert int.from_bytes(frame[12:16], "big") == pdu.sequence_number


# --- both directions ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_encode_matches_golden(name: str) -> None:
    assert encode_pdu(GOLDEN[name]).hex() == load_golden(name).hex()


@pytest.mark.parametrize("name", NAMES)
def test_decode_matches_golden(name: str) -> None:
    assert decode_pdu(load_golden(name)) == GOLDEN[name]


# --- details the generic comparison could hide ----------------------------------------------


def test_unknown_vendor_tlv_is_kept_verbatim_and_in_place() -> None:
    pdu = decode_pdu(load_golden("submit_sm"))
    assert pdu.tlvs[-1] == (0x1401, b"\xde\xad\xbe\xef")
    assert encode_pdu(pdu)[-8:] == bytes.fromhex("14010004deadbeef")


def test_receipt_tlv_accessors() -> None:
    pdu = decode_pdu(load_golden("deliver_sm_receipt"))
    assert pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == "5f3c9a01"
    assert pdu.tlv_int(Tag.MESSAGE_STATE) == MessageState.UNDELIVERABLE
    assert pdu.tlv(Tag.NETWORK_ERROR_CODE) == b"\x03\x00\x01"
    assert pdu.bytes_param("short_message") == RECEIPT_TEXT
    assert pdu.int_param("esm_class") == 0x04


def test_set_tlv_sizes_values_from_the_tag() -> None:
    resp = Pdu(C.BIND_TRANSCEIVER_RESP, 3, 0, {"system_id": "DLRSIM"})
    resp.set_tlv(Tag.SC_INTERFACE_VERSION, 0x34)
    assert encode_pdu(resp) == load_golden("bind_transceiver_resp")

    receipt = Pdu(C.DELIVER_SM, 11, 0, dict(GOLDEN["deliver_sm_receipt"].params))
    receipt.set_tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x01")
    receipt.set_tlv(Tag.MESSAGE_STATE, MessageState.UNDELIVERABLE)
    receipt.set_tlv(Tag.RECEIPTED_MESSAGE_ID, "5f3c9a01")
    assert encode_pdu(receipt) == load_golden("deliver_sm_receipt")


def test_throttled_response_has_an_empty_body() -> None:
    frame = load_golden("submit_sm_resp_throttled")
    assert len(frame) == 16
    pdu = decode_pdu(frame)
    assert pdu.command_status == S.ESME_RTHROTTLED
    assert pdu.params == {}


def test_interface_version_50_bind_is_accepted() -> None:
    pdu = decode_pdu(load_golden("bind_transmitter_v50"))
    assert pdu.int_param("interface_version") == 0x50


def test_fast_path_encoders_match_golden() -> None:
    assert encode_message_id_resp(C.SUBMIT_SM_RESP, 8, b"5f3c9a01") == load_golden("submit_sm_resp")
    assert encode_message_id_resp(C.DELIVER_SM_RESP, 11, b"") == load_golden("deliver_sm_resp")
    assert encode_header_only(C.ENQUIRE_LINK_RESP, 7) == load_golden("enquire_link_resp")
    assert encode_header_only(C.SUBMIT_SM_RESP, 9, S.ESME_RTHROTTLED) == load_golden(
        "submit_sm_resp_throttled"
    )
    assert encode_header_only(C.GENERIC_NACK, 10, S.ESME_RINVCMDID) == load_golden("generic_nack")


# --- independent cross-check with smpplib's encoder -----------------------------------------

_MESSAGE_TAIL_DEFAULTS: dict[str, Any] = {
    "esm_class": 0, "protocol_id": 0, "priority_flag": 0, "schedule_delivery_time": "",
    "validity_period": "", "registered_delivery": 0, "replace_if_present_flag": 0,
    "data_coding": 0, "sm_default_msg_id": 0,
}

#: (golden name, smpplib command, smpplib fields, trailing golden octets smpplib cannot produce)
SMPPLIB_CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("generic_nack", "generic_nack", {"status": S.ESME_RINVCMDID}, 0),
    ("bind_transmitter", "bind_transmitter", _bind("esme_tx", "s3cret", "VMA", 0x34, 1, 1, ""), 0),
    ("bind_transmitter_resp", "bind_transmitter_resp", {"system_id": "DLRSIM"}, 0),
    ("bind_receiver", "bind_receiver", _bind("esme_rx", "s3cret", "", 0x34, 1, 1, "^4477"), 0),
    ("bind_receiver_resp", "bind_receiver_resp", {"system_id": "DLRSIM"}, 0),
    ("bind_transceiver", "bind_transceiver", _bind("esme_trx", "pw", "", 0x34, 0, 0, ""), 0),
    (
        "bind_transceiver_resp", "bind_transceiver_resp",
        {"system_id": "DLRSIM", "sc_interface_version": 0x34}, 0,
    ),
    ("bind_transmitter_v50", "bind_transmitter", _bind("esme50", "pw5", "", 0x50, 1, 1, ""), 0),
    ("unbind", "unbind", {}, 0),
    ("unbind_resp", "unbind_resp", {}, 0),
    ("enquire_link", "enquire_link", {}, 0),
    ("enquire_link_resp", "enquire_link_resp", {}, 0),
    (
        "submit_sm", "submit_sm",
        {
            **_MESSAGE_TAIL_DEFAULTS,
            "service_type": "", "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "DLRSim",
            "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "447700900123",
            "validity_period": "000001000000000R", "registered_delivery": 1,
            "short_message": b"Hello world", "user_message_reference": 42,
        },
        8,  # smpplib cannot emit the vendor TLV (4 header + 4 value octets) at the end
    ),
    ("submit_sm_resp", "submit_sm_resp", {"message_id": "5f3c9a01"}, 0),
    (
        "deliver_sm_receipt", "deliver_sm",
        {
            **_MESSAGE_TAIL_DEFAULTS,
            "service_type": "", "source_addr_ton": 1, "source_addr_npi": 1,
            "source_addr": "447700900123", "dest_addr_ton": 5, "dest_addr_npi": 0,
            "destination_addr": "DLRSim", "esm_class": 0x04, "short_message": RECEIPT_TEXT,
            "receipted_message_id": "5f3c9a01", "message_state": 5,
            "network_error_code": b"\x03\x00\x01",
        },
        0,
    ),
    ("deliver_sm_resp", "deliver_sm_resp", {"message_id": ""}, 0),
    (
        "data_sm", "data_sm",
        {
            "service_type": "", "source_addr_ton": 1, "source_addr_npi": 1,
            "source_addr": "447700900123", "dest_addr_ton": 1, "dest_addr_npi": 1,
            "destination_addr": "447700900456", "esm_class": 0, "registered_delivery": 1,
            "data_coding": 0, "message_payload": b"Payload carried in a TLV",
        },
        0,
    ),
    (
        "query_sm", "query_sm",
        {"message_id": "5f3c9a01", "source_addr_ton": 5, "source_addr_npi": 0,
         "source_addr": "DLRSim"},
        0,
    ),
    (
        "query_sm_resp", "query_sm_resp",
        {"message_id": "5f3c9a01", "final_date": "240102153105000+", "message_state": 2,
         "error_code": 0},
        0,
    ),
    (
        "alert_notification", "alert_notification",
        {
            "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "447700900123",
            "esme_addr_ton": 5, "esme_addr_npi": 0, "esme_addr": "DLRSim",
            "ms_availability_status": 0,
        },
        0,
    ),
]


def _smpplib_frame(command: str, sequence: int, fields: dict[str, Any]) -> bytes:
    pdu = smpplib.smpp.make_pdu(command, sequence=sequence, **fields)
    # smpplib's classes carry defaults (e.g. interface_version) that constructor keywords do not
    # override, so set every field explicitly before generating.
    pdu.sequence = sequence
    for key, value in fields.items():
        setattr(pdu, key, value)
    frame: bytes = pdu.generate()
    return frame


def _drop_tail(frame: bytes, octets: int) -> bytes:
    if not octets:
        return frame
    short = frame[:-octets]
    return len(short).to_bytes(4, "big") + short[4:]


@pytest.mark.parametrize(
    ("name", "command", "fields", "tail"), SMPPLIB_CASES, ids=[case[0] for case in SMPPLIB_CASES]
)
def test_golden_agrees_with_smpplib(
    name: str, command: str, fields: dict[str, Any], tail: int
) -> None:
    expected = _drop_tail(load_golden(name), tail)
    assert _smpplib_frame(command, GOLDEN[name].sequence_number, fields).hex() == expected.hex()
