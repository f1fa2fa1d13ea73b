"""Binding through smpplib: each bind type, the configured-account refusals, accept-any mode.

Every refusal is checked for its exact command_status while a second, already bound session
of the same simulator keeps working, so a refused bind never disturbs anybody else.
"""

from __future__ import annotations

import pytest
import smpplib.consts  # type: ignore[import-untyped]

from simulator.core.accounts import Account

from .conftest import Harness, S, SimHandle

BIND_STATES = {
    "transmitter": smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
    "receiver": smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
    "transceiver": smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
}


def _acme(harness: Harness, **overrides: object) -> SimHandle:
    """A simulator with one strict account: no receiver binds, at most two sessions."""
    fields: dict[str, object] = {"system_id": "acme", "password": "s3cret",
                                 "bind_types": ["transmitter", "transceiver"], "max_binds": 2}
    fields.update(overrides)
    return harness.sim(accounts=[Account.model_validate(fields)])


@pytest.mark.parametrize("kind", ["transmitter", "receiver", "transceiver"])
def test_each_bind_type_is_accepted(harness: Harness, kind: str) -> None:
    sim = harness.sim()
    esme = harness.esme(sim, kind)

    assert esme.bind(kind, "tester", "secret") == 0

    response = esme.inbox[-1]
    assert response.command == f"bind_{kind}_resp"
    assert response.status == 0
    assert response.system_id == b"dlrsim"
    assert esme.client.state == BIND_STATES[kind]
    seq = esme.send("enquire_link")
    assert esme.response(seq).command == "enquire_link_resp"


@pytest.mark.parametrize(("system_id", "password"),
                         [("whoever", "anything"), ("x", ""), ("fifteen-chars-1", "8chars!!")])
def test_accept_any_default_binds_any_credentials(harness: Harness, system_id: str,
                                                  password: str) -> None:
    sim = harness.sim()  # no accounts configured: accept-any is the default
    esme = harness.bound(sim, "transceiver", system_id, password)

    esme.assert_working()


def test_unknown_system_id_is_refused(harness: Harness) -> None:
    sim = _acme(harness)
    healthy = harness.bound(sim, "transmitter", "acme", "s3cret", name="healthy")

    assert harness.esme(sim, "stranger").bind("transmitter", "nobody", "s3cret") == S.ESME_RINVSYSID

    healthy.assert_working()


def test_wrong_password_is_refused(harness: Harness) -> None:
    sim = _acme(harness)
    healthy = harness.bound(sim, "transmitter", "acme", "s3cret", name="healthy")

    assert harness.esme(sim, "guesser").bind("transmitter", "acme", "wrong") == S.ESME_RINVPASWD

    healthy.assert_working()


def test_bind_type_not_allowed_for_the_account_is_refused(harness: Harness) -> None:
    sim = _acme(harness)
    healthy = harness.bound(sim, "transceiver", "acme", "s3cret", name="healthy")

    assert harness.esme(sim, "rx").bind("receiver", "acme", "s3cret") == S.ESME_RBINDFAIL

    healthy.assert_working()


def test_binds_beyond_max_binds_are_refused_until_one_leaves(harness: Harness) -> None:
    sim = _acme(harness)
    healthy = harness.bound(sim, "transmitter", "acme", "s3cret", name="healthy")
    second = harness.bound(sim, "transceiver", "acme", "s3cret", name="second")

    assert harness.esme(sim, "third").bind("transmitter", "acme", "s3cret") == S.ESME_RBINDFAIL
    healthy.assert_working()
    second.assert_working()

    # unbind_resp is written as the session is released, so a fresh bind fits again at once
    assert second.client.unbind().command == "unbind_resp"
    second.close()
    assert harness.esme(sim, "fourth").bind("transmitter", "acme", "s3cret") == 0
    healthy.assert_working()


def test_bind_on_a_bound_session_is_already_bound(harness: Harness) -> None:
    sim = _acme(harness)
    healthy = harness.bound(sim, "transmitter", "acme", "s3cret", name="healthy")
    esme = harness.bound(sim, "transceiver", "acme", "s3cret", name="rebinder")

    # smpplib refuses to send this itself, so the PDU is written past its state table
    seq = esme.send_unchecked("bind_transmitter", system_id="acme", password="s3cret")
    response = esme.response(seq)

    assert response.command == "bind_transmitter_resp"
    assert response.status == S.ESME_RALYBND
    esme.assert_working()  # the first bind is untouched
    healthy.assert_working()
