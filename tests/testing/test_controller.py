"""`Controller` without the plugin: two at once, expectations, queries, MO, unittest use."""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator

import pytest
from esme_client import Esme
from plugin_helpers import ESME_SOURCE, QUIET

from simulator.testing import Controller, DlrsimSettings, OutcomeCase, SimulatorInternalError


@pytest.fixture(scope="module")
def sim() -> Iterator[Controller]:
    with Controller(seed=3) as controller:
        yield controller


@pytest.fixture
def esme(sim: Controller) -> Iterator[Esme]:
    sim.reset()
    client = Esme(sim.smpp_address)
    yield client
    client.close()


def test_two_simulators_run_at_once_without_sharing_state() -> None:
    with Controller() as first, Controller(provider="sinch") as second:
        assert first.smpp_address != second.smpp_address
        first.expect(to="447700900020", outcome="EC_CALL_BARRED")
        a, b = Esme(first.smpp_address), Esme(second.smpp_address)
        try:
            a.submit("447700900020")
            b.submit("447700900020")
            b.submit("447700900021")
            second.clock.advance(60)
            [receipt_a] = first.wait_for_receipts(1)
            second.wait_for_receipts(2)
        finally:
            a.close()
            b.close()
        assert receipt_a.stat == "UNDELIV"  # first's expectation ...
        assert {r.stat for r in second.receipts()} == {"DELIVRD"}  # ... is not second's
        assert len(first.submits()) == 1 and len(second.submits()) == 2
        assert first.clock.now() == 2.0 and second.clock.now() == 60.0


def test_expect_times_and_text(sim: Controller, esme: Esme) -> None:
    sim.expect(to="4477009*", outcome="EC_ABSENT_SUBSCRIBER", times=1)
    sim.expect(text="STOP", reject="ESME_RINVDSTADR")
    assert esme.submit("447700900030")[0] == 0
    assert esme.submit("447700900030")[0] == 0
    assert esme.submit("447700900031", "STOP please")[0] == 0x0B
    sim.wait_for_receipts(2)
    assert [r.stat for r in sim.receipts()] == ["UNDELIV", "DELIVRD"]
    refused = sim.submits(accepted=False)
    assert [s.destination for s in refused] == ["447700900031"]
    assert refused[0].rule is not None and "text='STOP'" in refused[0].rule


def test_expect_keeps_the_scenario_counters(sim: Controller, esme: Esme) -> None:
    esme.submit("447700900040")
    sim.expect(to="447700900041", outcome="EC_ABSENT_SUBSCRIBER")
    planner = sim.simulator.scenario.planner  # type: ignore[union-attr]
    assert planner.attempts == {"447700900040": 1}


def test_expect_refuses_what_cannot_work(sim: Controller) -> None:
    with pytest.raises(ValueError, match="EC_ABSENT_SUBSCRIBR"):
        sim.expect(to="1", outcome="EC_ABSENT_SUBSCRIBR")
    with pytest.raises(ValueError, match="exactly one of outcome= or reject="):
        sim.expect(to="1", outcome="EC_CALL_BARRED", reject="ESME_RTHROTTLED")
    with pytest.raises(ValueError, match="not an SMPP"):
        sim.expect(to="1", reject="ESME_NO_SUCH")


def test_filters_check_their_names_and_accept_patterns(sim: Controller, esme: Esme) -> None:
    esme.submit("447700900050", "code 1")
    esme.submit("447700900051", "code 22")
    assert len(sim.submits(to=re.compile(r"^4477009000"))) == 2
    assert [s.text for s in sim.submits(text=lambda t: t.endswith("22"))] == ["code 22"]
    with pytest.raises(TypeError, match="no field 'stat'"):
        sim.submits(stat="DELIVRD")


def test_send_mo_reaches_the_bound_receiver(sim: Controller, esme: Esme) -> None:
    assert sim.send_mo("447700900060", "12345", "STOP") == 1
    sim.clock.run_until_idle()
    deadline = 50
    while not esme.received and deadline:
        esme.thread.join(0.02)  # type: ignore[union-attr]
        deadline -= 1
    [pdu] = esme.received
    assert pdu.short_message == b"STOP" and pdu.source_addr == b"447700900060"


