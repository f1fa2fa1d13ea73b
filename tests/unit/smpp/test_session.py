"""The session state machine and the SMSC core, driven through an in-memory wire.

No sockets and no event loop: bytes go in through `data_received`, bytes come out of a list,
and time moves only when the test advances the virtual clocks.
"""

from __future__ import annotations

import pytest

from simulator.core.accounts import Account
from simulator.core.clock import VirtualClock
from simulator.engine.plan import FixedDeliveryPlanner, Plan, Step, Submission
from simulator.smpp.accounts import AccountRegistry
from simulator.smpp.codec import CommandId, FrameDecoder, Pdu, Tag, encode_pdu
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.pdu import DestAddress
from simulator.smpp.session import ALLOWED, BindState, SessionSettings, SmscSession
from simulator.smpp.smsc import Smsc


class Wire:
    """The far end of a session: collects what the session writes, decoded."""

    def __init__(self) -> None:
        self.decoder = FrameDecoder()
        self.received: list[Pdu] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            assert isinstance(item, Pdu), item
            self.received.append(item)

    def close(self) -> None:
        self.closed = True

    def take(self) -> list[Pdu]:
        out, self.received = self.received, []
        return out


class Harness:
    def __init__(self, accounts: list[Account] | None = None, planner: object = None) -> None:
        self.clock = VirtualClock()
        self.net = VirtualClock()
        registry = AccountRegistry(accounts, accept_any=accounts is None)
        self.smsc = Smsc(
            registry, planner or FixedDeliveryPlanner(1.0, 5.0), self.clock, self.net, seed=1
        )  # type: ignore[arg-type]
        self.count = 0

    def connect(self, **settings: float) -> tuple[SmscSession, Wire]:
        wire = Wire()
        self.count += 1
        session = SmscSession(
            self.smsc,
            wire,
            self.net,
            SessionSettings(**settings),
            session_id=str(self.count),
            peer="test",
        )  # type: ignore[arg-type]
        self.smsc.register_session(session)
        return session, wire


def bind(kind: int, system_id: str = "acct", password: str = "pw", seq: int = 1) -> bytes:
    return encode_pdu(
        Pdu(
            kind,
            seq,
            params={
                "system_id": system_id,
                "password": password,
                "system_type": "",
                "interface_version": 0x34,
                "addr_ton": 0,
                "addr_npi": 0,
                "address_range": "",
            },
        )
    )


def submit(
    seq: int, destination: str = "447700900001", registered_delivery: int = 1, **extra: object
) -> bytes:
    params: dict[str, object] = {
        "source_addr": "SHOP",
        "destination_addr": destination,
        "short_message": b"hello",
        "registered_delivery": registered_delivery,
    }
    params.update(extra)
    return encode_pdu(Pdu(CommandId.SUBMIT_SM, seq, params=params))  # type: ignore[arg-type]


def test_state_table_lists_submit_only_for_transmitting_binds() -> None:
    assert CommandId.SUBMIT_SM in ALLOWED[BindState.BOUND_TX]
    assert CommandId.SUBMIT_SM in ALLOWED[BindState.BOUND_TRX]
    assert CommandId.SUBMIT_SM not in ALLOWED[BindState.BOUND_RX]
    assert CommandId.SUBMIT_SM not in ALLOWED[BindState.OPEN]
    assert CommandId.DELIVER_SM_RESP not in ALLOWED[BindState.BOUND_TX]


def test_bind_then_submit_then_receipts_on_the_virtual_clock() -> None:
    h = Harness()
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSCEIVER) + submit(2, registered_delivery=0x11))
    bind_resp, submit_resp = wire.take()
    assert bind_resp.command_id == CommandId.BIND_TRANSCEIVER_RESP and bind_resp.command_status == 0
    assert bind_resp.tlv_int(Tag.SC_INTERFACE_VERSION) == 0x34
    message_id = submit_resp.str_param("message_id")
    assert submit_resp.command_status == 0 and message_id
    h.net.advance(0)  # the receiver registers right after its bind response
    h.clock.advance(1.0)
    (enroute,) = wire.take()
    assert enroute.int_param("esm_class") == 0x20
    assert enroute.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    assert enroute.tlv_int(Tag.MESSAGE_STATE) == 1
    session.data_received(
        encode_pdu(
            Pdu(CommandId.DELIVER_SM_RESP, enroute.sequence_number, params={"message_id": ""})
        )
    )
    h.clock.advance(4.0)
    (final,) = wire.take()
    assert final.int_param("esm_class") == 0x04
    assert b"stat:DELIVRD err:000" in final.bytes_param("short_message")
    assert final.bytes_param("short_message").startswith(f"id:{message_id} ".encode())
    assert final.tlv_int(Tag.MESSAGE_STATE) == 2


