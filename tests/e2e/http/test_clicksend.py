"""ClickSend REST v3 over real HTTP: send, receipt rules, receipt pushes and pulls, MO, errors.

The client is plain aiohttp following ClickSend's documented shapes (the official SDK has its
own tests in test_clicksend_sdk.py). Receipts arrive at the shared real receiver; the virtual
clock runs the timelines and `drain` waits, bounded, until nothing is in flight, so counts of
callbacks taken afterwards are exact.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.catalog.model import Entry
from simulator.catalog.registry import load_registry
from simulator.core.accounts import Account
from simulator.engine.numbers import OutcomeNumbers
from simulator.http.webhooks import DEFAULT_RETRY, WebhookRequest

from .conftest import WAIT, Call, HttpSim, Receiver

USER, KEY = "acme", "key-1"
UUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
START = 1_767_225_600  # the VirtualClock's wall time at zero
REGISTRY = load_registry()
CATALOG = REGISTRY.get("clicksend")
NUMBERS = OutcomeNumbers(REGISTRY).numbers(CATALOG)
REJECT_NUMBERS = OutcomeNumbers(REGISTRY).reject_numbers(CATALOG)
ENTRIES = {entry.key: entry for entry in CATALOG.entries}
INITIAL = ENTRIES[CATALOG.initial_status]
DELIVERED_TO = "+" + next(n.number for n in NUMBERS if n.entry.key == "DELIVERED")
SENT_TO = "+" + next(n.number for n in NUMBERS if n.entry.key == "SENT")
RECEIPT_KEYS = [
    "timestamp_send", "timestamp", "message_id", "status", "status_code", "status_text",
    "error_code", "error_text", "custom_string", "user_id", "subaccount_id", "message_type",
]  # fmt: skip
ENTRY_FIELDS = ("status", "status_code", "status_text", "error_code", "error_text")


# -- helpers -------------------------------------------------------------------------------------
def auth(user: str = USER, key: str = KEY) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def cs_sim(
    make_http_sim: Callable[..., HttpSim],
    receiver: Receiver | None = None,
    scenario: str | Path = "default.yaml",
    suffix: str = "",
    **settings: Any,
) -> HttpSim:
    """A simulator; with a receiver, ClickSend's configured callback URL is its /dlr path."""
    if receiver is not None:
        settings["callback_urls"] = {"clicksend": receiver.url + "/dlr" + suffix}
    return make_http_sim(scenario, **settings)


