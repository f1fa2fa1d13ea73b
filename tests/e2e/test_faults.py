"""Each fault kind of the scenario language, seen by a real client through a real socket.

Every test writes a small scenario (Infobip codes, delivered after 5 simulated seconds unless
a rule says otherwise), starts a simulator with it on a VirtualClock and drives it with
smpplib (or, where smpplib cannot read what the fault produces, the raw codec client). Faults
that act on the network clock (delayed responses, throttling) take a fraction of a real
second; every wait is bounded by the harness.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from simulator.smpp.codec import CommandId, Pdu, Tag

from .conftest import (
    WAIT,
    Esme,
    Harness,
    SimHandle,
    receipt_fields,
    text_of,
    write_scenario,
)
from .conftest import S as Status

ESM_RECEIPT = 0x04
DELIVERED = 2

BASE = """\
name: fault-test
provider: infobip
default: {outcome: DELIVERED_TO_HANDSET, after: 5s}
"""


def fault_sim(harness: Harness, tmp_path: Path, *parts: str, **settings: Any) -> SimHandle:
    """A simulator running BASE plus `parts` (top-level YAML: rules, faults, accounts)."""
    text = BASE + "".join(textwrap.dedent(part) for part in parts)
    return harness.sim(scenario=write_scenario(tmp_path, text), **settings)


def responses(esme: Esme, sequences: list[int]) -> list[Any]:
    return [esme.response(sequence) for sequence in sequences]


def receipts_for(esme: Esme, message_id: str) -> list[Any]:
    return [pdu for pdu in esme.delivered if text_of(pdu.receipted_message_id) == message_id]


# -- the connection --------------------------------------------------------------------------


def test_disconnect_after_n_pdus_closes_the_link_at_the_nth(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: disconnect, after_pdus: 4}
        """)
    esme = harness.bound(sim)  # PDU 1: the bind
    esme.submit_ok(b"two")  # PDU 2
    esme.submit_ok(b"three")  # PDU 3
    fourth = esme.submit(b"four")  # PDU 4: the link drops instead of an answer
    esme.wait_closed()
    assert not [p for p in esme.inbox if p.sequence == fourth], "the 4th PDU was answered"
    assert sim.counter("submitted") == 2
    # The count is per session: a new connection gets its own three PDUs.
    again = harness.bound(sim, name="rebound")
    again.submit_ok(b"two")
    again.submit_ok(b"three")
    again.submit(b"four")
    again.wait_closed()
    assert sim.counter("submitted") == 4


def test_no_response_leaves_the_submit_unanswered_but_the_session_working(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: no_response, active: {max: 1}}
        """)
    esme = harness.bound(sim)
    lost = esme.submit(b"first")
    keepalive = esme.send("enquire_link")
    assert esme.response(keepalive).command == "enquire_link_resp"
    esme.submit_ok(b"second")  # `active: {max: 1}`: only the first submit is affected
    # Responses come in request order, so the first one would have arrived by now.
    assert not [p for p in esme.inbox if p.sequence == lost]
    assert sim.counter("submitted") == 1


def test_delay_response_holds_the_answer_and_counts_against_the_window(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        accounts:
          - {system_id: tester, window: 2}
        faults:
          - {kind: delay_response, commands: [submit_sm], delay: 1s}
        """)
    esme = harness.bound(sim)
    started = time.monotonic()
    first, second = esme.submit(b"one", registered_delivery=1), esme.submit(b"two")
    third = esme.submit(b"three")
    refused = esme.response(third)  # answered at once: two held responses fill the window
    assert refused.status == Status.ESME_RMSGQFUL
    assert not [p for p in esme.inbox if p.sequence in (first, second)]
    # The message's timeline waits for its submit_sm_resp: no receipt can overtake it.
    sim.advance(60)
    held = responses(esme, [first, second])
    assert time.monotonic() - started >= 0.9, "the held responses came too early"
    assert [p.status for p in held] == [0, 0]
    # Had the timeline started at the submit, advancing 60 s would have sent the receipt
    # before the held response, and it would have been read on the way.
    assert esme.delivered == []
    sim.settle()
    receipt = esme.receipt_for(text_of(held[0].message_id), "DELIVRD")
    assert receipt.esm_class == ESM_RECEIPT