def test_responses_of_one_read_leave_in_one_write() -> None:
    h = Harness()
    session, wire = h.connect()
    writes: list[bytes] = []
    wire_write = wire.write

    def counting_write(data: bytes) -> None:
        writes.append(data)
        wire_write(data)

    wire.write = counting_write  # type: ignore[method-assign]
    session.data_received(
        bind(CommandId.BIND_TRANSMITTER) + b"".join(submit(i) for i in range(2, 52))
    )
    assert len(writes) == 1
    assert len(wire.take()) == 51


def test_wrong_state_unknown_command_and_rebind() -> None:
    h = Harness()
    session, wire = h.connect()
    session.data_received(submit(1))
    assert wire.take()[0].command_status == S.ESME_RINVBNDSTS
    unknown = bytes.fromhex("00000010000000ff0000000000000002")
    session.data_received(unknown)
    nack = wire.take()[0]
    assert (nack.command_id, nack.command_status, nack.sequence_number) == (
        CommandId.GENERIC_NACK,
        S.ESME_RINVCMDID,
        2,
    )
    session.data_received(bind(CommandId.BIND_RECEIVER, seq=3))
    assert wire.take()[0].command_status == 0
    session.data_received(bind(CommandId.BIND_TRANSMITTER, seq=4) + submit(5))
    rebind, refused = wire.take()
    assert rebind.command_status == S.ESME_RALYBND
    assert refused.command_status == S.ESME_RINVBNDSTS
    assert not wire.closed


def test_bad_command_length_closes_only_that_session() -> None:
    h = Harness()
    bad, bad_wire = h.connect()
    good, good_wire = h.connect()
    good.data_received(bind(CommandId.BIND_TRANSCEIVER))
    bad.data_received(bytes.fromhex("00000008000000150000000000000001"))
    assert bad_wire.closed and bad.state is BindState.CLOSED
    assert bad_wire.take()[0].command_status == S.ESME_RINVCMDLEN
    good.data_received(submit(2))
    assert [p.command_status for p in good_wire.take()] == [0, 0]


def test_configured_accounts_refuse_bad_credentials() -> None:
    h = Harness([Account(system_id="shop", password="pw", bind_types=["transmitter"], max_binds=1)])
    cases = [
        (bind(CommandId.BIND_TRANSMITTER, "nobody"), S.ESME_RINVSYSID),
        (bind(CommandId.BIND_TRANSMITTER, "shop", "bad"), S.ESME_RINVPASWD),
        (bind(CommandId.BIND_RECEIVER, "shop"), S.ESME_RBINDFAIL),
        (bind(CommandId.BIND_TRANSMITTER, "shop"), S.ESME_ROK),
    ]
    for data, status in cases:
        session, wire = h.connect()
        session.data_received(data)
        assert wire.take()[0].command_status == status
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSMITTER, "shop"))
    assert wire.take()[0].command_status == S.ESME_RBINDFAIL  # max_binds=1


def test_receipts_wait_for_a_receiver_and_survive_a_dropped_session() -> None:
    h = Harness()
    tx, tx_wire = h.connect()
    tx.data_received(bind(CommandId.BIND_TRANSMITTER) + submit(2))
    message_id = tx_wire.take()[1].str_param("message_id")
    h.clock.advance(10)
    assert h.smsc.pending_deliveries("acct") == 1
    rx, rx_wire = h.connect()
    rx.data_received(bind(CommandId.BIND_RECEIVER))
    h.net.advance(0)
    _, receipt = rx_wire.take()
    assert receipt.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    rx.connection_lost()  # never answered: the receipt goes back to the queue
    h.net.advance(2)
    assert h.smsc.pending_deliveries("acct") == 1
    rx2, rx2_wire = h.connect()
    rx2.data_received(bind(CommandId.BIND_RECEIVER))
    h.net.advance(0)
    again = rx2_wire.take()[1]
    assert again.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == message_id