def test_every_outcome_lists_each_documented_sms_outcome(sim: Controller) -> None:
    params = sim.every_outcome("infobip")
    assert len(params) == 223
    ids = [param.id for param in params]
    assert len(set(ids)) == len(ids) and "EC_ABSENT_SUBSCRIBER" in ids
    absent = next(p.values[0] for p in params if p.id == "EC_ABSENT_SUBSCRIBER")
    assert isinstance(absent, OutcomeCase)
    assert (absent.number, absent.stat, absent.err) == ("9990300071", "UNDELIV", "027")


def test_reset_restores_the_scenario_and_moves_time_forward(sim: Controller, esme: Esme) -> None:
    sim.expect(to="447700900070", reject="ESME_RTHROTTLED")
    esme.submit("447700900071")  # its delivery is still pending at reset
    before = sim.clock.now()
    sim.reset()
    assert sim.scenario.rules == [] and sim.submits() == []
    assert sim.clock.pending == 0 and sim.clock.now() >= before
    assert esme.submit("447700900070")[0] == 0


def test_settings_are_checked() -> None:
    with pytest.raises(TypeError, match="unknown dlrsim setting"):
        DlrsimSettings().merged(scenarios="x")
    assert DlrsimSettings().merged(seed=2).key() != DlrsimSettings().key()
    with pytest.raises(Exception, match="time_scale"), Controller(options={"time_scale": 60}):
        pass


def test_an_internal_error_surfaces_when_the_controller_closes() -> None:
    with pytest.raises(SimulatorInternalError, match="kaput"), Controller() as sim:
        sim.simulator.smsc.on_submit = _broken  # type: ignore[method-assign,union-attr]
        client = Esme(sim.smpp_address)
        with client.lock:
            client.client.send_message(source_addr="T", destination_addr="1", short_message=b"x")
        assert client.thread is not None
        client.thread.join(5)
        client.client.disconnect()


def _broken(*_: object) -> tuple[int, str]:
    raise RuntimeError("kaput")


def test_two_simulators_from_one_session_pool(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from esme import Esme

        def test_two(dlrsim, dlrsim_server):
            other = dlrsim_server(provider="clicksend")
            assert other is not dlrsim and other.smpp_address != dlrsim.smpp_address
            assert dlrsim_server(provider="clicksend") is other
            client = Esme(other.smpp_address)
            try:
                client.submit("447700900080")
            finally:
                client.close()
            assert len(other.submits()) == 1 and dlrsim.submits() == []
        """
    )
    inner.runpytest(*QUIET).assert_outcomes(passed=1)


def test_controller_from_unittest(pytester: pytest.Pytester) -> None:
    """Plain unittest, run by its own runner in a fresh interpreter: no pytest involved."""
    pytester.makepyfile(esme=ESME_SOURCE)
    pytester.makepyfile(
        test_with_unittest=textwrap.dedent(
            """
            import unittest

            from esme import Esme
            from simulator.testing import Controller


            class OtpTest(unittest.TestCase):
                @classmethod
                def setUpClass(cls):
                    cls.sim = Controller().start()

                @classmethod
                def tearDownClass(cls):
                    cls.sim.stop()

                def setUp(self):
                    self.sim.reset()

                def test_receipt(self):
                    self.sim.expect(to="447700900090", outcome="EC_UNKNOWN_SUBSCRIBER")
                    client = Esme(self.sim.smpp_address)
                    try:
                        client.submit("447700900090")
                        [receipt] = self.sim.wait_for_receipts(1)
                    finally:
                        client.close()
                    self.assertEqual(receipt.stat, "UNDELIV")

                def test_clean_start(self):
                    self.assertEqual(self.sim.submits(), [])
            """
        )
    )
    result = pytester.run(sys.executable, "-m", "unittest", "-v", "test_with_unittest")
    assert result.ret == 0, result.stderr.str()
    result.stderr.fnmatch_lines(["Ran 2 tests*", "OK"])
