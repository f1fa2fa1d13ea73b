"""Journal views: receipts, webhook attempts with their status codes, and the event long-poll."""

from __future__ import annotations

import threading
import time
from typing import Any

from .conftest import ApiSim, Receiver, Reply, eventually


def _advance(api: ApiSim, seconds: float) -> None:
    assert api.post("/clock/advance", {"seconds": seconds}).status == 200


def test_receipts_view_and_filters(api_sim: ApiSim) -> None:
    esme = api_sim.esme()
    delivered = esme.submit_ok(b"one", registered_delivery=1)
    pushed = esme.submit_ok(b"two", registered_delivery=1)
    push = api_sim.post(f"/messages/{pushed}/status", {"status": "EC_ABSENT_SUBSCRIBER"})
    assert push.status == 200
    _advance(api_sim, 11)
    esme.receipt_for(delivered, "DELIVRD")
    esme.receipt_for(pushed, "UNDELIV")
    reply = eventually(lambda: api_sim.get("/receipts"), lambda r: r.json["count"] == 2,
                       "both receipts answered")
    assert reply.status == 200
    body = reply.json
    views = {r["message_id"]: r for r in body["receipts"]}
    assert body["count"] == 2 and set(views) == {delivered, pushed}
    assert views[delivered]["stat"] == "DELIVRD" and views[pushed]["err"] == "027"
    for view in views.values():
        assert (view["outcome"], view["status"], view["attempts"]) == ("delivered", 0, 1)
        assert view["account"] == "tester"
    assert body["last_seq"] >= max(view["seq"] for view in views.values())

    def ids(query: str) -> list[str]:
        answer = api_sim.get("/receipts" + query)
        assert answer.status == 200, answer.body
        return [r["message_id"] for r in answer.json["receipts"]]

    assert ids(f"?message_id={pushed}") == [pushed]
    assert ids("?stat=DELIVRD") == [delivered]
    assert ids("?account=tester&outcome=delivered") == [pushed, delivered]  # journal order
    assert ids("?account=nobody") == []
    assert ids("?outcome=expired") == []
    assert len(ids("?limit=1")) == 1
    assert ids(f"?since={views[pushed]['seq']}") == [delivered]
    bad = api_sim.get("/receipts?outcome=lost")
    assert bad.status == 400 and bad.error["where"] == "query.outcome"


def test_webhook_attempts_show_status_codes(api_sim: ApiSim, receiver: Receiver) -> None:
    receiver.respond(500)
    message_id = api_sim.infobip_send("41793026727", "hi", receiver.url + "/dlr")

    def attempts(query: str = "") -> list[dict[str, Any]]:
        answer = api_sim.get("/webhooks" + query)
        assert answer.status == 200, answer.body
        found: list[dict[str, Any]] = answer.json["webhooks"]
        return found

    _advance(api_sim, 11)
    eventually(attempts, lambda found: len(found) == 1, "the first attempt journaled")
    _advance(api_sim, 121)  # Infobip retries after 1 min + 1 min x n^2
    receiver.wait_for(2)
    found = eventually(attempts, lambda found: len(found) >= 2, "both attempts journaled")
    assert [(w["attempt"], w["status_code"], w["outcome"]) for w in found] == [
        (1, 500, "retry"), (2, 200, "delivered")]
    first = found[0]
    assert first["message_id"] == message_id and first["provider"] == "infobip"
    assert first["url"] == receiver.url + "/dlr" and first["method"] == "POST"
    assert first["kind"] == "delivery" and first["latency_ms"] >= 0
    assert message_id in (first["body"] or "")
    assert [w["attempt"] for w in attempts("?status_code=500")] == [1]
    assert [w["attempt"] for w in attempts("?outcome=delivered&provider=infobip")] == [2]
    assert attempts("?provider=sinch") == []
    assert attempts(f"?message_id={message_id}&kind=delivery&limit=1")[0]["attempt"] == 1
    assert attempts("?kind=mo") == []
    bad = api_sim.get("/webhooks?status_code=99")
    assert bad.status == 400 and bad.error["where"] == "query.status_code"


