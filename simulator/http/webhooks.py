"""Provider callbacks (delivery webhooks): sent, retried, journaled, never in the way.

Adapters describe each callback as a `WebhookRequest`; the emitter sends it with aiohttp,
journals every attempt (URL, status code, latency, outcome), and on a connection error, a
timeout or a 5xx schedules the next attempt with the provider's `RetryPolicy` on the
*simulation* clock, so a test on a virtual clock sees the whole retry cycle at once. Sends run
as background tasks with bounded concurrency: a receiver that hangs never slows the send API.

Batching: requests with the same `batch_key` that are ready in the same loop turn go out as one
call, their items merged by the request's `render_batch` (Infobip's `{"results": [...]}`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from simulator.core.clock import Clock
from simulator.core.events import Event, EventBus

log = logging.getLogger("dlrsim.http")

Delays = Callable[[int], float | None]  # attempt number (1 = first retry) -> seconds, or give up


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after attempt n fails; `delays(n)` returns None to give up."""

    name: str
    delays: Delays
    max_attempts: int = 8
    retry_on_4xx: bool = False  # some providers retry any non-2xx answer, not only 5xx

    def next_delay(self, failed_attempts: int) -> float | None:
        if failed_attempts >= self.max_attempts:
            return None
        return self.delays(failed_attempts)


NO_RETRY = RetryPolicy("none", lambda n: None, max_attempts=1)
#: Infobip's documented schedule: 1 min + 1 min x n^2 after the n-th failure.
INFOBIP_RETRY = RetryPolicy("infobip", lambda n: 60.0 + 60.0 * n * n, max_attempts=10)
#: For providers that document none: a plain exponential back-off (made configurable later).
DEFAULT_RETRY = RetryPolicy("default", lambda n: min(3600.0, 30.0 * 2 ** (n - 1)), max_attempts=8)
#: Clickatell documents retrying every answer outside 2xx; its intervals are not published.
CLICKATELL_RETRY = RetryPolicy(
    "clickatell", DEFAULT_RETRY.delays, max_attempts=8, retry_on_4xx=True
)


@dataclass
class WebhookRequest:
    provider: str
    url: str
    method: str = "POST"
    content_type: str | None = "application/json"
    body: Any = None  # JSON-able value (json), dict of str (form), bytes (raw) or None (GET)
    params: dict[str, str] | None = None  # query string (GET callbacks)
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    account: str | None = None
    kind: str = "delivery"  # "delivery", "sent", "mo"
    batch_key: str | None = None
    render_batch: Callable[[list[Any]], Any] | None = None
    policy: RetryPolicy = DEFAULT_RETRY
    attempt: int = 0

    def encoded(self) -> tuple[bytes | None, dict[str, str]]:
        headers = dict(self.headers)
        if self.body is None:
            return None, headers
        if self.content_type:
            headers["Content-Type"] = self.content_type
        if isinstance(self.body, bytes):
            return self.body, headers
        if self.content_type == "application/x-www-form-urlencoded":
            from urllib.parse import urlencode

            return urlencode(self.body).encode(), headers
        return json.dumps(self.body, separators=(",", ":")).encode(), headers


class WebhookEmitter:
    def __init__(
        self,
        clock: Clock,
        events: EventBus,
        *,
        timeout: float = 5.0,
        concurrency: int = 64,
        max_batch: int = 100,
    ) -> None:
        self.clock = clock
        self.events = events
        self.timeout = timeout
        self.max_batch = max_batch
        self._semaphore = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._batches: dict[str, list[WebhookRequest]] = {}
        self._loop = asyncio.get_running_loop()
        self.counters = {"attempts": 0, "delivered": 0, "failed_attempts": 0, "gave_up": 0}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def send(self, request: WebhookRequest) -> None:
        """Queue one callback; returns at once (the send happens in the background)."""
        if request.batch_key is not None and request.render_batch is not None:
            pending = self._batches.get(request.batch_key)
            if pending is None:
                self._batches[request.batch_key] = [request]
                self._loop.call_soon(self._flush_batch, request.batch_key)
            else:
                pending.append(request)
                if len(pending) >= self.max_batch:
                    self._flush_batch(request.batch_key)
            return
        self._spawn(request, [request])

    def _flush_batch(self, key: str) -> None:
        items = self._batches.pop(key, None)
        if not items:
            return
        first = items[0]
        assert first.render_batch is not None
        merged = WebhookRequest(
            provider=first.provider,
            url=first.url,
            method=first.method,
            content_type=first.content_type,
            body=first.render_batch([r.body for r in items]),
            headers=first.headers,
            account=first.account,
            kind=first.kind,
            policy=first.policy,
            message_id=first.message_id if len(items) == 1 else None,
        )
        self._spawn(merged, items)

    def _spawn(self, request: WebhookRequest, members: list[WebhookRequest]) -> None:
        task = self._loop.create_task(self._attempt(request, members))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attempt(self, request: WebhookRequest, members: list[WebhookRequest]) -> None:
        request.attempt += 1
        self.counters["attempts"] += 1
        body, headers = request.encoded()
        started = time.perf_counter()
        status: int | None = None
        error = ""
        async with self._semaphore:
            try:
                session = self._client()
                async with session.request(
                    request.method, request.url, data=body, params=request.params, headers=headers
                ) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        retryable = (
            status is None or status >= 500 or (request.policy.retry_on_4xx and 400 <= status < 500)
        )
        ok = status is not None and 200 <= status < 300
        if ok:
            outcome = "delivered"
            self.counters["delivered"] += 1
        elif not retryable:
            outcome = "refused"  # a 4xx: the receiver will not take it, retrying cannot help
            self.counters["failed_attempts"] += 1
        else:
            self.counters["failed_attempts"] += 1
            delay = request.policy.next_delay(request.attempt)
            if delay is None:
                outcome = "gave_up"
                self.counters["gave_up"] += 1
            else:
                outcome = "retry"
                self.clock.call_later(delay, lambda: self._spawn(request, members))
        self._journal(request, members, status, latency_ms, outcome, error, body)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=0),
            )
        return self._session

    def _journal(
        self,
        request: WebhookRequest,
        members: list[WebhookRequest],
        status: int | None,
        latency_ms: float,
        outcome: str,
        error: str,
        body: bytes | None,
    ) -> None:
        if not self.events.active:
            return
        shown = None if body is None else body[:4096].decode("utf-8", "replace")
        for member in members:
            self.events.publish(
                Event(
                    "webhook",
                    self.clock.time(),
                    member.account,
                    {
                        "message_id": member.message_id,
                        "provider": request.provider,
                        "kind": member.kind,
                        "url": request.url,
                        "method": request.method,
                        "params": request.params,
                        "attempt": request.attempt,
                        "status_code": status,
                        "latency_ms": latency_ms,
                        "outcome": outcome,
                        "error": error or None,
                        "batch_size": len(members),
                        "body": shown,
                        "item": member.body if len(members) > 1 else None,
                    },
                )
            )
