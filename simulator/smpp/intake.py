"""From a submit PDU to the neutral records the SMSC and the engine work with.

Validation that needs the whole PDU (empty destination, short_message and message_payload both
set, malformed UDH, validity already over) happens here and raises `CodecError` carrying the
status to answer with. MO messages go the other way: text to deliver_sm PDUs.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.core.accounts import Account
from simulator.core.clock import Clock
from simulator.engine.plan import Submission
from simulator.smpp.codec.constants import ESM_CLASS_UDHI, CommandId, Tag
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.pdu import Pdu
from simulator.smpp.codec.smpp_time import parse_smpp_time
from simulator.smpp.codec.text import (
    UdhError,
    choose_coding,
    decode_text,
    encode_text,
    is_text_coding,
    parse_udh,
    split_payload,
)
from simulator.store.messages import MessageRecord


def plain_text(body: bytes, data_coding: int) -> str | None:
    """The text of a message part for the engine's text rules (None when not text)."""
    if not is_text_coding(data_coding):
        return None
    try:
        return decode_text(body, data_coding)
    except CodecError:
        return None


def text_with_udh(body: bytes, data_coding: int) -> str | None:
    try:
        _, payload = parse_udh(body)
    except CodecError:
        return None
    return plain_text(payload, data_coding)


def message_from_pdu(
    clock: Clock,
    account: Account,
    next_id: Callable[[], str],
    pdu: Pdu,
    destination: str,
    ton: int,
    npi: int,
    message_id: str | None = None,
) -> tuple[MessageRecord, Submission]:
    """A message record and its engine view from one submit (one destination of it)."""
    if not destination:
        raise CodecError("destination_addr is empty", S.ESME_RINVDSTADR)
    body = pdu.bytes_param("short_message") if "short_message" in pdu.params else b""
    payload = pdu.tlv(Tag.MESSAGE_PAYLOAD)
    if payload is not None:
        if body:
            raise CodecError("short_message and message_payload are both set", S.ESME_RINVMSGLEN)
        body = payload
    data_coding = pdu.int_param("data_coding")
    esm_class = pdu.int_param("esm_class")
    part_index, part_count, concat_ref = 1, 1, None
    if esm_class & ESM_CLASS_UDHI:
        try:
            udh, _ = parse_udh(body)
        except UdhError as error:
            raise CodecError(str(error), S.ESME_RINVMSGLEN) from error
        if udh.concat is not None:
            part_index, part_count, concat_ref = (
                udh.concat.seq,
                udh.concat.total,
                udh.concat.reference,
            )
    else:
        total = pdu.tlv_int(Tag.SAR_TOTAL_SEGMENTS)
        if total:
            part_count = total
            part_index = pdu.tlv_int(Tag.SAR_SEGMENT_SEQNUM) or 1
            concat_ref = pdu.tlv_int(Tag.SAR_MSG_REF_NUM)
    now_epoch = clock.time()
    validity = parse_smpp_time(pdu.str_param("validity_period"), now_epoch)
    schedule = parse_smpp_time(
        pdu.str_param("schedule_delivery_time"), now_epoch, status=S.ESME_RINVSCHED
    )
    if validity is not None and validity <= 0:
        raise CodecError("validity_period is already over", S.ESME_RINVEXPIRY)
    record = MessageRecord(
        message_id=message_id or next_id(),
        account=account.system_id,
        source_addr=pdu.str_param("source_addr"),
        destination_addr=destination,
        source_ton=pdu.int_param("source_addr_ton"),
        source_npi=pdu.int_param("source_addr_npi"),
        dest_ton=ton,
        dest_npi=npi,
        service_type=pdu.str_param("service_type"),
        data_coding=data_coding,
        esm_class=esm_class,
        body=body,
        registered_delivery=pdu.int_param("registered_delivery"),
        submitted_at=now_epoch,
        expires_at=clock.now() + (validity if validity is not None else account.default_validity),
        part_index=part_index,
        part_count=part_count,
        concat_ref=concat_ref,
    )
    submission = Submission(
        account=account.system_id,
        source=record.source_addr,
        destination=destination,
        data_coding=data_coding,
        body=body,
        registered_delivery=record.registered_delivery,
        part_count=part_count,
        part_index=part_index,
        decoder=text_with_udh if esm_class & ESM_CLASS_UDHI else plain_text,
    )
    if schedule is not None and schedule > 0:
        record.history.append((clock.now(), "SCHEDULED", f"{schedule:.0f}"))
    return record, submission


def mo_pdus(
    text: str,
    source: str,
    destination: str,
    reference: int,
    *,
    data_coding: int | None = None,
    whole: bool = False,
) -> list[Pdu]:
    """Mobile-originated deliver_sm PDUs: GSM 7-bit when possible, else UCS-2; a long text as
    UDH parts, or whole in message_payload when `whole` is set."""
    coding = choose_coding(text) if data_coding is None else data_coding
    encoded = encode_text(text, coding)
    bodies = [encoded] if whole else split_payload(encoded, coding, reference)
    pdus = []
    for body in bodies:
        params: dict[str, object] = {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": source,
            "dest_addr_ton": 0,
            "dest_addr_npi": 1,
            "destination_addr": destination,
            "esm_class": ESM_CLASS_UDHI if len(bodies) > 1 else 0,
            "data_coding": coding,
            "short_message": b"" if whole else body,
        }
        pdu = Pdu(CommandId.DELIVER_SM, params=params)  # type: ignore[arg-type]
        if whole:
            pdu.set_tlv(Tag.MESSAGE_PAYLOAD, body)
        pdus.append(pdu)
    return pdus
