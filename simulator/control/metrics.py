"""Prometheus metrics at `GET /metrics`, counted from the simulator's event bus.

Strategy: one `Metrics` object per simulator subscribes to the `EventBus` (so it counts even
with the journal turned off) and turns each event into a few dictionary increments; the text
exposition format (version 0.0.4) is rendered only when scraped. We write the format ourselves
instead of using `prometheus-client`: the families are few and fixed, the format is small, a
per-instance registry comes for free (the client's default registry is process-global, which
two simulators in one test process would share), and the hot path stays a dict update with no
locks. Label sets are capped per family so that free-form values (any `system_id` under
`accept_any`) cannot grow the output without bound; overflow lands in one `_other` series.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from aiohttp import web

from simulator.core.events import Event
from simulator.smpp.codec.constants import status_name

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_SERIES = 1000  # per family; later label sets fold into one "_other" series
MAX_PENDING = 200_000  # accepted messages waiting for a final state (submit-to-final timing)
OTHER = "_other"

#: Webhook attempts: real seconds from request to response (or error).
WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Submit to final state, in simulated seconds: sub-second stubs up to the 48 h validity.
FINAL_BUCKETS = (
    0.1,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    14400.0,
    86400.0,
    172800.0,
)


class MqttStats(Protocol):
    """What the MQTT bus exposes for scraping (kept structural: control never imports mqtt)."""

    published: int
    dropped: int
    reconnects: int

    @property
    def buffered(self) -> int: ...

    @property
    def connected(self) -> bool: ...


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    value = float(value)
    if value == math.inf:
        return "+Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    parts = [
        f'{name}="{_escape_label(str(value))}"' for name, value in zip(names, values, strict=True)
    ]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Family:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = labels

    def header(self) -> list[str]:
        escaped = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return [f"# HELP {self.name} {escaped}", f"# TYPE {self.name} {self.kind}"]

    def _key(self, store: dict[tuple[str, ...], Any], values: tuple[str, ...]) -> tuple[str, ...]:
        if values in store or len(store) < MAX_SERIES:
            return values
        return (OTHER,) * len(values)


class Counter(_Family):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, *values: str, amount: float = 1.0) -> None:
        store = self.values
        current = store.get(values)
        if current is None:  # a new label set: within the cap, or folded into "_other"
            values = self._key(store, values)
            current = store.get(values, 0.0)
        store[values] = current + amount

    def get(self, *values: str) -> float:
        return self.values.get(values, 0.0)

    def lines(self) -> list[str]:
        out = self.header()
        for values, value in sorted(self.values.items()):
            out.append(f"{self.name}{_labels(self.label_names, values)} {_number(value)}")
        return out


class Gauge(Counter):
    kind = "gauge"

    def set(self, *values: str, value: float) -> None:
        self.values[self._key(self.values, values)] = value


class Histogram(_Family):
    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, buckets: Iterable[float], labels: tuple[str, ...] = ()
    ) -> None:
        super().__init__(name, help_text, labels)
        self.bounds = tuple(sorted(buckets))
        # Per label set: [count per bucket (not cumulative)..., +Inf count] and the sum.
        self.counts: dict[tuple[str, ...], list[int]] = {}
        self.sums: dict[tuple[str, ...], float] = {}

    def observe(self, value: float, *values: str) -> None:
        key = self._key(self.counts, values)
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = [0] * (len(self.bounds) + 1)
            self.sums[key] = 0.0
        index = len(self.bounds)
        for position, bound in enumerate(self.bounds):
            if value <= bound:
                index = position
                break
        counts[index] += 1
        self.sums[key] += value

    def count(self, *values: str) -> int:
        return sum(self.counts.get(values, ()))

    def lines(self) -> list[str]:
        out = self.header()
        names = self.label_names
        for values, counts in sorted(self.counts.items()):
            running = 0
            for bound, count in zip((*self.bounds, math.inf), counts, strict=True):
                running += count
                le = f'le="{_number(bound)}"'
                out.append(f"{self.name}_bucket{_labels(names, values, le)} {running}")
            label_text = _labels(names, values)
            out.append(f"{self.name}_sum{label_text} {_number(self.sums[values])}")
            out.append(f"{self.name}_count{label_text} {running}")
        return out


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _status_label(status: object) -> str:
    if not isinstance(status, int):
        return "none"
    return "ok" if status == 0 else status_name(status)


def _status_class(code: object) -> str:
    return f"{code // 100}xx" if isinstance(code, int) and 100 <= code <= 599 else "none"


class Metrics:
    """Counters fed by `observe(event)`; `render()` gives the exposition text."""

    def __init__(self) -> None:
        self.mqtt: MqttStats | None = None
        self.binds = Counter(
            "dlrsim_binds_total",
            "SMPP bind attempts by account, bind type and result status",
            ("account", "bind_type", "status"),
        )
        self.bound = Gauge("dlrsim_sessions_bound", "SMPP sessions bound now", ("account",))
        self.submits = Counter(
            "dlrsim_submits_total",
            "Message parts submitted, by verdict, transport and provider",
            ("result", "transport", "provider"),
        )
        self.states = Counter(
            "dlrsim_status_changes_total",
            "Message state changes (planned timeline steps and pushed statuses) by stat",
            ("provider", "stat", "final"),
        )
        self.receipts = Counter(
            "dlrsim_receipts_total",
            "SMPP delivery receipts by stat and what became of the deliver_sm",
            ("stat", "outcome"),
        )
        self.webhooks = Counter(
            "dlrsim_webhook_attempts_total",
            "Provider callback attempts by provider, outcome and HTTP status class",
            ("provider", "outcome", "status_class"),
        )
        self.mo = Counter(
            "dlrsim_mo_messages_total", "Mobile-originated messages injected", ("account",)
        )
        self.mo_deliveries = Counter(
            "dlrsim_mo_deliveries_total", "MO deliver_sm parts by delivery outcome", ("outcome",)
        )
        self.faults = Counter(
            "dlrsim_faults_applied_total", "Scenario faults that acted", ("fault",)
        )
        self.scenarios = Counter(
            "dlrsim_scenario_changes_total",
            "Scenario activations, refused reloads and flow-state switches",
            ("change",),
        )
        self.webhook_latency = Histogram(
            "dlrsim_webhook_attempt_seconds",
            "Real time one callback attempt took, until the response or the error",
            WEBHOOK_BUCKETS,
            ("provider",),
        )
        self.final_latency = Histogram(
            "dlrsim_message_final_seconds",
            "Simulated seconds from an accepted submit to the message's final state",
            FINAL_BUCKETS,
            ("transport", "stat"),
        )
        self._pending: dict[str, tuple[float, str]] = {}
        self.pending_evicted = 0
        self._handlers: dict[str, Callable[[Event], None]] = {
            "bind": self._bind,
            "unbind": self._unbind,
            "submit": self._submit,
            "status": self._status,
            "receipt": self._receipt,
            "webhook": self._webhook,
            "mo": self._mo,
            "fault": self._fault,
            "scenario": self._scenario,
        }

    def observe(self, event: Event) -> None:
        """EventBus subscriber: count one event."""
        handler = self._handlers.get(event.kind)
        if handler is not None:
            handler(event)

    # -- one handler per event kind ------------------------------------------------------------
    def _bind(self, event: Event) -> None:
        data = event.data
        status = data.get("status")
        account = _text(event.account)
        self.binds.inc(account, _text(data.get("bind_type")), _status_label(status))
        if status == 0:
            self.bound.inc(account)

    def _unbind(self, event: Event) -> None:
        self.bound.inc(_text(event.account), amount=-1.0)

    # The next three run for every message part: plain lookups, no helper calls (label values
    # are made text when rendered).
    def _submit(self, event: Event) -> None:
        data = event.data
        transport = data.get("transport") or "smpp"
        message_id = data.get("message_id")
        if not message_id or data.get("status") != 0:
            self.submits.inc("rejected", transport, data.get("provider") or "")
        else:
            self.submits.inc("accepted", transport, data.get("provider") or "")
            pending = self._pending
            if len(pending) >= MAX_PENDING:
                pending.pop(next(iter(pending)))
                self.pending_evicted += 1
            pending[message_id] = (event.time, transport)

    def _status(self, event: Event) -> None:
        data = event.data
        stat = data.get("stat") or ""
        if not data.get("final"):
            self.states.inc(data.get("provider") or "", stat, "false")
        else:
            self.states.inc(data.get("provider") or "", stat, "true")
            started = self._pending.pop(data.get("message_id") or "", None)
            if started is not None:
                submitted, transport = started
                self.final_latency.observe(max(0.0, event.time - submitted), transport, stat)

    def _receipt(self, event: Event) -> None:
        data = event.data
        self.receipts.inc(data.get("stat") or "", data.get("outcome") or "")

    def _webhook(self, event: Event) -> None:
        data = event.data
        provider = _text(data.get("provider"))
        code = data.get("status_code")
        self.webhooks.inc(provider, _text(data.get("outcome")), _status_class(code))
        latency = data.get("latency_ms")
        if isinstance(latency, int | float):
            self.webhook_latency.observe(latency / 1000.0, provider)

    def _mo(self, event: Event) -> None:
        data = event.data
        if "outcome" in data:  # one part handed to (or refused by) a receiver
            self.mo_deliveries.inc(_text(data.get("outcome")))
        else:  # injected: one message, maybe several parts
            self.mo.inc(_text(event.account))

    def _fault(self, event: Event) -> None:
        for name in _text(event.data.get("fault")).split(","):
            self.faults.inc(name.strip() or "unknown")

    def _scenario(self, event: Event) -> None:
        data = event.data
        if data.get("reload") == "refused":
            change = "refused"
        elif "state" in data:
            change = "state"
        else:
            change = "activated"
        self.scenarios.inc(change)

    # -- exposition ------------------------------------------------------------------------------
    def families(self) -> list[Counter | Histogram]:
        return [
            self.binds,
            self.bound,
            self.submits,
            self.states,
            self.receipts,
            self.webhooks,
            self.mo,
            self.mo_deliveries,
            self.faults,
            self.scenarios,
            self.webhook_latency,
            self.final_latency,
        ]

    def _mqtt_lines(self) -> list[str]:
        mqtt = self.mqtt
        if mqtt is None:
            return []
        published = Counter("dlrsim_mqtt_published_total", "Events the broker acknowledged")
        published.inc(amount=mqtt.published)
        dropped = Counter(
            "dlrsim_mqtt_dropped_total", "Events dropped because the outgoing buffer was full"
        )
        dropped.inc(amount=mqtt.dropped)
        reconnects = Counter("dlrsim_mqtt_reconnects_total", "Connections after the first")
        reconnects.inc(amount=mqtt.reconnects)
        buffered = Gauge("dlrsim_mqtt_buffered", "Events waiting to be published")
        buffered.set(value=mqtt.buffered)
        connected = Gauge("dlrsim_mqtt_connected", "1 while connected to the broker")
        connected.set(value=1.0 if mqtt.connected else 0.0)
        out: list[str] = []
        for family in (published, dropped, reconnects, buffered, connected):
            out.extend(family.lines())
        return out

    def render(self) -> str:
        lines: list[str] = []
        for family in self.families():
            lines.extend(family.lines())
        lines.extend(self._mqtt_lines())
        return "\n".join(lines) + "\n"

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", self._handle)]

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.render().encode("utf-8"), headers={"Content-Type": CONTENT_TYPE}
        )
