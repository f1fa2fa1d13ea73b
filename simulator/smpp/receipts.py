"""Delivery receipts: building the PDU, and sending it through the scenario's receipt faults.

`build_receipt` renders one step of a message as a deliver_sm (or, for the
`receipt_as_data_sm` fault, a data_sm carrying the same TLVs). `ReceiptSender` applies the
receipt faults (drop, duplicate, delay, reorder, unknown id) and hands the result to the
account's delivery queue. Reordering holds receipts until `hold` of them wait, then releases
them shuffled; a timer flushes a partial hold so that nothing stays held forever.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from simulator.core.accounts import Account
from simulator.core.clock import Clock
from simulator.engine.faults import FaultDecider, ReceiptFaults
from simulator.engine.plan import Step
from simulator.smpp.codec.constants import (
    ESM_CLASS_INTERMEDIATE,
    ESM_CLASS_RECEIPT,
    ESM_CLASS_UDHI,
    STATE_BY_STAT,
    CommandId,
    MessageState,
    Tag,
)
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.pdu import Pdu
from simulator.smpp.codec.receipt import date_stamp, format_receipt
from simulator.smpp.codec.text import decode_text, is_text_coding, parse_udh
from simulator.smpp.delivery import Delivery
from simulator.store.messages import MessageRecord

REORDER_FLUSH_AFTER = 5.0  # simulated seconds a partial reorder hold waits at most
RECEIPT_GRACE = 3600.0  # simulated seconds a receipt waits at least for a receiver


class DateStamps:
    """Receipt dates change once a minute: format each minute once, not once per receipt."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def __call__(self, epoch: float) -> str:
        minute = int(epoch // 60)
        stamp = self._cache.get(minute)
        if stamp is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            stamp = self._cache[minute] = date_stamp(epoch)
        return stamp


def receipt_text(
    record: MessageRecord,
    step: Step,
    done_epoch: float,
    receipt_id: str,
    account: Account,
    stamps: DateStamps | None = None,
) -> bytes:
    text = ""
    if is_text_coding(record.data_coding):
        try:
            body = record.body
            if record.esm_class & ESM_CLASS_UDHI:
                _, body = parse_udh(body)
            text = decode_text(body[:80], record.data_coding) or ""
        except CodecError:
            text = ""  # a cut UCS-2 pair or odd bytes: the receipt still goes out
    stamp = stamps or date_stamp
    return format_receipt(
        receipt_id,
        1 if step.stat == "DELIVRD" else 0,
        stamp(record.submitted_at),
        stamp(done_epoch),
        step.stat,
        step.err,
        text[:20].encode("ascii", "replace").decode("ascii"),
        account.receipt_text_label,
    ).encode("ascii")


def build_receipt(
    record: MessageRecord,
    step: Step,
    account: Account,
    done_epoch: float,
    *,
    receipt_id: str | None = None,
    as_data_sm: bool = False,
    stamps: DateStamps | None = None,
) -> Pdu:
    """One step of a message as the receipt PDU a client receives."""
    message_id = receipt_id or record.message_id
    text = receipt_text(record, step, done_epoch, message_id, account, stamps)
    esm_class = ESM_CLASS_RECEIPT if step.final else ESM_CLASS_INTERMEDIATE
    params: dict[str, object] = {
        "service_type": "",
        "source_addr_ton": record.dest_ton,
        "source_addr_npi": record.dest_npi,
        "source_addr": record.destination_addr,
        "dest_addr_ton": record.source_ton,
        "dest_addr_npi": record.source_npi,
        "destination_addr": record.source_addr,
        "esm_class": esm_class,
        "data_coding": 0,
    }
    if as_data_sm:
        pdu = Pdu(CommandId.DATA_SM, params=params)  # type: ignore[arg-type]
        pdu.set_tlv(Tag.MESSAGE_PAYLOAD, text)
    else:
        params["short_message"] = text
        pdu = Pdu(CommandId.DELIVER_SM, params=params)  # type: ignore[arg-type]
    pdu.set_tlv(Tag.RECEIPTED_MESSAGE_ID, message_id)
    pdu.set_tlv(Tag.MESSAGE_STATE, STATE_BY_STAT.get(step.stat, MessageState.UNKNOWN))
    if step.network_error_code is not None:
        code = step.network_error_code
        pdu.set_tlv(Tag.NETWORK_ERROR_CODE, bytes((3, code >> 8 & 0xFF, code & 0xFF)))
    return pdu


class ReceiptSender:
    def __init__(
        self,
        clock: Clock,
        faults: FaultDecider | None,
        on_fault: Callable[[str, ReceiptFaults, MessageRecord], None],
        seed: int | None = None,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.on_fault = on_fault
        self.rng = random.Random(None if seed is None else seed ^ 0xD1A)
        self.stamps = DateStamps()
        self._held: dict[str, list[tuple[Callable[[Delivery], None], Delivery]]] = {}

    def send(
        self,
        record: MessageRecord,
        step: Step,
        account: Account,
        put: Callable[[Delivery], None],
        fresh_id: Callable[[], str],
    ) -> int:
        """Queue the receipt(s) for one step; returns how many deliveries were queued."""
        effects = (
            self.faults.on_receipt(record.account, record.rule)
            if self.faults is not None and self.faults.active
            else None
        )
        if effects is not None and effects.any:
            self.on_fault("receipt", effects, record)
        if effects is not None and effects.drop:
            return 0
        receipt_id = fresh_id() if effects is not None and effects.unknown_id else None
        as_data_sm = effects is not None and effects.as_data_sm
        copies = effects.copies if effects is not None else 1
        now = self.clock.time()
        # A receipt made when the validity ends (an EXPIRED outcome) still deserves delivery.
        expires_at = max(record.expires_at, self.clock.now() + RECEIPT_GRACE)
        deliveries = [
            Delivery(
                build_receipt(
                    record,
                    step,
                    account,
                    now,
                    receipt_id=receipt_id,
                    as_data_sm=as_data_sm,
                    stamps=self.stamps,
                ),
                "receipt",
                record.message_id,
                expires_at,
                meta={"stat": step.stat, "err": step.err},
            )
            for _ in range(copies)
        ]
        delay = effects.extra_delay if effects is not None else 0.0
        hold = effects.reorder_hold if effects is not None else 0

        def release() -> None:
            for delivery in deliveries:
                if hold:
                    self._hold(record.account, hold, put, delivery)
                else:
                    put(delivery)

        if delay > 0:
            self.clock.call_later(delay, release)
        else:
            release()
        return copies

    def _hold(
        self, account: str, hold: int, put: Callable[[Delivery], None], delivery: Delivery
    ) -> None:
        held = self._held.setdefault(account, [])
        held.append((put, delivery))
        if len(held) == 1:
            self.clock.call_later(REORDER_FLUSH_AFTER, lambda: self._flush(account))
        if len(held) >= hold:
            self._flush(account)

    def _flush(self, account: str) -> None:
        held = self._held.pop(account, [])
        self.rng.shuffle(held)
        for put, delivery in held:
            put(delivery)
