"""query_sm, cancel_sm and replace_sm against the message store.

A client only ever sees its own account's messages: a query for another account's id fails
exactly like a query for an unknown one, so ids leak nothing across accounts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from simulator.core.clock import Clock
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.pdu import Pdu, response_for
from simulator.smpp.codec.smpp_time import parse_smpp_time
from simulator.store.messages import MessageRecord, MessageStore


def own_record(store: MessageStore, account: str | None, message_id: str) -> MessageRecord | None:
    record = store.get(message_id)
    if record is None or account is None or record.account != account:
        return None
    return record


def query_response(store: MessageStore, account: str | None, pdu: Pdu) -> Pdu:
    message_id = pdu.str_param("message_id")
    record = own_record(store, account, message_id)
    source = pdu.str_param("source_addr")
    if record is None or (source and source != record.source_addr):
        return response_for(pdu, S.ESME_RQUERYFAIL)
    final_date = ""
    if record.done_at is not None:
        final_date = datetime.fromtimestamp(record.done_at, UTC).strftime("%y%m%d%H%M%S") + "000+"
    error_code = int(record.err) if record.err.isdigit() and int(record.err) < 256 else 0
    return response_for(
        pdu,
        message_id=message_id,
        final_date=final_date,
        message_state=record.state,
        error_code=error_code,
    )


def cancellable(
    store: MessageStore, account: str | None, pdu: Pdu
) -> list[tuple[str, MessageRecord]]:
    """The (key, record) pairs a cancel_sm names: one id, or all pending source->destination."""
    message_id = pdu.str_param("message_id")
    source = pdu.str_param("source_addr")
    if message_id:
        record = own_record(store, account, message_id)
        if record is None or record.final or (source and source != record.source_addr):
            return []
        return [(message_id, record)]
    destination = pdu.str_param("destination_addr")
    service_type = pdu.str_param("service_type")
    return [
        (record.message_id, record)
        for record in store
        if record.account == account
        and not record.final
        and record.source_addr == source
        and record.destination_addr == destination
        and (not service_type or record.service_type == service_type)
    ]


def replace_message(store: MessageStore, account: str | None, pdu: Pdu, clock: Clock) -> int:
    record = own_record(store, account, pdu.str_param("message_id"))
    if record is None or record.final:
        return S.ESME_RREPLACEFAIL
    source = pdu.str_param("source_addr")
    if source and source != record.source_addr:
        return S.ESME_RREPLACEFAIL
    record.body = pdu.bytes_param("short_message")
    if pdu.int_param("registered_delivery"):
        record.registered_delivery = pdu.int_param("registered_delivery")
    validity = parse_smpp_time(pdu.str_param("validity_period"), clock.time())
    if validity is not None:
        record.expires_at = clock.now() + validity
    record.history.append((clock.now(), "REPLACED", record.err))
    return S.ESME_ROK
