"""Infobip webhook retries on the virtual clock, and a hanging receiver that must not slow
the send API down."""

from __future__ import annotations

import asyncio
from typing import Any

from .conftest import HttpSim, Receiver
from .test_infobip import number, post, reports, v3_message, wait_until


def _attempts(sim: HttpSim) -> list[Any]:
    return [entry for entry in sim.journal("webhook") if entry.data["kind"] == "delivery"]


def test_500_twice_then_200_gets_three_attempts_on_infobips_schedule(
    http_sim: HttpSim, receiver: Receiver
) -> None:
    receiver.respond(500, 500)
    status, sent = post(
        http_sim,
        "/sms/3/messages",
        {"messages": [v3_message(number("DELIVERED_TO_HANDSET"), receiver.url + "/dlr")]},
    )
    assert status == 200
    message_id = sent["messages"][0]["messageId"]

    def attempts_made(count: int) -> None:
        wait_until(lambda: len(_attempts(http_sim)) >= count, f"webhook attempt {count}")
        receiver.settle(0.1)
        assert len(receiver.calls) == count and len(_attempts(http_sim)) == count

    http_sim.advance(5)  # the test number's final report is due 5 s after the submit
    attempts_made(1)
    http_sim.advance(119)  # first retry: 1 min + 1 min x 1^2 = 2 min after the failure
    attempts_made(1)
    http_sim.advance(1)
    attempts_made(2)
    http_sim.advance(299)  # second retry: 1 min + 1 min x 2^2 = 5 min after that failure
    attempts_made(2)
    http_sim.advance(1)
    attempts_made(3)
    http_sim.advance(3600)  # the 200 ends it
    attempts_made(3)

    journal = _attempts(http_sim)
    assert [e.data["attempt"] for e in journal] == [1, 2, 3]
    assert [e.data["status_code"] for e in journal] == [500, 500, 200]
    assert [e.data["outcome"] for e in journal] == ["retry", "retry", "delivered"]
    assert all(e.message_id == message_id for e in journal)
    first = journal[0].time
    assert [round(e.time - first, 3) for e in journal] == [0.0, 120.0, 420.0]
    bodies = [call.json for call in receiver.calls]
    assert bodies[0] == bodies[1] == bodies[2]  # the same report each time
    assert [r["status"]["name"] for r in reports(receiver.calls)] == ["DELIVERED_TO_HANDSET"] * 3


def _release_hanging_handlers(sim: HttpSim) -> int:
    """Cancel the receiver's hanging handlers, so the shared `receiver` fixture can shut its
    server down (aiohttp would otherwise wait up to its 60 s shutdown timeout for them)."""

    async def cancel() -> int:
        cancelled = 0
        for task in asyncio.all_tasks():
            coro: Any = task.get_coro()
            while coro is not None:
                code = getattr(coro, "cr_code", None)
                if code is not None and code.co_name == "handle" and "conftest" in code.co_filename:
                    task.cancel()
                    cancelled += 1
                    break
                coro = getattr(coro, "cr_await", None)
        return cancelled

    return sim.loop.run(cancel())


def test_a_hanging_receiver_does_not_slow_sends(http_sim: HttpSim, receiver: Receiver) -> None:
    receiver.hang = True
    try:
        _send_fifty_while_callbacks_hang(http_sim, receiver)
    finally:
        receiver.hang = False
        _release_hanging_handlers(http_sim)


def _send_fifty_while_callbacks_hang(http_sim: HttpSim, receiver: Receiver) -> None:
    ids: list[str] = []
    for i in range(50):
        status, sent = post(
            http_sim,
            "/sms/3/messages",
            {"messages": [v3_message(number("DELIVERED_TO_HANDSET"), receiver.url + "/dlr")]},
        )
        assert status == 200, i
        ids.append(sent["messages"][0]["messageId"])
        if i % 10 == 9:
            http_sim.advance(10)  # reports fall due and go to the receiver, which never answers
            if i == 9:
                receiver.wait_for(1)  # a callback is hanging from here on
    assert len(set(ids)) == 50 and all(isinstance(i, str) and i for i in ids)
    assert http_sim.stored() == 50
    assert len(receiver.calls) >= 1
    webhooks = http_sim.sim.webhooks
    assert webhooks is not None and http_sim.loop.call(lambda: webhooks.in_flight) >= 1
    assert all(entry.data["outcome"] != "delivered" for entry in _attempts(http_sim))
