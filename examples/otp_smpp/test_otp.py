"""The OTP sender's tests, run against dlrsim through the pytest plugin (fixture `dlrsim`).

`test_the_user_hears_when_the_phone_is_off` is the README's example.
"""

from __future__ import annotations

import pytest

from otp_smpp.app import OtpError, OtpSender
from simulator.testing import Controller, OutcomeCase, every_outcome


def test_the_user_hears_when_the_phone_is_off(dlrsim: Controller) -> None:
    dlrsim.expect(to="447700900123", outcome="EC_ABSENT_SUBSCRIBER")
    with OtpSender(*dlrsim.smpp_address) as app:
        message_id = app.send_code("447700900123")
        [receipt] = dlrsim.wait_for_receipts(1, message_id=message_id)
        assert (receipt.stat, receipt.err) == ("UNDELIV", "027")
        assert app.wait_for_status(message_id) == "failed"


def test_a_code_is_delivered_by_default(dlrsim: Controller) -> None:
    with OtpSender(*dlrsim.smpp_address) as app:
        message_id = app.send_code("447700900124", code="123456")
        [submit] = dlrsim.wait_for_submits(1)
        assert (submit.destination, submit.text) == ("447700900124", "Your code is 123456")
        assert submit.source == "MyApp" and submit.message_id == message_id
        dlrsim.wait_for_receipts(1, message_id=message_id, stat="DELIVRD")
        assert app.wait_for_status(message_id) == "delivered"


def test_a_throttled_submit_raises(dlrsim: Controller) -> None:
    dlrsim.expect(to="447700900125", reject="ESME_RTHROTTLED")
    with OtpSender(*dlrsim.smpp_address) as app, pytest.raises(OtpError) as refused:
        app.send_code("447700900125")
    assert refused.value.status == 0x58
    [submit] = dlrsim.submits()
    assert not submit.accepted and submit.status == 0x58


def test_an_expiry_two_days_later_takes_no_real_time(dlrsim: Controller) -> None:
    dlrsim.expect(to="4477009*", outcome="EXPIRED_EXPIRED", after="48h")
    with OtpSender(*dlrsim.smpp_address) as app:
        message_id = app.send_code("447700900126")
        dlrsim.wait_for_receipts(1, message_id=message_id, timeout=2.0)
        assert app.wait_for_status(message_id) == "expired"
    assert dlrsim.clock.now() >= 48 * 3600


@pytest.mark.dlrsim(provider="sinch")
def test_the_marker_switches_the_provider(dlrsim: Controller) -> None:
    dlrsim.expect(to="5511987654321", outcome="NOT_DELIVERED")
    with OtpSender(*dlrsim.smpp_address) as app:
        message_id = app.send_code("5511987654321")
        [receipt] = dlrsim.wait_for_receipts(1, message_id=message_id)
    assert receipt.stat == "UNDELIV"
    assert dlrsim.scenario.provider == "sinch"


@pytest.mark.parametrize("case", every_outcome("infobip"))
def test_every_infobip_outcome_reaches_the_app(dlrsim: Controller, case: OutcomeCase) -> None:
    with OtpSender(*dlrsim.smpp_address, intermediate_reports=True) as app:
        message_id = app.send_code(case.number)
        dlrsim.wait_for_receipts(1, message_id=message_id, stat=case.stat, err=case.err)
        delivery = app.deliveries[message_id]
        assert (delivery.stat, delivery.err) == (case.stat, case.err)
        expected = {"DELIVRD": "delivered", "EXPIRED": "expired"}.get(case.stat, "failed")
        assert app.status(message_id) == (expected if case.final else "pending")
