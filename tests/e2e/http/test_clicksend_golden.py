"""Golden ClickSend payloads: every body the simulator sends or answers, against files.

tests/golden/providers/clicksend/ holds one file per payload kind: JSON answers and JSON pushes
as `.json`, form-encoded pushes as `.form` (one `key=value` pair per line, encoded as sent).
Volatile values are normalised before comparing: message ids become `<MESSAGE_ID>`, unix times
`<UNIX_TIME>`, and the receiver's and the simulator's base URLs `<RECEIVER>` and `<SIMULATOR>`.
The files were checked by hand against the official SDK's models and providers.md, section 1.
To rewrite them after a deliberate change: DLRSIM_WRITE_GOLDEN=1 (the run then fails on
purpose, so that the new files are reviewed before they count).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import clicksend

from .conftest import Call, HttpSim, Receiver
from .test_clicksend import DELIVERED_TO, UUID_UPPER, api, auth, cs_sim, drain, message, mo

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "providers" / "clicksend"
WRITE = os.environ.get("DLRSIM_WRITE_GOLDEN") == "1"
TIMES = {"date", "timestamp", "timestamp_send"}
IDS = {"message_id", "original_message_id"}


class Golden:
    def __init__(self, replacements: dict[str, str]) -> None:
        self.replacements = replacements
        self.written: list[str] = []

    def normalise(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.normalise(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalise(v) for v in value]
        if key in TIMES and (type(value) is int or (isinstance(value, str) and value.isdigit())):
            return "<UNIX_TIME>"
        if key in IDS and isinstance(value, str) and UUID_UPPER.match(value):
            return "<MESSAGE_ID>"
        if isinstance(value, str):
            for real, placeholder in self.replacements.items():
                value = value.replace(real, placeholder)
        return value

    def check(self, name: str, actual: str) -> None:
        path = GOLDEN / name
        if WRITE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            self.written.append(name)
            return
        assert path.exists(), f"missing golden file {path}"
        assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    def json(self, name: str, value: Any) -> None:
        text = json.dumps(self.normalise(value), indent=2, ensure_ascii=False) + "\n"
        self.check(name + ".json", text)

    def form(self, name: str, call: Call) -> None:
        assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
        raw = call.body.decode("ascii")
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
        assert urllib.parse.urlencode(pairs) == raw, "the body is canonical form encoding"
        lines = [
            urllib.parse.urlencode({key: self.normalise(value, key)}).replace(
                "%3CUNIX_TIME%3E", "<UNIX_TIME>").replace("%3CMESSAGE_ID%3E", "<MESSAGE_ID>")
            for key, value in pairs
        ]  # fmt: skip
        self.check(name + ".form", "\n".join(lines) + "\n")

    def load(self, name: str) -> Any:
        return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def final_push(calls: list[Call]) -> Call:
    """The delivered receipt among the pushes (the other one is the initial Queued)."""
    finals = [c for c in calls if b"Delivered" in c.body and b"Undelivered" not in c.body]
    assert len(finals) == 1
    return finals[0]


def test_every_clicksend_payload_matches_its_golden_file(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim)
    golden = Golden({receiver.url: "<RECEIVER>", sim.url: "<SIMULATOR>"})
    rules = "/v3/automations/sms/receipts"

    # Receipt rule: create (request and answer), list.
    rule_request = golden.load("rule_create_request.json")
    rule_request["action_address"] = rule_request["action_address"].replace(
        "<RECEIVER>", receiver.url
    )
    status, answer = api(sim, "POST", rules, rule_request)
    assert status == 200
    golden.json("rule_create_response", answer)
    golden.json("rule_list_response", api(sim, "GET", rules)[1])

    # Send: the golden request is what the SDK itself would put on the wire.
    send_request = golden.load("send_request.json")
    sdk_request = clicksend.SendSmsRequest.from_dict(send_request)
    assert sdk_request is not None and sdk_request.to_dict() == send_request
    status, answer = api(sim, "POST", "/v3/sms/send", send_request)
    assert status == 200
    golden.json("send_response", answer)
    status, answer = api(
        sim, "POST", "/v3/sms/send",
        {"messages": [message("0412 abc"), {"to": DELIVERED_TO}, message(DELIVERED_TO, " ")]},
    )  # fmt: skip
    assert status == 200 and answer["data"]["queued_count"] == 0
    golden.json("send_response_unqueued_messages", answer)

    # Errors, each in ClickSend's envelope.
    golden.json("error_401_unauthorized", api(sim, "POST", "/v3/sms/send", {}, headers={})[1])
    golden.json("error_400_invalid_json", api(sim, "POST", "/v3/sms/send", raw=b"{")[1])
    oversize = {"messages": [message(DELIVERED_TO, "x" * 1225)]}
    golden.json("error_400_oversize", api(sim, "POST", "/v3/sms/send", oversize)[1])
    golden.json("error_404_not_found", api(sim, "GET", "/v3/sms/receipts/NO-SUCH-ID")[1])

    # The receipt push (form, the default), then the pulled receipts.
    drain(sim)
    assert len(receiver.calls) == 2
    golden.form("receipt_push", final_push(receiver.calls))
    golden.json("receipts_list_response", api(sim, "GET", "/v3/sms/receipts")[1])
    message_id = final_push(receiver.calls).form["message_id"]
    golden.json("receipt_view_response", api(sim, "GET", f"/v3/sms/receipts/{message_id}")[1])

    # The same push as JSON, once the rule asks for it; then the rule goes away.
    status, answer = api(sim, "PUT", f"{rules}/1", {"webhook_type": "json"})
    assert status == 200
    golden.json("rule_update_response", answer)
    receiver.calls.clear()
    api(sim, "POST", "/v3/sms/send", send_request)
    drain(sim)
    golden.json("receipt_push", final_push(receiver.calls).json)
    golden.json("rule_delete_response", api(sim, "DELETE", f"{rules}/1")[1])

    # Inbound pushes, form and JSON.
    receiver.calls.clear()
    mo(sim, receiver.url + "/inbound", DELIVERED_TO, "Yes, thanks")
    golden.form("inbound_push", receiver.wait_for(1)[0])
    mo(sim, receiver.url + "/inbound#json", DELIVERED_TO, "Yes, thanks")
    golden.json("inbound_push", receiver.wait_for(2)[1].json)
    assert api(sim, "GET", rules, headers=auth("nobody", "x"))[1]["data"]["total"] == 0

    assert not golden.written, f"golden files written, review them: {golden.written}"
