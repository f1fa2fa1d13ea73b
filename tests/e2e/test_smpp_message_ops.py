"""query_sm, cancel_sm and replace_sm on accepted messages.

query_sm goes through smpplib; smpplib has no cancel_sm or replace_sm, so those use the raw
client built on the project's codec. Message states are the SMPP message_state values.
"""

from __future__ import annotations

from simulator.smpp.codec import CommandId, Pdu, Tag

from .conftest import DESTINATION, SOURCE, Harness, RawEsme, S, receipt_fields, text_of

ENROUTE, DELIVERED, DELETED = 1, 2, 4


def _cancel(raw: RawEsme, message_id: str) -> Pdu:
    return raw.request(Pdu(CommandId.CANCEL_SM, params={
        "service_type": "", "message_id": message_id,
        "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": SOURCE,
        "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": DESTINATION}))


def _replace(raw: RawEsme, message_id: str, text: bytes) -> Pdu:
    return raw.request(Pdu(CommandId.REPLACE_SM, params={
        "message_id": message_id, "source_addr_ton": 1, "source_addr_npi": 1,
        "source_addr": SOURCE, "schedule_delivery_time": "", "validity_period": "",
        "registered_delivery": 0, "sm_default_msg_id": 0, "short_message": text}))


def _query(raw: RawEsme, message_id: str) -> Pdu:
    return raw.request(Pdu(CommandId.QUERY_SM, params={
        "message_id": message_id, "source_addr_ton": 1, "source_addr_npi": 1,
        "source_addr": SOURCE}))


def _deliveries_for(raw: RawEsme, message_id: str) -> list[Pdu]:
    return [pdu for pdu in raw.deliveries() if pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id]


def test_query_reports_enroute_then_delivered(harness: Harness) -> None:
    sim = harness.sim()
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"where are you", registered_delivery=0x00)

    pending = esme.query(message_id)
    assert pending.command == "query_sm_resp" and pending.status == 0
    assert text_of(pending.message_id) == message_id
    assert pending.message_state == ENROUTE
    assert text_of(pending.final_date) == ""

    sim.settle()
    done = esme.query(message_id)
    assert done.status == 0
    assert done.message_state == DELIVERED
    final_date = text_of(done.final_date)
    assert len(final_date) == 16 and final_date[:12].isdigit()
    assert done.error_code == 0


def test_query_of_an_unknown_id_fails(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, name="healthy")
    esme = harness.bound(sim, name="asker")

    response = esme.query("no-such-id")

    assert response.command == "query_sm_resp"
    assert response.status == S.ESME_RQUERYFAIL
    healthy.assert_working()
    esme.assert_working()


def test_another_account_cannot_query_your_message(harness: Harness) -> None:
    sim = harness.sim()
    owner = harness.bound(sim, "transceiver", "alice")
    other = harness.bound(sim, "transceiver", "bob")
    message_id = owner.submit_ok(b"private")

    assert other.query(message_id).status == S.ESME_RQUERYFAIL
    assert owner.query(message_id).status == 0
    owner.assert_working()
    other.assert_working()


def test_cancel_deletes_a_pending_message_and_its_final_receipt(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, system_id="bystander", name="healthy")
    raw = harness.raw_bound(sim)
    message_id = raw.submit_ok(b"never mind", registered_delivery=0x01)
    assert _query(raw, message_id).int_param("message_state") == ENROUTE

    cancelled = _cancel(raw, message_id)
    assert cancelled.command_id == CommandId.CANCEL_SM_RESP
    assert cancelled.command_status == S.ESME_ROK
    assert _query(raw, message_id).int_param("message_state") == DELETED

    # the plan runs out; only the marker's receipt may arrive
    marker = raw.submit_ok(b"marker", registered_delivery=0x01)
    sim.settle()
    raw.expect(lambda p: p.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == marker, "the marker's receipt")
    assert _deliveries_for(raw, message_id) == []
    assert _query(raw, message_id).int_param("message_state") == DELETED

    again = _cancel(raw, message_id)
    assert again.command_id == CommandId.CANCEL_SM_RESP
    assert again.command_status == S.ESME_RCANCELFAIL
    healthy.assert_working()
    raw.submit_ok(b"raw session still fine")


def test_replace_changes_a_pending_message_but_not_a_final_one(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, system_id="bystander", name="healthy")
    raw = harness.raw_bound(sim)
    message_id = raw.submit_ok(b"first draft", registered_delivery=0x01)

    replaced = _replace(raw, message_id, b"second draft")
    assert replaced.command_id == CommandId.REPLACE_SM_RESP
    assert replaced.command_status == S.ESME_ROK

    sim.settle()
    receipt = raw.expect(lambda p: p.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id,
                         "the final receipt")
    fields = receipt_fields(receipt.bytes_param("short_message"))
    assert fields["stat"] == "DELIVRD"
    assert fields["text"] == "second draft"  # the receipt quotes the replaced body

    too_late = _replace(raw, message_id, b"third draft")
    assert too_late.command_id == CommandId.REPLACE_SM_RESP
    assert too_late.command_status == S.ESME_RREPLACEFAIL
    healthy.assert_working()
    raw.submit_ok(b"raw session still fine")
