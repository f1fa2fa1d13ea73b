"""Golden Clickatell payloads: every body the adapter sends or answers, over real HTTP.

Each file under tests/golden/providers/clickatell/ holds one payload kind with its HTTP status
(or method) and content type. Ids and timestamps vary per run, so they are replaced by
placeholders, but only when they have the right shape (32 lower-case hex digits, a JSON
integer): a string timestamp or a short id would still differ from the file. The two
`*_request.json` files are what a client sends; the test sends them as they are.
Set DLRSIM_UPDATE_GOLDEN=1 to rewrite the files after a deliberate change, then review the diff.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.catalog.registry import load_registry
from simulator.engine.numbers import OutcomeNumbers

from .conftest import WAIT, Call, HttpSim, Receiver

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "providers" / "clickatell"
UPDATE = os.environ.get("DLRSIM_UPDATE_GOLDEN") == "1"
AUTH = {"Authorization": "golden-key"}
ID_FIELDS = {"apiMessageId", "messageId", "requestId"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
_registry = load_registry()
_catalog = _registry.get("clickatell")
_numbers = OutcomeNumbers(_registry)
TEST_NUMBER = {n.entry.key: n.number for n in _numbers.numbers(_catalog)}
REJECT_NUMBER = {n.entry.key: n.number for n in _numbers.reject_numbers(_catalog)}


def normalise(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if key in ID_FIELDS and isinstance(value, str) and HEX32.match(value):
        return "<hex32>"
    if key == "timestamp" and type(value) is int:
        return "<epoch-ms>"
    return value


def check(name: str, payload: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    payload = normalise(payload)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(path.read_text("utf-8"))
    assert payload == expected, f"{name}: differs from {path}"


def answer(sim: HttpSim, name: str, method: str, path: str, **kwargs: Any) -> Any:
    status, headers, raw = sim.request(method, path, **kwargs)
    body = json.loads(raw)
    check(name, {"http_status": status, "content_type": headers["Content-Type"], "body": body})
    return body


def wait_for_call(receiver: Receiver, wanted: Callable[[Call], bool]) -> Call:
    """The first received call that matches, waiting (bounded) for it to arrive."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with receiver.lock:
            found = [call for call in receiver.calls if wanted(call)]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no matching callback among {len(receiver.calls)} received")


def request_body(name: str) -> Any:
    return json.loads((GOLDEN / f"{name}.json").read_text("utf-8"))


@pytest.fixture
def sim(make_http_sim: Callable[..., HttpSim], receiver: Receiver) -> HttpSim:
    return make_http_sim("default.yaml", callback_urls={"clickatell": receiver.url + "/status"})


def test_golden_payloads(sim: HttpSim, receiver: Receiver) -> None:
    """One simulator for all of them: starting one costs more than the requests."""
    one_api_payloads(sim, receiver)
    platform_payloads(sim)
    mo_payload(sim, receiver)


def one_api_payloads(sim: HttpSim, receiver: Receiver) -> None:
    request = request_body("send_request")
    assert [m["to"] for m in request["messages"]] == [TEST_NUMBER["DEVICE_ACK"]]
    sent = answer(sim, "send_response_202", "POST", "/v1/message", json=request, headers=AUTH)
    message_id = sent["messages"][0]["apiMessageId"]

    answer(sim, "send_response_207", "POST", "/v1/message", headers=AUTH, json={"messages": [
        {"channel": "sms", "to": "27820000001", "content": "taken"},
        {"channel": "sms", "to": "27999abcde", "content": "bad number"},
        {"channel": "sms", "to": REJECT_NUMBER["VOLUME_LIMIT"], "content": "over the cap"},
        {"channel": "sms", "to": REJECT_NUMBER["ENCRYPTION_ACCESS_DENIED"], "content": "x"},
    ]})
    answer(sim, "send_response_400", "POST", "/v1/message", headers=AUTH, json={"messages": [
        {"channel": "sms", "content": "no destination"},
        {"channel": "sms", "to": "0821234567", "content": "national format"},
        {"channel": "sms", "to": "27820000001", "content": "a" * 5356},
        {"channel": "whatsapp", "to": "27820000001", "content": "other channel"},
        {"channel": "sms", "to": "27820000001"},
    ]})
    answer(sim, "error_401", "POST", "/v1/message", json=request)
    answer(sim, "error_400_malformed", "POST", "/v1/message", data=b"{", headers=AUTH)
    answer(sim, "error_400_no_messages", "POST", "/v1/message", json={"messages": []},
           headers=AUTH)
    answer(sim, "error_400_too_many", "POST", "/v1/message", headers=AUTH,
           json={"messages": request["messages"] * 101})
    answer(sim, "error_402_balance", "POST", "/v1/message", headers=AUTH, json={"messages": [
        {"channel": "sms", "to": REJECT_NUMBER["INSUFFICIENT_ACCOUNT_BALANCE"], "content": "x"},
    ]})

    sim.run_until_idle()
    status = answer(sim, "status_response", "GET", f"/v1/message/{message_id}", headers=AUTH)
    assert status["sms"]["status"] == "DEVICE_ACK"
    answer(sim, "error_401_status", "GET", f"/v1/message/{message_id}")

    final = wait_for_call(receiver, lambda c: c.path == "/status"
                          and c.json["messageId"] == message_id
                          and c.json["status"] == "DEVICE_ACK")
    check("status_callback", {"method": final.method,
                              "content_type": final.headers["Content-Type"],
                              "body": final.json})


def platform_payloads(sim: HttpSim) -> None:
    request = request_body("platform_request")
    answer(sim, "platform_response_202", "POST", "/messages", json=request, headers=AUTH)
    answer(sim, "platform_response_207", "POST", "/messages", headers=AUTH,
           json={"to": ["27820000001", "27abc"], "content": "one good, one bad"})
    answer(sim, "platform_error_401", "POST", "/messages", json=request)
    answer(sim, "platform_error_400_malformed", "POST", "/messages", data=b"[",
           headers=AUTH)


def mo_payload(sim: HttpSim, receiver: Receiver) -> None:
    adapter: Any = sim.sim.providers["clickatell"]
    webhooks = sim.sim.webhooks
    assert webhooks is not None
    request = adapter.mo_callback(url=receiver.url + "/mo", source="27820000001",
                                  destination="27999000002", text="Yes please",
                                  account="golden")
    sim.loop.call(lambda: webhooks.send(request))
    call = wait_for_call(receiver, lambda c: c.path == "/mo")
    check("mo_callback", {"method": call.method, "content_type": call.headers["Content-Type"],
                          "body": call.json})
