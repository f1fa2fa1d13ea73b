"""The MQTT bus: every journal entry out as JSON, commands in, replies back.

Strategy: the journal subscriber only appends the entry to a bounded deque (the hot path
stays an append); one publisher task drains the deque in order with QoS 1, a window of
publishes in flight, and removes entries only once the broker has acknowledged them. When the
broker goes away the deque keeps filling (beyond `buffer_size` the oldest entries go, counted
in `dropped` and logged), and the connection loop retries with exponential backoff; on
reconnect the deque is flushed in order from the first unacknowledged entry. Delivery is at
least once: an entry in flight when the connection broke may arrive twice (its `seq` tells).

Topics (`<prefix>` is `dlrsim/<instance>`):
- `<prefix>/events/<kind>`: submit, status, receipt, webhook, mo, session (bind and unbind),
  fault, scenario; the payload is the journal entry (`seq`, `time`, `kind`, `account`,
  `provider`, `message_id`, `data`).
- `<prefix>/commands/<name>`: JSON requests; the answer goes to the MQTT v5 response topic
  (correlation data echoed) or to the payload's `reply_to` (its `correlation_id` echoed).
- `<prefix>/presence`: retained `{"online": true|false}`, with a will for crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from simulator.mqtt.protocol import Handler, dispatch
from simulator.store.journal import Journal, JournalEntry

log = logging.getLogger("dlrsim.mqtt")

#: Journal kinds published under another topic name.
TOPIC_KINDS = {"bind": "session", "unbind": "session"}


def event_topic(prefix: str, kind: str) -> str:
    return f"{prefix}/events/{TOPIC_KINDS.get(kind, kind)}"


def encode_entry(entry: JournalEntry) -> bytes:
    """The JSON payload of one event (values JSON cannot hold are shown as text)."""
    return json.dumps(entry.as_dict(), default=str, separators=(",", ":")).encode("utf-8")


class MqttBus:
    def __init__(
        self,
        journal: Journal,
        host: str,
        port: int = 1883,
        *,
        instance: str = "local",
        username: str | None = None,
        password: str | None = None,
        commands: Mapping[str, Handler] | None = None,
        buffer_size: int = 10_000,
        window: int = 32,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        keepalive: int = 30,
    ) -> None:
        if buffer_size < 1 or window < 1:
            raise ValueError("buffer_size and window must be at least 1")
        self.journal = journal
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.instance = instance
        self.prefix = f"dlrsim/{instance}"
        self.commands: dict[str, Handler] = dict(commands or {})
        self.buffer_size = buffer_size
        self.window = window
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.keepalive = keepalive
        # Counters (read by the metrics page).
        self.published = 0
        self.dropped = 0
        self.reconnects = 0
        self.commands_handled = 0
        self._buffer: deque[JournalEntry] = deque()
        self._inflight: deque[tuple[JournalEntry, asyncio.Future[None]]] = deque()
        self._topics: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._up = asyncio.Event()
        self._tried = asyncio.Event()  # the first connection attempt has ended, either way
        self._dropped_logged = 0  # `dropped` as of the last log line about drops
        self._ever_connected = False
        self._down_logged = False
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.identifier = f"dlrsim-{instance}-{os.getpid()}-{id(self) & 0xFFFFFF:06x}"

    # -- what the metrics page reads ---------------------------------------------------------
    @property
    def buffered(self) -> int:
        """Events not yet acknowledged by the broker (waiting or on the wire)."""
        return len(self._buffer) + len(self._inflight)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    @property
    def address(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self, *, since: int | None = None, wait: float = 2.0) -> bool:
        """Subscribe to the journal and connect in the background; True once connected.

        Entries already journaled after seq `since` go out first (what happened while the
        simulator was starting). An unreachable broker does not stop the simulator: events
        wait in the buffer.
        """
        if since is not None:
            for entry in self.journal.find(since=since):
                self._on_entry(entry)
        self._unsubscribe = self.journal.subscribe(self._on_entry)
        self._task = asyncio.create_task(self._run(), name=f"mqtt-bus-{self.instance}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tried.wait(), wait)
        up = self.connected
        if not up:
            log.warning(
                "mqtt: broker %s not reachable yet; up to %d events are buffered until it is",
                self.address,
                self.buffer_size,
            )
        return up

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self._up.is_set()

    async def stop(self, flush_timeout: float = 2.0) -> None:
        """Publish what is buffered (for up to `flush_timeout` s), go offline, disconnect."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), flush_timeout if self.connected else 0)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
        if self.buffered:
            log.warning("mqtt: stopped with %d events not published", self.buffered)

    # -- events out ------------------------------------------------------------------------------
    def _on_entry(self, entry: JournalEntry) -> None:
        buffer = self._buffer
        if len(buffer) + len(self._inflight) >= self.buffer_size:
            self.dropped += 1
            if self.dropped == self._dropped_logged + 1:  # the first drop of this episode
                log.warning(
                    "mqtt: event buffer full (%d); dropping the oldest events until the "
                    "broker takes them (%d dropped so far)",
                    self.buffer_size,
                    self.dropped,
                )
            if not buffer:  # everything kept is already on the wire: this one goes
                return
            buffer.popleft()
        buffer.append(entry)
        if not self._wake.is_set():
            self._wake.set()

    def _topic(self, kind: str) -> str:
        topic = self._topics.get(kind)
        if topic is None:
            topic = self._topics[kind] = event_topic(self.prefix, kind)
        return topic

    async def _pump(self, client: aiomqtt.Client) -> None:
        """Publish the buffer in order, up to `window` unacknowledged; returns only when
        stopping with nothing left. Entries leave only once acknowledged: on a broken
        connection the unacknowledged ones go back to the front of the buffer, in order."""
        buffer, inflight = self._buffer, self._inflight
        try:
            while True:
                while buffer and len(inflight) < self.window:
                    entry = buffer.popleft()
                    publish = client.publish(self._topic(entry.kind), encode_entry(entry), qos=1)
                    inflight.append((entry, asyncio.ensure_future(publish)))
                if not inflight:
                    self._log_drops()
                    if self._stop.is_set():
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                head = inflight[0][1]
                if not head.done():
                    waits: set[asyncio.Future[Any]] = {head}
                    if len(inflight) < self.window:  # room to send more: new events wake us
                        self._wake.clear()
                        waits.add(asyncio.ensure_future(self._wake.wait()))
                    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    for waiter in pending - {head}:
                        waiter.cancel()
                while inflight and inflight[0][1].done():
                    inflight[0][1].result()  # a failed publish raises: it stays, to resend
                    inflight.popleft()
                    self.published += 1
        finally:
            for entry, task in reversed(inflight):
                _discard(task)
                buffer.appendleft(entry)
            inflight.clear()

    def _log_drops(self) -> None:
        if self.dropped != self._dropped_logged:
            log.warning(
                "mqtt: buffer drained; %d events were dropped (%d in total)",
                self.dropped - self._dropped_logged,
                self.dropped,
            )
            self._dropped_logged = self.dropped

    # -- the connection loop -------------------------------------------------------------------
    async def _run(self) -> None:
        delay = self.backoff_initial
        while not self._stop.is_set():
            try:
                await self._connect_once()
                delay = self.backoff_initial
            except (aiomqtt.MqttError, OSError) as error:
                self._went_down(error)
            self._tried.set()
            if self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(delay * 2, self.backoff_max)

    def _went_down(self, error: BaseException) -> None:
        self._up.clear()
        if not self._down_logged:
            self._down_logged = True
            verb = "lost" if self._ever_connected else "cannot reach"
            log.warning(
                "mqtt: %s broker %s (%s); retrying with backoff, buffering up to %d events",
                verb,
                self.address,
                error or type(error).__name__,
                self.buffer_size,
            )

    def _client(self) -> aiomqtt.Client:
        offline = json.dumps({"online": False, "instance": self.instance})
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=self.identifier,
            protocol=aiomqtt.ProtocolVersion.V5,
            keepalive=self.keepalive,
            max_inflight_messages=self.window,
            will=aiomqtt.Will(f"{self.prefix}/presence", offline, qos=1, retain=True),
        )

    async def _connect_once(self) -> None:
        client = self._client()
        # aiomqtt warns above this many unacknowledged calls; a full window is expected here.
        client.pending_calls_threshold = self.window + 16
        async with client:
            await client.subscribe(f"{self.prefix}/commands/#", qos=1)
            await self._presence(client, online=True)
            if self._ever_connected:
                self.reconnects += 1
            lost = self.dropped - self._dropped_logged
            (log.warning if lost else log.info)(
                "mqtt: connected to %s as %s; %d buffered events to send%s",
                self.address,
                self.prefix,
                len(self._buffer),
                f", {lost} dropped while it was away ({self.dropped} in total)" if lost else "",
            )
            self._dropped_logged = self.dropped
            self._ever_connected = True
            self._down_logged = False
            self._up.set()
            self._tried.set()
            await self._serve(client)
            await self._presence(client, online=False)
        self._up.clear()

    async def _presence(self, client: aiomqtt.Client, *, online: bool) -> None:
        body = json.dumps({"online": online, "instance": self.instance})
        await client.publish(f"{self.prefix}/presence", body, qos=1, retain=True)

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Publish and listen until stopping (pump done) or the connection fails."""
        pump = asyncio.create_task(self._pump(client))
        listen = asyncio.create_task(self._listen(client))
        try:
            done, _ = await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, listen):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                        await task
        errors = [task.exception() for task in done if not task.cancelled()]
        for error in errors:
            if error is not None:
                raise error  # a broken connection: reconnect

    # -- commands in ---------------------------------------------------------------------------
    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            await self._command(client, message)
        raise aiomqtt.MqttError("the message stream ended")

    async def _command(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        base = f"{self.prefix}/commands/"
        name = str(message.topic.value)[len(base) :]
        properties = message.properties
        response_topic = getattr(properties, "ResponseTopic", None) if properties else None
        correlation = getattr(properties, "CorrelationData", None) if properties else None
        body, reply = await dispatch(self.commands, name, message.payload)
        self.commands_handled += 1
        reply_to = response_topic or body.get("reply_to")
        if not isinstance(reply_to, str) or not reply_to:
            log.debug("mqtt: command %s done without a reply topic: %s", name, reply)
            return
        if reply_to.startswith(base) or "+" in reply_to or "#" in reply_to:
            log.warning("mqtt: not replying to %r (a command topic or a wildcard)", reply_to)
            return
        props = None
        if correlation is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.CorrelationData = correlation
        payload = json.dumps(reply, default=str).encode("utf-8")
        await client.publish(reply_to, payload, qos=1, properties=props)


def _discard(task: asyncio.Future[Any]) -> None:
    """Cancel a pending publish, or mark a failed one's error as seen (asyncio would
    otherwise log "exception was never retrieved" when it is collected)."""
    if task.done():
        if not task.cancelled():
            task.exception()
    else:
        task.cancel()
