"""Sync and async tests side by side: async ones get a simulator on their own loop."""

from __future__ import annotations

import pytest
from plugin_helpers import QUIET

ASYNC_SUITE = """
import asyncio

import pytest

from simulator.smpp.client import MiniEsme, receipted_id
from simulator.testing import AsyncController, Controller

PARAMS = {"source_addr": "Tester", "destination_addr": "447700900010",
          "short_message": b"code 7", "registered_delivery": 1}


async def first_receipt(esme):
    async for pdu in esme.receipts(5.0):
        return pdu


{marker}
async def test_async_runs_on_the_tests_loop(dlrsim, dlrsim_clock):
    assert isinstance(dlrsim, AsyncController)
    assert dlrsim.simulator.smpp is not None
    esme = await MiniEsme.connect(*dlrsim.smpp_address)
    await esme.bind("tester", "secret")
    message_id = await esme.submit(dict(PARAMS))
    [submit] = await dlrsim.wait_for_submits(1)
    assert submit.message_id == message_id and submit.text == "code 7"
    reader = asyncio.create_task(first_receipt(esme))
    [receipt] = await dlrsim.wait_for_receipts(1, message_id=message_id)
    assert receipted_id(await reader) == message_id
    assert receipt.stat == "DELIVRD" and dlrsim_clock.now() >= 2
    await esme.unbind()
    await esme.close()


{marker}
async def test_async_expect_and_near_miss(dlrsim):
    dlrsim.expect(to="447700900010", outcome="EC_ABSENT_SUBSCRIBER")
    esme = await MiniEsme.connect(*dlrsim.smpp_address)
    await esme.bind("tester", "secret")
    await esme.submit(dict(PARAMS))
    reader = asyncio.create_task(first_receipt(esme))
    with pytest.raises(AssertionError, match="stat is 'UNDELIV', wanted 'DELIVRD'"):
        await dlrsim.wait_for_receipts(1, stat="DELIVRD", timeout=0.5)
    await reader
    await esme.close()


def test_sync_in_the_same_module(dlrsim):
    assert isinstance(dlrsim, Controller)
    assert dlrsim.submits() == []
"""


def test_sync_and_async_tests_in_auto_mode(inner: pytest.Pytester) -> None:
    inner.makepyfile(ASYNC_SUITE.replace("{marker}", ""))
    inner.runpytest(*QUIET).assert_outcomes(passed=3)


def test_async_tests_in_strict_mode(inner: pytest.Pytester) -> None:
    inner.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    inner.makepyfile(ASYNC_SUITE.replace("{marker}", "@pytest.mark.asyncio"))
    inner.runpytest(*QUIET).assert_outcomes(passed=3)


def test_async_simulators_keep_their_port(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        ports = []

        async def test_one(dlrsim):
            ports.append(dlrsim.smpp_address[1])

        async def test_two(dlrsim):
            ports.append(dlrsim.smpp_address[1])
            assert ports[0] == ports[1]
            assert dlrsim.submits() == []
        """
    )
    inner.runpytest(*QUIET).assert_outcomes(passed=2)
