"""`GET /metrics`: the exposition format itself, and the values after real SMPP and HTTP traffic.

The scrape is parsed with a strict reader of the Prometheus text format (version 0.0.4): every
line must be a comment of a known shape or a sample of a family announced by `# TYPE`, and
histogram buckets must be cumulative and end in `+Inf` equal to `_count`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import smpplib.client  # type: ignore[import-untyped]
import smpplib.exceptions  # type: ignore[import-untyped]
from aiohttp import web

from simulator.app import Simulator
from simulator.config import Settings
from simulator.control import actions
from simulator.control.metrics import MAX_SERIES, OTHER, Counter, Histogram, Metrics
from simulator.core.clock import VirtualClock
from simulator.core.events import Event

WAIT = 10.0
SCENARIO = """\
name: metrics
provider: infobip
accounts:
  - {system_id: shop, password: secret, api_key: shop-key}
  - {system_id: blocked, password: secret}
rules:
  - name: bad-range
    when: {destination: {prefix: "4915999"}}
    then: {reject: {smpp: ESME_RINVDSTADR, reason: no such range}}
default:
  outcome: DELIVERED_TO_HANDSET
  after: 2s
faults:
  - {kind: reject_bind, scope: {account: blocked}, status: ESME_RBINDFAIL}
"""
SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|'
    r'\\[\\"n])*",?)*)\})? (?P<value>[-+]?(?:[0-9.e+-]+|Inf|NaN))$'
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], value)


def parse(text: str) -> tuple[Samples, dict[str, str]]:
    """Samples by (name, labels) and the TYPE of every family; fails on any malformed line."""
    assert text.endswith("\n")
    samples: Samples = {}
    types: dict[str, str] = {}
    helped: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helped, f"HELP twice for {name}"
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name in helped and name not in types, line
            types[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name = match["name"]
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in types or (family in types and types[family] == "histogram"), line
            labels = frozenset(
                (key, _unescape(value)) for key, value in LABEL.findall(match["labels"] or "")
            )
            assert (name, labels) not in samples, f"duplicate sample {line!r}"
            samples[(name, labels)] = float(match["value"])
    for (name, labels), count in samples.items():
        if name.endswith("_count") and types.get(name[:-6]) == "histogram":
            family = name[:-6]
            buckets = sorted(
                (float(dict(key)["le"]), value)
                for (sample, key), value in samples.items()
                if sample == f"{family}_bucket" and key - {("le", dict(key)["le"])} == labels
            )
            assert buckets[-1] == (math.inf, count), f"{family}: +Inf bucket is not _count"
            values = [value for _, value in buckets]
            assert values == sorted(values), f"{family}: buckets are not cumulative"
    return samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# -- the exposition format on its own ----------------------------------------------------------


def test_label_values_and_help_are_escaped() -> None:
    counter = Counter("x_total", "a \\ help\nline", ("who",))
    counter.inc('say "hi"\\\nbye', amount=2)
    lines = counter.lines()
    assert lines[0] == "# HELP x_total a \\\\ help\\nline"
    assert lines[2] == 'x_total{who="say \\"hi\\"\\\\\\nbye"} 2'
    samples, _ = parse("\n".join(lines) + "\n")
    assert value(samples, "x_total", who='say "hi"\\\nbye') == 2


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    histogram = Histogram("h_seconds", "h", (0.1, 1.0, 10.0), ("kind",))
    for observed in (0.05, 0.1, 0.5, 3.0, 99.0):
        histogram.observe(observed, "a")
    samples, types = parse("\n".join(histogram.lines()) + "\n")
    assert types == {"h_seconds": "histogram"}
    buckets = {
        le: value(samples, "h_seconds_bucket", kind="a", le=le) for le in ("0.1", "1", "10", "+Inf")
    }
    assert buckets == {"0.1": 2, "1": 3, "10": 4, "+Inf": 5}  # 0.1 falls in le="0.1"
    assert value(samples, "h_seconds_count", kind="a") == 5
    assert value(samples, "h_seconds_sum", kind="a") == pytest.approx(102.65)


def test_label_sets_beyond_the_cap_fold_into_one_series() -> None:
    counter = Counter("c_total", "c", ("account",))
    for index in range(MAX_SERIES + 50):
        counter.inc(f"acct{index}")
    assert len(counter.values) == MAX_SERIES + 1
    assert counter.get(OTHER) == 50
    assert counter.get("acct3") == 1


def test_events_map_onto_families() -> None:
    metrics = Metrics()
    metrics.observe(Event("submit", 100.0, "a", {"message_id": "m1", "status": 0}))
    metrics.observe(Event("submit", 100.0, "a", {"message_id": None, "status": 11}))
    metrics.observe(
        Event("status", 104.5, "a", {"message_id": "m1", "stat": "UNDELIV", "final": True})
    )
    metrics.observe(Event("fault", 105.0, "a", {"fault": "drop_receipt,delay_receipt"}))
    metrics.observe(Event("scenario", 106.0, None, {"state": "b", "previous": "a"}))
    metrics.observe(Event("unknown-kind", 107.0, None, {}))
    assert metrics.submits.get("accepted", "smpp", "") == 1
    assert metrics.submits.get("rejected", "smpp", "") == 1
    assert metrics.final_latency.count("smpp", "UNDELIV") == 1
    assert metrics.final_latency.sums[("smpp", "UNDELIV")] == 4.5
    assert metrics.faults.get("drop_receipt") == metrics.faults.get("delay_receipt") == 1
    assert metrics.scenarios.get("state") == 1
    parse(metrics.render())


# -- a scrape after traffic ----------------------------------------------------------------------


class Esme:
    """A blocking smpplib session driven from worker threads, one call at a time."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.client: Any = smpplib.client.Client(
            address[0], address[1], timeout=WAIT, allow_unknown_opt_params=True
        )
        self.responses: list[Any] = []
        self.delivered: list[Any] = []
        self.client.set_message_sent_handler(lambda pdu: self.responses.append(pdu))
        self.client.set_message_received_handler(lambda pdu: self.delivered.append(pdu))
        self.client.set_error_pdu_handler(lambda pdu: None)

    async def bind(self, system_id: str, password: str) -> int:
        def go() -> int:
            self.client.connect()
            try:
                self.client.bind_transceiver(system_id=system_id, password=password)
            except smpplib.exceptions.PDUError as error:
                return int(error.args[1])
            return 0

        return await asyncio.to_thread(go)

    async def submit(self, destination: str) -> int:
        before = len(self.responses)

        def go() -> None:
            self.client.send_message(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr="4917000000001",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=destination,
                short_message=b"hello",
                registered_delivery=1,
            )
            while len(self.responses) == before:
                self.client.read_once(auto_send_enquire_link=False)

        await asyncio.to_thread(go)
        return int(self.responses[-1].status)

    async def read_deliveries(self, count: int) -> None:
        def go() -> None:
            while len(self.delivered) < count:
                self.client.read_once(auto_send_enquire_link=False)

        await asyncio.wait_for(asyncio.to_thread(go), WAIT)

    async def close(self) -> None:
        def go() -> None:
            with contextlib.suppress(smpplib.exceptions.PDUError, OSError):
                self.client.unbind()
            with contextlib.suppress(OSError):
                self.client.disconnect()

        await asyncio.to_thread(go)


