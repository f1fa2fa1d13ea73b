"""Protocol error paths: wrong bind state, malformed frames, limits.

Each case checks the exact command_status and that a second session, bound before the
misbehaviour, goes on working. Frames smpplib cannot (or will not) produce are written by hand
on a raw socket and read back with the project's codec.
"""

from __future__ import annotations

import struct

from simulator.core.accounts import Account
from simulator.smpp.codec import CommandId

from .conftest import Esme, Harness, S

UNKNOWN_COMMAND_ID = 0x00000077


def _frame(command_id: int, sequence: int, body: bytes = b"", *,
           command_length: int | None = None) -> bytes:
    length = 16 + len(body) if command_length is None else command_length
    return struct.pack(">IIII", length, command_id, 0, sequence) + body


def _submit_body(destination: bytes) -> bytes:
    """A submit_sm body laid out by hand, so the destination can break the 21-octet limit."""
    return (b"\x00"                        # service_type
            + b"\x01\x01" + b"4930123456\x00"  # source ton, npi, addr
            + b"\x01\x01" + destination + b"\x00"
            + b"\x00\x00\x00"              # esm_class, protocol_id, priority_flag
            + b"\x00\x00"                  # schedule_delivery_time, validity_period
            + b"\x00\x00\x00\x00"          # registered_delivery, replace, data_coding, default id
            + b"\x05hello")


def _statuses(esme: Esme, sequences: list[int]) -> list[int]:
    return [int(esme.response(seq).status) for seq in sequences]


def test_submit_in_a_receiver_bind_is_wrong_bind_state(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, name="healthy")
    receiver = harness.bound(sim, "receiver", name="rx")

    response = receiver.response(receiver.submit(b"not allowed here", unchecked=True))

    assert response.command == "submit_sm_resp"
    assert response.status == S.ESME_RINVBNDSTS
    seq = receiver.send("enquire_link")  # the receiver bind itself survives
    assert receiver.response(seq).command == "enquire_link_resp"
    healthy.assert_working()


def test_submit_before_bind_is_wrong_bind_state(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, name="healthy")
    esme = harness.esme(sim, "unbound")

    response = esme.response(esme.submit(b"too early", unchecked=True))

    assert response.command == "submit_sm_resp"
    assert response.status == S.ESME_RINVBNDSTS
    assert esme.bind("transmitter", "tester") == 0  # the connection is still usable
    esme.assert_working()
    healthy.assert_working()


def test_unknown_command_id_gets_generic_nack(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, name="healthy")
    raw = harness.raw_bound(sim)

    raw.send_bytes(_frame(UNKNOWN_COMMAND_ID, 4242))
    nack = raw.response(4242)

    assert nack.command_id == CommandId.GENERIC_NACK
    assert nack.command_status == S.ESME_RINVCMDID
    raw.submit_ok(b"after the nack")  # the stream stays in sync
    healthy.assert_working()


def test_command_length_below_header_size_gets_generic_nack_and_close(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, name="healthy")
    raw = harness.raw_bound(sim)

    raw.send_bytes(_frame(CommandId.ENQUIRE_LINK, 9, command_length=8))
    nack = raw.expect(lambda p: p.command_id == CommandId.GENERIC_NACK, "a generic_nack")
    raw.wait_closed()

    assert nack.command_status == S.ESME_RINVCMDLEN
    assert [p.command_id for p in raw.inbox][-1] == CommandId.GENERIC_NACK
    healthy.assert_working()


def test_over_long_destination_addr_is_invalid_destination(harness: Harness) -> None:
    sim = harness.sim()
    healthy = harness.bound(sim, name="healthy")
    raw = harness.raw_bound(sim)

    raw.send_bytes(_frame(CommandId.SUBMIT_SM, 77, _submit_body(b"4" * 30)))
    response = raw.response(77)

    assert response.command_id == CommandId.SUBMIT_SM_RESP
    assert response.command_status == S.ESME_RINVDSTADR
    # the same layout with a 20-digit destination is fine: only the length was wrong
    raw.send_bytes(_frame(CommandId.SUBMIT_SM, 78, _submit_body(b"4" * 20)))
    assert raw.response(78).command_status == S.ESME_ROK
    healthy.assert_working()


def test_submits_over_the_account_rate_are_throttled(harness: Harness) -> None:
    sim = harness.sim(accounts=[Account(system_id="slow", max_submit_rate=5)], accept_any=True)
    healthy = harness.bound(sim, system_id="other", name="healthy")
    esme = harness.bound(sim, "transmitter", "slow")

    sequences = [esme.submit(f"burst {n}".encode()) for n in range(6)]  # no waiting between
    statuses = _statuses(esme, sequences)

    assert S.ESME_RTHROTTLED in statuses
    assert set(statuses) <= {S.ESME_ROK, S.ESME_RTHROTTLED}
    assert statuses[0] == S.ESME_ROK
    for seq, status in zip(sequences, statuses, strict=True):
        message_id = esme.response(seq).message_id
        assert bool(message_id) == (status == S.ESME_ROK)
    healthy.assert_working()  # the limit is per account


def test_requests_beyond_the_window_get_queue_full(harness: Harness) -> None:
    sim = harness.sim(accounts=[Account(system_id="lazy", response_delay=0.5, window=2)],
                      accept_any=True)
    healthy = harness.bound(sim, system_id="other", name="healthy")
    esme = harness.bound(sim, "transmitter", "lazy")

    sequences = [esme.submit(f"queued {n}".encode()) for n in range(3)]  # none answered yet
    healthy.assert_working()  # another account is not held up by this one's window
    statuses = _statuses(esme, sequences)

    assert statuses == [S.ESME_ROK, S.ESME_ROK, S.ESME_RMSGQFUL]