def api(
    sim: HttpSim,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    """Call the API; every ClickSend answer is the JSON envelope, whatever the status."""
    options: dict[str, Any] = {"headers": auth() if headers is None else headers}
    if raw is not None:
        options["data"] = raw
        options["headers"] = {**options["headers"], "Content-Type": "application/json"}
    elif body is not None:
        options["json"] = body
    status, response_headers, payload = sim.request(method, path, **options)
    assert response_headers["Content-Type"].startswith("application/json")
    decoded = json.loads(payload)
    assert decoded["http_code"] == status
    assert set(decoded) == {"http_code", "response_code", "response_msg", "data"}
    return status, decoded


def send(sim: HttpSim, *messages: dict[str, Any], **options: Any) -> tuple[int, Any]:
    return api(sim, "POST", "/v3/sms/send", {"messages": list(messages)}, **options)


def message(to: str, body: str = "Hello from dlrsim", **fields: Any) -> dict[str, Any]:
    return {"source": "pytest", "to": to, "body": body, **fields}


def create_rule(
    sim: HttpSim, url: str, headers: dict[str, str] | None = None, **fields: Any
) -> Any:
    body = {"rule_name": "dlr", "match_type": 0, "action": "URL", "action_address": url, **fields}
    status, answer = api(sim, "POST", "/v3/automations/sms/receipts", body, headers=headers)
    assert status == 200, answer
    return answer["data"]


def drain(sim: HttpSim) -> None:
    """Fire every due timer (retries included) and wait, bounded, for the emitter to go idle."""
    webhooks = sim.sim.webhooks
    assert webhooks is not None
    deadline = time.monotonic() + WAIT
    while True:
        sim.run_until_idle()
        while sim.loop.call(lambda: webhooks.in_flight) > 0:
            assert time.monotonic() < deadline, "callbacks still in flight"
            time.sleep(0.01)
        if sim.loop.call(lambda: sim.clock.pending) == 0:
            return
        assert time.monotonic() < deadline, "timers keep being scheduled"


def fields_of(call: Call) -> dict[str, Any]:
    """A receipt push as a dict: JSON as sent, form as text (the documented default)."""
    assert call.method == "POST"
    if call.headers["Content-Type"] == "application/json":
        body = call.json
        assert isinstance(body, dict), "one receipt per push"
        return body
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.body.count(b"message_id=") == 1, "one receipt per push"
    return call.form


def expected(entry: Entry, *, as_json: bool) -> dict[str, Any]:
    values = {key: entry.callback[key] for key in ENTRY_FIELDS}
    if as_json:
        return values
    return {key: "" if value is None else str(value) for key, value in values.items()}


def timeline(entry: Entry) -> list[Entry]:
    """The entries a test number plays: the initial status first when the entry is final."""
    return [INITIAL, entry] if entry.final and entry.key != INITIAL.key else [entry]


def submits(sim: HttpSim) -> int:
    return len(sim.journal("submit"))


# -- the every-outcome matrix --------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["form", "json"])
def test_every_test_number_pushes_its_entry_exact_fields(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver, mode: str
) -> None:
    as_json = mode == "json"
    if as_json:  # registered the ClickSend way: a URL rule, asking for JSON
        sim = cs_sim(make_http_sim)
        create_rule(sim, receiver.url + "/rule", webhook_type="json")
        path = "/rule"
    else:  # the configured callback URL, form-encoded by default
        sim = cs_sim(make_http_sim, receiver)
        path = "/dlr"
    assert len(NUMBERS) == len(CATALOG.entries) == 21
    status, answer = send(
        sim, *(message("+" + n.number, f"matrix {n.entry.key}", custom_string=n.entry.key)
               for n in NUMBERS)
    )  # fmt: skip
    assert status == 200 and answer["response_code"] == "SUCCESS"
    data = answer["data"]
    assert data["total_count"] == data["queued_count"] == 21 and data["blocked_count"] == 0
    ids = {}
    for sent, number in zip(data["messages"], NUMBERS, strict=True):
        assert sent["status"] == "SUCCESS" and sent["custom_string"] == number.entry.key
        assert UUID_UPPER.match(sent["message_id"])
        ids[sent["message_id"]] = number.entry

    # The initial-status pushes (1 s) first, then everything else (5 s): order is checkable.
    first = sum(1 for entry in ids.values() if len(timeline(entry)) == 2)
    sim.advance(2)
    receiver.wait_for(first)
    drain(sim)
    calls = receiver.calls
    assert len(calls) == sum(len(timeline(entry)) for entry in ids.values())

    pushed: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        assert call.path == path
        fields = fields_of(call)
        assert list(fields) == RECEIPT_KEYS
        pushed.setdefault(fields["message_id"], []).append(fields)
    assert set(pushed) == set(ids)
    for message_id, entry in ids.items():
        receipts = pushed[message_id]
        assert len(receipts) == len(timeline(entry)), entry.key
        for fields, step in zip(receipts, timeline(entry), strict=True):
            assert {k: fields[k] for k in ENTRY_FIELDS} == expected(step, as_json=as_json)
            offset = 1 if step is INITIAL and entry is not INITIAL else 5
            if as_json:
                assert fields["timestamp_send"] == START and fields["timestamp"] == START + offset
                assert type(fields["user_id"]) is int and type(fields["subaccount_id"]) is int
            else:
                assert fields["timestamp_send"] == str(START)
                assert fields["timestamp"] == str(START + offset)
                assert fields["user_id"].isdigit() and fields["subaccount_id"].isdigit()
            assert fields["custom_string"] == entry.key
            assert fields["message_type"] == "sms"


# -- sending -------------------------------------------------------------------------------------
def test_send_answers_the_envelope_with_exact_types(
    make_http_sim: Callable[..., HttpSim],
) -> None:
    sim = cs_sim(make_http_sim)
    status, answer = send(
        sim,
        message(DELIVERED_TO, "Hi", **{"from": "MyBiz"}, custom_string="order-42"),
        message("+61 411-111-111", "ж" * 71, country="au"),
    )
    assert status == 200
    assert answer["response_code"] == "SUCCESS"
    assert answer["response_msg"] == "Messages queued for delivery."
    data = answer["data"]
    assert data["total_count"] == 2 and data["queued_count"] == 2 and data["blocked_count"] == 0
    assert data["_currency"]["currency_name_short"] == "AUD"
    first, second = data["messages"]
    assert first["from"] == "MyBiz" and first["is_shared_system_number"] is False
    assert first["custom_string"] == "order-42" and second["custom_string"] == ""
    assert second["to"] == "+61411111111" and second["country"] == "AU"
    assert (first["message_parts"], second["message_parts"]) == (1, 2)  # UCS-2: 67 per part
    assert (first["message_price"], second["message_price"]) == ("0.0792", "0.1584")
    assert data["total_price"] == pytest.approx(0.2376)
    for sent in data["messages"]:
        assert sent["direction"] == "out" and sent["status"] == "SUCCESS"
        assert type(sent["date"]) is int and sent["date"] == START
        assert type(sent["schedule"]) is int and type(sent["user_id"]) is int
        assert UUID_UPPER.match(sent["message_id"])
    assert sim.stored() == 2 and submits(sim) == 2
    record = sim.loop.call(lambda: sim.sim.store.get(first["message_id"]))
    assert record is not None and record.extra["client_ref"] == "order-42"


CANNOT_QUEUE: list[tuple[dict[str, Any], str]] = [
    ({"to": None}, "MISSING_REQUIRED_FIELDS"),
    ({"body": None}, "MISSING_REQUIRED_FIELDS"),
    ({"body": "   "}, "EMPTY_MESSAGE"),
    ({"to": "call-me-maybe"}, "INVALID_RECIPIENT"),
    ({"to": "+12"}, "INVALID_RECIPIENT"),
    ({"to": None, "list_id": "428"}, "NOT_ENOUGH_PERMISSION_TO_LIST_ID"),
    ({"schedule": "tomorrow"}, "INVALID_SCHEDULE"),
]


def test_a_message_that_cannot_be_queued_gets_its_own_status_and_is_not_stored(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim, receiver)
    for number, (fields, status) in enumerate(CANNOT_QUEUE, 1):
        bad = {k: v for k, v in {**message(DELIVERED_TO), **fields}.items() if v is not None}
        code, answer = send(sim, bad, message(DELIVERED_TO, custom_string=f"good-{number}"))
        assert code == 200 and answer["response_code"] == "SUCCESS", fields
        refused, queued = answer["data"]["messages"]
        assert refused["status"] == status and refused["message_id"] is None, fields
        assert refused["message_price"] == "0.0000"
        assert queued["status"] == "SUCCESS"
        assert answer["data"]["queued_count"] == 1 and answer["data"]["total_count"] == 2
        assert sim.stored() == number and submits(sim) == number, fields
    drain(sim)
    pushed = {fields_of(c)["custom_string"] for c in receiver.calls}
    assert pushed == {f"good-{n}" for n in range(1, len(CANNOT_QUEUE) + 1)}


# -- bad requests: the envelope, and nothing stored ----------------------------------------------
BAD_REQUESTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("no auth", {"headers": {}, "body": {"messages": [message(DELIVERED_TO)]}}, 401,
     "UNAUTHORIZED"),
    ("not basic", {"headers": {"Authorization": "Bearer key-1"},
                   "body": {"messages": [message(DELIVERED_TO)]}}, 401, "UNAUTHORIZED"),
    ("no user name", {"headers": auth(""), "body": {"messages": [message(DELIVERED_TO)]}}, 401,
     "UNAUTHORIZED"),
    ("no api key", {"headers": auth(USER, ""), "body": {"messages": [message(DELIVERED_TO)]}},
     401, "UNAUTHORIZED"),
    ("garbled basic", {"headers": {"Authorization": "Basic %%%"},
                       "body": {"messages": [message(DELIVERED_TO)]}}, 401, "UNAUTHORIZED"),
    ("invalid json", {"raw": b'{"messages": [{"to": '}, 400, "BAD_REQUEST"),
    ("empty body", {"raw": b""}, 400, "BAD_REQUEST"),
    ("not an object", {"body": [message(DELIVERED_TO)]}, 400, "BAD_REQUEST"),
    ("no messages", {"body": {"message": [message(DELIVERED_TO)]}}, 400, "BAD_REQUEST"),
    ("empty messages", {"body": {"messages": []}}, 400, "BAD_REQUEST"),
    ("message not an object", {"body": {"messages": ["hi"]}}, 400, "BAD_REQUEST"),
    ("body not text", {"body": {"messages": [{"to": DELIVERED_TO, "body": ["a"]}]}}, 400,
     "BAD_REQUEST"),
    ("oversize gsm", {"body": {"messages": [message(DELIVERED_TO, "x" * 1225)]}}, 400,
     "BAD_REQUEST"),
    ("oversize ucs2", {"body": {"messages": [message(DELIVERED_TO, "ж" * 537)]}}, 400,
     "BAD_REQUEST"),
    ("one oversize among good", {"body": {"messages": [
        message(DELIVERED_TO), message(DELIVERED_TO, "x" * 2000)]}}, 400, "BAD_REQUEST"),
    ("too many messages", {"body": {"messages": [message(DELIVERED_TO)] * 1001}}, 400,
     "BAD_REQUEST"),
]  # fmt: skip


