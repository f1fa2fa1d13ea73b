"""Body layouts of every SMPP 3.4 PDU, as data.

One table drives both decoding and encoding, so the two cannot drift apart. Each mandatory
field is (name, kind, size, status): `kind` is how it is laid out on the wire, `size` bounds
C-octet strings (including their NUL), and `status` is the command_status to answer with when
that field is malformed (a too-long system_id is ESME_RINVSYSID, not a generic error).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from simulator.smpp.codec.constants import CommandId as C
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.constants import Tag as T


class FieldSpec(NamedTuple):
    name: str
    kind: str  # "u8" | "u16" | "u32" | "cstr" | "sm" | "dests" | "unsuccess"
    size: int  # max octets including NUL for cstr; 0 otherwise
    status: int  # command_status when this field is malformed


U8, U32, CSTR, SM, DESTS, UNSUCCESS = "u8", "u32", "cstr", "sm", "dests", "unsuccess"


def _u8(name: str, status: int = S.ESME_RINVCMDLEN) -> FieldSpec:
    return FieldSpec(name, U8, 0, status)


def _c(name: str, size: int, status: int) -> FieldSpec:
    return FieldSpec(name, CSTR, size, status)


_BIND = (
    _c("system_id", 16, S.ESME_RINVSYSID),
    _c("password", 9, S.ESME_RINVPASWD),
    _c("system_type", 13, S.ESME_RINVSYSTYP),
    _u8("interface_version"),
    _u8("addr_ton"),
    _u8("addr_npi"),
    _c("address_range", 41, S.ESME_RINVCMDLEN),
)
_BIND_RESP = (_c("system_id", 16, S.ESME_RINVSYSID),)
_MESSAGE_ID_RESP = (_c("message_id", 65, S.ESME_RINVMSGID),)

_SOURCE_21 = (
    _u8("source_addr_ton", S.ESME_RINVSRCTON),
    _u8("source_addr_npi", S.ESME_RINVSRCNPI),
    _c("source_addr", 21, S.ESME_RINVSRCADR),
)
_DEST_21 = (
    _u8("dest_addr_ton", S.ESME_RINVDSTTON),
    _u8("dest_addr_npi", S.ESME_RINVDSTNPI),
    _c("destination_addr", 21, S.ESME_RINVDSTADR),
)
_MESSAGE_TAIL = (
    _u8("esm_class", S.ESME_RINVESMCLASS),
    _u8("protocol_id"),
    _u8("priority_flag", S.ESME_RINVPRTFLG),
    _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
    _c("validity_period", 17, S.ESME_RINVEXPIRY),
    _u8("registered_delivery", S.ESME_RINVREGDLVFLG),
    _u8("replace_if_present_flag", S.ESME_RINVREPFLAG),
    _u8("data_coding"),
    _u8("sm_default_msg_id", S.ESME_RINVDFTMSGID),
    FieldSpec("short_message", SM, 254, S.ESME_RINVMSGLEN),
)
_SERVICE_TYPE = _c("service_type", 6, S.ESME_RINVSERTYP)
_SUBMIT = (_SERVICE_TYPE, *_SOURCE_21, *_DEST_21, *_MESSAGE_TAIL)

BODY_SPEC: Final[dict[int, tuple[FieldSpec, ...]]] = {
    C.GENERIC_NACK: (),
    C.BIND_RECEIVER: _BIND,
    C.BIND_TRANSMITTER: _BIND,
    C.BIND_TRANSCEIVER: _BIND,
    C.BIND_RECEIVER_RESP: _BIND_RESP,
    C.BIND_TRANSMITTER_RESP: _BIND_RESP,
    C.BIND_TRANSCEIVER_RESP: _BIND_RESP,
    C.OUTBIND: (_c("system_id", 16, S.ESME_RINVSYSID), _c("password", 9, S.ESME_RINVPASWD)),
    C.UNBIND: (),
    C.UNBIND_RESP: (),
    C.ENQUIRE_LINK: (),
    C.ENQUIRE_LINK_RESP: (),
    C.SUBMIT_SM: _SUBMIT,
    C.SUBMIT_SM_RESP: _MESSAGE_ID_RESP,
    C.DELIVER_SM: _SUBMIT,
    C.DELIVER_SM_RESP: _MESSAGE_ID_RESP,
    C.DATA_SM: (
        _SERVICE_TYPE,
        _u8("source_addr_ton", S.ESME_RINVSRCTON),
        _u8("source_addr_npi", S.ESME_RINVSRCNPI),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _u8("dest_addr_ton", S.ESME_RINVDSTTON),
        _u8("dest_addr_npi", S.ESME_RINVDSTNPI),
        _c("destination_addr", 65, S.ESME_RINVDSTADR),
        _u8("esm_class", S.ESME_RINVESMCLASS),
        _u8("registered_delivery", S.ESME_RINVREGDLVFLG),
        _u8("data_coding"),
    ),
    C.DATA_SM_RESP: _MESSAGE_ID_RESP,
    C.QUERY_SM: (_c("message_id", 65, S.ESME_RINVMSGID), *_SOURCE_21),
    C.QUERY_SM_RESP: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        _c("final_date", 17, S.ESME_RINVCMDLEN),
        _u8("message_state"),
        _u8("error_code"),
    ),
    C.CANCEL_SM: (_SERVICE_TYPE, _c("message_id", 65, S.ESME_RINVMSGID), *_SOURCE_21, *_DEST_21),
    C.CANCEL_SM_RESP: (),
    C.REPLACE_SM: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        *_SOURCE_21,
        _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
        _c("validity_period", 17, S.ESME_RINVEXPIRY),
        _u8("registered_delivery", S.ESME_RINVREGDLVFLG),
        _u8("sm_default_msg_id", S.ESME_RINVDFTMSGID),
        FieldSpec("short_message", SM, 254, S.ESME_RINVMSGLEN),
    ),
    C.REPLACE_SM_RESP: (),
    C.SUBMIT_MULTI: (
        _SERVICE_TYPE,
        *_SOURCE_21,
        FieldSpec("dest_addresses", DESTS, 254, S.ESME_RINVNUMDESTS),
        *_MESSAGE_TAIL,
    ),
    C.SUBMIT_MULTI_RESP: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        FieldSpec("unsuccess_smes", UNSUCCESS, 254, S.ESME_RINVCMDLEN),
    ),
    C.ALERT_NOTIFICATION: (
        _u8("source_addr_ton", S.ESME_RINVSRCTON),
        _u8("source_addr_npi", S.ESME_RINVSRCNPI),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _u8("esme_addr_ton"),
        _u8("esme_addr_npi"),
        _c("esme_addr", 65, S.ESME_RINVCMDLEN),
    ),
}

#: Responses whose body an SMSC may leave out when command_status is not ESME_ROK.
BODY_OPTIONAL_ON_ERROR: Final[frozenset[int]] = frozenset(
    {
        C.BIND_RECEIVER_RESP,
        C.BIND_TRANSMITTER_RESP,
        C.BIND_TRANSCEIVER_RESP,
        C.SUBMIT_SM_RESP,
        C.SUBMIT_MULTI_RESP,
        C.DATA_SM_RESP,
        C.DELIVER_SM_RESP,
        C.QUERY_SM_RESP,
    }
)

#: Commands that may carry TLVs after their mandatory fields.
TAKES_TLVS: Final[frozenset[int]] = frozenset(
    {
        C.BIND_RECEIVER_RESP,
        C.BIND_TRANSMITTER_RESP,
        C.BIND_TRANSCEIVER_RESP,
        C.SUBMIT_SM,
        C.DELIVER_SM,
        C.DATA_SM,
        C.DATA_SM_RESP,
        C.SUBMIT_MULTI,
        C.ALERT_NOTIFICATION,
        # SMPP 5.0 lets these responses carry TLVs (additional_status_info_text, ...).
        C.SUBMIT_SM_RESP,
        C.SUBMIT_MULTI_RESP,
        C.DELIVER_SM_RESP,
    }
)


class TlvSpec(NamedTuple):
    kind: str  # "int" | "cstr" | "octets"
    min_len: int
    max_len: int


def _int(size: int) -> TlvSpec:
    return TlvSpec("int", size, size)


def _cs(max_len: int) -> TlvSpec:
    return TlvSpec("cstr", 1, max_len)


def _oct(min_len: int, max_len: int) -> TlvSpec:
    return TlvSpec("octets", min_len, max_len)


#: Standard TLVs by tag: how to read their value and the lengths the spec allows.
TLV_SPEC: Final[dict[int, TlvSpec]] = {
    T.DEST_ADDR_SUBUNIT: _int(1),
    T.DEST_NETWORK_TYPE: _int(1),
    T.DEST_BEARER_TYPE: _int(1),
    T.DEST_TELEMATICS_ID: _int(2),
    T.SOURCE_ADDR_SUBUNIT: _int(1),
    T.SOURCE_NETWORK_TYPE: _int(1),
    T.SOURCE_BEARER_TYPE: _int(1),
    T.SOURCE_TELEMATICS_ID: _int(1),
    T.QOS_TIME_TO_LIVE: _int(4),
    T.PAYLOAD_TYPE: _int(1),
    T.ADDITIONAL_STATUS_INFO_TEXT: _cs(256),
    T.RECEIPTED_MESSAGE_ID: _cs(65),
    T.MS_MSG_WAIT_FACILITIES: _int(1),
    T.PRIVACY_INDICATOR: _int(1),
    T.SOURCE_SUBADDRESS: _oct(2, 23),
    T.DEST_SUBADDRESS: _oct(2, 23),
    T.USER_MESSAGE_REFERENCE: _int(2),
    T.USER_RESPONSE_CODE: _int(1),
    T.SOURCE_PORT: _int(2),
    T.DESTINATION_PORT: _int(2),
    T.SAR_MSG_REF_NUM: _int(2),
    T.LANGUAGE_INDICATOR: _int(1),
    T.SAR_TOTAL_SEGMENTS: _int(1),
    T.SAR_SEGMENT_SEQNUM: _int(1),
    T.SC_INTERFACE_VERSION: _int(1),
    T.CALLBACK_NUM_PRES_IND: _int(1),
    T.CALLBACK_NUM_ATAG: _oct(0, 65),
    T.NUMBER_OF_MESSAGES: _int(1),
    T.CALLBACK_NUM: _oct(4, 19),
    T.DPF_RESULT: _int(1),
    T.SET_DPF: _int(1),
    T.MS_AVAILABILITY_STATUS: _int(1),
    T.NETWORK_ERROR_CODE: _oct(3, 3),
    T.MESSAGE_PAYLOAD: _oct(0, 65535),
    T.DELIVERY_FAILURE_REASON: _int(1),
    T.MORE_MESSAGES_TO_SEND: _int(1),
    T.MESSAGE_STATE: _int(1),
    T.CONGESTION_STATE: _int(1),
    T.USSD_SERVICE_OP: _int(1),
    T.BROADCAST_CHANNEL_INDICATOR: _int(1),
    T.BROADCAST_CONTENT_TYPE: _oct(3, 3),
    T.BROADCAST_CONTENT_TYPE_INFO: _oct(0, 255),
    T.BROADCAST_MESSAGE_CLASS: _int(1),
    T.BROADCAST_REP_NUM: _int(2),
    T.BROADCAST_FREQUENCY_INTERVAL: _oct(3, 3),
    T.BROADCAST_AREA_IDENTIFIER: _oct(0, 100),
    T.BROADCAST_ERROR_STATUS: _int(4),
    T.BROADCAST_AREA_SUCCESS: _int(1),
    T.BROADCAST_END_TIME: _cs(17),
    T.BROADCAST_SERVICE_GROUP: _oct(0, 255),
    T.BILLING_IDENTIFICATION: _oct(0, 1024),
    T.SOURCE_NETWORK_ID: _cs(65),
    T.DEST_NETWORK_ID: _cs(65),
    T.SOURCE_NODE_ID: _oct(6, 6),
    T.DEST_NODE_ID: _oct(6, 6),
    T.DEST_ADDR_NP_RESOLUTION: _int(1),
    T.DEST_ADDR_NP_INFORMATION: _oct(10, 10),
    T.DEST_ADDR_NP_COUNTRY: _int(5),
    T.DISPLAY_TIME: _int(1),
    T.SMS_SIGNAL: _int(2),
    T.MS_VALIDITY: _oct(1, 4),
    T.ALERT_ON_MESSAGE_DELIVERY: _oct(0, 1),
    T.ITS_REPLY_TYPE: _int(1),
    T.ITS_SESSION_INFO: _int(2),
}
