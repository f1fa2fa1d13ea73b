"""Getting receipts to the client even when it says "not now" or says nothing.

The raw client answers deliver_sm exactly as each test scripts it. Retries run on the real
network clock (response_timeout is set small); the message timeline runs on the VirtualClock.
"""

from __future__ import annotations

from simulator.smpp.codec import Pdu, Tag

from .conftest import Harness, RawEsme, S, receipt_fields


def _scripted(raw: RawEsme, answers: list[int | None]) -> list[int]:
    """Answer the n-th deliver_sm with answers[n] (None: stay silent); later ones with 0."""
    seen: list[int] = []

    def answer(pdu: Pdu) -> int | None:
        seen.append(pdu.sequence_number)
        return answers[len(seen) - 1] if len(seen) <= len(answers) else S.ESME_ROK

    raw.deliver_answer = answer
    return seen


def _receipt_of(pdu: Pdu) -> tuple[str | None, str]:
    return (pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID),
            receipt_fields(pdu.bytes_param("short_message"))["stat"])


def test_temporary_application_error_gets_the_receipt_redelivered(harness: Harness) -> None:
    sim = harness.sim()
    raw = harness.raw_bound(sim)
    sequences = _scripted(raw, [S.ESME_RX_T_APPN])
    message_id = raw.submit_ok(b"retry me", registered_delivery=0x01)

    sim.settle()
    raw.pump_until(lambda: len(raw.deliveries()) >= 2, "the redelivered receipt")

    first, second = raw.deliveries()
    assert _receipt_of(first) == _receipt_of(second) == (message_id, "DELIVRD")
    assert first.sequence_number != second.sequence_number
    assert len(sequences) == 2
    sim.wait_until(lambda smsc: smsc.counters["receipts_delivered"] == 1,
                   "the second attempt to be accepted")
    assert sim.counter("deliveries_failed") == 0
    assert sim.pending_deliveries("tester") == 0


def test_unanswered_receipt_is_redelivered_after_the_response_timeout(harness: Harness) -> None:
    sim = harness.sim(response_timeout=0.2)
    raw = harness.raw_bound(sim)
    _scripted(raw, [None])
    message_id = raw.submit_ok(b"anyone there", registered_delivery=0x01)

    sim.settle()
    raw.pump_until(lambda: len(raw.deliveries()) >= 2, "the redelivered receipt")

    first, second = raw.deliveries()
    assert _receipt_of(first) == _receipt_of(second) == (message_id, "DELIVRD")
    assert first.sequence_number != second.sequence_number
    sim.wait_until(lambda smsc: smsc.counters["receipts_delivered"] == 1,
                   "the second attempt to be accepted")
    assert sim.pending_deliveries("tester") == 0
    raw.submit_ok(b"session survived the silence")
