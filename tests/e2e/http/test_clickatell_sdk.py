"""The official `clickatell-platform` SDK (PyPI) against the simulator's platform route.

The SDK builds its URL as `"https://" + endpoint + "/messages"` and sends with httplib2, so
it is pointed at an HTTPS listener with a throwaway certificate (made with `openssl`, with
127.0.0.1 in subjectAltName) that httplib2 is told to trust: verification stays on. The SDK
parses every answer with `body["messages"]` and `body["error"]`, so error answers must carry
both keys too. It has no callback models (its `controller.py` only prints what it gets), so
the callbacks are checked against the field list in the SDK's README.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httplib2  # type: ignore[import-untyped]
import pytest
from clickatell.rest import Rest  # type: ignore[import-untyped]

from simulator.catalog.registry import load_registry
from simulator.core.accounts import Account
from simulator.engine.numbers import OutcomeNumbers

from .conftest import HttpSim, Receiver

#: Status callback fields the SDK's README says its callback server receives.
SDK_CALLBACK_FIELDS = {
    "integrationName", "messageId", "requestId", "clientMessageId", "to", "from", "statusCode",
    "status", "statusDescription", "timestamp",
}
_registry = load_registry()
NUMBERS = {
    n.entry.key: n.number
    for n in OutcomeNumbers(_registry).numbers(_registry.get("clickatell"))
}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed, so no test certificate can be made")
    directory = tmp_path_factory.mktemp("clickatell-tls")
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", "key.pem", "-out", "cert.pem"],
        cwd=directory, capture_output=True, text=True, timeout=30, check=False,
    )
    assert made.returncode == 0, f"openssl could not make a test certificate:\n{made.stderr}"
    return directory / "cert.pem", directory / "key.pem"


@pytest.fixture
def https_sim(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver, certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[HttpSim, str]:
    cert, key = certificate
    monkeypatch.setattr(httplib2, "CA_CERTS", str(cert))  # trust exactly the test certificate
    sim = make_http_sim(
        "default.yaml", https_port=0, tls_cert=cert, tls_key=key,
        callback_urls={"clickatell": receiver.url + "/clickatell"},
        accounts=[Account(system_id="shop", api_key="sdk-key", provider="clickatell")],
    )
    listener = next(item for item in sim.sim.listeners if item.name == "https")
    return sim, f"{listener.host}:{listener.port}"


def client(endpoint: str, key: str) -> Any:
    sdk = Rest(key)
    sdk.endpoint = endpoint  # the SDK's class attribute names platform.clickatell.com
    return sdk


def test_sdk_sends_and_parses_the_answer(https_sim: tuple[HttpSim, str],
                                         receiver: Receiver) -> None:
    sim, endpoint = https_sim
    numbers = [NUMBERS["DEVICE_ACK"], NUMBERS["DELIVERY_FAILURE"]]
    response = client(endpoint, "sdk-key").sendMessage(
        numbers, "Hello from the SDK", {"clientMessageId": "sdk-1", "from": "27820000000"}
    )
    assert response["status"] == "202" and response["error"] is None
    assert [m["to"] for m in response["messages"]] == numbers
    assert all(m["accepted"] is True and m["error"] is None for m in response["messages"])
    ids = [m["apiMessageId"] for m in response["messages"]]
    assert sim.stored() == 2

    sim.run_until_idle()
    calls = receiver.wait_for(4)  # QUEUED, then the final status, for each message
    seen: dict[str, list[str]] = {}
    for body in sorted((call.json for call in calls), key=lambda b: b["timestamp"]):
        assert set(body) >= SDK_CALLBACK_FIELDS
        assert body["clientMessageId"] == "sdk-1" and body["from"] == "27820000000"
        assert body["apiKey"] == "sdk-key" and body["integrationName"] == "shop"
        seen.setdefault(body["messageId"], []).append(body["status"])
    assert [seen[i] for i in ids] == [["QUEUED", "DEVICE_ACK"], ["QUEUED", "DELIVERY_FAILURE"]]


def test_sdk_survives_error_answers(https_sim: tuple[HttpSim, str]) -> None:
    sim, endpoint = https_sim
    wrong = client(endpoint, "not-the-key").sendMessage(["27820000001"], "x")
    assert wrong["status"] == "401" and wrong["messages"] == []
    assert wrong["error"] == {"code": 1, "description": "Invalid or missing integration API Key"}

    mixed = client(endpoint, "sdk-key").sendMessage(["27820000001", "27abc"], "x")
    assert mixed["status"] == "207" and mixed["error"] is None
    refused = mixed["messages"][1]
    assert refused["accepted"] is False and refused["error"]["code"] == 23

    too_long = client(endpoint, "sdk-key").sendMessage(["27820000001"], "a" * 6000)
    assert too_long["status"] == "400"
    assert too_long["messages"][0]["error"]["code"] == 24
    assert sim.stored() == 1
