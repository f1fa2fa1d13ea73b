"""The MQTT bus against a real mosquitto: events out, commands in, and no loss across outages.

The simulator runs on a virtual clock in the test's loop; smpplib (blocking) runs in worker
threads; subscribers and command senders are aiomqtt clients of their own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from simulator.app import Simulator
from simulator.mqtt.bus import MqttBus

from .conftest import Broker, Esme, advance, free_port, request, subscribed

MakeSim = Callable[..., Awaitable[Simulator]]
MakeEsme = Callable[[tuple[str, int]], Esme]
HANDSET = "4917000000001"
SHORT_CODE = "12345"


def bus_of(sim: Simulator) -> MqttBus:
    assert sim.mqtt is not None
    return sim.mqtt


def for_message(events: list[dict[str, Any]], message_id: str) -> list[dict[str, Any]]:
    return [event for event in events if event["message_id"] == message_id]


async def test_smpp_message_shows_session_submit_status_and_receipt_events(
    broker: Broker, make_sim: MakeSim, esmes: MakeEsme
) -> None:
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    async with subscribed(broker.port, f"{prefix}/events/#") as sub:
        esme = esmes(sim.smpp_address)
        await esme.bind("transceiver", "shop")
        message_id = await esme.submit("4915112345678", b"parcel 7 is out for delivery")
        advance(sim, 5)  # the scenario delivers after 2 s
        (receipt,) = await esme.wait_deliveries(1)
        assert b"stat:DELIVRD" in receipt.short_message

        def complete(s: Any) -> bool:
            return bool(for_message(s.events("receipt"), message_id)) and bool(s.events("session"))

        await sub.wait_for(complete, "session, submit, status and receipt events")

    (bind,) = sub.events("session")
    assert bind["kind"] == "bind" and bind["account"] == "shop"
    assert bind["data"]["bind_type"] == "transceiver" and bind["data"]["status"] == 0
    (submit,) = for_message(sub.events("submit"), message_id)
    assert submit["account"] == "shop" and submit["data"]["destination"] == "4915112345678"
    assert submit["data"]["text"] == "parcel 7 is out for delivery"
    statuses = for_message(sub.events("status"), message_id)
    assert [(s["data"]["stat"], s["data"]["final"]) for s in statuses] == [
        ("ENROUTE", False),
        ("DELIVRD", True),
    ]
    (delivered,) = for_message(sub.events("receipt"), message_id)
    assert delivered["data"]["outcome"] == "delivered" and delivered["data"]["stat"] == "DELIVRD"
    # Every payload is the journal entry: numbered in journal order.
    seqs = [body["seq"] for body in sub.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert submit["seq"] < statuses[0]["seq"] < statuses[1]["seq"] < delivered["seq"]


@pytest.fixture
async def callback_server() -> Any:
    """A real HTTP endpoint for provider callbacks; yields (url, received bodies)."""
    received: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/dlr", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/dlr", received
    await runner.cleanup()


async def test_http_message_shows_submit_status_and_webhook_events(
    broker: Broker, make_sim: MakeSim, callback_server: Any
) -> None:
    url, received = callback_server
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    body = {
        "messages": [
            {
                "from": "ShopCo",
                "destinations": [{"to": "4915112345678", "messageId": "mqtt-web-1"}],
                "text": "Your code is 4711",
                "notifyUrl": url,
                "notifyContentType": "application/json",
            }
        ]
    }
    async with subscribed(broker.port, f"{prefix}/events/#") as sub:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{sim.http_url}/sms/2/text/advanced",
                json=body,
                headers={"Authorization": "App any-key"},
            ) as response,
        ):
            assert response.status == 200, await response.text()
        advance(sim, 5)

        def complete(s: Any) -> bool:
            return bool(for_message(s.events("webhook"), "mqtt-web-1"))

        await sub.wait_for(complete, "the webhook event")

    (submit,) = for_message(sub.events("submit"), "mqtt-web-1")
    assert submit["provider"] == "infobip" and submit["data"]["transport"] == "http"
    status = for_message(sub.events("status"), "mqtt-web-1")[-1]
    assert status["data"]["final"] is True and status["data"]["callbacks"] == 1
    (webhook,) = for_message(sub.events("webhook"), "mqtt-web-1")
    assert webhook["data"]["url"] == url
    assert webhook["data"]["status_code"] == 200 and webhook["data"]["outcome"] == "delivered"
    report = received[0]["results"][0]
    assert report["messageId"] == "mqtt-web-1"
    assert json.loads(webhook["data"]["body"])["results"][0]["messageId"] == "mqtt-web-1"


async def test_mo_command_reaches_a_bound_smpplib_receiver(
    broker: Broker, make_sim: MakeSim, esmes: MakeEsme
) -> None:
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    esme = esmes(sim.smpp_address)
    await esme.bind("receiver", "shop")
    command = {"source": HANDSET, "destination": SHORT_CODE, "text": "STOP ads please"}

    reply, correlation = await request(broker.port, f"{prefix}/commands/mo", command)

    assert reply["ok"] is True, reply
    assert reply["command"] == "mo" and reply["account"] == "shop" and reply["parts"] == 1
    assert correlation is not None and len(correlation) == 6  # echoed from the request
    (mo,) = await esme.wait_deliveries(1)
    assert mo.short_message == b"STOP ads please"
    assert mo.source_addr in (HANDSET, HANDSET.encode())
    assert mo.destination_addr in (SHORT_CODE, SHORT_CODE.encode())


async def test_reply_to_field_and_correlation_id_without_mqtt5_properties(
    broker: Broker, make_sim: MakeSim
) -> None:
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    async with subscribed(broker.port, "test-replies/plain") as replies:
        async with subscribed(broker.port, "unused/#") as sender:
            await sender.client.publish(
                f"{prefix}/commands/mo",
                json.dumps(
                    {
                        "account": "nobody-bound",
                        "source": HANDSET,
                        "destination": SHORT_CODE,
                        "text": "hi",
                        "reply_to": "test-replies/plain",
                        "correlation_id": "c-42",
                    }
                ),
                qos=1,
            )
        await replies.wait_for(lambda s: bool(s.messages), "the reply")
    ((_, reply),) = replies.messages
    # accept_any: an account nobody bound yet still queues the MO for later.
    assert reply == {
        "ok": True,
        "command": "mo",
        "transport": "smpp",
        "account": "nobody-bound",
        "parts": 1,
        "message_id": None,
        "url": None,
        "correlation_id": "c-42",
    }


async def test_status_command_pushes_a_receipt_now(
    broker: Broker, make_sim: MakeSim, esmes: MakeEsme
) -> None:
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    esme = esmes(sim.smpp_address)
    await esme.bind("transceiver", "shop")
    message_id = await esme.submit("4915112345678")

    async with subscribed(broker.port, f"{prefix}/events/status") as sub:
        reply, _ = await request(
            broker.port,
            f"{prefix}/commands/status",
            {"message_id": message_id, "stat": "UNDELIV", "err": "001"},
        )
        assert reply["ok"] is True, reply
        assert (reply["message_id"], reply["stat"], reply["err"]) == (message_id, "UNDELIV", "001")
        assert reply["final"] is True and reply["sink"] == "smpp_receipt" and reply["receipt"]
        (receipt,) = await esme.wait_deliveries(1)  # no clock advance: pushed, not planned
        assert b"stat:UNDELIV" in receipt.short_message and b"err:001" in receipt.short_message
        await sub.wait_for(lambda s: bool(s.events("status")), "the pushed status event")
    (status,) = sub.events("status")
    assert status["message_id"] == message_id and status["data"]["stat"] == "UNDELIV"

    again, _ = await request(
        broker.port, f"{prefix}/commands/status", {"message_id": message_id, "stat": "DELIVRD"}
    )
    assert again["ok"] is False and again["error"]["code"] == "final_state"
    missing, _ = await request(
        broker.port, f"{prefix}/commands/status", {"message_id": "no-such-id", "stat": "DELIVRD"}
    )
    assert missing["ok"] is False and missing["error"]["code"] == "not_found"


async def test_state_and_reset_commands(broker: Broker, make_sim: MakeSim, esmes: MakeEsme) -> None:
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    esme = esmes(sim.smpp_address)
    await esme.bind("transceiver", "shop")

    reply, _ = await request(broker.port, f"{prefix}/commands/state", {"state": "closed"})
    assert reply == {"ok": True, "command": "state", "state": "closed", "previous": "open"}
    refused = await esme.submit_sm("4915112345678")
    assert refused.status == 0x45  # ESME_RSUBMITFAIL from the scenario's closed-route rule

    unknown, _ = await request(broker.port, f"{prefix}/commands/state", {"state": "bogus"})
    assert unknown["ok"] is False and "'bogus'" in unknown["error"]["message"]
    assert unknown["error"]["where"] == "body.state"  # the REST API's error, as it is

    assert len(sim.journal) > 0
    reset, _ = await request(broker.port, f"{prefix}/commands/reset", {})
    assert reset["ok"] is True and reset["cleared"]["journal_entries"] > 0
    assert sim.scenario is not None and sim.scenario.state == "open"
    assert await esme.submit("4915112345678")  # accepted again


async def test_bad_commands_get_error_replies(broker: Broker, make_sim: MakeSim) -> None:
    sim = await make_sim(mqtt_url=broker.url)
    prefix = bus_of(sim).prefix
    cases: list[tuple[str, Any, str, str | None]] = [
        ("mo", b"{not json", "bad_json", "payload"),
        ("mo", [1, 2], "bad_json", "payload"),
        ("launch", {}, "unknown_command", "topic"),
        ("mo", {"source": HANDSET, "text": "no destination"}, "invalid_body", "body.destination"),
        (
            "mo",
            {"source": HANDSET, "destination": "1", "text": "x", "colour": "red"},
            "invalid_body",
            "body.colour",
        ),
        ("status", {"stat": "DELIVRD"}, "invalid_body", "body.message_id"),
        ("reset", {"everything": True}, "invalid_body", "body.everything"),
    ]
    for command, body, code, where in cases:
        reply, _ = await request(broker.port, f"{prefix}/commands/{command}", body)
        assert reply["ok"] is False, (command, body, reply)
        assert (reply["error"]["code"], reply["error"]["where"]) == (code, where), reply
    assert bus_of(sim).commands_handled == len(cases)


async def test_broker_restart_delivers_buffered_events_in_order(
    make_broker: Callable[[], Broker], make_sim: MakeSim
) -> None:
    broker = make_broker()
    broker.start()
    sim = await make_sim(mqtt_url=broker.url)
    bus = bus_of(sim)
    bus.backoff_max = 0.3
    topic = f"{bus.prefix}/events/mo"
    # A persistent session (clean_session off): the broker keeps the subscription across its
    # restart and queues for us what is published while we are reconnecting.
    options: dict[str, Any] = {"identifier": f"{bus.prefix}-watcher".replace("/", "-")}
    async with subscribed(
        broker.port, topic, clean_start=False, properties=_session_expiry(3600), **options
    ) as sub:
        sim.smsc.send_mo("shop", HANDSET, SHORT_CODE, "before")  # type: ignore[union-attr]
        await sub.wait_for(lambda s: len(s.events()) == 1, "the first event")

    broker.stop()
    for _ in range(50):
        if not bus.connected:
            break
        await asyncio.sleep(0.05)
    assert not bus.connected
    for index in range(40):
        sim.smsc.send_mo("shop", HANDSET, SHORT_CODE, f"while away {index}")  # type: ignore[union-attr]
    assert bus.buffered == 40 and bus.dropped == 0
    expected = [entry.seq for entry in sim.journal.find("mo")][1:]
    assert len(expected) == 40

    broker.start()  # same port, same data directory
    assert await bus.wait_connected(10), "the bus did not reconnect"
    async with subscribed(
        broker.port, topic, clean_start=False, properties=_session_expiry(3600), **options
    ) as sub:
        await sub.wait_for(lambda s: len(s.events()) >= 40, "the buffered events")
        await asyncio.sleep(0.2)
    got = [body["seq"] for body in sub.events()]
    assert got == expected  # all of them, once each, in journal order
    assert [body["data"]["source"] for body in sub.events()] == [HANDSET] * 40
    assert bus.buffered == 0 and bus.reconnects == 1 and bus.published == 41


async def test_broker_stopped_mid_flush_loses_nothing(
    make_broker: Callable[[], Broker], make_sim: MakeSim
) -> None:
    broker = make_broker()
    broker.start()
    sim = await make_sim(mqtt_url=broker.url)
    bus = bus_of(sim)
    bus.backoff_max = 0.3
    topic = f"{bus.prefix}/events/mo"
    options: dict[str, Any] = {
        "identifier": f"{bus.prefix}-flush".replace("/", "-"),
        "clean_start": False,
        "properties": _session_expiry(3600),
    }
    async with subscribed(broker.port, topic, **options):
        pass  # leave a persistent session behind: the broker queues everything for it
    total = 3000
    for index in range(total):
        sim.smsc.send_mo("shop", HANDSET, SHORT_CODE, f"m{index}")  # type: ignore[union-attr]
    expected = [entry.seq for entry in sim.journal.find("mo")]
    for _ in range(500):
        if bus.published >= 200:
            break
        await asyncio.sleep(0.002)
    assert 0 < bus.published < total, "the flush should be under way"
    broker.stop()  # with publishes unacknowledged on the wire
    broker.start()
    for _ in range(200):
        if bus.buffered == 0 and bus.connected:
            break
        await asyncio.sleep(0.05)
    assert bus.buffered == 0 and bus.dropped == 0 and bus.reconnects == 1
    async with subscribed(broker.port, topic, **options) as sub:
        await sub.wait_for(
            lambda s: {body["seq"] for body in s.events()} >= set(expected), "every event"
        )
    seen: list[int] = []
    for body in sub.events():  # at least once: a resent event may come twice, never out of turn
        if body["seq"] not in seen:
            seen.append(body["seq"])
    assert seen == expected


def _session_expiry(seconds: int) -> Any:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = seconds
    return properties


async def test_overflow_is_counted_logged_and_shown_in_metrics(
    make_sim: MakeSim, make_broker: Callable[[], Broker], caplog: pytest.LogCaptureFixture
) -> None:
    broker = make_broker()  # not started yet: the bus starts disconnected
    caplog.set_level(logging.WARNING, logger="dlrsim.mqtt")
    sim = await make_sim(mqtt_url=broker.url, mqtt_buffer=5)
    bus = bus_of(sim)
    bus.backoff_max = 0.3
    assert not bus.connected
    for index in range(12):
        sim.smsc.send_mo("shop", HANDSET, SHORT_CODE, f"m{index}")  # type: ignore[union-attr]
    assert (bus.buffered, bus.dropped) == (5, 7)
    assert any("event buffer full (5)" in r.getMessage() for r in caplog.records)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.http_url}/metrics") as response,
    ):
        text = await response.text()
    assert "dlrsim_mqtt_dropped_total 7\n" in text
    assert "dlrsim_mqtt_buffered 5\n" in text and "dlrsim_mqtt_connected 0\n" in text

    broker.start()
    assert await bus.wait_connected(10)
    for _ in range(100):
        if bus.published == 5:
            break
        await asyncio.sleep(0.05)
    assert (bus.published, bus.buffered, bus.dropped) == (5, 0, 7)
    assert any("7 dropped while it was away" in r.getMessage() for r in caplog.records)