def test_bad_requests_get_the_envelope_and_store_nothing(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim, receiver)
    for name, options, status, code in BAD_REQUESTS:
        got, answer = api(sim, "POST", "/v3/sms/send", **options)
        assert (got, answer["response_code"]) == (status, code), name
        assert answer["data"] is None and answer["response_msg"], name
        assert sim.stored() == 0 and submits(sim) == 0, name
    drain(sim)
    assert receiver.calls == []
    # Just inside the limit: eight parts of GSM-7 (8 x 153) and of UCS-2 (8 x 67).
    status, answer = send(sim, message(DELIVERED_TO, "x" * 1224), message(DELIVERED_TO, "ж" * 536))
    assert status == 200
    assert [m["message_parts"] for m in answer["data"]["messages"]] == [8, 8]
    assert sim.stored() == 2


def test_configured_accounts_check_user_name_and_api_key(
    make_http_sim: Callable[..., HttpSim],
) -> None:
    account = Account(system_id="acme", api_key="secret", provider="clicksend")
    sim = cs_sim(make_http_sim, accounts=[account])
    for headers in (auth("acme", "wrong"), auth("other", "secret"), {}):
        status, answer = send(sim, message(DELIVERED_TO), headers=headers)
        assert (status, answer["response_code"], answer["data"]) == (401, "UNAUTHORIZED", None)
        status, answer = api(sim, "GET", "/v3/automations/sms/receipts", headers=headers)
        assert status == 401
    assert sim.stored() == 0 and submits(sim) == 0
    status, answer = send(sim, message(DELIVERED_TO), headers=auth("acme", "secret"))
    assert status == 200 and answer["data"]["queued_count"] == 1
    assert sim.stored() == 1


