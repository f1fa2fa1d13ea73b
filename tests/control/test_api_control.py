"""Driving the simulator: sessions, accounts, scenario, faults, clock, MO and reset."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import smpplib.gsm  # type: ignore[import-untyped]

from simulator.core.accounts import Account
from tests.e2e.conftest import text_of

from .conftest import SCENARIO, ApiSim, Receiver

ESME_RSYSERR = 0x08


def _submit_status(api: ApiSim, esme: Any, text: bytes = b"hi") -> int:
    response = esme.response(esme.submit(text))
    return int(response.status)


# -- sessions and accounts -------------------------------------------------------------------


def test_sessions_list_and_disconnect(api_sim: ApiSim) -> None:
    sender = api_sim.esme("transmitter", "alice")
    listener = api_sim.esme("receiver", "bob")
    reply = api_sim.get("/sessions")
    assert reply.status == 200
    sessions = {s["system_id"]: s for s in reply.json["sessions"]}
    assert set(sessions) == {"alice", "bob"}
    assert sessions["alice"]["bind_type"] == "transmitter" and sessions["alice"]["bound"]
    assert sessions["bob"]["state"] == "receiver"
    assert sessions["alice"]["peer"].startswith("127.0.0.1")
    assert sessions["alice"]["counters"]["in"] >= 1

    closed = api_sim.delete(f"/sessions/{sessions['bob']['session_id']}?mode=close")
    assert closed.status == 200
    assert closed.json["action"] == "close" and closed.json["session"]["state"] == "closed"
    listener.wait_closed()

    unbound = api_sim.delete(f"/sessions/{sessions['alice']['session_id']}")
    assert unbound.status == 200 and unbound.json["action"] == "unbind"
    unbind = sender.expect(lambda pdu: pdu.command == "unbind", "the SMSC's unbind")
    sender.answer("unbind_resp", unbind.sequence)
    deadline = time.monotonic() + 5
    while api_sim.get("/sessions").json["sessions"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert api_sim.get("/sessions").json["sessions"] == []

    missing = api_sim.delete("/sessions/nope")
    assert missing.status == 404 and missing.error["where"] == "path.session_id"
    bad_mode = api_sim.delete("/sessions/nope?mode=explode")
    assert bad_mode.status == 400 and bad_mode.error["where"] == "query.mode"


def test_accounts_show_limits_binds_and_queues(make_api_sim: Callable[..., ApiSim]) -> None:
    account = Account(system_id="shop", password="pw", window=5, max_submit_rate=50)
    api = make_api_sim(accounts=[account])
    api.esme("transmitter", "shop", "pw")
    api.on_loop(lambda: api.sim.smsc and api.sim.smsc.send_mo("shop", "4470", "100", "queued"))
    reply = api.get("/accounts")
    assert reply.status == 200
    assert reply.json["accept_any"] is False
    (view,) = reply.json["accounts"]
    assert view == {
        "system_id": "shop", "provider": None, "password_set": True, "api_key_set": False,
        "bind_types": ["transmitter", "receiver", "transceiver"], "max_binds": 10,
        "window": 5, "max_submit_rate": 50.0, "message_id_format": "hex", "binds": 1,
        "pending_deliveries": 1,
    }


# -- scenario --------------------------------------------------------------------------------


OTHER = """\
name: other
provider: infobip
rules:
  - name: everything-absent
    then: {outcome: EC_ABSENT_SUBSCRIBER, after: 1s}
