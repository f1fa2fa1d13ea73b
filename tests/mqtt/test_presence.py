"""The bus on its own: the retained presence flag, and which journal entries a start sends."""

from __future__ import annotations

import os

from simulator.mqtt.bus import MqttBus
from simulator.store.journal import Journal

from .conftest import Broker, subscribed


async def test_start_sends_entries_after_since_and_presence_follows_the_bus(
    broker: Broker,
) -> None:
    journal = Journal(100)
    for index in range(3):  # e.g. history reloaded from a store, then start-up events
        journal.append("mo", 1000.0 + index, account="shop", data={"n": index})
    bus = MqttBus(journal, "127.0.0.1", broker.port, instance=f"presence-{os.getpid()}")
    offline = {"online": False, "instance": bus.instance}

    async with subscribed(broker.port, f"{bus.prefix}/#") as sub:
        assert await bus.start(since=1)
        journal.append("submit", 1010.0, account="shop", message_id="m1", data={"status": 0})
        await sub.wait_for(lambda s: len(s.events()) == 3, "two start-up entries and a live one")
        assert [(e["seq"], e["kind"]) for e in sub.events()] == [
            (2, "mo"),
            (3, "mo"),
            (4, "submit"),
        ]
        presence = [body for topic, body in sub.messages if topic.endswith("/presence")]
        assert presence == [{"online": True, "instance": bus.instance}]
        await bus.stop()
        await sub.wait_for(lambda s: s.messages[-1][1] == offline, "the offline flag")
    assert (bus.published, bus.buffered, bus.dropped) == (3, 0, 0)

    async with subscribed(broker.port, f"{bus.prefix}/presence") as late:  # retained
        await late.wait_for(lambda s: bool(s.messages), "the retained presence")
    assert late.messages == [(f"{bus.prefix}/presence", offline)]
