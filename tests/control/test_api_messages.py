"""Messages: list and filters, one message with its timeline, pushing a status now."""

from __future__ import annotations

from typing import Any

import smpplib.gsm  # type: ignore[import-untyped]

from tests.e2e.conftest import receipt_fields, text_of

from .conftest import ApiSim, Receiver

ESM_RECEIPT = 0x04


def _advance(api: ApiSim, seconds: float) -> dict[str, Any]:
    reply = api.post("/clock/advance", {"seconds": seconds})
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json
    return result


def _submit(api: ApiSim, text: str = "hello", **options: Any) -> tuple[Any, str]:
    esme = api.esme()
    message_id = esme.submit_ok(smpplib.gsm.gsm_encode(text), data_coding=0, **options)
    return esme, message_id


def test_list_shows_both_transports_and_filters(api_sim: ApiSim, receiver: Receiver) -> None:
    _, smpp_id = _submit(api_sim, "over smpp", destination="4915112345678")
    http_id = api_sim.infobip_send("41793026727", "over http", receiver.url)
    listed = api_sim.get("/messages")
    assert listed.status == 200
    body = listed.json
    assert (body["count"], body["total"]) == (2, 2)
    by_id = {m["message_id"]: m for m in body["messages"]}
    smpp, http = by_id[smpp_id], by_id[http_id]
    assert (smpp["transport"], smpp["account"], smpp["text"]) == ("smpp", "tester", "over smpp")
    assert (http["transport"], http["provider"], http["text"]) == ("http", "infobip", "over http")
    assert smpp["destination"] == "4915112345678" and http["destination"] == "41793026727"
    assert smpp["final"] is False and smpp["plan"][-1]["stat"] == "DELIVRD"
    assert smpp["body_hex"] == smpplib.gsm.gsm_encode("over smpp").hex()

    def ids(query: str) -> list[str]:
        reply = api_sim.get("/messages" + query)
        assert reply.status == 200, reply.body
        return [m["message_id"] for m in reply.json["messages"]]

    assert ids("?transport=smpp") == [smpp_id]
    assert ids("?transport=http&provider=infobip") == [http_id]
    assert smpp_id in ids("?account=tester")
    assert ids("?account=someone-else") == []
    assert ids("?destination=41793026727") == [http_id]
    assert ids("?final=false") == [smpp_id, http_id]
    assert ids("?final=true") == []
    assert ids("?stat=DELIVRD") == []
    assert ids("?limit=1") == [smpp_id]
    submitted = smpp["submitted_at"]
    assert ids(f"?since={submitted + 1}") == []
    assert ids(f"?since={submitted}") == [smpp_id, http_id]
    _advance(api_sim, 11)
    assert ids("?final=true&stat=DELIVRD") == [smpp_id, http_id]
    limited = api_sim.get("/messages?limit=1").json
    assert (limited["count"], limited["total"]) == (1, 2)


def test_list_refuses_bad_filters(api_sim: ApiSim) -> None:
    for query, where in (("?transport=fax", "query.transport"), ("?limit=0", "query.limit"),
                         ("?limit=1001", "query.limit"), ("?final=maybe", "query.final"),
                         ("?stat=GONE", "query.stat"), ("?colour=red", "query.colour")):
        reply = api_sim.get("/messages" + query)
        assert reply.status == 400, query
        assert reply.error["code"] == "invalid_parameter"
        assert reply.error["where"] == where, query


def test_one_message_with_its_whole_timeline(api_sim: ApiSim) -> None:
    esme, message_id = _submit(api_sim, registered_delivery=1)
    _advance(api_sim, 11)
    esme.receipt_for(message_id, "DELIVRD")
    reply = api_sim.get(f"/messages/{message_id}")
    assert reply.status == 200
    body = reply.json
    assert body["message"]["message_id"] == message_id
    assert body["message"]["stat"] == "DELIVRD" and body["message"]["final"] is True
    assert [h["stat"] for h in body["message"]["history"]] == ["ENROUTE", "DELIVRD"]
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert kinds[:3] == ["submit", "status", "status"]
    assert all(entry["message_id"] == message_id for entry in body["timeline"])
    seqs = [entry["seq"] for entry in body["timeline"]]
    assert seqs == sorted(seqs)
    missing = api_sim.get("/messages/nope")
    assert missing.status == 404
    assert missing.error == {"code": "not_found", "message": "no message 'nope'",
                             "where": "path.message_id", "problems": None}


# -- pushing a status ------------------------------------------------------------------------


