"""Clickatell over real HTTP: the One API with a plain aiohttp client, every SMS outcome as
status callbacks to a real receiver, bad requests, refusals, the status query, retries and MO.

Outcomes come from the catalog's test numbers (`dlrsim catalog numbers clickatell`), so each
expectation below is read from `catalogs/clickatell.yaml`, not written twice.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from simulator.catalog.model import Entry
from simulator.catalog.registry import load_registry
from simulator.core.accounts import Account
from simulator.engine.numbers import OutcomeNumber, OutcomeNumbers

from .conftest import WAIT, Call, HttpSim, Receiver

KEY = "ck-test-key"
AUTH = {"Authorization": KEY}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
CALLBACK_FIELDS = {
    "integrationName", "apiKey", "messageId", "requestId", "clientMessageId", "to", "from",
    "statusCode", "status", "statusDescription", "timestamp", "channel",
}

REGISTRY = load_registry()
CATALOG = REGISTRY.get("clickatell")
NUMBERS = OutcomeNumbers(REGISTRY)
SMS_NUMBERS = NUMBERS.numbers(CATALOG)
REJECT_NUMBERS = {n.entry.key: n.number for n in NUMBERS.reject_numbers(CATALOG)}
ENTRIES: dict[str, Entry] = {e.key: e for e in CATALOG.entries}
INITIAL = ENTRIES[CATALOG.initial_status]
DELIVERED = next(n for n in SMS_NUMBERS if n.entry.key == CATALOG.delivered_status)
QUEUED = next(n for n in SMS_NUMBERS if n.entry.key == CATALOG.initial_status)


def send(sim: HttpSim, messages: list[dict[str, Any]], headers: dict[str, str] | None = None
         ) -> tuple[int, Any]:
    status, _, raw = sim.post("/v1/message", json={"messages": messages},
                              headers=AUTH if headers is None else headers)
    return status, json.loads(raw)


def steps_of(steps: dict[str, list[str]], ids: dict[str, OutcomeNumber], key: str
             ) -> list[str]:
    return next(keys for mid, keys in steps.items() if ids[mid].entry.key == key)


def by_message(calls: list[Call]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        body = call.json
        grouped.setdefault(body["messageId"], []).append(body)
    for bodies in grouped.values():
        bodies.sort(key=lambda b: b["timestamp"])
    return grouped


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sim(make_http_sim: Callable[..., HttpSim], receiver: Receiver) -> HttpSim:
    return make_http_sim("default.yaml", callback_urls={"clickatell": receiver.url + "/status"})


# -- the every-outcome matrix ----------------------------------------------------------------
def test_every_sms_outcome_arrives_as_its_catalog_callback(sim: HttpSim,
                                                           receiver: Receiver) -> None:
    assert len(SMS_NUMBERS) == 19  # 6 statuses, 10 generic, 2 encryption, 1 SMS error
    messages = [
        {"channel": "sms", "to": n.number, "content": f"matrix {n.entry.key}",
         "from": "27820000000", "clientMessageId": f"ref-{n.entry.key}"}
        for n in SMS_NUMBERS
    ]
    status, body = send(sim, messages)
    assert status == 202 and body["error"] is None
    ids: dict[str, OutcomeNumber] = {}
    for number, item in zip(SMS_NUMBERS, body["messages"], strict=True):
        assert item["accepted"] is True and item["error"] is None and item["to"] == number.number
        assert HEX32.match(item["apiMessageId"])
        ids[item["apiMessageId"]] = number
    assert sim.stored() == len(SMS_NUMBERS)

    sim.run_until_idle()
    # The engine decides the timeline (the initial status first where the catalog's flow leads
    # from it); the journal lists its steps, and each step must be one callback.
    steps: dict[str, list[str]] = {}
    for event in sim.journal("status"):
        assert event.data["callbacks"] == 1
        steps.setdefault(event.message_id, []).append(event.data["catalog_key"])
    assert set(steps) == set(ids)
    total = sum(len(keys) for keys in steps.values())
    calls = receiver.wait_for(total)
    assert len(receiver.settle(0.2)) == total
    assert all(c.method == "POST" and c.path == "/status" for c in calls)
    assert all(c.headers["Content-Type"] == "application/json" for c in calls)
    grouped = by_message(calls)
    assert set(grouped) == set(ids)
    request_ids = set()
    for message_id, received in grouped.items():
        number = ids[message_id]
        assert steps[message_id][-1] == number.entry.key
        expected = [ENTRIES[key] for key in steps[message_id]]
        assert [b["status"] for b in received] == [e.callback["status"] for e in expected]
        for body_, entry in zip(received, expected, strict=True):
            assert set(body_) == CALLBACK_FIELDS
            assert {k: body_[k] for k in entry.callback} == entry.callback
            assert type(body_["statusCode"]) is int and type(body_["timestamp"]) is int
            assert body_["to"] == number.number and body_["from"] == "27820000000"
            assert body_["clientMessageId"] == f"ref-{number.entry.key}"
            assert body_["apiKey"] == KEY and body_["channel"] == "sms"
            request_ids.add(body_["requestId"])
        # The status query reads the same store the callbacks came from.
        status, _, raw = sim.get(f"/v1/message/{message_id}", headers=AUTH)
        assert status == 200
        assert json.loads(raw)["sms"]["status"] == number.entry.callback["status"]
    # Final entries the flow reaches from QUEUED start with a QUEUED report.
    assert steps_of(steps, ids, "DEVICE_ACK") == [INITIAL.key, "DEVICE_ACK"]
    assert len(request_ids) == 1 and HEX32.match(request_ids.pop())


def test_status_query_follows_the_timeline(sim: HttpSim) -> None:
    status, body = send(sim, [{"to": DELIVERED.number, "content": "poll me"}])
    assert status == 202
    message_id = body["messages"][0]["apiMessageId"]

    def query() -> dict[str, Any]:
        code, headers, raw = sim.get(f"/v1/message/{message_id}", headers=AUTH)
        assert code == 200 and headers["Content-Type"].startswith("application/json")
        result: dict[str, Any] = json.loads(raw)["sms"]
        return result

    assert query()["status"] == INITIAL.callback["status"]
    sim.advance(60)
    final = query()
    assert final["status"] == DELIVERED.entry.callback["status"]
    assert type(final["timestamp"]) is int
    # Another key does not see the message; unknown ids read as UNKNOWN, like Clickatell.
    _, _, raw = sim.get(f"/v1/message/{message_id}", headers={"Authorization": "other-key"})
    assert json.loads(raw)["sms"]["status"] == "UNKNOWN"
    _, _, raw = sim.get("/v1/message/" + "0" * 32, headers=AUTH)
    assert json.loads(raw)["sms"]["status"] == "UNKNOWN"
    code, _, raw = sim.get(f"/v1/message/{message_id}")
    assert code == 401 and json.loads(raw)["error"]["code"] == 1


# -- bad requests: the gateway's own errors, nothing stored ---------------------------------
LONG_TEXT = "a" * (153 * 35 + 1)  # one septet past 35 concatenated GSM parts


REQUEST_ERRORS: list[tuple[str, dict[str, Any], int, int, str]] = [
    ("no auth", {"json": {"messages": [{"to": "27820000001", "content": "x"}]}},
     401, 1, "Invalid or missing integration API Key"),
    ("empty auth", {"json": {"messages": [{"to": "27820000001", "content": "x"}]},
                    "headers": {"Authorization": " "}}, 401, 1,
     "Invalid or missing integration API Key"),
    ("invalid JSON", {"data": b"{not json", "headers": AUTH}, 400, 21,
     "Payload data is malformed"),
    ("not UTF-8", {"data": b'{"messages": "\xff"}', "headers": AUTH}, 400, 21,
     "Payload data is malformed"),
    ("not an object", {"json": ["x"], "headers": AUTH}, 400, 21, "Payload data is malformed"),
    ("messages not a list", {"json": {"messages": "x"}, "headers": AUTH}, 400, 21,
     "Payload data is malformed"),
    ("no messages", {"json": {}, "headers": AUTH}, 400, 23,
     "Invalid or missing parameter: messages ."),
    ("too many", {"json": {"messages": [{"to": "27820000001", "content": "x"}] * 101},
                  "headers": AUTH}, 400, 22, "Maximum messages per request payload exceeded"),
]


def test_request_level_errors(sim: HttpSim) -> None:
    for case, kwargs, http_status, code, description in REQUEST_ERRORS:
        status, headers, raw = sim.post("/v1/message", **kwargs)
        assert status == http_status, case
        assert headers["Content-Type"].startswith("application/json"), case
        assert json.loads(raw) == {"error": {"code": code, "description": description}}, case
    assert sim.stored() == 0 and sim.journal("submit") == []


MESSAGE_ERRORS: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing destination", {"content": "x"}, 23, "Invalid or missing parameter: to ."),
    ("letters in destination", {"to": "27999abcde", "content": "x"}, 23,
     "Invalid or missing parameter: to ."),
    ("numeric destination", {"to": 27820000001, "content": "x"}, 23,
     "Invalid or missing parameter: to ."),
    ("national number", {"to": "0821234567", "content": "x"}, 25, "Invalid recipient address"),
    ("too short", {"to": "12345", "content": "x"}, 25, "Invalid recipient address"),
    ("missing text", {"to": "27820000001"}, 23, "Invalid or missing parameter: content ."),
    ("empty text", {"to": "27820000001", "content": ""}, 23,
     "Invalid or missing parameter: content ."),
    ("oversize text", {"to": "27820000001", "content": LONG_TEXT}, 24,
     "Maximum message content size exceeded"),
    ("oversize unicode", {"to": "27820000001", "content": "ж" * (67 * 35 + 1)}, 24,
     "Maximum message content size exceeded"),
    ("other channel", {"channel": "whatsapp", "to": "27820000001", "content": "x"}, 39,
     "Channel is not available on integration"),
    ("numeric reference", {"to": "27820000001", "content": "x", "clientMessageId": 7}, 23,
     "Invalid or missing parameter: clientMessageId ."),
]


def test_message_level_errors(sim: HttpSim) -> None:
    for case, message, code, description in MESSAGE_ERRORS:
        status, body = send(sim, [message])
        assert status == 400, case
        echo = message.get("to")
        assert body == {
            "messages": [{"error": {"code": code, "description": description},
                          "accepted": False, "to": "" if echo is None else str(echo)}],
            "error": None,
        }, case
    assert sim.stored() == 0 and sim.journal("submit") == []
    # The limits are exact: one unit less is taken.
    for text in (LONG_TEXT[:-1], "ж" * (67 * 35)):
        status, body = send(sim, [{"to": "27820000001", "content": text}])
        assert status == 202 and body["messages"][0]["accepted"] is True
    assert sim.stored() == 2


def test_mixed_request_is_207_and_stores_only_the_good_message(sim: HttpSim) -> None:
    status, body = send(sim, [{"to": "27820000001", "content": "ok"},
                              {"to": "27999abcde", "content": "bad"}])
    assert status == 207 and body["error"] is None
    good, bad = body["messages"]
    assert good["accepted"] is True and bad["accepted"] is False
    assert bad["error"]["code"] == 23 and "apiMessageId" not in bad
    assert sim.stored() == 1 and len(sim.journal("submit")) == 1


def test_configured_key_is_enforced(make_http_sim: Callable[..., HttpSim]) -> None:
    sim = make_http_sim(
        "default.yaml",
        accounts=[Account(system_id="shop", api_key="right-key", provider="clickatell")],
    )
    message = [{"to": "27820000001", "content": "x"}]
    status, body = send(sim, message, headers={"Authorization": "wrong-key"})
    assert status == 401
    assert body == {"error": {"code": 1, "description": "Invalid or missing integration API Key"}}
    assert sim.stored() == 0
    status, body = send(sim, message, headers={"Authorization": "right-key"})
    assert status == 202 and sim.stored() == 1
    assert sim.journal("submit")[0].account == "shop"


# -- the older platform route with a plain client ---------------------------------------------
def test_platform_route_always_answers_messages_and_error(sim: HttpSim) -> None:
    status, _, raw = sim.post("/messages", json={"to": ["27820000001", "27abc"], "content": "x",
                                                 "clientMessageId": "p-1"}, headers=AUTH)
    body = json.loads(raw)
    assert status == 207 and body["error"] is None
    assert [m["accepted"] for m in body["messages"]] == [True, False]
    cases: list[tuple[dict[str, Any], int, int]] = [
        ({"json": {"to": ["27820000001"], "content": "x"}}, 401, 1),
        ({"data": b"[", "headers": AUTH}, 400, 21),
        ({"json": {"content": "x"}, "headers": AUTH}, 400, 23),
        ({"json": {"to": ["27820000001"] * 101, "content": "x"}, "headers": AUTH}, 400, 22),
    ]
    for kwargs, http_status, code in cases:
        status, _, raw = sim.post("/messages", **kwargs)
        answer = json.loads(raw)
        assert status == http_status
        assert answer["messages"] == [] and answer["error"]["code"] == code
    assert sim.stored() == 1


# -- scenario refusals ----------------------------------------------------------------------
def test_scenario_refusals_come_back_as_message_errors(sim: HttpSim) -> None:
    expected = {"VOLUME_LIMIT": 43, "VOLUME_LIMIT_DAILY": 43, "VOLUME_LIMIT_MONTHLY": 43,
                "ENCRYPTION_ACCESS_DENIED": 18, "ENCRYPTION_CONTENT_ERROR": 18,
                "INSUFFICIENT_ACCOUNT_BALANCE": 20}
    assert set(REJECT_NUMBERS) == set(expected)
    # Out of funds on its own is answered for the whole request, as 402.
    status, body = send(sim, [{"to": REJECT_NUMBERS["INSUFFICIENT_ACCOUNT_BALANCE"],
                               "content": "x"}])
    assert status == 402
    assert body == {"error": {"code": 20, "description": "Insufficient account balance"}}
    assert sim.stored() == 0
    keys = sorted(expected)
    messages = [{"to": REJECT_NUMBERS[k], "content": "x"} for k in keys]
    status, body = send(sim, [*messages, {"to": DELIVERED.number, "content": "fine"}])
    assert status == 207
    *refused, accepted = body["messages"]
    assert accepted["accepted"] is True
    assert [item["error"]["code"] for item in refused] == [expected[k] for k in keys]
    assert all(item["accepted"] is False for item in refused)
    assert sim.stored() == 1


# -- no callback URL, retries, MO -----------------------------------------------------------
def test_without_a_callback_url_nothing_is_sent_and_the_journal_says_so(
    http_sim: HttpSim, receiver: Receiver
) -> None:
    status, _ = send(http_sim, [{"to": DELIVERED.number, "content": "x"}])
    assert status == 202
    http_sim.run_until_idle()
    steps = http_sim.journal("status")
    assert steps and steps[-1].data["catalog_key"] == DELIVERED.entry.key
    assert all(e.data["callbacks"] == 0 for e in steps)
    assert http_sim.journal("webhook") == [] and receiver.calls == []


def test_failing_receiver_gets_three_attempts_on_the_default_schedule(
    sim: HttpSim, receiver: Receiver
) -> None:
    receiver.respond(500, 500)
    status, _ = send(sim, [{"to": QUEUED.number, "content": "retry me"}])  # one step, 1 callback
    assert status == 202

    def attempts() -> list[Any]:
        return [e for e in sim.journal("webhook") if e.data["kind"] == "delivery"]

    def made(count: int) -> Callable[[], bool]:
        return lambda: len(attempts()) == count

    # Each retry is scheduled when the previous attempt's answer is in, so wait for that
    # before moving the clock on by the policy's next delay (30 s, then 60 s).
    sim.advance(5)
    for count, gap in ((1, 30.0), (2, 60.0)):
        wait_until(made(count), f"attempt {count}")
        sim.advance(gap)
    wait_until(made(3), "attempt 3")
    sim.run_until_idle()
    done = attempts()
    assert [e.data["status_code"] for e in done] == [500, 500, 200]
    assert [e.data["outcome"] for e in done] == ["retry", "retry", "delivered"]
    assert [round(b.time - a.time) for a, b in itertools.pairwise(done)] == [30, 60]
    assert len(receiver.calls) == 3
    assert len({c.body for c in receiver.calls}) == 1  # the same report each time


def test_mo_callback_shape(sim: HttpSim, receiver: Receiver) -> None:
    adapter: Any = sim.sim.providers["clickatell"]
    request = adapter.mo_callback(url=receiver.url + "/mo", source="27820000001",
                                  destination="27999000002", text="STOP", account="shop")
    assert sim.sim.webhooks is not None
    webhooks = sim.sim.webhooks
    sim.loop.call(lambda: webhooks.send(request))
    call = receiver.wait_for(1)[0]
    body = call.json
    assert call.path == "/mo" and call.headers["Content-Type"] == "application/json"
    assert set(body) == {"integrationId", "integrationName", "event"}
    assert HEX32.match(body["integrationId"]) and body["integrationName"] == "shop"
    (mo,) = body["event"]["moText"]
    assert mo["from"] == "27820000001" and mo["to"] == "27999000002"
    assert mo["content"] == "STOP" and mo["channel"] == "sms" and mo["charset"] == "UTF-8"
    assert HEX32.match(mo["messageId"]) and type(mo["timestamp"]) is int
    assert mo["relatedMessageId"] is None and mo["relatedClientMessageId"] is None
    assert sim.journal("webhook")[0].data["kind"] == "mo"