# -- scenario refusals ---------------------------------------------------------------------------
def test_submit_reject_numbers_come_back_as_refused_messages(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim, receiver)
    assert {n.entry.key for n in REJECT_NUMBERS} == {
        "CANCELLED_AFTER_REVIEW", "FAILED_ILLEGAL_SUBSCRIBER", "FAILED_REJECTED_BY_NETWORK",
        "FAILED_SPAM_REJECTED",
    }  # fmt: skip
    refused = [message("+" + n.number, custom_string=n.entry.key) for n in REJECT_NUMBERS]
    status, answer = send(sim, *refused, message(DELIVERED_TO))
    assert status == 200
    data = answer["data"]
    assert [m["status"] for m in data["messages"]] == ["SOMETHING_IS_WRONG"] * 4 + ["SUCCESS"]
    assert all(m["message_id"] is None for m in data["messages"][:4])
    assert (data["queued_count"], data["blocked_count"], data["total_count"]) == (1, 4, 5)
    assert data["total_price"] == pytest.approx(0.0792)
    assert sim.stored() == 1
    events = sim.journal("submit")
    assert [e.data["message_id"] is None for e in events] == [True] * 4 + [False]
    drain(sim)
    assert len(receiver.calls) == 2  # only the accepted message: QUEUED, then Delivered


