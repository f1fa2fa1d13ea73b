"""Receipts seen by a real smpplib client: ids, esm_class, states and registered_delivery.

Simulated time runs on a VirtualClock (ENROUTE after 1 s, DELIVRD after 5 s) that only the
test moves, except for one test on a real clock with tiny delays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import smpplib.gsm  # type: ignore[import-untyped]

from simulator.core.accounts import Account

from .conftest import DESTINATION, SOURCE, Esme, Harness, pump_all, receipt_fields, text_of

ESM_RECEIPT = 0x04
ESM_INTERMEDIATE = 0x20
DELIVERED, ENROUTE = 2, 1


def _assert_receipt(pdu: Any, message_id: str, stat: str, esm_class: int, state: int) -> None:
    fields = receipt_fields(pdu.short_message)
    assert text_of(pdu.receipted_message_id) == message_id
    assert fields["id"] == message_id
    assert fields["stat"] == stat
    assert pdu.esm_class == esm_class
    assert pdu.message_state == state
    # a receipt travels back: from the handset to the original sender
    assert text_of(pdu.source_addr) == DESTINATION
    assert text_of(pdu.destination_addr) == SOURCE


def _receipts(esme: Esme) -> list[Any]:
    return [pdu for pdu in esme.delivered if pdu.receipted_message_id is not None]


def _prove_nothing_else(esme: Esme, settle: Callable[[], int], unwanted: str) -> None:
    """Submit a marker asking for a final receipt; once it is in, nothing earlier is pending."""
    marker = esme.submit_ok(b"marker", registered_delivery=0x01)
    settle()
    esme.receipt_for(marker, "DELIVRD")
    ids = {text_of(pdu.receipted_message_id) for pdu in _receipts(esme)}
    assert unwanted not in ids, f"an unrequested receipt for {unwanted} arrived"


def test_gsm_submit_gets_matching_final_receipt(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    text = "Hello from dlrsim @ 10:00"
    message_id = esme.submit_ok(smpplib.gsm.gsm_encode(text), data_coding=0,
                                registered_delivery=0x01)

    sim.settle()
    receipt = esme.receipt_for(message_id, "DELIVRD")

    _assert_receipt(receipt, message_id, "DELIVRD", ESM_RECEIPT, DELIVERED)
    fields = receipt_fields(receipt.short_message)
    assert fields["dlvrd"] == "001"
    assert len(fields["submit date"]) == 10 and fields["submit date"].isdigit()
    assert len(fields["done date"]) == 10 and fields["done date"].isdigit()
    assert fields["text"] == text[:20]
    assert len(_receipts(esme)) == 1  # 0x01 asks for the final receipt only


@pytest.mark.parametrize("id_format", ["hex", "decimal", "uuid", "uuid_upper", "alnum"])
def test_receipt_ids_match_the_response_in_every_id_format(harness: Harness,
                                                           id_format: str) -> None:
    sim = harness.sim(accounts=[Account.model_validate(
        {"system_id": "tester", "message_id_format": id_format})])
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"which id", registered_delivery=0x01)

    sim.settle()

    _assert_receipt(esme.receipt_for(message_id, "DELIVRD"), message_id, "DELIVRD",
                    ESM_RECEIPT, DELIVERED)


def test_ucs2_submit_gets_matching_receipt(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    message_id = esme.submit_ok("Привет, мир! 你好".encode("utf-16-be"), data_coding=8,
                                registered_delivery=0x01)

    sim.settle()

    _assert_receipt(esme.receipt_for(message_id, "DELIVRD"), message_id, "DELIVRD",
                    ESM_RECEIPT, DELIVERED)


def test_three_part_concatenated_submit_gets_one_receipt_per_part(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    parts, encoding, esm_class = smpplib.gsm.make_parts("Long message body. " * 20)
    assert len(parts) == 3 and esm_class == 0x40

    ids = [esme.submit_ok(part, data_coding=encoding, esm_class=esm_class,
                          registered_delivery=0x01) for part in parts]
    assert len(set(ids)) == 3, "each part needs its own message_id"
    sim.settle()

    for message_id in ids:
        _assert_receipt(esme.receipt_for(message_id, "DELIVRD"), message_id, "DELIVRD",
                        ESM_RECEIPT, DELIVERED)
    assert sorted(text_of(p.receipted_message_id) for p in _receipts(esme)) == sorted(ids)


def test_registered_delivery_zero_gives_no_receipt(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"no receipt please", registered_delivery=0x00)

    sim.settle()

    _prove_nothing_else(esme, sim.settle, message_id)
    assert sim.counter("receipts_queued") == 1  # the marker's only


def test_intermediate_and_final_receipts_in_order(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"tell me everything", registered_delivery=0x11)

    sim.advance(1.0)  # the ENROUTE step
    enroute = esme.receipt_for(message_id, "ENROUTE")
    assert len(_receipts(esme)) == 1
    sim.advance(4.0)  # the DELIVRD step
    final = esme.receipt_for(message_id, "DELIVRD")

    _assert_receipt(enroute, message_id, "ENROUTE", ESM_INTERMEDIATE, ENROUTE)
    _assert_receipt(final, message_id, "DELIVRD", ESM_RECEIPT, DELIVERED)
    assert _receipts(esme) == [enroute, final]


def test_failure_only_receipt_is_not_sent_for_a_delivered_message(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"only bad news", registered_delivery=0x02)

    sim.settle()

    _prove_nothing_else(esme, sim.settle, message_id)


def test_receipts_on_a_real_clock_follow_the_submit_response(harness: Harness) -> None:
    sim = harness.sim(virtual=False, enroute_after=0.01, delivered_after=0.02)
    esme = harness.bound(sim)

    message_id = esme.submit_ok(b"real time", registered_delivery=0x11)
    final = esme.receipt_for(message_id, "DELIVRD")

    commands = [p.command for p in esme.inbox]
    assert commands.index("submit_sm_resp") < commands.index("deliver_sm")
    assert [receipt_fields(p.short_message)["stat"] for p in _receipts(esme)] == [
        "ENROUTE", "DELIVRD"]
    _assert_receipt(final, message_id, "DELIVRD", ESM_RECEIPT, DELIVERED)


def test_receipts_follow_the_submit_response_on_a_slow_smsc(harness: Harness) -> None:
    sim = harness.sim(virtual=False, enroute_after=0.01, delivered_after=0.02,
                      accounts=[Account(system_id="slow", response_delay=0.3)])
    esme = harness.bound(sim, "transceiver", "slow")

    message_id = text_of(esme.response(esme.submit(b"slow", registered_delivery=0x11))
                         .message_id)
    esme.receipt_for(message_id, "DELIVRD")

    commands = [p.command for p in esme.inbox]
    assert commands.index("submit_sm_resp") < commands.index("deliver_sm"), commands


def test_receipts_wait_for_a_receiver_of_the_account(harness: Harness) -> None:
    sim = harness.sim()
    transmitter = harness.bound(sim, "transmitter", "shop")
    ids = [transmitter.submit_ok(f"order {n}".encode(), registered_delivery=0x01)
           for n in range(2)]

    sim.settle()
    assert sim.pending_deliveries("shop") == 2  # queued: nobody can receive them yet
    receiver = harness.bound(sim, "receiver", "shop")

    for message_id in ids:
        _assert_receipt(receiver.receipt_for(message_id, "DELIVRD"), message_id, "DELIVRD",
                        ESM_RECEIPT, DELIVERED)
    sim.wait_until(lambda smsc: smsc.pending_deliveries("shop") == 0, "the queue to drain")
    assert transmitter.delivered == []


def test_two_receivers_share_receipts_round_robin(harness: Harness) -> None:
    sim = harness.sim()
    transmitter = harness.bound(sim, "transmitter", "shop")
    first = harness.bound(sim, "receiver", "shop", name="rx1")
    second = harness.bound(sim, "receiver", "shop", name="rx2")
    ids = [transmitter.submit_ok(f"item {n}".encode(), registered_delivery=0x01)
           for n in range(4)]

    sim.settle()
    pump_all([first, second], lambda: len(first.delivered) + len(second.delivered) == 4,
             "four receipts across both receivers")

    assert len(first.delivered) == 2 and len(second.delivered) == 2
    got = [text_of(p.receipted_message_id) for p in first.delivered + second.delivered]
    assert sorted(got) == sorted(ids)


def test_data_sm_is_accepted_with_a_message_id(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    seq = esme.send("data_sm", source_addr_ton=1, source_addr_npi=1, source_addr=SOURCE,
                    dest_addr_ton=1, dest_addr_npi=1, destination_addr=DESTINATION,
                    esm_class=0, registered_delivery=0x01, data_coding=0,
                    message_payload=b"payload carried in a TLV")
    response = esme.response(seq)

    assert response.command == "data_sm_resp"
    assert response.status == 0
    message_id = text_of(response.message_id)
    assert message_id
    sim.settle()
    _assert_receipt(esme.receipt_for(message_id, "DELIVRD"), message_id, "DELIVRD",
                    ESM_RECEIPT, DELIVERED)
