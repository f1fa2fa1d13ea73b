"""The web inbox: the page at `/`, its files under `/ui/`, and two API routes it lives on.

Strategy: the page is three static files shipped in the package (`control/static/`), plain ES
modules with no build step. It reads everything through the control API, plus two routes added
here and documented in the OpenAPI document like the rest:

- `GET /api/v1/inbox`: the newest stored messages first (the message list answers oldest first),
  filtered and searched on the server, with refused submissions from the journal and the
  journal's `last_seq`, so the page can start its live feed exactly where its snapshot ends.
- `GET /api/v1/stream`: the journal as Server-Sent Events. Each entry goes out with `id: SEQ`;
  a client that reconnects sends `Last-Event-ID` (or `?since=`) and gets what it missed from
  the journal. Each client has a bounded queue: one that cannot keep up gets a `dropped` event
  and the stream ends, so it reconnects and catches up from the journal instead of holding
  memory; a write stalled past `write_timeout` closes the connection. Evicted or restarted
  history is announced with a `gap` event so the page reloads its snapshot.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, ClassVar, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from simulator.store.journal import KINDS, JournalEntry

from . import actions, add_api_routes
from . import models as m
from .api import answer, entry_view, message_view, query
from .openapi import API_PREFIX, ApiRoute

if TYPE_CHECKING:
    from . import ControlTarget

STATIC = resources.files("simulator.control").joinpath("static")
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
REFUSED = "refused"  # the inbox's state for a submission refused with an error status


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StreamQuery(_Strict):
    since: int | None = Field(
        default=None,
        ge=0,
        description="start after this seq (a Last-Event-ID header wins); default: from now",
    )
    kind: str | None = Field(default=None, description="comma-separated journal kinds")


class InboxQuery(_Strict):
    transport: Literal["smpp", "http"] | None = None
    account: str | None = None
    provider: str | None = None
    stat: m.SmppStat | Literal["refused"] | None = Field(
        default=None, description="current receipt stat, or refused (submissions turned away)"
    )
    q: str | None = Field(
        default=None,
        max_length=200,
        description="case-insensitive search in id, sender, destination and text",
    )
    limit: int = Field(default=200, ge=1, le=m.MAX_LIMIT, description="at most this many")


class RefusedView(_Strict):
    seq: int
    time: float = Field(description="simulated epoch seconds")
    account: str | None
    provider: str | None
    transport: str | None
    source: str | None
    destination: str | None
    text: str | None
    status: int | str | None = Field(description="the refusal status (SMPP command_status)")
    reason: str | None
    rule: str | None

    TEXT: ClassVar[tuple[str, ...]] = ("source", "destination", "text", "reason", "rule")


class InboxPage(_Strict):
    messages: list[m.MessageView] = Field(description="newest first")
    refused: list[RefusedView] = Field(description="refused submissions, newest first")
    count: int
    total: int = Field(description="stored messages matching, before the limit")
    last_seq: int = Field(description="journal seq of this snapshot: stream from here")


# -- static files ------------------------------------------------------------------------------


def static_file(name: str) -> web.Response:
    """One shipped file by its plain name (no paths), or 404."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in _TYPES:
        raise web.HTTPNotFound()
    item = STATIC.joinpath(name)
    if not item.is_file():
        raise web.HTTPNotFound()
    response = web.Response(body=item.read_bytes(), content_type=_TYPES[suffix], charset="utf-8")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if suffix == ".html":
        response.headers["Content-Security-Policy"] = _PAGE_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def page(request: web.Request) -> web.Response:
    return static_file("index.html")


async def asset(request: web.Request) -> web.Response:
    return static_file(request.match_info["name"])


# -- the inbox snapshot -----------------------------------------------------------------------


def _found(needle: str, *values: str | None) -> bool:
    return any(value is not None and needle in value.lower() for value in values)


def refused_view(entry: JournalEntry) -> RefusedView:
    data = entry.data
    text = {key: None if data.get(key) is None else str(data[key]) for key in RefusedView.TEXT}
    return RefusedView(
        seq=entry.seq,
        time=entry.time,
        account=entry.account,
        provider=entry.provider,
        transport=str(data.get("transport") or "smpp"),
        status=data.get("status"),
        **text,
    )