def test_generic_nack_answers_the_submit(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: generic_nack}
        """)
    esme = harness.bound(sim)
    sequence = esme.submit(b"nacked")
    answer = esme.response(sequence)
    assert answer.command == "generic_nack"
    assert answer.status == Status.ESME_RSYSERR  # the default status
    assert esme.response(esme.send("enquire_link")).command == "enquire_link_resp"
    assert sim.counter("submitted") == 0


def test_reject_submit_answers_with_the_given_status(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: reject_submit, status: ESME_RINVDSTADR}
        """)
    esme = harness.bound(sim)
    answer = esme.response(esme.submit(b"refused"))
    assert answer.command == "submit_sm_resp"
    assert answer.status == Status.ESME_RINVDSTADR
    assert sim.counter("submitted") == 0


def test_throttle_refuses_submits_above_the_rate(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: throttle, rate: 5}
        """)
    esme = harness.bound(sim)
    statuses = [esme.response(esme.submit(b"burst")).status for _ in range(12)]
    # A burst of one second's worth (5) goes through, then ESME_RTHROTTLED.
    assert statuses[:5] == [0] * 5
    assert statuses.count(Status.ESME_RTHROTTLED) >= 5
    assert set(statuses) <= {0, Status.ESME_RTHROTTLED}
    # Tokens come back with real time.
    deadline = time.monotonic() + WAIT
    while esme.response(esme.submit(b"later")).status != 0:
        assert time.monotonic() < deadline, "the throttle never let a submit through again"
        time.sleep(0.05)


def test_window_fault_shrinks_the_window(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: window, size: 1}
          - {kind: delay_response, commands: [submit_sm], delay: 300ms}
        """)
    esme = harness.bound(sim)  # the account's own window is 100
    first, second = esme.submit(b"one"), esme.submit(b"two")
    assert esme.response(second).status == Status.ESME_RMSGQFUL
    assert esme.response(first).status == 0
    assert esme.response(esme.submit(b"three")).status == 0  # room again


def test_reject_bind_by_account_and_by_bind_type(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: reject_bind, status: ESME_RBINDFAIL, scope: {account: locked}}
          - {kind: reject_bind, status: ESME_RINVSYSTYP, scope: {session: receiver}}
        """)
    assert harness.esme(sim, "locked").bind("transceiver", "locked") == Status.ESME_RBINDFAIL
    assert harness.esme(sim, "receiver").bind("receiver", "tester") == Status.ESME_RINVSYSTYP
    harness.bound(sim, "transceiver", "tester").assert_working()
    harness.bound(sim, "transmitter", "tester").assert_working()


# -- receipts ------------------------------------------------------------------------------

RULES = """\
rules:
  - name: special
    when: {destination: {prefix: "4915100"}}
    then: {outcome: DELIVERED_TO_HANDSET, after: 5s}
"""
SPECIAL = "491510012345"


def test_drop_receipt_loses_the_receipt_but_not_the_delivery(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, RULES, """\
        faults:
          - {kind: drop_receipt, scope: {rule: special}}
        """)
    esme = harness.bound(sim)
    dropped = esme.submit_ok(b"dropped", destination=SPECIAL, registered_delivery=1)
    marker = esme.submit_ok(b"marker", registered_delivery=1)
    sim.settle()
    esme.receipt_for(marker, "DELIVRD")
    assert receipts_for(esme, dropped) == []  # the marker's step fired later, so it is final
    assert esme.query(dropped).message_state == DELIVERED
    assert sim.counter("faults_applied") == 1


def test_duplicate_receipt_sends_copies(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: duplicate_receipt, copies: 3}
        """)
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"thrice", registered_delivery=1)
    sim.settle()
    esme.wait_deliveries(3)
    copies = receipts_for(esme, message_id)
    assert len(copies) == 3
    assert {receipt_fields(p.short_message)["stat"] for p in copies} == {"DELIVRD"}
    assert len({bytes(p.short_message) for p in copies}) == 1


def test_delay_receipt_holds_the_receipt_on_the_simulated_clock(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, RULES, """\
        faults:
          - {kind: delay_receipt, delay: 1h, scope: {rule: special}}
        """)
    esme = harness.bound(sim)
    late = esme.submit_ok(b"late", destination=SPECIAL, registered_delivery=1)
    marker = esme.submit_ok(b"marker", registered_delivery=1)
    sim.advance(10)
    esme.receipt_for(marker, "DELIVRD")
    assert receipts_for(esme, late) == []
    assert esme.query(late).message_state == DELIVERED  # delivered; only the receipt waits
    sim.advance(3600)
    receipt = esme.receipt_for(late, "DELIVRD")
    assert receipt.esm_class == ESM_RECEIPT


