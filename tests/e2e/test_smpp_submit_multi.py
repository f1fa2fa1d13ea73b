"""submit_multi (which smpplib cannot send) through the raw client and the project's codec."""

from __future__ import annotations

from simulator.smpp.codec import CommandId, DestAddress, Pdu, Tag, UnsuccessSme

from .conftest import SOURCE, Harness, S, receipt_fields

FIRST, SECOND = "4915100000001", "4915100000002"


def test_submit_multi_refuses_the_list_and_receipts_both_smes(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, system_id="bystander", name="healthy")
    raw = harness.raw_bound(sim)

    response = raw.request(Pdu(CommandId.SUBMIT_MULTI, params={
        "service_type": "", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": SOURCE,
        "dest_addresses": [DestAddress(FIRST, 1, 1), DestAddress("friends", dest_flag=2),
                           DestAddress(SECOND, 1, 1)],
        "registered_delivery": 0x01, "short_message": b"hello everybody"}))

    assert response.command_id == CommandId.SUBMIT_MULTI_RESP
    assert response.command_status == S.ESME_ROK
    message_id = response.str_param("message_id")
    assert message_id
    unsuccess = response.params["unsuccess_smes"]
    assert isinstance(unsuccess, list)
    assert all(isinstance(item, UnsuccessSme) for item in unsuccess)
    assert [(item.address, item.error_status) for item in unsuccess
            if isinstance(item, UnsuccessSme)] == [
        ("friends", S.ESME_RINVDLNAME)]

    sim.settle()
    raw.pump_until(lambda: len(raw.deliveries()) >= 2, "receipts for both SMEs")
    receipts = raw.deliveries()
    assert sorted(pdu.str_param("source_addr") for pdu in receipts) == [FIRST, SECOND]
    for pdu in receipts:
        assert pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
        assert pdu.int_param("esm_class") == 0x04
        fields = receipt_fields(pdu.bytes_param("short_message"))
        assert (fields["id"], fields["stat"]) == (message_id, "DELIVRD")
    healthy.assert_working()