REFUSING_SCENARIO = """\
name: clicksend-refusals
provider: clicksend
rules:
  - name: no-credit
    when: {text: {contains: "[credit]"}}
    then: {reject: {http: INSUFFICIENT_CREDIT, reason: no credit left}}
  - name: busy
    when: {text: {contains: "[busy]"}}
    then: {reject: {http: TOO_MANY_REQUESTS, reason: slow down}}
  - name: smpp-only
    when: {text: {contains: "[smpp]"}}
    then: {reject: {smpp: ESME_RTHROTTLED}}
default: {outcome: DELIVERED, after: 2s}
"""


def test_scenario_refusals_use_the_named_clicksend_code(
    make_http_sim: Callable[..., HttpSim], tmp_path: Path
) -> None:
    path = tmp_path / "refusals.yaml"
    path.write_text(REFUSING_SCENARIO)
    sim = cs_sim(make_http_sim, scenario=path)
    status, answer = send(sim, message("+61411111111", "[credit] hi"))
    assert status == 200
    assert answer["data"]["messages"][0]["status"] == "INSUFFICIENT_CREDIT"
    status, answer = send(sim, message("+61411111111", "[smpp] hi"))
    assert answer["data"]["messages"][0]["status"] == "SOMETHING_IS_WRONG"
    # A request-level code refuses the whole request when every message got it ...
    status, answer = send(
        sim, message("+61411111111", "[busy] a"), message("+61411111113", "[busy] b")
    )
    assert (status, answer["response_code"]) == (429, "TOO_MANY_REQUESTS")
    assert answer["response_msg"].startswith("Too many requests") and answer["data"] is None
    # ... and is only a per-message status next to a queued message.
    status, answer = send(sim, message("+61411111111", "[busy] a"), message("+61411111112"))
    assert status == 200
    assert [m["status"] for m in answer["data"]["messages"]] == ["TOO_MANY_REQUESTS", "SUCCESS"]
    assert sim.stored() == 1


# -- receipt rules -------------------------------------------------------------------------------
def test_receipt_rules_crud_and_per_account_isolation(
    make_http_sim: Callable[..., HttpSim],
) -> None:
    sim = cs_sim(make_http_sim)
    rules = "/v3/automations/sms/receipts"
    created = create_rule(sim, "https://example.test/dlr")
    assert created == {
        "receipt_rule_id": 1, "rule_name": "dlr", "match_type": 0, "action": "URL",
        "action_address": "https://example.test/dlr", "enabled": 1,
    }  # fmt: skip
    other = auth("someone-else", "k")
    status, answer = api(sim, "GET", rules)
    assert status == 200 and answer["data"]["total"] == 1
    assert answer["data"]["data"] == [created]
    assert api(sim, "GET", rules, headers=other)[1]["data"]["total"] == 0
    assert api(sim, "GET", f"{rules}/1", headers=other)[0] == 404
    assert api(sim, "DELETE", f"{rules}/1", headers=other)[0] == 404
    assert api(sim, "GET", f"{rules}/1")[1]["data"] == created

    status, answer = api(sim, "PUT", f"{rules}/1", {"enabled": 0, "rule_name": "off"})
    assert status == 200
    assert answer["data"] == {**created, "enabled": 0, "rule_name": "off"}

    status, answer = api(sim, "DELETE", f"{rules}/1")
    assert (status, answer["response_code"], answer["data"]) == (200, "SUCCESS", [])
    for method in ("GET", "PUT", "DELETE"):
        status, answer = api(sim, method, f"{rules}/1", {"enabled": 1})
        assert (status, answer["response_code"], answer["data"]) == (404, "NOT_FOUND", None)
    assert api(sim, "GET", f"{rules}/abc")[0] == 404
    assert api(sim, "GET", rules)[1]["data"]["total"] == 0
    assert create_rule(sim, "https://example.test/2")["receipt_rule_id"] == 2


INVALID_RULES: list[Any] = [
    {"match_type": 0, "action": "URL", "action_address": "https://example.test/"},
    {"rule_name": "x", "match_type": 0, "action_address": "https://example.test/"},
    {"rule_name": "x", "action": "URL", "action_address": "ftp://example.test/"},
    {"rule_name": "x", "action": "URL"},
    {"rule_name": "x", "action": "URL", "action_address": "https://e.test/", "enabled": "y"},
    {"rule_name": 5, "action": "URL", "action_address": "https://example.test/"},
    ["not", "an", "object"],
]


