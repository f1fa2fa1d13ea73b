"""The plugin's fixtures and marker, exercised by inner test suites run with `pytester`."""

from __future__ import annotations

import pytest
from plugin_helpers import QUIET


def test_the_plugin_is_registered_through_its_entry_point(pytester: pytest.Pytester) -> None:
    """A fresh interpreter finds the plugin without any conftest: installing is enough."""
    pytester.makepyfile(
        """
        def test_fixture_is_there(dlrsim, dlrsim_clock, dlrsim_server):
            host, port = dlrsim.smpp_address
            assert host == "127.0.0.1" and port > 0
            assert dlrsim_clock.now() >= 0
            assert dlrsim_server() is dlrsim
        """
    )
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*dlrsim-*"])


def test_fixtures_drive_a_real_client(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from esme import Esme

        def test_submit_and_receipt(dlrsim, dlrsim_clock):
            esme = Esme(dlrsim.smpp_address)
            try:
                status, message_id = esme.submit("447700900001", "code 1")
                assert status == 0
                [submit] = dlrsim.wait_for_submits(1)
                assert (submit.destination, submit.text) == ("447700900001", "code 1")
                assert dlrsim.receipts() == []          # time has not moved yet
                dlrsim_clock.advance(1.0)
                assert dlrsim.receipts() == []          # delivery is due at 2 s
                [receipt] = dlrsim.wait_for_receipts(1, message_id=message_id)
                assert (receipt.stat, receipt.err, receipt.account) == ("DELIVRD", "000", "tester")
                assert receipt.destination == "447700900001"
                assert len(esme.received) == 1
            finally:
                esme.close()
        """
    )
    inner.runpytest(*QUIET).assert_outcomes(passed=1)


def test_the_marker_passes_strict_markers(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest
        from esme import Esme

        @pytest.mark.dlrsim(provider="sinch", seed=5)
        def test_marked(dlrsim):
            assert dlrsim.settings.provider == "sinch" and dlrsim.settings.seed == 5
            assert dlrsim.scenario.provider == "sinch"

        def test_unmarked(dlrsim):
            assert dlrsim.settings.provider == "infobip"
        """
    )
    result = inner.runpytest(*QUIET, "--strict-markers")
    result.assert_outcomes(passed=2)
    markers = inner.runpytest(*QUIET, "--markers").stdout.str()
    assert "@pytest.mark.dlrsim(scenario=None, provider=None, seed=None" in markers


def test_reset_between_tests_keeps_the_port(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from esme import Esme

        seen = {}

        def test_first(dlrsim):
            seen["port"] = dlrsim.smpp_address[1]
            dlrsim.expect(to="447700900002", reject="ESME_RTHROTTLED")
            esme = Esme(dlrsim.smpp_address)
            try:
                assert esme.submit("447700900002")[0] == 0x58
                assert esme.submit("447700900003")[0] == 0
                dlrsim.wait_for_receipts(1)
            finally:
                esme.close()
            assert len(dlrsim.submits()) == 2

        def test_second_sees_a_clean_simulator(dlrsim, dlrsim_clock):
            assert dlrsim.smpp_address[1] == seen["port"]
            assert dlrsim.submits() == [] and dlrsim.receipts() == []
            assert dlrsim.simulator.smsc.counters["submitted"] == 0
            assert len(dlrsim.simulator.smsc.store) == 0
            assert dlrsim_clock.pending == 0
            esme = Esme(dlrsim.smpp_address)
            try:
                assert esme.submit("447700900002")[0] == 0   # the expectation is gone
            finally:
                esme.close()
        """
    )
    inner.runpytest(*QUIET).assert_outcomes(passed=2)


def test_settings_fixture_and_marker_scenarios(inner: pytest.Pytester) -> None:
    inner.makeconftest(
        """
        import pytest

        @pytest.fixture
        def dlrsim_settings():
            return {"accounts": [{"system_id": "shop", "password": "pw"}], "seed": 9}
        """
    )
    inner.makepyfile(
        """
        import pytest
        import smpplib.exceptions
        from esme import Esme

        def test_accounts_are_enforced(dlrsim):
            assert [a.system_id for a in dlrsim.accounts] == ["shop"]
            with pytest.raises(smpplib.exceptions.PDUError):
                Esme(dlrsim.smpp_address, "shop", "wrong")
            esme = Esme(dlrsim.smpp_address, "shop", "pw")
            esme.close()

        @pytest.mark.dlrsim(scenario={"rules": [
            {"when": {"destination": {"prefix": "4477"}},
             "then": {"outcome": "EC_CALL_BARRED", "after": "10s"}}]})
        def test_inline_scenario(dlrsim):
            esme = Esme(dlrsim.smpp_address, "shop", "pw")
            try:
                status, message_id = esme.submit("447700900004")
                [receipt] = dlrsim.wait_for_receipts(1)
            finally:
                esme.close()
            assert receipt.stat == "UNDELIV" and dlrsim.clock.now() >= 10

        @pytest.mark.dlrsim(scenario="chaos-throttling")
        def test_shipped_scenario_by_name(dlrsim):
            assert dlrsim.scenario.name == "chaos-throttling"
            assert dlrsim.scenario.faults

        @pytest.mark.dlrsim(scenario={"rules": [{"then": {"outcome": "NO_SUCH_CODE"}}]})
        def test_invalid_scenario_errors(dlrsim):
            pass
        """
    )
    result = inner.runpytest(*QUIET)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*NO_SUCH_CODE*"])


def test_errors_inside_the_simulator_fail_the_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest
        import smpplib.exceptions
        from esme import Esme
        from simulator.testing import SimulatorInternalError

        def broken(session, pdu):
            raise ZeroDivisionError("bug in the SMSC")

        def test_raised_at_the_next_helper_call(dlrsim, monkeypatch):
            monkeypatch.setattr(dlrsim.simulator.smsc, "on_submit", broken)
            esme = Esme(dlrsim.smpp_address)
            with pytest.raises(smpplib.exceptions.ConnectionError):
                esme.submit("447700900005")      # the SMSC drops this session only
            esme.close()
            with pytest.raises(SimulatorInternalError, match="bug in the SMSC"):
                dlrsim.submits()

        def test_raised_at_teardown(dlrsim, monkeypatch):
            monkeypatch.setattr(dlrsim.simulator.smsc, "on_submit", broken)
            esme = Esme(dlrsim.smpp_address)
            with esme.lock:
                esme.client.send_message(source_addr="T", destination_addr="1",
                                         short_message=b"x")
            esme.thread.join(5)                  # the reader stops when the SMSC hangs up
            esme.client.disconnect()

        def test_the_next_test_is_clean(dlrsim):
            assert dlrsim.submits() == []
        """
    )
    result = inner.runpytest(*QUIET)
    result.assert_outcomes(passed=3, errors=1)  # a teardown error counts apart from its pass
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_raised_at_teardown*", "*ZeroDivisionError: bug in the SMSC*"]
    )
