"""The web inbox's server side: the page and its files, the inbox snapshot, and the live SSE feed.

A real simulator runs in the test's loop on 127.0.0.1 (timelines on a virtual clock, so nothing
moves unless a test says so); the page and the API are read with an aiohttp client, and the
event stream is parsed line by line as a browser's EventSource would.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulator.app import Simulator
from simulator.config import Settings
from simulator.control.ui import STATIC, UI_STREAM, JournalStream
from simulator.core.clock import VirtualClock
from simulator.smpp.client import EsmeError, MiniEsme

SCENARIO = """\
name: ui-tests
provider: infobip
rules:
  - name: blocked
    when: {destination: "4915100000000"}
    then: {reject: {smpp: ESME_RINVDSTADR, http: REJECTED_NETWORK}}
default:
  outcome: DELIVERED_TO_HANDSET
  after: 10s
"""
WAIT = 5.0
MakeSim = Callable[..., Awaitable[Simulator]]


@dataclass
class SseEvent:
    event: str
    data: str
    id: str | None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


class SseReader:
    """Reads one text/event-stream response block by block, every read bounded."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = WAIT) -> SseEvent | None:
        """The next event (comments and retry-only blocks skipped), or None at the end."""
        fields: dict[str, str] = {}
        data: list[str] = []
        while True:
            line = await asyncio.wait_for(self.response.content.readline(), timeout)
            if not line:
                return None
            text = line.decode("utf-8").rstrip("\n")
            if not text:
                if data or "event" in fields:
                    return SseEvent(fields.get("event", "message"), "\n".join(data),
                                    fields.get("id"))
                fields = {}
                continue
            if text.startswith(":"):
                continue
            name, _, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                fields[name] = value

    async def entries(self, count: int) -> list[SseEvent]:
        found: list[SseEvent] = []
        while len(found) < count:
            event = await self.next()
            assert event is not None, f"the stream ended after {len(found)} of {count} entries"
            if event.event == "message":
                found.append(event)
        return found


@pytest.fixture
async def make_sim(tmp_path: Path) -> AsyncIterator[MakeSim]:
    started: list[Simulator] = []

    async def make(**options: Any) -> Simulator:
        path = tmp_path / "ui.yaml"
        path.write_text(SCENARIO, encoding="utf-8")
        settings = {"smpp_port": 0, "http_port": 0, "scenario": path, "seed": 1, "quiet": True}
        settings.update(options)
        sim = Simulator(Settings(**settings), clock=VirtualClock())
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.stop(0.5)


@pytest.fixture
async def sim(make_sim: MakeSim) -> Simulator:
    return await make_sim()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


def url(sim: Simulator, path: str) -> str:
    assert sim.http_url is not None
    return sim.http_url + path


def add_entries(sim: Simulator, count: int) -> list[int]:
    """Journal `count` MO entries at once (no await in between); returns their seqs."""
    now = sim.clock.time()
    return [
        sim.journal.append("mo", now, account="tester",
                           data={"source": "4915112345678", "destination": "12345",
                                 "text": f"mo {n}"}).seq
        for n in range(count)
    ]


async def submit(sim: Simulator, destination: str, text: str, source: str = "Shop") -> str:
    host, port = sim.smpp_address
    esme = await MiniEsme.connect(host, port)
    try:
        await esme.bind("tester", "secret")
        return await esme.submit({
            "source_addr": source, "source_addr_ton": 5, "destination_addr": destination,
            "dest_addr_ton": 1, "dest_addr_npi": 1, "data_coding": 0,
            "registered_delivery": 1, "short_message": text.encode(),
        })
    finally:
        await esme.close()


# -- the page and its files ------------------------------------------------------------------


