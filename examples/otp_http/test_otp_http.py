"""The Infobip OTP sender's tests against dlrsim's Infobip API (fixture `dlrsim`).

They skip while the simulator has no HTTP side (`dlrsim.http_url` is None).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otp_http.app import InfobipOtpSender, OtpRejected, ReportReceiver
from simulator.testing import Controller, OutcomeCase, every_outcome


@pytest.fixture
def infobip_url(dlrsim: Controller) -> str:
    if dlrsim.http_url is None:
        pytest.skip("this dlrsim has no HTTP server (provider APIs) to send to")
    return dlrsim.http_url


@pytest.fixture
def reports() -> Iterator[ReportReceiver]:
    with ReportReceiver() as receiver:
        yield receiver


@pytest.fixture
def app(infobip_url: str, reports: ReportReceiver) -> InfobipOtpSender:
    return InfobipOtpSender(infobip_url, "test-key", report_url=reports.url)


def test_a_code_is_delivered(dlrsim: Controller, app: InfobipOtpSender,
                             reports: ReportReceiver) -> None:
    message_id = app.send_code("447700900123", code="654321")
    [submit] = dlrsim.wait_for_submits(1)
    assert (submit.transport, submit.text) == ("http", "Your code is 654321")
    [hook] = dlrsim.wait_for_webhooks(1, message_id=message_id)
    assert (hook.status_code, hook.outcome, hook.url) == (200, "delivered", reports.url)
    assert reports.status(message_id) == "delivered"


def test_an_absent_subscriber_is_reported(dlrsim: Controller, app: InfobipOtpSender,
                                          reports: ReportReceiver) -> None:
    dlrsim.expect(to="447700900124", outcome="EC_ABSENT_SUBSCRIBER")
    message_id = app.send_code("447700900124")
    dlrsim.wait_for_webhooks(1, message_id=message_id)
    assert reports.last(message_id)["error"]["name"] == "EC_ABSENT_SUBSCRIBER"
    assert reports.status(message_id) == "failed"


def test_an_unusable_number_is_refused_at_once(app: InfobipOtpSender) -> None:
    with pytest.raises(OtpRejected, match="REJECTED_DESTINATION"):
        app.send_code("not a number")


def test_a_failed_report_is_retried_on_infobips_schedule(
        dlrsim: Controller, app: InfobipOtpSender, reports: ReportReceiver) -> None:
    reports.fail_next = 1
    message_id = app.send_code("447700900125")
    first, second = dlrsim.wait_for_webhooks(2, message_id=message_id)
    assert (first.status_code, first.outcome) == (503, "retry")
    assert (second.status_code, second.outcome) == (200, "delivered")
    assert second.time - first.time == pytest.approx(120.0)  # 1 min + 1 min x 1^2
    assert reports.status(message_id) == "delivered"


@pytest.mark.parametrize("case", every_outcome("infobip"))
def test_every_infobip_outcome_reaches_the_report_endpoint(
        dlrsim: Controller, app: InfobipOtpSender, reports: ReportReceiver,
        case: OutcomeCase) -> None:
    message_id = app.send_code(case.number)
    if not case.final:
        # Pending states are reported only to apps asking for intermediate reports.
        assert dlrsim.clock.run_until_idle() >= 1
        assert dlrsim.webhooks(message_id=message_id) == []
        return
    [hook] = dlrsim.wait_for_webhooks(1, message_id=message_id)
    assert hook.status_code == 200
    report = reports.last(message_id)
    assert case.name in (report["status"]["name"], report["error"]["name"])
