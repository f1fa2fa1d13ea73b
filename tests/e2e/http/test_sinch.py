"""Sinch Brazil/LATAM (ex-Wavy) over real HTTP: send, callbacks, status queries, MO, errors.

Sinch publishes no Python SDK for this API, so the client here is plain aiohttp following the
documented shapes (shared/reference/providers.md, section 5). Callbacks arrive at the shared
real receiver; the virtual clock runs the timelines, and `drain` waits (bounded) until the
emitter has nothing in flight, so counting callbacks afterwards is exact.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from simulator.catalog.model import Entry
from simulator.catalog.registry import load_registry
from simulator.core.accounts import Account
from simulator.engine.numbers import OutcomeNumbers
from simulator.store.messages import MessageRecord
from tests.e2e.http.conftest import WAIT, Call, HttpSim, Receiver

HEADERS = {"UserName": "tester", "AuthenticationToken": "token-1"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REGISTRY = load_registry()
CATALOG = REGISTRY.get("sinch")
NUMBERS = OutcomeNumbers(REGISTRY).numbers(CATALOG)
DELIVERED_NUMBER = next(n.number for n in NUMBERS if n.entry.key == "DELIVERED_SUCCESS")
REFUSED_NUMBER = next(n.number for n in NUMBERS if n.entry.key == "REJECTED_BY_CARRIER")
SENT_KEYS = {
    "id", "correlationId", "carrierId", "carrierName", "destination", "sentStatusCode",
    "sentStatus", "sentAt", "sentDate", "campaignId", "extraInfo",
}  # fmt: skip
DR_KEYS = SENT_KEYS | {
    "sentStatusAt", "sentStatusDate", "deliveredStatusCode", "deliveredStatus", "deliveredAt",
    "deliveredDate",
}  # fmt: skip


# -- helpers -------------------------------------------------------------------------------------
def sinch_sim(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver, **settings: Any
) -> HttpSim:
    return make_http_sim(
        "default.yaml", callback_urls={"sinch": receiver.url + "/sinch/callback"}, **settings
    )


def send(
    sim: HttpSim, body: Any, headers: dict[str, str] | None = None, path: str = "/v1/send-sms"
) -> tuple[int, Any]:
    status, response_headers, raw = sim.post(
        path, json=body, headers=HEADERS if headers is None else headers
    )
    assert response_headers["Content-Type"].startswith("application/json")
    return status, json.loads(raw)


def get_json(sim: HttpSim, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, raw = sim.get(path, headers=HEADERS if headers is None else headers)
    return status, json.loads(raw)


def record_of(sim: HttpSim, message_id: str) -> MessageRecord:
    record = sim.loop.call(lambda: sim.sim.store.get(message_id))
    assert record is not None
    return record


def no_callbacks_in_flight(sim: HttpSim) -> None:
    """Wait (bounded) until every callback attempt has ended and been journaled."""
    webhooks = sim.sim.webhooks
    assert webhooks is not None
    deadline = time.monotonic() + WAIT
    while sim.loop.call(lambda: webhooks.in_flight) > 0:
        assert time.monotonic() < deadline, "callbacks still in flight"
        time.sleep(0.01)


def drain(sim: HttpSim) -> None:
    """Run every timeline (and retry) to its end; wait, bounded, until nothing is in flight.

    A failed callback schedules its retry only when the attempt ends, so this repeats until the
    clock has no timer left and the emitter has no request out.
    """
    deadline = time.monotonic() + WAIT
    while True:
        sim.run_until_idle()
        no_callbacks_in_flight(sim)
        if sim.loop.call(lambda: sim.clock.pending) == 0:
            return
        assert time.monotonic() < deadline, "timers keep being scheduled"


def by_message(calls: list[Call]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        assert call.method == "POST"
        assert call.path == "/sinch/callback"
        assert call.headers["Content-Type"] == "application/json"
        body = call.json
        assert isinstance(body, dict), "one message per POST, as a single JSON object"
        grouped.setdefault(body["id"], []).append(body)
    return grouped


def check_types(body: dict[str, Any]) -> None:
    assert UUID.match(body["id"])
    assert type(body["carrierId"]) is int
    assert isinstance(body["carrierName"], str)
    assert type(body["sentStatusCode"]) is int
    assert isinstance(body["sentStatus"], str)
    assert type(body["sentAt"]) is int
    assert ISO.match(body["sentDate"])
    assert isinstance(body["extraInfo"], str)
    if "deliveredStatusCode" in body:
        assert type(body["deliveredStatusCode"]) is int
        assert isinstance(body["deliveredStatus"], str)
        assert type(body["deliveredAt"]) is int
        assert ISO.match(body["deliveredDate"])
        assert body["sentStatusAt"] == body["sentAt"]
        assert body["sentStatusDate"] == body["sentDate"]


def is_sent_level(entry: Entry) -> bool:
    return entry.section == "sent_status"


# -- sending -------------------------------------------------------------------------------------
def test_single_send_answers_the_documented_array_and_echoes_correlation_id(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    status, body = send(
        sim,
        {"destination": "5511900000000", "messageText": "linha\nquebrada", "correlationId": "c-1"},
    )
    assert status == 200
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"id", "correlationId"}
    assert UUID.match(body[0]["id"]) and body[0]["correlationId"] == "c-1"
    record = record_of(sim, body[0]["id"])
    assert record.provider == "sinch"
    assert record.destination_addr == "5511900000000" and record.extra["client_ref"] == "c-1"
    # Without a correlationId the answer still has the key, as null.
    status, body = send(sim, {"destination": "5511900000001", "messageText": "hi"})
    assert status == 200 and body[0]["correlationId"] is None


def test_get_send_with_query_string_and_credentials_in_headers_or_query(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    query = {"destination": "5511900000000", "messageText": "via GET", "correlationId": "g-1"}
    status, _, raw = sim.get("/v1/send-sms", params=query, headers=HEADERS)
    assert status == 200, raw
    with_query_credentials = {**query, "username": "tester", "authenticationToken": "t"}
    status, _, raw = sim.get("/v1/send-sms", params=with_query_credentials)
    assert status == 200, raw
    status, _, raw = sim.get("/v1/send-sms", params=query)
    assert status == 401
    assert sim.stored() == 2


def test_bulk_send_applies_default_values_and_answers_batch_and_message_ids(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    request = {
        "messages": [
            {"destination": DELIVERED_NUMBER, "messageText": "first", "correlationId": "b-1"},
            {"destination": "5519900002222", "correlationId": "b-2"},
            {"destination": REFUSED_NUMBER},
        ],
        "defaultValues": {"messageText": "default text", "flashSMS": "true"},
    }
    status, body = send(sim, request, path="/v1/send-bulk-sms")
    assert status == 200
    assert set(body) == {"id", "messages"} and UUID.match(body["id"])
    ids = [item["id"] for item in body["messages"]]
    assert [set(item) for item in body["messages"]] == [{"id"}] * 3
    assert len(set(ids) | {body["id"]}) == 4 and all(UUID.match(i) for i in ids)
    records = [record_of(sim, message_id) for message_id in ids]
    assert [r.body for r in records] == [b"first", b"default text", b"default text"]
    assert {r.extra["bulk_id"] for r in records} == {body["id"]}
    assert all(r.extra["sinch_options"]["flashSMS"] is True for r in records)
    drain(sim)
    grouped = by_message(receiver.calls)
    assert len(grouped[ids[0]]) == 2 and len(grouped[ids[2]]) == 1
    assert grouped[ids[2]][0]["sentStatusCode"] == 103
    assert {b["correlationId"] for b in grouped[ids[0]]} == {"b-1"}


def test_delivered_message_gets_sent_status_then_delivery_report(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    status, body = send(
        sim,
        {"destination": DELIVERED_NUMBER, "messageText": "hello", "correlationId": "ord-1",
         "extraInfo": "note"},
    )  # fmt: skip
    assert status == 200
    message_id = body[0]["id"]
    sim.advance(1)  # the test number's timeline: SENT_SUCCESS after 1 s, DELIVERED after 5 s
    first = receiver.wait_for(1)[0].json
    no_callbacks_in_flight(sim)
    assert set(first) == SENT_KEYS
    assert (first["sentStatusCode"], first["sentStatus"]) == (2, "SENT_SUCCESS")
    sim.advance(4)
    calls = receiver.wait_for(2)
    drain(sim)
    assert len(receiver.calls) == 2
    second = calls[1].json
    assert set(second) == DR_KEYS
    assert (second["deliveredStatusCode"], second["deliveredStatus"]) == (4, "DELIVERED_SUCCESS")
    assert (second["sentStatusCode"], second["sentStatus"]) == (2, "SENT_SUCCESS")
    for callback in (first, second):
        check_types(callback)
        assert callback["id"] == message_id
        assert callback["correlationId"] == "ord-1" and callback["extraInfo"] == "note"
        assert callback["destination"] == DELIVERED_NUMBER
    assert second["sentAt"] == first["sentAt"]
    assert second["deliveredAt"] - second["sentAt"] == 4000
    kinds = [e.data["kind"] for e in sim.journal("webhook")]
    assert kinds == ["sent", "delivery"]


def test_carrier_refused_message_gets_only_the_sent_status_callback(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    status, body = send(sim, {"destination": REFUSED_NUMBER, "messageText": "x"})
    assert status == 200
    sim.advance(1)  # the engine's SENT_SUCCESS pre-step: Sinch reports nothing for it
    drain(sim)
    calls = receiver.calls
    assert len(calls) == 1
    callback = calls[0].json
    assert set(callback) == SENT_KEYS
    assert callback["id"] == body[0]["id"]
    assert (callback["sentStatusCode"], callback["sentStatus"]) == (103, "REJECTED_BY_CARRIER")
    check_types(callback)


# -- the every-outcome matrix ---------------------------------------------------------------------
def test_every_outcome_number_produces_its_catalog_callback_fields(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    sent_ids: dict[str, Entry] = {}
    refs: dict[str, str] = {}
    assert len(NUMBERS) == len(CATALOG.entries) == 16
    for position, number in enumerate(NUMBERS):
        ref = f"m-{position}"
        status, body = send(
            sim, {"destination": number.number, "messageText": "matrix", "correlationId": ref}
        )
        assert status == 200, body
        sent_ids[body[0]["id"]] = number.entry
        refs[body[0]["id"]] = ref
    drain(sim)
    grouped = by_message(receiver.calls)
    assert set(grouped) == set(sent_ids)
    for message_id, entry in sent_ids.items():
        callbacks = grouped[message_id]
        for callback in callbacks:
            check_types(callback)
            assert callback["correlationId"] == refs[message_id]
        sent = [c for c in callbacks if "deliveredStatusCode" not in c]
        reports = [c for c in callbacks if "deliveredStatusCode" in c]
        assert len(sent) == 1, (entry.key, callbacks)
        assert set(sent[0]) == SENT_KEYS
        if is_sent_level(entry):
            # A sent-level outcome: its own code in the one sent-status callback, no DR.
            assert reports == [], entry.key
            assert {k: sent[0][k] for k in entry.callback} == entry.callback
        else:
            # A handset-level outcome: SENT_SUCCESS first, then the DR with the entry's fields.
            assert (sent[0]["sentStatusCode"], sent[0]["sentStatus"]) == (2, "SENT_SUCCESS")
            assert len(reports) == 1, entry.key
            assert set(reports[0]) == DR_KEYS
            assert {k: reports[0][k] for k in entry.callback} == entry.callback
            assert (reports[0]["sentStatusCode"], reports[0]["sentStatus"]) == (2, "SENT_SUCCESS")


def test_submit_reject_numbers_answer_400_with_the_entry_fields_and_store_nothing(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    rejects = OutcomeNumbers(REGISTRY).reject_numbers(CATALOG)
    assert rejects, "the catalog has rejected outcomes"
    for number in rejects:
        status, body = send(sim, {"destination": number.number, "messageText": "no"})
        assert status == 400
        assert body == {
            "errorCode": 400,
            "errorMessage": f"message refused: {number.entry.name}",
            **number.entry.callback,
        }
    status, body = send(
        sim,
        {"messages": [{"destination": rejects[0].number}, {"destination": DELIVERED_NUMBER}],
         "defaultValues": {"messageText": "bulk"}},
        path="/v1/send-bulk-sms",
    )  # fmt: skip
    assert status == 200
    refused, accepted = body["messages"]
    assert refused["id"] is None and refused["errorCode"] == 400
    assert UUID.match(accepted["id"])
    assert sim.stored() == 1
    drain(sim)
    assert set(by_message(receiver.calls)) == {accepted["id"]}


# -- bad requests ------------------------------------------------------------------------------
BAD_REQUESTS: list[tuple[str, dict[str, str] | None, Any, int, str]] = [
    ("no auth", {}, {"destination": "5511900000000", "messageText": "x"}, 401, "UserName"),
    ("no token", {"UserName": "acme"}, {"destination": "5511900000000", "messageText": "x"},
     401, "UserName"),
    ("wrong token", {"UserName": "acme", "AuthenticationToken": "nope"},
     {"destination": "5511900000000", "messageText": "x"}, 401, "UserName"),
    ("wrong user", {"UserName": "other", "AuthenticationToken": "s3cret"},
     {"destination": "5511900000000", "messageText": "x"}, 401, "UserName"),
    ("invalid json", None, b"{not json", 400, "not valid JSON"),
    ("array body", None, [{"destination": "5511900000000", "messageText": "x"}], 400,
     "JSON object"),
    ("missing destination", None, {"messageText": "x"}, 400, "destination is required"),
    ("missing text", None, {"destination": "5511900000000"}, 400, "messageText is required"),
    ("oversize text", None, {"destination": "5511900000000", "messageText": "a" * 1281}, 400,
     "limit is 1280"),
    ("invalid destination", None, {"destination": "55-11-abc", "messageText": "x"}, 400,
     "invalid destination"),
    ("text not a string", None, {"destination": "5511900000000", "messageText": 5}, 400,
     "must be a string"),
    ("long correlationId", None,
     {"destination": "5511900000000", "messageText": "x", "correlationId": "c" * 65}, 400,
     "limit is 64"),
    ("bad flashSMS", None,
     {"destination": "5511900000000", "messageText": "x", "flashSMS": "maybe"}, 400, "flashSMS"),
]  # fmt: skip


BAD_BULK: list[tuple[str, Any, str]] = [
    ("empty", {"messages": []}, "non-empty list"),
    ("no text", {"messages": [{"destination": "5511900000000"}]},
     "messages[0]: messageText is required"),
    ("second has no destination",
     {"messages": [{"destination": "5511900000000", "messageText": "a"}, {"text": "b"}]},
     "messages[1]: destination is required"),
    ("over 1000",
     {"messages": [{"destination": "5511900000000"}] * 1001, "defaultValues": {"messageText": "x"}},
     "limit is 1000"),
    ("bad defaults", {"messages": [{"destination": "5511900000000"}], "defaultValues": "x"},
     "defaultValues"),
]  # fmt: skip


def test_bad_requests_get_the_error_shape_and_store_nothing(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    # One simulator for all cases (starting one costs about half a second); each case checks
    # that nothing was stored or journaled as a submit.
    account = Account(system_id="acme", api_key="s3cret", provider="sinch")
    sim = sinch_sim(make_http_sim, receiver, accounts=[account])
    good = {"UserName": "acme", "AuthenticationToken": "s3cret"}
    for name, headers, body, status, fragment in BAD_REQUESTS:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        got, response_headers, raw = sim.post(
            "/v1/send-sms", headers=good if headers is None else headers, **kwargs
        )
        assert got == status, name
        assert response_headers["Content-Type"].startswith("application/json"), name
        answer = json.loads(raw)
        assert set(answer) == {"errorCode", "errorMessage"}, name
        assert answer["errorCode"] == status and fragment in answer["errorMessage"], (name, answer)
        assert sim.stored() == 0, name
        assert sim.journal("submit") == [], name
    for name, body, fragment in BAD_BULK:
        status, answer = send(sim, body, headers=good, path="/v1/send-bulk-sms")
        assert status == 400, name
        assert set(answer) == {"errorCode", "errorMessage"}, name
        assert answer["errorCode"] == 400 and fragment in answer["errorMessage"], (name, answer)
        assert sim.stored() == 0 and sim.journal("submit") == [], name
    # The same account with the right credentials is accepted.
    ok, _ = send(sim, {"destination": "5511900000000", "messageText": "x"}, headers=good)
    assert ok == 200 and sim.stored() == 1


# -- status queries ----------------------------------------------------------------------------
def test_status_search_and_list_read_the_shared_store(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    _, first = send(
        sim, {"destination": DELIVERED_NUMBER, "messageText": "a", "correlationId": "s-1"}
    )
    _, second = send(
        sim, {"destination": REFUSED_NUMBER, "messageText": "b", "correlationId": "s-2"}
    )
    first_id, second_id = first[0]["id"], second[0]["id"]
    search = {"ids": [first_id.upper()], "correlationIds": ["s-2", "unknown"]}
    status, answer = send(sim, search, path="/v1/sms/status/search")
    assert status == 200 and answer["total"] == 2
    pending = {item["id"]: item for item in answer["smsStatuses"]}
    assert set(pending) == {first_id, second_id}
    assert pending[first_id]["sentStatusCode"] is None  # nothing reported yet
    assert get_json(sim, "/v1/sms/status/list") == (200, {"total": 0, "smsStatuses": []})

    sim.advance(1)  # first: SENT_SUCCESS; second: still waiting for its carrier answer
    _, listed_body = get_json(sim, "/v1/sms/status/list")
    assert [item["id"] for item in listed_body["smsStatuses"]] == [first_id]
    assert listed_body["smsStatuses"][0]["sentStatusCode"] == 2
    assert listed_body["smsStatuses"][0]["deliveredStatusCode"] is None
    assert get_json(sim, "/v1/sms/status/list")[1]["total"] == 0

    drain(sim)
    _, listed_body = get_json(sim, "/v1/sms/status/list")
    final = {item["id"]: item for item in listed_body["smsStatuses"]}
    assert set(final) == {first_id, second_id}
    assert final[first_id]["deliveredStatusCode"] == 4
    assert final[first_id]["deliveredStatus"] == "DELIVERED_SUCCESS"
    assert (final[second_id]["sentStatusCode"], final[second_id]["deliveredStatusCode"]) == (
        103,
        None,
    )
    assert final[first_id]["correlationId"] == "s-1"
    _, answer = send(sim, {"ids": [first_id]}, path="/v1/sms/status/search")
    assert answer["smsStatuses"] == [final[first_id]]
    # Another user sees none of these messages.
    other = {"UserName": "someone", "AuthenticationToken": "x"}
    _, answer = send(sim, {"ids": [first_id]}, headers=other, path="/v1/sms/status/search")
    assert answer == {"total": 0, "smsStatuses": []}
    status, answer = send(sim, {}, path="/v1/sms/status/search")
    assert status == 400 and answer["errorCode"] == 400
    assert get_json(sim, "/v1/sms/status/list", headers={})[0] == 401


# -- MO and retries --------------------------------------------------------------------------
def test_mo_callback_has_the_inbound_shape_and_names_the_mt_it_answers(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    _, body = send(
        sim, {"destination": "5516981562820", "messageText": "menu?", "correlationId": "1876"}
    )
    adapter: Any = sim.sim.providers["sinch"]
    webhooks = sim.sim.webhooks
    assert webhooks is not None

    def inject() -> None:
        request = adapter.mo_callback(
            url=receiver.url + "/sinch/mo",
            source="+5516981562820",
            destination="28128",
            text="I want pizza",
            account="tester",
        )
        webhooks.send(request)

    sim.loop.call(inject)
    call = receiver.wait_for(1)[0]
    assert (call.method, call.path) == ("POST", "/sinch/mo")
    assert call.headers["Content-Type"] == "application/json"
    mo = call.json
    assert set(mo) == {
        "id", "subAccount", "campaignAlias", "carrierId", "carrierName", "source", "shortCode",
        "messageText", "receivedAt", "receivedDate", "mt",
    }  # fmt: skip
    assert UUID.match(mo["id"]) and mo["id"] != body[0]["id"]
    assert (mo["source"], mo["shortCode"], mo["messageText"]) == (
        "5516981562820",
        "28128",
        "I want pizza",
    )
    assert type(mo["carrierId"]) is int and type(mo["receivedAt"]) is int
    assert ISO.match(mo["receivedDate"])
    assert mo["mt"] == {
        "id": body[0]["id"],
        "correlationId": "1876",
        "username": "tester",
        "email": None,
    }
    journal = sim.journal("webhook")
    assert [e.data["kind"] for e in journal] == ["mo"]


def test_failing_receiver_gets_retries_on_the_virtual_clock(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    receiver.respond(500, 503)
    send(sim, {"destination": REFUSED_NUMBER, "messageText": "x"})
    drain(sim)  # the default policy retries after 30 s, then 60 s, on the simulation clock
    calls = receiver.calls
    assert len(calls) == 3
    assert len({c.body for c in calls}) == 1
    outcomes = [(e.data["attempt"], e.data["status_code"], e.data["outcome"])
                for e in sim.journal("webhook")]  # fmt: skip
    assert outcomes == [(1, 500, "retry"), (2, 503, "retry"), (3, 200, "delivered")]
    times = [e.time for e in sim.journal("webhook")]
    assert [round(b - a) for a, b in itertools.pairwise(times)] == [30, 60]


def test_no_callback_url_means_no_callbacks_but_status_still_works(
    make_http_sim: Callable[..., HttpSim],
) -> None:
    sim = make_http_sim("default.yaml")
    _, body = send(sim, {"destination": DELIVERED_NUMBER, "messageText": "quiet"})
    drain(sim)
    assert sim.journal("webhook") == []
    _, answer = send(sim, {"ids": [body[0]["id"]]}, path="/v1/sms/status/search")
    assert answer["smsStatuses"][0]["deliveredStatusCode"] == 4


def test_outcomes_in_another_providers_codes_map_onto_the_two_sinch_levels(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    # Steps from another catalog map by their SMPP stat (ProviderAdapter.entry_for_step): a
    # non-final step becomes SENT_SUCCESS, DELIVRD the DR 4, UNDELIV the DR 104, and REJECTD
    # the first final REJECTD entry (102, a sent-level refusal: no DR, no SENT_SUCCESS first).
    sim = sinch_sim(make_http_sim, receiver)
    cases = {
        "DELIVERED_TO_HANDSET": [(2, 0), (2, 4)],  # (sentStatusCode, deliveredStatusCode or 0)
        "EC_ABSENT_SUBSCRIBER": [(2, 0), (2, 104)],
        "REJECTED_NETWORK": [(102, 0)],
    }
    ids = {}
    for outcome in cases:
        text = f"#dlrsim:provider=infobip #dlrsim:outcome={outcome}"
        status, body = send(sim, {"destination": "5511900000000", "messageText": text})
        assert status == 200
        ids[body[0]["id"]] = outcome
    lost_text = "#dlrsim:outcome=DELIVERED_SUCCESS #dlrsim:lost=1"
    _, lost = send(sim, {"destination": "5511900000000", "messageText": lost_text})
    drain(sim)
    grouped = by_message(receiver.calls)
    assert set(grouped) == set(ids)  # the lost message sends no callback at all
    for message_id, outcome in ids.items():
        seen = sorted(
            (c["sentStatusCode"], c.get("deliveredStatusCode") or 0) for c in grouped[message_id]
        )
        assert seen == cases[outcome], outcome
    _, answer = send(sim, {"ids": [lost[0]["id"]]}, path="/v1/sms/status/search")
    assert answer["smsStatuses"][0]["deliveredStatusCode"] == 4


def test_scheduled_messages_start_their_timeline_later(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    now = sim.loop.call(sim.clock.time)
    _, delayed = send(
        sim, {"destination": REFUSED_NUMBER, "messageText": "later", "delayedInMinutes": 10}
    )
    # scheduledAt is Unix time in milliseconds, like Sinch's other timestamps
    at_ms = round((now + 1200) * 1000)
    _, at = send(sim, {"destination": REFUSED_NUMBER, "messageText": "at", "scheduledAt": at_ms})
    # The virtual clock starts at 2026-01-01T00:00:00Z; with no timeZone the date is UTC.
    dated_body = {"destination": REFUSED_NUMBER, "messageText": "dated",
                  "scheduledDate": "2026-01-01T03:00:00"}  # fmt: skip
    _, dated = send(sim, dated_body)
    assert now == 1_767_225_600.0
    status, answer = send(
        sim, {"destination": REFUSED_NUMBER, "messageText": "x", "scheduledDate": "tomorrow"}
    )
    assert status == 400 and "scheduledDate" in answer["errorMessage"]
    status, answer = send(
        sim,
        {"destination": REFUSED_NUMBER, "messageText": "x", "scheduledDate": "2026-01-01T03:00:00",
         "timeZone": "Mars/Olympus"},
    )  # fmt: skip
    assert status == 400 and "timeZone" in answer["errorMessage"]
    sim.advance(599)
    no_callbacks_in_flight(sim)
    assert receiver.calls == []
    drain(sim)
    sent_at = {c.json["id"]: c.json["sentAt"] for c in receiver.calls}
    start_ms = round(now * 1000)
    assert sent_at == {
        delayed[0]["id"]: start_ms + (600 + 5) * 1000,
        at[0]["id"]: start_ms + (1200 + 5) * 1000,
        dated[0]["id"]: start_ms + (3 * 3600 + 5) * 1000,
    }