def test_invalid_receipt_rules_are_refused(make_http_sim: Callable[..., HttpSim]) -> None:
    sim = cs_sim(make_http_sim)
    for body in INVALID_RULES:
        status, answer = api(sim, "POST", "/v3/automations/sms/receipts", body)
        assert (status, answer["response_code"], answer["data"]) == (400, "BAD_REQUEST", None)
    status, answer = api(sim, "POST", "/v3/automations/sms/receipts", raw=b"{")
    assert status == 400
    assert api(sim, "GET", "/v3/automations/sms/receipts")[1]["data"]["total"] == 0
    created = create_rule(sim, "https://example.test/ok")
    status, answer = api(sim, "PUT", f"/v3/automations/sms/receipts/{created['receipt_rule_id']}",
                         {"action_address": "not a url"})  # fmt: skip
    assert status == 400
    assert api(sim, "GET", "/v3/automations/sms/receipts")[1]["data"]["data"] == [created]


def test_receipts_follow_the_accounts_url_rules_else_the_configured_url(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim, receiver, suffix="#json")  # the configured URL asks for JSON
    create_rule(sim, receiver.url + "/one")
    create_rule(sim, receiver.url + "/two#json")
    create_rule(sim, receiver.url + "/off", enabled=0)
    create_rule(sim, "someone@example.test", action="EMAIL_FIXED")
    other = auth("other-user", "k")
    send(sim, message(SENT_TO, custom_string="mine"))
    send(sim, message(SENT_TO), headers=other)
    drain(sim)
    got = sorted((c.path, c.headers["Content-Type"]) for c in receiver.calls)
    assert got == [
        ("/dlr", "application/json"), ("/one", "application/x-www-form-urlencoded"),
        ("/two", "application/json"),
    ]  # fmt: skip
    theirs = next(c for c in receiver.calls if c.path == "/dlr").json
    assert theirs["custom_string"] is None  # none sent: null in JSON (an empty value in forms)
    assert type(theirs["status_code"]) is int and theirs["error_code"] is None
    assert fields_of(next(c for c in receiver.calls if c.path == "/one"))["custom_string"] == "mine"
    assert type(next(c for c in receiver.calls if c.path == "/two").json["user_id"]) is int

    # A rule enabled after the send still catches the message's next receipt.
    receiver.calls.clear()
    send(sim, message(DELIVERED_TO, custom_string="again"))
    sim.advance(2)
    receiver.wait_for(2)
    api(sim, "PUT", "/v3/automations/sms/receipts/3", {"enabled": 1})
    drain(sim)
    assert sorted(c.path for c in receiver.calls) == ["/off", "/one", "/one", "/two", "/two"]


def test_without_rule_or_configured_url_no_receipt_is_pushed(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim)
    status, _ = send(sim, message(DELIVERED_TO))
    assert status == 200
    drain(sim)
    assert receiver.calls == []
    assert len(sim.journal("status")) == 2 and not sim.journal("webhook")


def test_failed_pushes_are_retried_on_the_virtual_clock(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim, receiver)
    receiver.respond(500, 503)
    send(sim, message(SENT_TO))
    drain(sim)
    assert len(receiver.calls) == 3
    attempts = [e for e in sim.journal("webhook") if e.data["provider"] == "clicksend"]
    assert [e.data["outcome"] for e in attempts] == ["retry", "retry", "delivered"]
    gaps = [b.time - a.time for a, b in itertools.pairwise(attempts)]
    assert gaps == [DEFAULT_RETRY.delays(1), DEFAULT_RETRY.delays(2)]