@pytest.fixture
async def callbacks() -> AsyncIterator[tuple[str, list[int]]]:
    """An HTTP endpoint that fails the first callback with 503, then takes them."""
    answered: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        answered.append(503 if not answered else 200)
        return web.Response(status=answered[-1])

    app = web.Application()
    app.router.add_post("/dlr", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/dlr", answered
    await runner.cleanup()


async def until(probe: Any, what: str) -> None:
    for _ in range(int(WAIT / 0.02)):
        if probe():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def scrape(sim: Simulator) -> tuple[Samples, dict[str, str], str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.http_url}/metrics") as response,
    ):
        assert response.status == 200
        content_type = response.headers["Content-Type"]
        samples, types = parse(await response.text())
    return samples, types, content_type


async def test_scrape_after_traffic(tmp_path: Path, callbacks: tuple[str, list[int]]) -> None:
    url, answered = callbacks
    scenario = tmp_path / "metrics.yaml"
    scenario.write_text(SCENARIO)
    clock = VirtualClock()
    sim = Simulator(Settings(smpp_port=0, http_port=0, scenario=scenario, seed=5), clock=clock)
    await sim.start()
    esmes: list[Esme] = []
    try:
        shop, wrong, blocked = (Esme(sim.smpp_address) for _ in range(3))
        esmes.extend((shop, wrong, blocked))
        assert await shop.bind("shop", "secret") == 0
        assert await wrong.bind("shop", "nope") == 0x0E  # ESME_RINVPASWD
        assert await blocked.bind("blocked", "secret") == 0x0D  # the reject_bind fault
        assert await shop.submit("4915112345678") == 0
        assert await shop.submit("4915112345679") == 0
        assert await shop.submit("4915999000000") == 0x0B  # ESME_RINVDSTADR by rule
        body = {
            "messages": [
                {
                    "from": "Shop",
                    "destinations": [{"to": "4915112345670", "messageId": "metrics-http-1"}],
                    "text": "hi",
                    "notifyUrl": url,
                    "notifyContentType": "application/json",
                }
            ]
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{sim.http_url}/sms/2/text/advanced",
                json=body,
                headers={"Authorization": "App shop-key"},
            ) as response,
        ):
            assert response.status == 200, await response.text()
        clock.advance(5)  # every message reaches DELIVRD after 2 simulated seconds
        await shop.read_deliveries(2)
        await until(lambda: answered == [503], "the first callback attempt")
        clock.advance(300)  # Infobip retries after 2 minutes
        await until(lambda: answered == [503, 200], "the retried callback")
        assert sim.smsc is not None
        assert sim.smsc.send_mo("shop", "4917000000001", "12345", "STOP") == 1
        await shop.read_deliveries(3)
        actions.set_scenario_state(sim, "start")
        await until(lambda: sim.journal.count("mo") == 2, "the MO delivery outcome")
        await until(lambda: sim.journal.count("webhook") == 2, "both webhook events")

        samples, types, content_type = await scrape(sim)
    finally:
        for esme in esmes:
            await esme.close()
        await sim.stop(0.5)

    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert types["dlrsim_binds_total"] == "counter" and types["dlrsim_sessions_bound"] == "gauge"
    binds = "dlrsim_binds_total"
    assert value(samples, binds, account="shop", bind_type="transceiver", status="ok") == 1
    assert (
        value(samples, binds, account="shop", bind_type="transceiver", status="ESME_RINVPASWD") == 1
    )
    assert value(samples, "dlrsim_faults_applied_total", fault="reject_bind") == 1
    assert value(samples, "dlrsim_sessions_bound", account="shop") == 1

    submits = "dlrsim_submits_total"
    assert value(samples, submits, result="accepted", transport="smpp", provider="") == 2
    assert value(samples, submits, result="rejected", transport="smpp", provider="") == 1
    assert value(samples, submits, result="accepted", transport="http", provider="infobip") == 1

    changes = "dlrsim_status_changes_total"
    assert value(samples, changes, provider="infobip", stat="DELIVRD", final="true") == 3
    assert value(samples, "dlrsim_receipts_total", stat="DELIVRD", outcome="delivered") == 2

    attempts = "dlrsim_webhook_attempts_total"
    assert value(samples, attempts, provider="infobip", outcome="retry", status_class="5xx") == 1
    assert (
        value(samples, attempts, provider="infobip", outcome="delivered", status_class="2xx") == 1
    )
    assert value(samples, "dlrsim_webhook_attempt_seconds_count", provider="infobip") == 2
    assert value(samples, "dlrsim_webhook_attempt_seconds_sum", provider="infobip") > 0

    final = "dlrsim_message_final_seconds"
    for transport, count in (("smpp", 2), ("http", 1)):
        labels = {"transport": transport, "stat": "DELIVRD"}
        assert value(samples, f"{final}_count", **labels) == count
        assert value(samples, f"{final}_sum", **labels) == pytest.approx(2.0 * count)
        assert value(samples, f"{final}_bucket", le="1", **labels) == 0
        assert value(samples, f"{final}_bucket", le="2", **labels) == count

    assert value(samples, "dlrsim_mo_messages_total", account="shop") == 1
    assert value(samples, "dlrsim_mo_deliveries_total", outcome="delivered") == 1
    assert value(samples, "dlrsim_scenario_changes_total", change="state") == 1
    assert not any(name.startswith("dlrsim_mqtt_") for name in types)  # no bus configured