def test_temporary_app_error_gets_a_redelivery() -> None:
    h = Harness()
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSCEIVER) + submit(2))
    h.net.advance(0)
    wire.take()
    h.clock.advance(5)
    first = wire.take()[0]
    session.data_received(
        encode_pdu(Pdu(CommandId.DELIVER_SM_RESP, first.sequence_number, S.ESME_RX_T_APPN))
    )
    assert wire.take() == []
    h.net.advance(1.0)
    second = wire.take()[0]
    assert second.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == first.tlv_str(Tag.RECEIPTED_MESSAGE_ID)
    assert second.sequence_number != first.sequence_number


def test_registered_delivery_failure_only_skips_delivered() -> None:
    h = Harness()
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSCEIVER) + submit(2, registered_delivery=0x02))
    h.net.advance(0)
    wire.take()
    h.clock.run_until_idle()
    assert wire.take() == []


class RejectingPlanner:
    def plan(self, submission: Submission) -> Plan:
        if submission.destination.startswith("999"):
            return Plan(reject_status=S.ESME_RINVDSTADR)
        return Plan(steps=(Step(3.0, "UNDELIV", "001", network_error_code=0x22),))


def test_planner_rejections_and_network_error_code() -> None:
    h = Harness(planner=RejectingPlanner())
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSCEIVER) + submit(2, "999") + submit(3))
    h.net.advance(0)
    _, rejected, accepted = wire.take()
    assert rejected.command_status == S.ESME_RINVDSTADR
    assert accepted.command_status == 0
    h.clock.advance(3)
    (receipt,) = wire.take()
    assert receipt.tlv(Tag.NETWORK_ERROR_CODE) == bytes((3, 0x00, 0x22))
    assert b"stat:UNDELIV err:001" in receipt.bytes_param("short_message")


def test_query_cancel_replace_and_account_isolation() -> None:
    h = Harness()
    session, wire = h.connect()
    other, other_wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSMITTER) + submit(2))
    other.data_received(bind(CommandId.BIND_TRANSMITTER, "someone-else"))
    message_id = wire.take()[1].str_param("message_id")
    other_wire.take()

    def query(s: SmscSession, w: Wire, seq: int) -> Pdu:
        s.data_received(encode_pdu(Pdu(CommandId.QUERY_SM, seq, params={"message_id": message_id})))
        return w.take()[0]

    assert query(session, wire, 3).int_param("message_state") == 1
    assert query(other, other_wire, 4).command_status == S.ESME_RQUERYFAIL
    replace = Pdu(
        CommandId.REPLACE_SM, 5, params={"message_id": message_id, "short_message": b"new"}
    )
    session.data_received(encode_pdu(replace))
    assert wire.take()[0].command_status == 0
    session.data_received(
        encode_pdu(Pdu(CommandId.CANCEL_SM, 6, params={"message_id": message_id}))
    )
    assert wire.take()[0].command_status == 0
    assert query(session, wire, 7).int_param("message_state") == 4
    session.data_received(
        encode_pdu(Pdu(CommandId.CANCEL_SM, 8, params={"message_id": message_id}))
    )
    assert wire.take()[0].command_status == S.ESME_RCANCELFAIL
    h.clock.run_until_idle()
    assert query(session, wire, 9).int_param("message_state") == 4  # cancelled stays cancelled


def test_submit_multi_reports_distribution_lists_as_unsuccessful() -> None:
    h = Harness()
    session, wire = h.connect()
    multi = Pdu(
        CommandId.SUBMIT_MULTI,
        2,
        params={
            "source_addr": "SHOP",
            "short_message": b"hi",
            "registered_delivery": 1,
            "dest_addresses": [
                DestAddress("447700900001", 1, 1),
                DestAddress("447700900002", 1, 1),
                DestAddress("friends", dest_flag=2),
            ],
        },
    )
    session.data_received(bind(CommandId.BIND_TRANSCEIVER) + encode_pdu(multi))
    h.net.advance(0)
    response = wire.take()[1]
    assert response.command_status == 0
    (failed,) = response.params["unsuccess_smes"]  # type: ignore[misc]
    assert failed.address == "friends" and failed.error_status == S.ESME_RINVDLNAME
    h.clock.run_until_idle()
    receipts = wire.take()
    assert sorted(r.str_param("source_addr") for r in receipts) == ["447700900001", "447700900002"]