# -- pulling receipts (the shared store) ---------------------------------------------------------
def test_pulled_receipts_read_the_store_page_by_page(
    make_http_sim: Callable[..., HttpSim],
) -> None:
    sim = cs_sim(make_http_sim)
    _, answer = send(sim, *(message(DELIVERED_TO, custom_string=f"m{i}") for i in range(17)))
    ids = [m["message_id"] for m in answer["data"]["messages"]]
    status, answer = api(sim, "GET", "/v3/sms/receipts")
    assert status == 200 and answer["data"]["total"] == 0 and answer["data"]["data"] == []

    sim.advance(2)  # QUEUED for every message
    status, answer = api(sim, "GET", f"/v3/sms/receipts/{ids[0]}")
    assert status == 200 and answer["data"]["status_text"] == INITIAL.callback["status_text"]
    drain(sim)
    status, answer = api(sim, "GET", "/v3/sms/receipts")
    page = answer["data"]
    assert (page["total"], page["per_page"], page["current_page"], page["last_page"]) == (
        17, 15, 1, 2,
    )  # fmt: skip
    assert (page["from"], page["to"], page["prev_page_url"]) == (1, 15, None)
    assert page["next_page_url"].endswith("/v3/sms/receipts?page=2&limit=15")
    assert [r["message_id"] for r in page["data"]] == ids[:15]
    assert all(r["status_code"] == 201 and r["status"] == "Delivered" for r in page["data"])
    assert all(list(r) == RECEIPT_KEYS for r in page["data"])
    assert page["data"][3]["custom_string"] == "m3"
    assert page["data"][0]["timestamp"] == START + 5

    _, answer = api(sim, "GET", "/v3/sms/receipts?page=2")
    assert [r["message_id"] for r in answer["data"]["data"]] == ids[15:]
    assert (answer["data"]["from"], answer["data"]["to"], answer["data"]["next_page_url"]) == (
        16, 17, None,
    )  # fmt: skip
    assert api(sim, "GET", "/v3/sms/receipts?page=x")[0] == 400

    status, answer = api(sim, "GET", f"/v3/sms/receipts/{ids[0]}")
    assert status == 200 and answer["data"]["status_code"] == 201
    assert answer["data"]["message_id"] == ids[0]
    assert api(sim, "GET", f"/v3/sms/receipts/{ids[0]}", headers=auth("other", "k"))[0] == 404
    assert api(sim, "GET", "/v3/sms/receipts/NOPE")[0] == 404
    assert api(sim, "GET", "/v3/sms/receipts", headers={})[0] == 401

    # A message sent with a future `schedule` reads as Scheduled until its first step.
    _, answer = send(sim, message(DELIVERED_TO, schedule=START + 3600))
    sent = answer["data"]["messages"][0]
    assert sent["schedule"] == START + 3600
    status, answer = api(sim, "GET", f"/v3/sms/receipts/{sent['message_id']}")
    assert status == 200
    assert answer["data"]["status_text"] == ENTRIES["SCHEDULED"].callback["status_text"]


# -- inbound (MO) --------------------------------------------------------------------------------
def mo(sim: HttpSim, url: str, source: str, text: str, account: str | None = None) -> None:
    adapter: Any = sim.sim.providers["clicksend"]
    webhooks = sim.sim.webhooks
    assert webhooks is not None

    def push() -> None:
        request: WebhookRequest = adapter.mo_callback(
            url=url, source=source, destination="+61400000000", text=text, account=account
        )
        webhooks.send(request)

    sim.loop.call(push)


def test_inbound_push_links_the_reply_to_the_last_message_sent(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim)
    _, answer = send(sim, message("+61411111111", "Want it?", custom_string="order-42"))
    sent_id = answer["data"]["messages"][0]["message_id"]
    mo(sim, receiver.url + "/mo", "+61411111111", "Yes please")
    mo(sim, receiver.url + "/mo-json#json", "+61499999999", "Stranger here", account="acme")
    calls = receiver.wait_for(2)
    form = next(c for c in calls if c.path == "/mo")
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = form.form
    assert list(fields) == [
        "originalsenderid", "body", "message", "sms", "from", "to", "timestamp", "message_id",
        "original_message_id", "original_body", "user_id", "subaccount_id", "custom_string",
        "_keyword",
    ]  # fmt: skip
    assert (fields["from"], fields["sms"]) == ("+61411111111", "+61411111111")
    assert (fields["to"], fields["originalsenderid"]) == ("+61400000000", "+61400000000")
    assert fields["body"] == fields["message"] == "Yes please" and fields["_keyword"] == "yes"
    assert (fields["original_message_id"], fields["original_body"]) == (sent_id, "Want it?")
    assert fields["custom_string"] == "order-42"
    assert fields["timestamp"] == str(START) and UUID_UPPER.match(fields["message_id"])

    stranger = next(c for c in calls if c.path == "/mo-json").json
    assert stranger["original_message_id"] is None and stranger["custom_string"] == ""
    assert type(stranger["timestamp"]) is int and type(stranger["user_id"]) is int
    assert stranger["user_id"] == int(fields["user_id"])  # the same account, acme