def test_push_reaches_a_bound_smpplib_client_as_a_receipt(api_sim: ApiSim) -> None:
    esme, message_id = _submit(api_sim, registered_delivery=1)
    reply = api_sim.post(f"/messages/{message_id}/status", {"status": "EC_ABSENT_SUBSCRIBER"})
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["sink"] == "smpp_receipt" and body["receipt"] is True
    assert body["step"]["catalog_key"] == "EC_ABSENT_SUBSCRIBER"
    assert (body["message"]["stat"], body["message"]["final"]) == ("UNDELIV", True)
    pdu = esme.receipt_for(message_id, "UNDELIV")
    fields = receipt_fields(pdu.short_message)
    assert fields["err"] == "027"
    assert pdu.esm_class == ESM_RECEIPT
    assert text_of(pdu.receipted_message_id) == message_id
    # the planned DELIVRD step is gone: nothing more arrives, the record stays as pushed
    _advance(api_sim, 20)
    marker = esme.submit_ok(b"marker", registered_delivery=1)
    _advance(api_sim, 11)
    esme.receipt_for(marker, "DELIVRD")
    receipts = [p for p in esme.delivered if text_of(p.receipted_message_id) == message_id]
    assert len(receipts) == 1
    assert api_sim.get(f"/messages/{message_id}").json["message"]["stat"] == "UNDELIV"
    again = api_sim.post(f"/messages/{message_id}/status", {"stat": "DELIVRD"})
    assert again.status == 409
    assert again.error["code"] == "final_state"


def test_push_by_name_and_intermediate_keeps_the_timeline(api_sim: ApiSim) -> None:
    esme, message_id = _submit(api_sim, registered_delivery=0x11)
    reply = api_sim.post(f"/messages/{message_id}/status", {"status": "pending_enroute"})
    assert reply.status == 200, reply.body
    assert reply.json["step"]["final"] is False and reply.json["receipt"] is True
    esme.receipt_for(message_id, "ENROUTE")
    _advance(api_sim, 11)
    esme.receipt_for(message_id, "DELIVRD")
    message = api_sim.get(f"/messages/{message_id}").json["message"]
    assert [h["stat"] for h in message["history"]] == ["ENROUTE", "ENROUTE", "DELIVRD"]


def test_push_raw_stat_without_receipt_request(api_sim: ApiSim) -> None:
    _, message_id = _submit(api_sim, registered_delivery=0)
    reply = api_sim.post(f"/messages/{message_id}/status",
                         {"stat": "EXPIRED", "err": "254", "network_error_code": 17})
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["receipt"] is False
    assert body["step"] == {"delay": 0.0, "stat": "EXPIRED", "err": "254", "final": True,
                            "network_error_code": 17, "catalog_key": None, "provider": None}
    assert body["message"]["state"] == 3


def test_push_to_an_http_message_sends_the_webhook(api_sim: ApiSim, receiver: Receiver) -> None:
    message_id = api_sim.infobip_send("41793026727", "hi", receiver.url + "/dlr")
    reply = api_sim.post(f"/messages/{message_id}/status", {"status": 27})  # by code
    assert reply.status == 200, reply.body
    assert (reply.json["sink"], reply.json["receipt"]) == ("webhook", None)
    call = receiver.wait_for(1)[0]
    assert call.path == "/dlr"
    result = call.json["results"][0]
    assert result["messageId"] == message_id
    assert result["error"]["name"] == "EC_ABSENT_SUBSCRIBER"


def test_push_refusals_name_the_field(api_sim: ApiSim) -> None:
    _, message_id = _submit(api_sim)
    path = f"/messages/{message_id}/status"
    cases: list[tuple[Any, str, str]] = [
        ({}, "invalid_body", "body.status"),
        ({"status": "DELIVERED_TO_HANDSET", "stat": "DELIVRD"}, "invalid_body", "body.status"),
        ({"status": "NO_SUCH_THING"}, "unknown_status", "body.status"),
        ({"status": "7"}, "unknown_status", "body.status"),  # a code two entries share
        ({"status": "DELIVERED_TO_HANDSET", "provider": "acme"}, "unknown_provider",
         "body.provider"),
        ({"status": "DELIVERED_TO_HANDSET", "final": True}, "invalid_body", "body.final"),
        ({"stat": "ENROUTE", "final": True}, "invalid_body", "body.final"),
        ({"stat": "UNDELIV", "err": "toolong"}, "invalid_body", "body.err"),
        ({"stat": "SENT"}, "invalid_body", "body.stat"),
        ({"stat": "DELIVRD", "colour": 1}, "invalid_body", "body.colour"),
    ]
    for request, code, where in cases:
        reply = api_sim.post(path, request)
        assert reply.status == 400, request
        assert (reply.error["code"], reply.error["where"]) == (code, where), request
    assert api_sim.get(f"/messages/{message_id}").json["message"]["history"] == []
    missing = api_sim.post("/messages/nope/status", {"stat": "DELIVRD"})
    assert missing.status == 404 and missing.error["where"] == "path.message_id"


def test_push_to_a_message_without_provider_needs_one(make_api_sim: Any) -> None:
    api: ApiSim = make_api_sim(scenario=None)
    _, message_id = _submit(api)
    reply = api.post(f"/messages/{message_id}/status", {"status": "DELIVERED_TO_HANDSET"})
    assert reply.status == 400 and reply.error["where"] == "body.provider"
    named = api.post(f"/messages/{message_id}/status",
                     {"status": "DELIVERED_TO_HANDSET", "provider": "infobip"})
    assert named.status == 200, named.body
    assert named.json["step"]["provider"] == "infobip"


def test_message_views_never_show_a_stored_api_key() -> None:
    from simulator.control.api import _without_credentials

    assert _without_credentials({"api_key": "secret", "client_ref": "x"}) == {"client_ref": "x"}