def test_throttling_and_window() -> None:
    h = Harness([Account(system_id="acct", password=None, max_submit_rate=2)])
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSMITTER) + submit(2) + submit(3) + submit(4))
    assert [p.command_status for p in wire.take()] == [0, 0, 0, S.ESME_RTHROTTLED]
    h.net.advance(1.0)
    session.data_received(submit(5))
    assert wire.take()[0].command_status == 0

    h2 = Harness([Account(system_id="acct", password=None, window=2, response_delay=1.0)])
    slow, slow_wire = h2.connect()
    slow.data_received(bind(CommandId.BIND_TRANSMITTER) + submit(2) + submit(3) + submit(4))
    assert [p.command_status for p in slow_wire.take()] == [0, S.ESME_RMSGQFUL]
    h2.net.advance(1.0)
    assert [p.command_status for p in slow_wire.take()] == [0, 0]


def test_keepalive_and_idle_timeout() -> None:
    h = Harness()
    session, wire = h.connect(enquire_link_interval=10, idle_timeout=25, response_timeout=5)
    session.data_received(bind(CommandId.BIND_TRANSCEIVER))
    wire.take()
    h.net.advance(10)
    (probe,) = wire.take()
    assert probe.command_id == CommandId.ENQUIRE_LINK
    session.data_received(encode_pdu(Pdu(CommandId.ENQUIRE_LINK_RESP, probe.sequence_number)))
    h.net.advance(30)
    assert wire.closed


def test_shutdown_unbinds() -> None:
    h = Harness()
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_TRANSCEIVER))
    wire.take()
    done: list[bool] = []
    session.unbind(lambda: done.append(True))
    (unbind,) = wire.take()
    assert unbind.command_id == CommandId.UNBIND
    session.data_received(encode_pdu(Pdu(CommandId.UNBIND_RESP, unbind.sequence_number)))
    assert done == [True] and wire.closed


@pytest.mark.parametrize("use_payload", [False, True])
def test_mo_long_ucs2(use_payload: bool) -> None:
    h = Harness()
    session, wire = h.connect()
    session.data_received(bind(CommandId.BIND_RECEIVER))
    h.net.advance(0)
    wire.take()
    text = "Привет, мир! " * 10
    parts = h.smsc.send_mo("acct", "447700900001", "12345", text, use_payload=use_payload)
    delivered = wire.take()
    assert len(delivered) == parts
    if use_payload:
        assert parts == 1 and delivered[0].tlv(Tag.MESSAGE_PAYLOAD) == text.encode("utf-16-be")
    else:
        assert parts == 2 and all(p.int_param("esm_class") == 0x40 for p in delivered)


def test_an_account_can_impersonate_a_provider() -> None:
    from simulator.catalog.registry import load_registry

    registry = load_registry()
    clock, net = VirtualClock(), VirtualClock()
    accounts = AccountRegistry([Account(system_id="latam", provider="sinch")])
    planner = RejectingPlanner()  # plans UNDELIV err 001 in no provider's codes
    smsc = Smsc(accounts, planner, clock, net, seed=1, registry=registry)
    wire = Wire()
    session = SmscSession(smsc, wire, net, SessionSettings(), session_id="1", peer="test")
    session.data_received(bind(CommandId.BIND_TRANSCEIVER, "latam") + submit(2))
    net.advance(0)
    message_id = wire.take()[1].str_param("message_id")
    assert len(message_id) == 36 and message_id.count("-") == 4  # Sinch's UUID ids
    clock.advance(3)
    (receipt,) = wire.take()
    sinch_undelivered = registry.lookup("sinch", "NOT_DELIVERED", channel="sms")
    expected = f"stat:UNDELIV err:{sinch_undelivered.smpp.err}".encode()
    assert expected in receipt.bytes_param("short_message")
    assert smsc.store.get(message_id).catalog_key == sinch_undelivered.key  # type: ignore[union-attr]