def test_reorder_receipts_releases_a_held_batch_shuffled(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: reorder_receipts, hold: 6}
        """)
    esme = harness.bound(sim)
    submitted = [esme.submit_ok(f"m{i}".encode(), destination=f"49151000000{i}",
                                registered_delivery=1) for i in range(6)]
    sim.advance(5)  # all six final steps fire, in submit order, and fill the hold
    esme.wait_deliveries(6)
    arrived = [text_of(p.receipted_message_id) for p in esme.delivered]
    assert sorted(arrived) == sorted(submitted)
    assert arrived != submitted, "the held receipts came out in their original order"
    # A hold that never fills is flushed after 5 simulated seconds.
    alone = esme.submit_ok(b"alone", registered_delivery=1)
    sim.advance(5)
    assert receipts_for(esme, alone) == []
    sim.advance(5)
    esme.receipt_for(alone, "DELIVRD")


def test_receipt_as_data_sm(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: receipt_as_data_sm}
        """)
    raw = harness.raw_bound(sim)  # smpplib cannot read a receipt sent as data_sm
    message_id = raw.submit_ok(b"as data_sm", registered_delivery=1)
    sim.settle()
    receipt = raw.expect(lambda p: p.command_id == CommandId.DATA_SM, "a data_sm receipt")
    raw.send(Pdu(CommandId.DATA_SM_RESP, receipt.sequence_number, 0, {"message_id": ""}))
    assert receipt.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    assert receipt.int_param("esm_class") == ESM_RECEIPT
    assert receipt.tlv_int(Tag.MESSAGE_STATE) == DELIVERED
    fields = receipt_fields(receipt.tlv(Tag.MESSAGE_PAYLOAD))
    assert (fields["id"], fields["stat"], fields["err"]) == (message_id, "DELIVRD", "000")
    assert raw.deliveries() == []


def test_receipt_unknown_id(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: receipt_unknown_id}
        """)
    esme = harness.bound(sim)
    message_id = esme.submit_ok(b"who am i", registered_delivery=1)
    sim.settle()
    (receipt,) = esme.wait_deliveries(1)
    unknown = text_of(receipt.receipted_message_id)
    assert unknown and unknown != message_id
    assert receipt_fields(receipt.short_message)["id"] == unknown
    assert receipt_fields(receipt.short_message)["stat"] == "DELIVRD"


# -- scope, probability, seed ------------------------------------------------------------------


def test_account_scope_limits_a_fault_to_that_account(harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, """\
        faults:
          - {kind: reject_submit, status: ESME_RSYSERR, scope: {account: blocked}}
        """)
    blocked = harness.bound(sim, system_id="blocked")
    other = harness.bound(sim, system_id="tester")
    assert blocked.response(blocked.submit(b"x")).status == Status.ESME_RSYSERR
    other.submit_ok(b"y")


def _refusals(esme: Esme, count: int) -> list[int]:
    return [esme.response(esme.submit(b"maybe", destination=f"4915{i:08d}",
                                      registered_delivery=1)).status
            for i in range(count)]


PROBABLE = """\
faults:
  - {kind: reject_submit, status: ESME_RSYSERR, probability: 0.5}
"""


def test_probability_applies_a_fault_to_about_that_share(
        harness: Harness, tmp_path: Path) -> None:
    sim = fault_sim(harness, tmp_path, PROBABLE)
    statuses = _refusals(harness.bound(sim), 400)
    refused = statuses.count(Status.ESME_RSYSERR)
    # Binomial(400, 0.5): mean 200, standard deviation 10; the band is six deviations wide.
    assert 140 <= refused <= 260, refused
    assert statuses.count(0) == 400 - refused


@pytest.mark.parametrize("other_seed", [8])
def test_the_same_seed_gives_the_same_faults(
        harness: Harness, tmp_path: Path, other_seed: int) -> None:
    faults = PROBABLE + "  - {kind: duplicate_receipt, probability: 0.5}\n"
    runs = []
    for seed in (7, 7, other_seed):
        sim = fault_sim(harness, tmp_path, faults, seed=seed)
        esme = harness.bound(sim)
        statuses = _refusals(esme, 40)
        accepted = statuses.count(0)
        sim.settle()
        # Each accepted message gets its receipt once or twice; wait for all, then count.
        esme.wait_deliveries(accepted)
        expected = sim.counter("receipts_queued")
        esme.wait_deliveries(expected)
        copies = [len([p for p in esme.delivered if p.receipted_message_id == pdu_id])
                  for pdu_id in dict.fromkeys(p.receipted_message_id for p in esme.delivered)]
        runs.append((statuses, copies))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 0 < runs[0][0].count(0) < 40 and 1 in runs[0][1] and 2 in runs[0][1]
