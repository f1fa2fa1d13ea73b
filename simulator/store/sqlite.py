"""The SQLite file behind `--store sqlite:PATH`: schema, checks, loading, and one writer thread.

Strategy. The file is opened once, checked (an SQLite database at all, and ours: its
`application_id` says dlrsim), and locked for this process (`locking_mode=EXCLUSIVE`, WAL), so
two simulators cannot interleave their histories. Everything is loaded at start on the caller's
thread; after that the connection belongs to one writer thread, which runs each batch of
statements (built on the event loop, a few per 50 ms) in a single transaction. The loop never
waits for the disk except when it asks to (`write(..., wait=True)`: a clean stop, a test).

Rows are plain values: message records are spread over one column per `MessageRecord` field, so
adding a field later only adds a column. Times that count from an arbitrary clock origin
(`expires_at`, history) are stored as epoch seconds and converted back by the caller's offset.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, NamedTuple

from simulator.core.errors import ConfigError
from simulator.store.journal import JournalEntry
from simulator.store.messages import MessageRecord

log = logging.getLogger("dlrsim.store")

APPLICATION_ID = 0x444C5253  # "DLRS": marks a file as a dlrsim store
SCHEMA_VERSION = 1

#: MessageRecord fields that need converting (bytes, JSON, clock seconds to epoch); every
#: other field (str, int, float, bool or None) is a column of its own, stored as it is.
_SPECIAL = ("body", "expires_at", "extra", "plan", "history")
_FIELDS = fields(MessageRecord)
RECORD_COLUMNS = tuple(f.name for f in _FIELDS if f.name not in _SPECIAL)
_BOOL_FIELDS = frozenset(f.name for f in _FIELDS if isinstance(f.default, bool))
_TIMELINE = ("steps", "start", "fired")
MESSAGE_COLUMNS = ("key", "finished", *_TIMELINE, *_SPECIAL, *RECORD_COLUMNS)
_QUOTED = ", ".join(f'"{column}"' for column in MESSAGE_COLUMNS)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, time REAL, kind TEXT,"
    " account TEXT, provider TEXT, message_id TEXT, data TEXT)",
    "CREATE TABLE IF NOT EXISTS messages (key TEXT PRIMARY KEY, finished INTEGER)",
    "CREATE INDEX IF NOT EXISTS messages_finished ON messages (finished)",
    "CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, account TEXT, kind TEXT,"
    " message_id TEXT, expires REAL, attempts INTEGER, meta TEXT, pdu BLOB)",
)
JOURNAL_INSERT = "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?, ?, ?)"
MESSAGE_UPSERT = (
    f"INSERT OR REPLACE INTO messages ({_QUOTED}) VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
)
DELIVERY_INSERT = "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
DELIVERY_DELETE = "DELETE FROM deliveries WHERE id = ?"

#: One write: statements run in order in one transaction, each with its parameter rows (an
#: iterable: a generator is consumed on the writer thread, so its work stays off the loop).
Batch = list[tuple[str, Iterable[Sequence[Any]]]]


def _fallback(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


#: Compact JSON; what JSON cannot hold (bytes, odd objects) is kept as text.
dumps = json.JSONEncoder(separators=(",", ":"), default=_fallback).encode


def step_fields(step: Any) -> dict[str, Any]:
    """An engine `Step` (any flat dataclass) as a dict, without importing the engine."""
    if not is_dataclass(step):
        raise TypeError(f"cannot store a plan step of type {type(step).__name__}")
    return {f.name: getattr(step, f.name) for f in fields(step)}


class StoredTimeline(NamedTuple):
    """What a message still has to do: its steps, when their delays count from, how many ran."""

    steps: tuple[Any, ...]
    start: float  # simulated epoch seconds
    fired: int


class StoredMessage(NamedTuple):
    key: str
    record: MessageRecord
    finished: int | None
    timeline: StoredTimeline | None


class StoredDelivery(NamedTuple):
    """A queued SMPP delivery (receipt) that the client had not acknowledged."""

    id: int
    account: str
    kind: str
    message_id: str | None
    expires: float  # simulated epoch seconds
    attempts: int
    meta: dict[str, Any]
    pdu: bytes


def record_values(
    key: str,
    record: MessageRecord,
    wall: float,
    finished: int | None,
    timeline: tuple[str, float, int] | None,
    plan_json: str,
) -> tuple[Any, ...]:
    """One `messages` row (MESSAGE_COLUMNS order); `wall` turns clock seconds into epoch."""
    steps, start, fired = timeline if timeline is not None else (None, None, None)
    history = dumps([(at + wall, stat, err) for at, stat, err in record.history])
    extra = dumps(record.extra) if record.extra else "{}"
    head = (key, finished, steps, start, fired, record.body, record.expires_at + wall)
    return (*head, extra, plan_json, history, *[getattr(record, c) for c in RECORD_COLUMNS])


def delivery_values(
    ident: int, account: str, delivery: Any, wall: float, encode: Callable[[Any], bytes]
) -> tuple[Any, ...]:
    """One `deliveries` row for a queued smpp.delivery.Delivery (its PDU as wire bytes)."""
    d = delivery
    expires, meta, pdu = d.expires_at + wall, dumps(d.meta), encode(d.pdu)
    return ident, account, d.kind, d.message_id, expires, d.attempts, meta, pdu


class SqliteStore:
    """One dlrsim database file, open and locked for this process."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()
        self.errors = 0  # batches the writer could not commit
        self.boots = 0  # how many times a simulator opened this file, this time included
        self._queue: queue.SimpleQueue[tuple[Batch, threading.Event | None] | None] = (
            queue.SimpleQueue()
        )
        self._writer: threading.Thread | None = None
        self._conn = self._open()

    def _fail(self, problem: str) -> ConfigError:
        return ConfigError(f"store sqlite:{self.path}: {problem}")

    def _open(self) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise self._fail("is a directory; give a database file name")
        if not path.parent.is_dir():
            raise self._fail(f"the folder {path.parent} does not exist")
        try:
            conn = sqlite3.connect(
                str(path), timeout=0.5, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise self._fail(f"cannot open it ({error})") from error
        try:
            self._check(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _check(self, conn: sqlite3.Connection) -> None:
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
        except sqlite3.DatabaseError as error:
            raise self._refusal(error, "not a usable SQLite database") from error
        if app_id != APPLICATION_ID and (app_id or tables):
            raise self._fail(
                "an SQLite database of another application (tables: "
                f"{', '.join(sorted(tables)[:5]) or 'none'}), not a dlrsim store; "
                "give a new file name"
            )
        if version > SCHEMA_VERSION:
            raise self._fail(
                f"written by a newer dlrsim (schema {version}; this one reads up to "
                f"{SCHEMA_VERSION})"
            )
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")  # takes (and, exclusive, keeps) the write lock
            for statement in _SCHEMA:
                conn.execute(statement)
            self._add_missing_columns(conn)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            row = conn.execute("SELECT value FROM meta WHERE name = 'boots'").fetchone()
            self.boots = (int(row[0]) if row else 0) + 1
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('boots', ?)", (str(self.boots),))
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            raise self._refusal(error, "cannot prepare it") from error

    def _refusal(self, error: sqlite3.Error, problem: str) -> ConfigError:
        if "locked" in str(error):
            return self._fail("in use by another process (one dlrsim per file)")
        return self._fail(f"{problem} ({error})")

    @staticmethod
    def _add_missing_columns(conn: sqlite3.Connection) -> None:
        have = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
        for column in MESSAGE_COLUMNS:
            if column not in have:
                conn.execute(f'ALTER TABLE messages ADD COLUMN "{column}"')

    # -- loading (before the writer starts) ---------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as error:
            raise self._fail(f"cannot read it ({error})") from error

    def last_seq(self) -> int:
        return int(self._rows("SELECT MAX(seq) FROM journal")[0][0] or 0)

    def last_finished(self) -> int:
        return int(self._rows("SELECT MAX(finished) FROM messages")[0][0] or 0)

    def last_delivery(self) -> int:
        return int(self._rows("SELECT MAX(id) FROM deliveries")[0][0] or 0)

    def load_journal(self, limit: int) -> list[JournalEntry]:
        """The most recent `limit` entries, oldest first."""
        rows = self._rows("SELECT * FROM journal ORDER BY seq DESC LIMIT ?", (limit,))
        return [
            JournalEntry(seq, at, kind, account, provider, message_id, json.loads(data))
            for seq, at, kind, account, provider, message_id, data in reversed(rows)
        ]

    def load_messages(
        self, max_finished: int, wall: float, make_step: Callable[..., Any]
    ) -> list[StoredMessage]:
        """Every message still in flight, then the latest `max_finished` final ones (oldest
        first); `wall` is the current clock's epoch minus its seconds."""
        rows = self._rows(
            f"SELECT {_QUOTED} FROM messages WHERE finished IS NULL ORDER BY submitted_at, key"
        )
        done = self._rows(
            f"SELECT {_QUOTED} FROM messages WHERE finished IS NOT NULL"
            " ORDER BY finished DESC LIMIT ?",
            (max_finished,),
        )
        plans: dict[str, tuple[Any, ...]] = {}

        def steps_of(text: str | None) -> tuple[Any, ...]:
            if not text:
                return ()
            found = plans.get(text)
            if found is None:
                found = plans[text] = tuple(make_step(**item) for item in json.loads(text))
            return found

        out = []
        head = len(MESSAGE_COLUMNS) - len(RECORD_COLUMNS)
        for row in [*rows, *reversed(done)]:
            key, finished, steps, start, fired, body, expires, extra, plan, history = row[:head]
            stored = zip(RECORD_COLUMNS, row[head:], strict=True)
            record = MessageRecord(
                **{column: value for column, value in stored if value is not None},
                body=body or b"",
                expires_at=(expires or wall) - wall,
                extra=json.loads(extra) if extra and extra != "{}" else {},
                plan=steps_of(plan),
                history=[(at - wall, s, e) for at, s, e in json.loads(history or "[]")],
            )
            for name in _BOOL_FIELDS:
                setattr(record, name, bool(getattr(record, name)))
            timeline = None
            if steps is not None:
                timeline = StoredTimeline(steps_of(steps), float(start), int(fired or 0))
            out.append(StoredMessage(key, record, finished, timeline))
        return out

    def load_deliveries(self) -> list[StoredDelivery]:
        rows = self._rows("SELECT * FROM deliveries ORDER BY id")
        return [
            StoredDelivery(
                ident,
                account,
                kind,
                message_id,
                expires,
                attempts,
                json.loads(meta or "{}"),
                bytes(pdu),
            )
            for ident, account, kind, message_id, expires, attempts, meta, pdu in rows
        ]

    # -- writing ------------------------------------------------------------------------------
    def start_writer(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_loop, name=f"dlrsim-store:{self.path.name}", daemon=True
            )
            self._writer.start()

    def write(self, batch: Batch, wait: bool = False) -> None:
        """Hand a batch to the writer thread; with `wait`, return once it is committed."""
        if self._writer is None:
            self.start_writer()
        done = threading.Event() if wait else None
        self._queue.put((batch, done))
        if done is not None:
            done.wait()

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, done = item
            try:
                self._commit(batch)
            finally:
                if done is not None:
                    done.set()

    def _commit(self, batch: Batch) -> None:
        conn = self._conn
        try:
            conn.execute("BEGIN")
            for sql, rows in batch:
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            self.errors += 1
            log.error("store %s: a batch of writes was lost: %s", self.path, error)
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def close(self) -> None:
        """Finish every queued batch, fold the WAL into the file, release the lock."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:  # the data is safe in the WAL; only tidying failed
            log.warning("store %s: checkpoint on close failed: %s", self.path, error)
        self._conn.close()


def journal_rows(entries: Iterable[JournalEntry]) -> Iterator[tuple[Any, ...]]:
    """Rows for `journal`, made lazily (entries are immutable: safe to encode on the writer)."""
    for e in entries:
        yield e.seq, e.time, e.kind, e.account, e.provider, e.message_id, dumps(e.data)