def inbox_page(sim: ControlTarget, q: InboxQuery) -> InboxPage:
    """Newest messages first, then refused submissions, filtered like the page's live rows."""
    needle = (q.q or "").strip().lower()
    found: list[m.MessageView] = []
    total = 0
    for record in reversed(actions.all_messages(sim) if q.stat != REFUSED else []):
        wanted = (q.transport, q.account, q.provider, q.stat)
        got = (record.transport, record.account, record.provider, record.stat)
        if any(w is not None and w != g for w, g in zip(wanted, got, strict=True)):
            continue
        view = None
        if needle and not _found(
            needle, record.message_id, record.source_addr, record.destination_addr
        ):
            view = message_view(record)
            if not _found(needle, view.text):
                continue
        total += 1
        if len(found) < q.limit:
            found.append(view or message_view(record))
    refused: list[RefusedView] = []
    if q.stat in (None, REFUSED):
        entries = sim.journal.find(
            "submit",
            account=q.account,
            provider=q.provider,
            where=lambda e: e.data.get("status") not in (0, None),
        )
        for entry in reversed(entries):
            item = refused_view(entry)
            if q.transport in (None, item.transport) and (
                not needle or _found(needle, item.source, item.destination, item.text)
            ):
                refused.append(item)
            if len(refused) >= q.limit:
                break
    return InboxPage(
        messages=found,
        refused=refused,
        count=len(found),
        total=total,
        last_seq=sim.journal.last_seq,
    )


# -- the live feed ---------------------------------------------------------------------------


def sse(data: str, *, event: str | None = None, event_id: int | None = None) -> str:
    """One Server-Sent Events block (`data` must be one line: compact JSON is)."""
    head = "" if event_id is None else f"id: {event_id}\n"
    if event is not None:
        head += f"event: {event}\n"
    return f"{head}data: {data}\n\n"


def entry_block(entry: JournalEntry) -> str:
    return sse(entry_view(entry).model_dump_json(), event_id=entry.seq)


class _Client:
    """One connected stream: a bounded queue the journal fills and the handler drains."""

    def __init__(self, request: web.Request, limit: int, kinds: set[str] | None) -> None:
        self.request = request
        self.response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache, no-transform",
                "X-Accel-Buffering": "no",
            }
        )
        self.limit = limit
        self.kinds = kinds
        self.pending: deque[JournalEntry] = deque()
        self.wake = asyncio.Event()
        self.overflowed = False
        self.unsubscribe: Callable[[], None] = lambda: None

    def offer(self, entry: JournalEntry) -> None:
        if self.overflowed or (self.kinds is not None and entry.kind not in self.kinds):
            return
        if len(self.pending) >= self.limit:
            # Stop listening: what is queued is contiguous, the rest stays in the journal.
            self.overflowed = True
            self.unsubscribe()
        else:
            self.pending.append(entry)
        self.wake.set()


