"""Harness for the control API tests: a real simulator on 127.0.0.1, called over real HTTP.

The simulator runs on a loop in a background thread (`LoopThread` of the provider HTTP tests);
the test calls the API from its own thread with urllib, so a long-poll on the API never blocks
the loop it waits on. Message timelines run on a `VirtualClock` unless a test asks for a real
one. SMPP clients are the e2e suite's smpplib `Esme`; delivery callbacks go to the e2e HTTP
`Receiver`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from simulator.app import Simulator
from simulator.config import Settings
from simulator.core.clock import VirtualClock
from tests.e2e.conftest import Esme
from tests.e2e.http.conftest import LoopThread, Receiver, loop_thread, receiver

__all__ = ["ApiSim", "Esme", "Receiver", "Reply", "eventually", "loop_thread", "receiver"]

T = TypeVar("T")
INFOBIP_KEY = {"Authorization": "App key-1"}
#: Deterministic: ENROUTE after 0.5 s, delivered after 10 s; state `closed` refuses everything.
SCENARIO = """\
name: api-tests
provider: infobip
states:
  initial: open
  names: [open, closed]
rules:
  - name: closed
    when: {state: closed}
    then: {reject: {smpp: ESME_RSYSERR, http: REJECTED_NETWORK}}
default:
  outcome: DELIVERED_TO_HANDSET
  after: 10s
faults:
  - kind: duplicate_receipt
    name: never
    probability: 0
"""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The error object of the one error body (asserting its shape)."""
        document = self.json
        assert set(document) == {"error"}, document
        error: dict[str, Any] = document["error"]
        assert {"code", "message", "where"} <= set(error), error
        return error


class ApiSim:
    """A running simulator and a blocking client for its control API."""

    def __init__(self, loop: LoopThread, sim: Simulator, clock: VirtualClock | None) -> None:
        self.loop = loop
        self.sim = sim
        self.clock = clock
        assert sim.http_url is not None
        self.url = sim.http_url
        self.token: str | None = None
        self.clients: list[Esme] = []

    def call(self, method: str, path: str, *, json_body: Any = None,
             data: bytes | str | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10.0, api: bool = True) -> Reply:
        url = (self.url + "/api/v1" if api else self.url) + path
        sent = dict(headers or {})
        payload: bytes | None = None
        if json_body is not None:
            payload = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        elif data is not None:
            payload = data.encode() if isinstance(data, str) else data
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        request = urllib.request.Request(url, data=payload, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def get(self, path: str, **options: Any) -> Reply:
        return self.call("GET", path, **options)

    def post(self, path: str, body: Any = None, **options: Any) -> Reply:
        return self.call("POST", path, json_body=body, **options)

    def put(self, path: str, body: Any = None, **options: Any) -> Reply:
        return self.call("PUT", path, json_body=body, **options)

    def delete(self, path: str, **options: Any) -> Reply:
        return self.call("DELETE", path, **options)

    def on_loop(self, fn: Callable[[], T]) -> T:
        return self.loop.call(fn)

    def infobip_send(self, to: str, text: str = "hello", notify_url: str | None = None) -> str:
        """Send one SMS through the Infobip v2 API; returns its message id."""
        message: dict[str, Any] = {"from": "Shop", "destinations": [{"to": to}], "text": text}
        if notify_url is not None:
            message["notifyUrl"] = notify_url
        reply = self.call("POST", "/sms/2/text/advanced", json_body={"messages": [message]},
                          headers=INFOBIP_KEY, api=False)
        assert reply.status == 200, reply.body
        message_id: str = reply.json["messages"][0]["messageId"]
        return message_id

    def esme(self, kind: str = "transceiver", system_id: str = "tester",
             password: str = "secret") -> Esme:
        client = Esme(self.sim.smpp_address, f"{kind}:{system_id}")
        self.clients.append(client)
        assert client.bind(kind, system_id, password) == 0
        return client


def eventually(probe: Callable[[], T], done: Callable[[T], bool], what: str,
               timeout: float = 5.0) -> T:
    """Call `probe` until `done(result)` (bounded): for outcomes journaled after the client
    has already seen the PDU, such as a receipt's deliver_sm_resp."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {result!r}")
        time.sleep(0.02)


@pytest.fixture
def make_api_sim(loop_thread: LoopThread, tmp_path: Path) -> Iterator[Callable[..., ApiSim]]:
    """Factory: make_api_sim(scenario=TEXT | None, virtual=True, **settings)."""
    started: list[ApiSim] = []

    def make(scenario: str | None = SCENARIO, *, virtual: bool = True,
             **settings: Any) -> ApiSim:
        options: dict[str, Any] = {"smpp_port": 0, "http_port": 0, "seed": 3, "quiet": True}
        if scenario is not None:
            path = tmp_path / f"scenario-{len(started)}.yaml"
            path.write_text(scenario, encoding="utf-8")
            options["scenario"] = path
        options.update(settings)
        clock = VirtualClock() if virtual else None
        sim = Simulator(Settings(**options), clock=clock)
        loop_thread.run(sim.start())
        handle = ApiSim(loop_thread, sim, clock)
        started.append(handle)
        return handle

    yield make
    for handle in started:
        for client in handle.clients:
            client.close()
        loop_thread.run(handle.sim.stop(0.5))


@pytest.fixture
def api_sim(make_api_sim: Callable[..., ApiSim]) -> ApiSim:
    return make_api_sim()
