from __future__ import annotations

from simulator.engine.faults import FaultDecider
from simulator.scenario.model import Fault
from simulator.smpp.codec.constants import CommandStatus

STATUSES = {member.name: int(member) for member in CommandStatus}


def decider(*faults: dict[str, object], seed: int = 1) -> FaultDecider:
    return FaultDecider([Fault.model_validate(f) for f in faults], STATUSES, seed)


def test_disconnect_after_n_pdus_only_in_scope() -> None:
    d = decider({"kind": "disconnect", "after_pdus": 3, "scope": {"account": "shop"}})
    assert d.on_pdu("shop", "transceiver", "submit_sm", 2) is None
    assert d.on_pdu("bank", "transceiver", "submit_sm", 5) is None
    found = d.on_pdu("shop", "transceiver", "submit_sm", 3)
    assert found is not None and found.action == "disconnect"


def test_submit_faults_and_probability_share() -> None:
    d = decider({"kind": "reject_submit", "status": "ESME_RSYSERR", "probability": 0.25}, seed=3)
    hits = [d.on_pdu("a", None, "submit_sm", n) for n in range(4000)]
    share = sum(1 for h in hits if h is not None) / 4000
    assert abs(share - 0.25) < 0.03
    assert all(h.status == CommandStatus.ESME_RSYSERR for h in hits if h is not None)
    assert d.on_pdu("a", None, "enquire_link", 1) is None


def test_active_range_limits_a_fault_to_some_submits() -> None:
    d = decider({"kind": "no_response", "active": {"min": 3, "max": 4}})
    actions = [d.on_pdu("a", None, "submit_sm", n) for n in range(6)]
    assert [a is not None for a in actions] == [False, False, True, True, False, False]


def test_receipt_faults_combine() -> None:
    d = decider(
        {"kind": "duplicate_receipt", "copies": 3},
        {"kind": "receipt_as_data_sm"},
        {"kind": "delay_receipt", "delay": "30s", "scope": {"rule": "slow"}},
    )
    effects = d.on_receipt("a", None)
    assert effects.copies == 3 and effects.as_data_sm and effects.extra_delay == 0
    assert d.on_receipt("a", "slow").extra_delay == 30.0


def test_same_seed_same_faults() -> None:
    spec = {"kind": "generic_nack", "probability": 0.5}
    a, b = decider(spec, seed=9), decider(spec, seed=9)
    assert [a.on_pdu("x", None, "submit_sm", n) is None for n in range(100)] == [
        b.on_pdu("x", None, "submit_sm", n) is None for n in range(100)
    ]