def _kinds(text: str | None) -> set[str] | None:
    kinds = {part.strip() for part in (text or "").split(",") if part.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise m.bad(
            f"unknown kind {unknown[0]!r}; known: {', '.join(KINDS)}",
            "query.kind",
            "invalid_parameter",
        )
    return kinds or None


class JournalStream:
    """The `GET /api/v1/stream` handler and the clients it serves."""

    def __init__(
        self,
        sim: ControlTarget,
        *,
        queue_size: int = 1000,
        heartbeat: float = 15.0,
        write_timeout: float = 10.0,
        chunk: int = 500,
    ) -> None:
        self.sim = sim
        self.queue_size = queue_size
        self.heartbeat = heartbeat
        self.write_timeout = write_timeout
        self.chunk = chunk
        self.clients: set[_Client] = set()
        self.closing = False
        self.dropped_clients = 0

    async def close(self, _: web.Application | None = None) -> None:
        """Ends every stream (on server shutdown), so stopping never waits on a browser."""
        self.closing = True
        for client in list(self.clients):
            client.wake.set()

    def _start(self, request: web.Request, q: StreamQuery) -> int:
        header = request.headers.get("Last-Event-ID")
        if header is None or not header.strip():
            return self.sim.journal.last_seq if q.since is None else q.since
        value = header.strip()
        if not value.isdigit():
            raise m.bad(
                "Last-Event-ID must be a journal seq (a whole number)",
                "header.Last-Event-ID",
                "invalid_parameter",
            )
        return int(value)

    def _gap(self, since: int) -> tuple[int, str] | None:
        """Where to resume when entries after `since` are gone, and why."""
        journal = self.sim.journal
        if since > journal.last_seq:
            return 0, "restarted"  # a seq this journal never issued: a new process or a reset
        oldest = journal.last_seq - len(journal) + 1
        if since + 1 < oldest:
            return since, "evicted"
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        q = query(request, StreamQuery)
        since, kinds = self._start(request, q), _kinds(q.kind)
        journal = self.sim.journal
        gap = self._gap(since)
        requested = since
        if gap is not None:
            since = gap[0]
        client = _Client(request, self.queue_size, kinds)
        # Subscribe and read the backlog in the same loop turn: no entry can fall in between.
        client.unsubscribe = journal.subscribe(client.offer)
        backlog = journal.find(kinds, since=since)
        self.clients.add(client)
        try:
            await client.response.prepare(request)
            hello = {"since": since, "last_seq": journal.last_seq, "dropped": journal.dropped}
            first = "retry: 2000\n\n" + sse(json.dumps(hello), event="hello", event_id=since)
            if gap is not None:
                info = {"since": requested, "resumed_after": since, "reason": gap[1]}
                first += sse(json.dumps(info), event="gap")
            await self._write(client, first)
            await self._pump(client, backlog)
        except (ConnectionError, TimeoutError):
            pass  # the browser went away, or stalled and was cut off
        finally:
            client.unsubscribe()
            self.clients.discard(client)
        return client.response

    async def _pump(self, client: _Client, backlog: list[JournalEntry]) -> None:
        sent = 0
        for start in range(0, len(backlog), self.chunk):
            part = backlog[start : start + self.chunk]
            await self._write(client, "".join(map(entry_block, part)))
            sent = part[-1].seq
        while not self.closing:
            if not client.pending:
                if client.overflowed:
                    self.dropped_clients += 1
                    note = {"last_sent": sent, "reason": "too slow; reconnect to catch up"}
                    await self._write(client, sse(json.dumps(note), event="dropped"))
                    return
                client.wake.clear()
                try:
                    await asyncio.wait_for(client.wake.wait(), self.heartbeat)
                except TimeoutError:
                    await self._write(client, ": keep-alive\n\n")
                continue
            batch = [entry for entry in client.pending if entry.seq > sent]
            client.pending.clear()
            if batch:
                await self._write(client, "".join(map(entry_block, batch)))
                sent = batch[-1].seq

    async def _write(self, client: _Client, text: str) -> None:
        try:
            await asyncio.wait_for(client.response.write(text.encode()), self.write_timeout)
        except TimeoutError:
            self.dropped_clients += 1
            if client.request.transport is not None:
                client.request.transport.close()
            raise


UI_STREAM = web.AppKey("dlrsim_ui_stream", JournalStream)


def ui_routes(sim: ControlTarget, stream: JournalStream) -> list[ApiRoute]:
    """The two documented API routes the page needs beyond the control API's own."""

    async def inbox(request: web.Request) -> web.Response:
        return answer(inbox_page(sim, query(request, InboxQuery)))

    return [
        ApiRoute(
            "GET",
            f"{API_PREFIX}/inbox",
            inbox,
            "newest messages first, filtered and searched, for the web inbox",
            "messages",
            query=InboxQuery,
            response=InboxPage,
        ),
        ApiRoute(
            "GET",
            f"{API_PREFIX}/stream",
            stream.handle,
            "journal entries live as Server-Sent Events (id: seq; resume with Last-Event-ID)",
            "journal",
            query=StreamQuery,
            content_type="text/event-stream",
        ),
    ]


def register_ui(sim: ControlTarget) -> JournalStream | None:
    """Serve the web inbox at `/` on the simulator's HTTP server (after the control API)."""
    if sim.http is None:
        return None
    app = sim.http.app
    stream = JournalStream(sim)
    app[UI_STREAM] = stream
    app.router.add_get("/", page)
    app.router.add_get("/ui/", page)
    app.router.add_get("/ui/{name}", asset)
    add_api_routes(app, ui_routes(sim, stream))
    app.on_shutdown.append(stream.close)
    return stream