def test_events_answer_at_once_when_entries_exist(api_sim: ApiSim) -> None:
    esme = api_sim.esme()
    message_id = esme.submit_ok(b"x")
    started = time.monotonic()
    reply = api_sim.get("/events?since=0&wait=30")
    assert time.monotonic() - started < 5
    body = reply.json
    kinds = [entry["kind"] for entry in body["entries"]]
    assert kinds[:2] == ["bind", "submit"]
    assert body["next_since"] == body["entries"][-1]["seq"]
    assert body["last_seq"] >= body["next_since"] and body["dropped"] == 0
    submits = api_sim.get("/events?kind=submit").json["entries"]
    assert [e["message_id"] for e in submits] == [message_id]
    both = api_sim.get("/events?kind=submit,bind&limit=1").json
    assert [e["kind"] for e in both["entries"]] == ["bind"]
    assert both["next_since"] == both["entries"][0]["seq"]


def test_events_long_poll_wakes_on_the_next_entry(api_sim: ApiSim) -> None:
    last = api_sim.get("/events").json["last_seq"]
    result: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        result["reply"] = api_sim.get(f"/events?since={last}&kind=mo&wait=20", timeout=30)
        result["took"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive(), "the long-poll returned before anything happened"
    api_sim.esme(kind="receiver")
    time.sleep(0.2)
    assert thread.is_alive(), "a bind must not wake a poll for kind=mo"
    assert api_sim.post("/mo", {"source": "447700900001", "destination": "12345",
                                "text": "hi"}).status == 202
    thread.join(10)
    reply = result["reply"]
    assert reply.status == 200
    assert [e["kind"] for e in reply.json["entries"]] == ["mo"]
    assert 0.4 < result["took"] < 10


def test_events_wait_is_bounded(api_sim: ApiSim) -> None:
    last = api_sim.get("/events").json["last_seq"]
    started = time.monotonic()
    reply = api_sim.get(f"/events?since={last}&wait=0.3")
    took = time.monotonic() - started
    assert reply.status == 200 and reply.json["entries"] == []
    assert reply.json["next_since"] == last
    assert 0.25 < took < 3
    for query, where in (("?wait=61", "query.wait"), ("?wait=-1", "query.wait"),
                         ("?kind=nonsense", "query.kind"), ("?since=-4", "query.since"),
                         ("?limit=5000", "query.limit")):
        bad = api_sim.get("/events" + query)
        assert bad.status == 400, query
        assert bad.error["where"] == where, query


def test_a_pending_long_poll_does_not_hold_up_stop(make_api_sim: Any) -> None:
    api: ApiSim = make_api_sim()
    last = api.get("/events").json["last_seq"]
    result: dict[str, Reply | Exception] = {}

    def poll() -> None:
        try:
            result["reply"] = api.get(f"/events?since={last}&wait=60", timeout=30)
        except Exception as error:  # the server went away: also an answer
            result["reply"] = error

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    api.loop.run(api.sim.stop(0.5), timeout=30)
    assert time.monotonic() - started < 5
    thread.join(10)
    assert not thread.is_alive()


def test_long_polls_waiting_at_once_are_bounded(api_sim: ApiSim) -> None:
    from simulator.control import control_api_of

    assert api_sim.sim.http is not None
    api = control_api_of(api_sim.sim.http.app)
    assert api is not None
    api.max_waiters = 1
    last = api_sim.get("/events").json["last_seq"]
    thread = threading.Thread(target=lambda: api_sim.get(f"/events?since={last}&wait=2"))
    thread.start()
    deadline = time.monotonic() + 5
    while not api_sim.on_loop(lambda: len(api.waiters)) and time.monotonic() < deadline:
        time.sleep(0.01)
    busy = api_sim.get(f"/events?since={last}&wait=1")
    assert busy.status == 503
    assert (busy.error["code"], busy.error["where"]) == ("too_many_waiters", "query.wait")
    assert api_sim.get(f"/events?since={last}").status == 200  # no wait: always answered
    thread.join(10)
