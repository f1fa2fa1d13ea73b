"""Keeping a running simulator in its SQLite file, and picking up where it stopped.

Strategy. The simulator tells this object what changes through observer lists it already has
(journal subscribers, `Timelines.on_start/on_change`, `MessageStore.on_clear`, the SMSC's
receipt observers). Observers only note what changed (a key in a dict, an entry in a list);
every 50 ms of real time the notes become one batch of rows, built on the loop and committed by
the store's writer thread in one transaction. A message created and finished within one batch
is written once; a receipt queued and acknowledged within one batch is never written at all.

On start, `open()` loads the journal tail and the message records back into memory, and
`resume()` restarts what was still to happen: each unfinished message's remaining steps, due
where they were due in simulated time (overdue ones fire at once), through the transport that
took the message, and every receipt that was queued but never acknowledged. This module knows no
SMPP and no engine: the composition root hands in the step and delivery types and the codec.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from simulator.core.clock import Clock, TimerHandle
from simulator.store.journal import Journal, JournalEntry
from simulator.store.messages import MessageRecord, MessageStore
from simulator.store.sqlite import (
    DELIVERY_DELETE,
    DELIVERY_INSERT,
    JOURNAL_INSERT,
    MESSAGE_UPSERT,
    Batch,
    SqliteStore,
    StoredDelivery,
    StoredMessage,
    delivery_values,
    dumps,
    journal_rows,
    record_values,
    step_fields,
)

log = logging.getLogger("dlrsim.store")

FLUSH_INTERVAL = 0.05  # real seconds between batches
PRUNE_ROWS = 20_000  # rows written between trims of old journal entries and finished messages

#: Starts the rest of a reloaded message's timeline: (key, record, steps, offset) -> started?
ResumeTimeline = Callable[[str, MessageRecord, tuple[Any, ...], float], bool]


class DeliveryLike(Protocol):
    """What is kept of an SMPP delivery (smpp.delivery.Delivery), seen without importing it."""

    @property
    def pdu(self) -> Any: ...
    @property
    def kind(self) -> str: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def expires_at(self) -> float: ...
    @property
    def attempts(self) -> int: ...
    @property
    def meta(self) -> dict[str, object]: ...


class TimelinesLike(Protocol):
    """The observer lists of engine.timelines.Timelines."""

    on_start: list[Callable[[str, MessageRecord, tuple[Any, ...], float], None]]
    on_change: list[Callable[[str, MessageRecord, Any], None]]


class ReceiptsLike(Protocol):
    """The receipt observer lists of smpp.smsc.Smsc."""

    on_receipt_queued: list[Callable[[str, Any], None]]
    on_delivery_done: list[Callable[[Any, str], None]]


class _Live:
    """A running timeline: the steps it was started with, their origin, how many fired."""

    __slots__ = ("fired", "start", "steps")

    def __init__(self, steps: tuple[Any, ...], start: float) -> None:
        self.steps = steps
        self.start = start
        self.fired = 0


class Persistence:
    def __init__(
        self,
        db: SqliteStore,
        clock: Clock,
        timer: Clock,
        *,
        journal: Journal | None,
        store: MessageStore,
        make_step: Callable[..., Any],
        make_delivery: Callable[..., Any],
        encode_pdu: Callable[[Any], bytes],
        decode_pdu: Callable[[bytes], Any],
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.db = db
        self.clock = clock  # the simulation clock (epochs in the file are simulated)
        self.timer = timer  # a real clock for the flush timer
        self.journal = journal
        self.store = store
        self.make_step = make_step
        self.make_delivery = make_delivery
        self.encode_pdu = encode_pdu
        self.decode_pdu = decode_pdu
        self.flush_interval = flush_interval
        self.batches = 0
        self._unpruned = 0  # rows written since the last trim
        self._timer: TimerHandle | None = None
        self._entries: list[JournalEntry] = []
        self._dirty: dict[str, MessageRecord] = {}
        self._live: dict[str, _Live] = {}
        self._queued: dict[int, tuple[str, DeliveryLike]] = {}  # not written yet
        self._written: dict[int, tuple[int, DeliveryLike]] = {}  # id(delivery) -> row id
        self._acknowledged: list[tuple[int]] = []
        self._cleared = False
        self._plans: dict[int, tuple[tuple[Any, ...], str]] = {}
        self._last_seq = db.last_seq()
        self._finished = db.last_finished()
        self._delivery_id = db.last_delivery()
        self._to_resume: list[StoredMessage] = []
        self._to_requeue: list[StoredDelivery] = []
        self._closed = False
        self.loaded = self.resumed = self.requeued = 0  # what the last start found and did

    @classmethod
    def open(cls, path: Path, clock: Clock, timer: Clock, **options: Any) -> Persistence:
        """Open (or create) the file, load journal and messages into memory, start recording."""
        db = SqliteStore(path)
        try:
            persistence = cls(db, clock, timer, **options)
            persistence._load()
        except BaseException:
            db.close()
            raise
        persistence._subscribe()
        return persistence

    @property
    def wall(self) -> float:
        """Simulated epoch minus simulated clock seconds (constant for one clock)."""
        return self.clock.time() - self.clock.now()

    def id_seed(self, seed: int | None) -> int | None:
        """The seed for message ids: the given one on a new file, a different one per restart,
        so a seeded simulator does not hand out the ids of messages it already holds."""
        if seed is None or self.db.boots <= 1:
            return seed
        return (seed * 1_000_003 + self.db.boots) & 0x7FFF_FFFF

    # -- loading --------------------------------------------------------------------------------
    def _load(self) -> None:
        if self.journal is not None:
            entries = self.db.load_journal(self.journal.max_entries)
            _restore_journal(self.journal, entries)
        store = self.store
        for stored in self.db.load_messages(store.max_finished, self.wall, self.make_step):
            self.loaded += 1
            store.add(stored.record, stored.key)
            if stored.finished is not None:
                store.mark_finished(stored.record, stored.key)
            elif stored.timeline is not None and not stored.record.final:
                self._to_resume.append(stored)
        self._to_requeue = self.db.load_deliveries()

    def _subscribe(self) -> None:
        if self.journal is not None:
            self.journal.subscribe(self.on_journal_entry)
        self.store.on_clear.append(self.on_store_clear)
        self.db.start_writer()

    def watch(self, timelines: TimelinesLike, receipts: ReceiptsLike | None) -> None:
        """Record every timeline start and record change, and the SMPP receipt queues."""
        timelines.on_start.append(self.on_timeline_start)
        timelines.on_change.append(self.on_record_change)
        if receipts is not None:
            receipts.on_receipt_queued.append(self.on_receipt_queued)
            receipts.on_delivery_done.append(self.on_delivery_done)

    def resume(
        self, start_timeline: ResumeTimeline, requeue: Callable[[str, Any], None]
    ) -> tuple[int, int]:
        """Restart unfinished timelines and queue unacknowledged receipts again.

        Each remaining step stays due at its planned simulated epoch: one that fell due while
        the simulator was down fires at once. Returns (timelines resumed, receipts queued).
        """
        now = self.clock.time()
        resumed = requeued = 0
        for stored in self._to_resume:
            record, timeline = stored.record, stored.timeline
            assert timeline is not None
            if record.final:  # cancelled or pushed final since the load
                continue
            rest = tuple(sorted(timeline.steps, key=lambda step: step.delay))[timeline.fired :]
            if not rest:
                continue
            if start_timeline(stored.key, record, rest, timeline.start - now):
                resumed += 1
            else:
                log.warning("store: message %s not resumed: its transport is off", stored.key)
        wall = self.wall
        for row in self._to_requeue:
            args = (row.kind, row.message_id, row.expires - wall, row.attempts, row.meta)
            delivery = self.make_delivery(self.decode_pdu(row.pdu), *args)
            try:
                requeue(row.account, delivery)
            except KeyError:  # the account is gone from the configuration: keep the row
                log.warning("store: receipt for %s kept: no account %r", *args[1:2], row.account)
                continue
            self._written[id(delivery)] = (row.id, delivery)
            requeued += 1
        self._to_resume, self._to_requeue = [], []
        self.resumed, self.requeued = resumed, requeued
        return resumed, requeued

    def describe(self) -> str:
        """One line for the start-up banner."""
        return (
            f"sqlite:{self.db.path} ({self.loaded} messages loaded, {self.resumed} timelines "
            f"resumed, {self.requeued} receipts queued again)"
        )

    # -- observers (hot path: note and return) --------------------------------------------------
    def _arm(self) -> None:
        if self._timer is None and not self._closed:
            self._timer = self.timer.call_later(self.flush_interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.flush()

    def on_journal_entry(self, entry: JournalEntry) -> None:
        self._entries.append(entry)
        if self._timer is None:
            self._arm()

    def on_timeline_start(
        self, key: str, record: MessageRecord, steps: tuple[Any, ...], start: float
    ) -> None:
        self._live[key] = _Live(steps, start)
        self._dirty[key] = record
        if self._timer is None:
            self._arm()

    def on_record_change(self, key: str, record: MessageRecord, step: Any | None) -> None:
        self._dirty[key] = record
        if record.final:
            self._live.pop(key, None)
        elif step is not None:
            live = self._live.get(key)
            if live is not None and any(planned is step for planned in live.steps):
                live.fired += 1
        if self._timer is None:
            self._arm()

    def on_receipt_queued(self, account: str, delivery: DeliveryLike) -> None:
        self._queued[id(delivery)] = (account, delivery)
        if self._timer is None:
            self._arm()

    def on_delivery_done(self, delivery: DeliveryLike, outcome: str) -> None:
        ident = id(delivery)
        if self._queued.pop(ident, None) is None:
            written = self._written.pop(ident, None)
            if written is not None:
                self._acknowledged.append((written[0],))
                if self._timer is None:
                    self._arm()

    def on_store_clear(self) -> None:
        """A reset: forget every message and queued receipt (the journal keeps its history)."""
        self._dirty.clear()
        self._live.clear()
        self._queued.clear()
        self._written.clear()
        self._acknowledged.clear()
        self._cleared = True
        self._arm()

    # -- batches -------------------------------------------------------------------------------
    def flush(self, wait: bool = False) -> None:
        """Write what changed since the last batch; with `wait`, until it is on disk."""
        batch: Batch = []
        if self._cleared:
            self._cleared = False
            batch += [("DELETE FROM messages", [()]), ("DELETE FROM deliveries", [()])]
        if self._entries:
            entries, self._entries = self._entries, []
            self._last_seq = entries[-1].seq
            self._unpruned += len(entries)
            batch.append((JOURNAL_INSERT, journal_rows(entries)))
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            self._unpruned += len(dirty)
            batch.append((MESSAGE_UPSERT, [self._row(k, r) for k, r in dirty.items()]))
        if self._queued:
            batch.append((DELIVERY_INSERT, self._delivery_rows()))
        if self._acknowledged:
            batch.append((DELIVERY_DELETE, self._acknowledged))
            self._acknowledged = []
        if batch:
            self.batches += 1
            if self._unpruned >= PRUNE_ROWS:
                batch += self._prune()
        if batch or wait:
            self.db.write(batch, wait)

    def _row(self, key: str, record: MessageRecord) -> tuple[Any, ...]:
        finished = None
        timeline = None
        if record.final:
            self._finished += 1
            finished = self._finished
        else:
            live = self._live.get(key)
            if live is not None:
                timeline = (self._steps_json(live.steps), live.start, live.fired)
        return record_values(
            key, record, self.wall, finished, timeline, self._steps_json(record.plan)
        )

    def _steps_json(self, steps: tuple[Any, ...]) -> str:
        # Plans are shared between messages (one per scenario outcome): encode each once.
        cached = self._plans.get(id(steps))
        if cached is not None and cached[0] is steps:
            return cached[1]
        text = dumps([step_fields(step) for step in steps])
        if len(self._plans) >= 1024:
            self._plans.clear()
        self._plans[id(steps)] = (steps, text)
        return text

    def _delivery_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        wall, encode = self.wall, self.encode_pdu
        for ident, (account, delivery) in self._queued.items():
            self._delivery_id += 1
            self._written[ident] = (self._delivery_id, delivery)
            rows.append(delivery_values(self._delivery_id, account, delivery, wall, encode))
        self._queued = {}
        return rows

    def _prune(self) -> Batch:
        """Trim the file to what memory keeps: the journal's bound, the store's finished bound."""
        self._unpruned = 0
        batch: Batch = []
        if self.journal is not None:
            oldest_kept = self._last_seq - self.journal.max_entries
            batch.append(("DELETE FROM journal WHERE seq <= ?", [(oldest_kept,)]))
        keep = self.store.max_finished
        batch.append(("DELETE FROM messages WHERE finished <= ?", [(self._finished - keep,)]))
        return batch

    def close(self) -> None:
        """Write the last batch, trim, and close the file (a clean stop)."""
        if self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()
        self.db.write(self._prune())
        self._closed = True
        self.db.close()


def _restore_journal(journal: Journal, entries: list[JournalEntry]) -> None:
    """Put stored entries back with their own sequence numbers; new ones continue after."""
    for entry in entries:
        journal._next_seq = entry.seq
        journal.append(
            entry.kind,
            entry.time,
            account=entry.account,
            provider=entry.provider,
            message_id=entry.message_id,
            data=entry.data,
        )
