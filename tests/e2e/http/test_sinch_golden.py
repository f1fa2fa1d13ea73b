"""Golden payloads of the Sinch Brazil/LATAM adapter, one file per payload kind.

Each file under tests/golden/providers/sinch/ holds one request, answer or callback as it went
over the wire (HTTP status or method, content type, JSON body). Volatile values are replaced by
typed placeholders before comparing: UUIDs by "<uuid>", epoch milliseconds by "<epoch-ms:int>",
ISO dates by "<iso-date>", so a golden file still pins every field's JSON type.
`DLRSIM_UPDATE_GOLDEN=1` rewrites the files (then review the diff).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.engine.numbers import OutcomeNumbers
from tests.e2e.http.conftest import HttpSim, Receiver
from tests.e2e.http.test_sinch import (
    CATALOG,
    DELIVERED_NUMBER,
    HEADERS,
    NUMBERS,
    REFUSED_NUMBER,
    REGISTRY,
    drain,
    sinch_sim,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "providers" / "sinch"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UNDELIVERED_NUMBER = next(n.number for n in NUMBERS if n.entry.key == "NOT_DELIVERED")
SUBMIT_REFUSED_NUMBER = next(
    n.number
    for n in OutcomeNumbers(REGISTRY).reject_numbers(CATALOG)
    if n.entry.key == "REJECTED_BY_CARRIER"
)
EPOCH_MS_KEYS = {"sentAt", "sentStatusAt", "deliveredAt", "receivedAt"}


def normalise(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str) and UUID.match(value):
        return "<uuid>"
    if isinstance(value, str) and ISO.match(value):
        return "<iso-date>"
    if key in EPOCH_MS_KEYS and type(value) is int:
        return "<epoch-ms:int>"
    return value


def check_golden(name: str, payload: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(normalise(payload), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("DLRSIM_UPDATE_GOLDEN") == "1":  # regenerate, then review the diff
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path} (DLRSIM_UPDATE_GOLDEN=1 writes it)"
    assert path.read_text(encoding="utf-8") == text, f"{name} differs from its golden file"


def exchange(
    sim: HttpSim,
    method: str,
    path: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One request and its answer, as a golden record."""
    kwargs: dict[str, Any] = {"headers": HEADERS if headers is None else headers}
    if raw is not None:
        kwargs["data"] = raw
    elif body is not None:
        kwargs["json"] = body
    if params is not None:
        kwargs["params"] = params
    status, response_headers, answer = sim.request(method, path, **kwargs)
    return {
        "status": status,
        "content_type": response_headers["Content-Type"],
        "body": json.loads(answer),
    }


def request_record(method: str, path: str, body: Any) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "headers": {"UserName": "<user>", "AuthenticationToken": "<token>"},
        "content_type": "application/json",
        "body": body,
    }


def test_golden_payloads(make_http_sim: Callable[..., HttpSim], receiver: Receiver) -> None:
    sim = sinch_sim(make_http_sim, receiver)
    single = {
        "destination": DELIVERED_NUMBER,
        "messageText": "Pedido 1234 confirmado",
        "correlationId": "order-1234",
        "extraInfo": "loja 7",
    }
    check_golden("send_sms_request", request_record("POST", "/v1/send-sms", single))
    answer = exchange(sim, "POST", "/v1/send-sms", body=single)
    assert answer["status"] == 200
    check_golden("send_sms_response", answer)
    delivered_id = answer["body"][0]["id"]

    bulk = {
        "messages": [
            {"destination": UNDELIVERED_NUMBER, "messageText": "First message"},
            {"destination": REFUSED_NUMBER, "correlationId": "bulk-2"},
        ],
        "defaultValues": {"messageText": "Default message"},
    }
    check_golden("send_bulk_sms_request", request_record("POST", "/v1/send-bulk-sms", bulk))
    answer = exchange(sim, "POST", "/v1/send-bulk-sms", body=bulk)
    assert answer["status"] == 200
    check_golden("send_bulk_sms_response", answer)
    refused_id = answer["body"]["messages"][1]["id"]

    errors: dict[str, dict[str, Any]] = {
        "error_401_unauthorized": exchange(
            sim, "POST", "/v1/send-sms", body=single, headers={"UserName": "tester"}
        ),
        "error_400_invalid_json": exchange(sim, "POST", "/v1/send-sms", raw=b"{oops"),
        "error_400_missing_destination": exchange(
            sim, "POST", "/v1/send-sms", body={"messageText": "hi"}
        ),
        "error_400_missing_text": exchange(
            sim, "POST", "/v1/send-sms", body={"destination": "5511900000000"}
        ),
        "error_400_text_too_long": exchange(
            sim,
            "POST",
            "/v1/send-sms",
            body={"destination": "5511900000000", "messageText": "x" * 1281},
        ),
        "error_400_invalid_destination": exchange(
            sim, "POST", "/v1/send-sms", body={"destination": "abc", "messageText": "hi"}
        ),
        "error_400_refused_by_scenario": exchange(
            sim,
            "POST",
            "/v1/send-sms",
            body={"destination": SUBMIT_REFUSED_NUMBER, "messageText": "refused at submit"},
        ),
    }
    for name, record in errors.items():
        assert record["status"] in (400, 401), name
        check_golden(name, record)

    drain(sim)
    callbacks = [call for call in receiver.calls if call.path == "/sinch/callback"]
    by_kind: dict[str, dict[str, Any]] = {}
    for call in callbacks:
        body = call.json
        if body["id"] == delivered_id:
            kind = "callback_delivery_report" if "deliveredStatus" in body else "callback_sent"
        elif body["id"] == refused_id:
            kind = "callback_sent_refused"
        else:
            continue
        assert kind not in by_kind, kind
        by_kind[kind] = {
            "method": call.method,
            "content_type": call.headers["Content-Type"],
            "body": body,
        }
    assert set(by_kind) == {"callback_sent", "callback_delivery_report", "callback_sent_refused"}
    for name, record in by_kind.items():
        check_golden(name, record)

    search = {"ids": [delivered_id], "correlationIds": ["bulk-2"]}
    check_golden("status_search_request", request_record("POST", "/v1/sms/status/search", search))
    answer = exchange(sim, "POST", "/v1/sms/status/search", body=search)
    assert answer["status"] == 200 and answer["body"]["total"] == 2
    check_golden("status_search_response", answer)
    answer = exchange(sim, "GET", "/v1/sms/status/list")
    assert answer["status"] == 200 and answer["body"]["total"] == 3
    check_golden("status_list_response", answer)

    adapter: Any = sim.sim.providers["sinch"]
    webhooks = sim.sim.webhooks
    assert webhooks is not None

    def inject() -> None:
        webhooks.send(
            adapter.mo_callback(
                url=receiver.url + "/sinch/mo",
                source=DELIVERED_NUMBER,
                destination="28128",
                text="Quero pizza",
                account="tester",
            )
        )

    sim.loop.call(inject)
    mo = next(c for c in receiver.wait_for(len(callbacks) + 1) if c.path == "/sinch/mo")
    check_golden(
        "mo_callback",
        {"method": mo.method, "content_type": mo.headers["Content-Type"], "body": mo.json},
    )