"""


def test_scenario_get_put_and_refusal_keeps_the_old_one(api_sim: ApiSim) -> None:
    current = api_sim.get("/scenario")
    assert current.status == 200
    body = current.json
    assert (body["active"], body["name"], body["provider"], body["state"]) == (
        True, "api-tests", "infobip", "open")
    assert (body["rules"], body["faults"]) == (1, 1)
    assert body["source"].endswith(".yaml") and body["scenario"]["name"] == "api-tests"

    invalid = "name: broken\nprovider: infobip\nrules:\n  - then: {outcome: NOPE}\n" \
              "faults:\n  - kind: delay_response\n"
    refused = api_sim.call("PUT", "/scenario", data=invalid,
                           headers={"Content-Type": "application/yaml"})
    assert refused.status == 400
    error = refused.error
    assert error["code"] == "invalid_scenario"
    assert {(p["line"], p["where"]) for p in error["problems"]} == {
        (4, "body.rules[0].then.outcome"), (6, "body.faults[0].delay")}
    assert error["where"] == "body.rules[0].then.outcome"
    assert api_sim.get("/scenario").json["name"] == "api-tests"

    replaced = api_sim.call("PUT", "/scenario", data=OTHER)
    assert replaced.status == 200, replaced.body
    assert (replaced.json["name"], replaced.json["source"]) == ("other", "api")
    esme = api_sim.esme()
    message_id = esme.submit_ok(b"x", registered_delivery=1)
    api_sim.post("/clock/advance", {"seconds": 2})
    esme.receipt_for(message_id, "UNDELIV")
    # JSON works too, and GET's scenario document can be PUT back
    back = api_sim.put("/scenario", body["scenario"])
    assert back.status == 200 and back.json["name"] == "api-tests"
    scenario_events = api_sim.get("/events?kind=scenario").json["entries"]
    assert [e["data"]["name"] for e in scenario_events] == ["other", "api-tests"]


def test_scenario_validate(api_sim: ApiSim) -> None:
    ok = api_sim.call("POST", "/scenario/validate", data=OTHER)
    assert ok.status == 200
    assert ok.json == {"valid": True, "name": "other", "rules": 1, "faults": 0}
    assert api_sim.get("/scenario").json["name"] == "api-tests"
    broken = api_sim.call("POST", "/scenario/validate", data="name: [1")
    assert broken.status == 400
    assert broken.error["code"] == "invalid_scenario"
    assert broken.error["problems"][0]["line"] is not None
    empty = api_sim.call("POST", "/scenario/validate", data=b"")
    assert empty.status == 400 and empty.error["where"] == "body"


def test_scenario_state_switch(api_sim: ApiSim) -> None:
    esme = api_sim.esme()
    reply = api_sim.put("/scenario/state", {"state": "closed"})
    assert reply.status == 200
    assert reply.json == {"state": "closed", "previous": "open"}
    assert api_sim.get("/scenario").json["state"] == "closed"
    assert _submit_status(api_sim, esme) == ESME_RSYSERR
    assert api_sim.put("/scenario/state", {"state": "open"}).status == 200
    assert _submit_status(api_sim, esme) == 0
    unknown = api_sim.put("/scenario/state", {"state": "sideways"})
    assert unknown.status == 400 and unknown.error["where"] == "body.state"
    empty = api_sim.put("/scenario/state", {"state": ""})
    assert empty.status == 400 and empty.error["where"] == "body.state"


def test_scenario_routes_without_a_scenario(make_api_sim: Callable[..., ApiSim]) -> None:
    api = make_api_sim(scenario=None)
    body = api.get("/scenario").json
    assert body["active"] is False and body["scenario"] is None
    assert api.call("PUT", "/scenario", data=OTHER).error["code"] == "no_scenario"
    assert api.put("/scenario/state", {"state": "x"}).status == 409
    assert api.get("/faults").json == {"faults": []}
    added = api.post("/faults", {"kind": "drop_receipt"})
    assert added.status == 409 and added.error["code"] == "no_scenario"


# -- faults ----------------------------------------------------------------------------------


def test_faults_add_list_remove_and_act(api_sim: ApiSim) -> None:
    esme = api_sim.esme()
    listed = api_sim.get("/faults").json["faults"]
    assert [(f["id"], f["source"], f["removable"]) for f in listed] == [
        ("scenario-0", "scenario", False)]
    added = api_sim.post("/faults", {"kind": "reject_submit", "status": "ESME_RTHROTTLED"})
    assert added.status == 201, added.body
    fault = added.json
    assert (fault["id"], fault["source"], fault["applied"]) == ("api-1", "api", 0)
    assert fault["fault"] == {"kind": "reject_submit", "name": "api-1",
                              "status": "ESME_RTHROTTLED"}
    assert _submit_status(api_sim, esme) == 0x58
    after = {f["id"]: f for f in api_sim.get("/faults").json["faults"]}
    assert after["api-1"]["applied"] == 1
    # a new scenario keeps API faults armed
    assert api_sim.call("PUT", "/scenario", data=OTHER).status == 200
    assert _submit_status(api_sim, esme) == 0x58
    removed = api_sim.delete("/faults/api-1")
    assert removed.status == 200 and removed.json["id"] == "api-1"
    assert _submit_status(api_sim, esme) == 0
    assert api_sim.delete("/faults/api-1").status == 404
    fault_events = api_sim.get("/events?kind=fault").json["entries"]
    assert [e["data"].get("action") for e in fault_events if "action" in e["data"]] == [
        "added", "removed"]


def test_fault_refusals(api_sim: ApiSim) -> None:
    cases: list[tuple[Any, str]] = [
        ({"kind": "reject_submit", "status": "ESME_RNOPE"}, "body.status"),
        ({"kind": "delay_response"}, "body.delay"),
        ({"kind": "explode"}, "body.kind"),
        ({"kind": "drop_receipt", "probability": 2}, "body.probability"),
        ({"kind": "drop_receipt", "scope": {"rule": "no-such-rule"}}, "body.scope.rule"),
        ([{"kind": "drop_receipt"}], "body"),
    ]
    for request, where in cases:
        reply = api_sim.post("/faults", request)
        assert reply.status == 400, request
        assert (reply.error["code"], reply.error["where"]) == ("invalid_fault", where), request
    scenario_fault = api_sim.delete("/faults/scenario-0")
    assert scenario_fault.status == 409 and scenario_fault.error["code"] == "scenario_fault"
    assert [f["id"] for f in api_sim.get("/faults").json["faults"]] == ["scenario-0"]


# -- clock -----------------------------------------------------------------------------------


def test_clock_virtual(api_sim: ApiSim) -> None:
    clock = api_sim.get("/clock").json
    assert (clock["kind"], clock["now"], clock["scale"]) == ("virtual", 0.0, None)
    api_sim.esme().submit_ok(b"x")
    moved = api_sim.post("/clock/advance", {"seconds": 3600})
    assert moved.status == 200
    assert moved.json["fired"] >= 2
    assert moved.json["clock"]["now"] == 3600.0
    assert moved.json["clock"]["time"] == clock["time"] + 3600
    refused = api_sim.put("/clock/time-scale", {"scale": 10})
    assert refused.status == 409 and refused.error["code"] == "not_real_clock"
    for body, where in (({"seconds": -1}, "body.seconds"), ({}, "body.seconds"),
                        ({"seconds": "soon"}, "body.seconds")):
        bad = api_sim.post("/clock/advance", body)
        assert bad.status == 400 and bad.error["where"] == where, body


def test_clock_real_time_scale(make_api_sim: Callable[..., ApiSim]) -> None:
    api = make_api_sim(virtual=False)
    before = api.get("/clock").json
    assert (before["kind"], before["scale"], before["pending"]) == ("real", 1.0, None)
    scaled = api.put("/clock/time-scale", {"scale": 3600})
    assert scaled.status == 200
    assert scaled.json["scale"] == 3600.0
    assert scaled.json["now"] - before["now"] < 60  # no jump when the speed changes
    time.sleep(0.2)
    later = api.get("/clock").json
    assert later["now"] - scaled.json["now"] > 0.1 * 3600 * 0.5
    refused = api.post("/clock/advance", {"seconds": 5})
    assert refused.status == 409 and refused.error["code"] == "not_virtual_clock"
    bad = api.put("/clock/time-scale", {"scale": 0})
    assert bad.status == 400 and bad.error["where"] == "body.scale"


# -- MO and reset ----------------------------------------------------------------------------


def test_mo_over_smpp_reaches_the_bound_receiver(api_sim: ApiSim) -> None:
    esme = api_sim.esme("receiver", "shop")
    reply = api_sim.post("/mo", {"source": "447700900001", "destination": "12345",
                                 "text": "STOP please"})
    assert reply.status == 202, reply.body
    assert reply.json == {"transport": "smpp", "account": "shop", "parts": 1,
                          "message_id": None, "url": None}
    (pdu,) = esme.wait_deliveries(1)
    assert text_of(pdu.source_addr) == "447700900001"
    assert text_of(pdu.destination_addr) == "12345"
    assert pdu.short_message == smpplib.gsm.gsm_encode("STOP please")
    long = api_sim.post("/mo", {"source": "1", "destination": "2", "text": "x" * 200,
                                "account": "shop"})
    assert long.json["parts"] == 2


def test_mo_over_http_pushes_the_provider_format(api_sim: ApiSim, receiver: Receiver) -> None:
    reply = api_sim.post("/mo", {"transport": "http", "provider": "infobip",
                                 "url": receiver.url + "/inbound", "source": "41793026727",
                                 "destination": "12345", "text": "hello back"})
    assert reply.status == 202, reply.body
    body = reply.json
    assert body["transport"] == "http" and body["message_id"]
    call = receiver.wait_for(1)[0]
    assert call.path == "/inbound"
    result = call.json["results"][0]
    assert (result["messageId"], result["from"], result["text"]) == (
        body["message_id"], "41793026727", "hello back")
    entries = api_sim.get(f"/messages/{body['message_id']}")
    assert entries.status == 404  # an MO is not a stored outbound message
    mo_events = api_sim.get("/events?kind=mo").json["entries"]
    assert mo_events[-1]["message_id"] == body["message_id"]


def test_mo_refusals(api_sim: ApiSim) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"source": "1", "destination": "2", "text": "x"}, 400, "body.account"),
        ({"source": "1", "destination": "2", "text": "x", "url": "http://x"}, 400, "body.url"),
        ({"source": "1", "destination": "2", "text": "x", "transport": "http",
          "url": "http://127.0.0.1:9/"}, 400, "body.provider"),
        ({"source": "1", "destination": "2", "text": "x", "transport": "http",
          "provider": "infobip"}, 400, "body.url"),
        ({"source": "1", "destination": "2", "text": "x", "transport": "http",
          "provider": "acme", "url": "http://127.0.0.1:9/"}, 404, "body.provider"),
        ({"source": "1", "destination": "2", "text": "€", "account": "a",
          "data_coding": 3}, 400, "body.data_coding"),
        ({"source": "", "destination": "2", "text": "x", "account": "a"}, 400, "body.source"),
        ({"destination": "2", "text": "x"}, 400, "body.source"),
    ]
    for request, status, where in cases:
        reply = api_sim.post("/mo", request)
        assert reply.status == status, request
        assert reply.error["where"] == where, request


def test_reset_clears_and_keeps_what_it_says(api_sim: ApiSim) -> None:
    esme = api_sim.esme()
    esme.submit_ok(b"one", registered_delivery=1)
    api_sim.post("/faults", {"kind": "drop_receipt"})
    api_sim.put("/scenario/state", {"state": "closed"})
    api_sim.on_loop(lambda: api_sim.sim.smsc and api_sim.sim.smsc.send_mo("away", "1", "2", "x"))
    reply = api_sim.post("/reset")
    assert reply.status == 200
    assert reply.json["cleared"] == {"api_faults": 1, "timelines": 1, "pending_deliveries": 1,
                                     "messages": 1, "journal_entries": reply.json["cleared"][
                                         "journal_entries"]}
    assert reply.json["cleared"]["journal_entries"] >= 4
    assert api_sim.get("/messages").json["total"] == 0
    assert api_sim.get("/events").json["entries"] == []
    assert [f["id"] for f in api_sim.get("/faults").json["faults"]] == ["scenario-0"]
    assert api_sim.get("/scenario").json["state"] == "open"
    assert len(api_sim.get("/sessions").json["sessions"]) == 1  # binds stay
    assert api_sim.get("/clock").json["now"] == 0.0
    api_sim.post("/clock/advance", {"seconds": 20})
    assert api_sim.get("/receipts").json["receipts"] == []  # the old timeline is gone
    counters = api_sim.on_loop(lambda: dict(api_sim.sim.smsc.counters) if api_sim.sim.smsc
                               else {})
    assert set(counters.values()) == {0}
    fresh = esme.submit_ok(b"two", registered_delivery=1)
    api_sim.post("/clock/advance", {"seconds": 11})
    esme.receipt_for(fresh, "DELIVRD")


def test_default_scenario_text_is_valid(api_sim: ApiSim) -> None:
    assert api_sim.call("POST", "/scenario/validate", data=SCENARIO).status == 200