async def test_page_and_static_files_are_served_from_the_package(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    for path, name, kind in [("/", "index.html", "text/html"),
                             ("/ui/", "index.html", "text/html"),
                             ("/ui/app.js", "app.js", "text/javascript"),
                             ("/ui/style.css", "style.css", "text/css")]:
        async with client.get(url(sim, path)) as response:
            assert response.status == 200, path
            assert response.content_type == kind, path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert await response.read() == STATIC.joinpath(name).read_bytes(), path
    async with client.get(url(sim, "/")) as response:
        page = await response.text()
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert '<script type="module" src="/ui/app.js"></script>' in page
    assert '<link rel="stylesheet" href="/ui/style.css">' in page
    for path in ("/ui/missing.js", "/ui/ui.py", "/ui/..%2Fui.py", "/ui/.hidden.css",
                 "/ui/%2E%2E%2Fapi.py"):
        async with client.get(url(sim, path)) as response:
            assert response.status == 404, path


def test_the_page_needs_nothing_from_elsewhere() -> None:
    """No CDN, no build step: every reference is to this server, every script a module."""
    for name in ("index.html", "app.js", "style.css"):
        text = STATIC.joinpath(name).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), name
        assert "innerHTML" not in text and "eval(" not in text, name
    page = STATIC.joinpath("index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == ['<script type="module" src="/ui/app.js">'], scripts
    assert "style=" not in page and "<style" not in page  # the CSP forbids inline styles


async def test_every_api_route_the_page_calls_exists(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    script = STATIC.joinpath("app.js").read_text(encoding="utf-8")
    called = set(re.findall(r"(?:api\([`']|\$\{API\})(/[a-z]+)", script))
    assert called >= {"/inbox", "/messages", "/mo", "/scenario", "/faults", "/stream",
                      "/health"}, called
    async with client.get(url(sim, "/api/v1/openapi.json")) as response:
        paths = (await response.json())["paths"]
    for path in called:
        assert any(p == f"/api/v1{path}" or p.startswith(f"/api/v1{path}/") for p in paths), path
    stream = paths["/api/v1/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert {p["name"] for p in stream["parameters"]} == {"since", "kind"}
    assert "InboxPage" in json.dumps(paths["/api/v1/inbox"]["get"]["responses"]["200"])


# -- the inbox snapshot -----------------------------------------------------------------------


async def test_inbox_lists_newest_first_with_filters_search_and_refusals(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    first = await submit(sim, "4915111111111", "first order")
    second = await submit(sim, "4915122222222", "Your code is 4711", source="Bank")
    with pytest.raises(EsmeError, match="ESME_RINVDSTADR"):
        await submit(sim, "4915100000000", "never")

    async def inbox(query: str = "") -> dict[str, Any]:
        async with client.get(url(sim, f"/api/v1/inbox{query}")) as response:
            assert response.status == 200, await response.text()
            page: dict[str, Any] = await response.json()
            return page

    page = await inbox()
    assert [m["message_id"] for m in page["messages"]] == [second, first]
    assert page["count"] == page["total"] == 2
    assert page["last_seq"] == sim.journal.last_seq
    [refused] = page["refused"]
    assert refused["destination"] == "4915100000000" and refused["status"] == 0x0B
    assert refused["rule"] == "blocked" and refused["transport"] == "smpp"
    assert [m["message_id"] for m in (await inbox("?q=CODE"))["messages"]] == [second]
    assert [m["message_id"] for m in (await inbox("?q=bank"))["messages"]] == [second]
    assert [m["message_id"] for m in (await inbox(f"?q={first[-6:]}"))["messages"]] == [first]
    searched = await inbox("?q=4915100")
    assert searched["messages"] == [] and len(searched["refused"]) == 1
    assert (await inbox("?transport=http"))["messages"] == []
    assert (await inbox("?stat=DELIVRD"))["total"] == 0
    refusals_only = await inbox("?stat=refused")
    assert refusals_only["messages"] == [] and len(refusals_only["refused"]) == 1
    assert len((await inbox("?account=tester&limit=1"))["messages"]) == 1
    assert (await inbox("?account=tester&limit=1"))["total"] == 2
    sim.clock.advance(11)  # type: ignore[attr-defined]
    delivered = await inbox("?stat=DELIVRD")
    assert {m["message_id"] for m in delivered["messages"]} == {first, second}
    async with client.get(url(sim, "/api/v1/inbox?stat=LOST&limit=0")) as response:
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["code"] == "invalid_parameter" and error["where"].startswith("query.")


# -- the live feed ---------------------------------------------------------------------------


async def test_stream_pushes_new_entries_live_with_their_seq_as_id(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    before = sim.journal.last_seq
    async with client.get(url(sim, "/api/v1/stream")) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        assert response.headers["Cache-Control"].startswith("no-cache")
        events = SseReader(response)
        hello = await events.next()
        assert hello is not None and hello.event == "hello"
        assert hello.id == str(before) and hello.json["last_seq"] == before
        message_id = await submit(sim, "4915133333333", "live one")
        seen: list[SseEvent] = []
        while not any(e.json["kind"] == "submit" for e in seen):
            seen.extend(await events.entries(1))
        assert [int(e.id or 0) for e in seen] == list(range(before + 1, before + 1 + len(seen)))
        assert all(e.json["seq"] == int(e.id or 0) for e in seen)
        submitted = seen[-1].json
        assert submitted["message_id"] == message_id and submitted["account"] == "tester"
        assert submitted["data"]["text"] == "live one"
        assert seen[0].json["kind"] == "bind"
        sim.clock.advance(11)  # type: ignore[attr-defined]
        later = [e.json for e in await events.entries(3)]
        assert later[0]["kind"] == "unbind"  # the client above closed its session
        assert [(e["kind"], e["message_id"], e["data"]["stat"]) for e in later[1:]] == [
            ("status", message_id, "ENROUTE"), ("status", message_id, "DELIVRD")]


async def test_a_reconnecting_client_resumes_after_its_last_event_id(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    seqs = add_entries(sim, 5)
    resume = seqs[1]
    headers = {"Last-Event-ID": str(resume)}
    # The header wins over ?since= (a browser keeps the URL it first opened).
    async with client.get(url(sim, "/api/v1/stream?since=0"), headers=headers) as response:
        events = SseReader(response)
        hello = await events.next()
        assert hello is not None and hello.event == "hello" and hello.id == str(resume)
        backlog = await events.entries(3)
        assert [int(e.id or 0) for e in backlog] == seqs[2:]
        [later] = add_entries(sim, 1)
        [live] = await events.entries(1)
        assert int(live.id or 0) == later
    async with client.get(url(sim, f"/api/v1/stream?since={seqs[3]}")) as response:
        events = SseReader(response)
        assert (await events.next()) is not None
        assert [int(e.id or 0) for e in await events.entries(2)] == [seqs[4], later]


async def test_stream_kind_filter_and_bad_parameters(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    add_entries(sim, 2)
    await submit(sim, "4915144444444", "filtered")
    async with client.get(url(sim, "/api/v1/stream?since=0&kind=submit")) as response:
        [only] = await SseReader(response).entries(1)
        assert only.json["kind"] == "submit"
    for query, headers, where in [("?kind=submit,nonsense", {}, "query.kind"),
                                  ("", {"Last-Event-ID": "abc"}, "header.Last-Event-ID"),
                                  ("?since=-1", {}, "query.since")]:
        async with client.get(url(sim, "/api/v1/stream" + query), headers=headers) as response:
            assert response.status == 400, query
            error = (await response.json())["error"]
            assert error["where"] == where and error["code"] == "invalid_parameter"


async def test_a_slow_client_is_dropped_cleanly_and_catches_up(
    sim: Simulator, client: aiohttp.ClientSession
) -> None:
    assert sim.http is not None
    stream: JournalStream = sim.http.app[UI_STREAM]
    stream.queue_size = 3
    async with client.get(url(sim, "/api/v1/stream")) as response:
        events = SseReader(response)
        assert (await events.next()) is not None
        seqs = add_entries(sim, 10)  # all in one loop turn: far more than the queue holds
        got = await events.entries(3)
        assert [int(e.id or 0) for e in got] == seqs[:3]
        dropped = await events.next()
        assert dropped is not None and dropped.event == "dropped"
        assert dropped.json["last_sent"] == seqs[2]
        assert await events.next() is None  # the server ended the stream
    assert stream.dropped_clients == 1
    assert not stream.clients
    assert sim.journal.last_seq == seqs[-1]  # the journal lost nothing
    stream.queue_size = 1000
    headers = {"Last-Event-ID": got[-1].id or ""}
    async with client.get(url(sim, "/api/v1/stream"), headers=headers) as response:
        events = SseReader(response)
        assert (await events.next()) is not None
        assert [int(e.id or 0) for e in await events.entries(7)] == seqs[3:]


async def test_lost_history_is_announced_as_a_gap(
    make_sim: MakeSim, client: aiohttp.ClientSession
) -> None:
    sim = await make_sim(journal_size=5)
    seqs = add_entries(sim, 20)
    async with client.get(url(sim, "/api/v1/stream"), headers={"Last-Event-ID": "3"}) as r:
        events = SseReader(r)
        assert (hello := await events.next()) is not None and hello.event == "hello"
        gap = await events.next()
        assert gap is not None and gap.event == "gap"
        assert gap.json == {"since": 3, "resumed_after": 3, "reason": "evicted"}
        assert [int(e.id or 0) for e in await events.entries(5)] == seqs[-5:]
    # A seq this journal never issued (the simulator restarted): everything it has, from 0.
    async with client.get(url(sim, "/api/v1/stream"), headers={"Last-Event-ID": "999"}) as r:
        events = SseReader(r)
        hello = await events.next()
        assert hello is not None and hello.id == "0"
        gap = await events.next()
        assert gap is not None and gap.json["reason"] == "restarted"
        assert [int(e.id or 0) for e in await events.entries(5)] == seqs[-5:]


async def test_stopping_the_simulator_ends_open_streams_at_once(
    make_sim: MakeSim, client: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    async with client.get(url(sim, "/api/v1/stream")) as response:
        events = SseReader(response)
        assert (await events.next()) is not None
        await asyncio.wait_for(sim.stop(0.5), 3.0)
        assert await events.next(timeout=3.0) is None


async def test_stream_obeys_the_api_token(
    make_sim: MakeSim, client: aiohttp.ClientSession
) -> None:
    sim = await make_sim(api_token="s3cret")
    async with client.get(url(sim, "/api/v1/stream")) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"
    async with client.get(url(sim, "/")) as response:
        assert response.status == 200  # the page itself holds no data; it asks for the token
    headers = {"Authorization": "Bearer s3cret"}
    async with client.get(url(sim, "/api/v1/stream"), headers=headers) as response:
        assert response.status == 200
        hello = await SseReader(response).next()
        assert hello is not None and hello.event == "hello"
