"""The SQLite store without sockets: what is written, when, and what comes back on a reload.

The simulation clock and the flush timer are both VirtualClocks here, so batches happen exactly
when a test moves the timer clock (or calls `flush`). A restart is a second `Persistence` on
the same file, with a clock whose epoch may differ from the first one's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from simulator.core.clock import VirtualClock
from simulator.engine.plan import Step
from simulator.engine.timelines import Timelines
from simulator.smpp.codec import CommandId, Pdu, decode_pdu, encode_pdu
from simulator.smpp.delivery import Delivery
from simulator.store import persistence as persistence_module
from simulator.store.journal import Journal
from simulator.store.messages import MessageRecord, MessageStore
from simulator.store.persistence import FLUSH_INTERVAL, Persistence

T0 = 1_767_225_600.0  # the VirtualClock's default epoch
ENROUTE = Step(10.0, "ENROUTE", final=False, catalog_key="PENDING_ENROUTE")
DELIVRD = Step(100.0, "DELIVRD", network_error_code=0x0103, catalog_key="DELIVERED_TO_HANDSET")


class Run:
    """One simulator's worth of store objects on one file."""

    def __init__(
        self,
        path: Path,
        *,
        start_wall: float = T0,
        journal_size: int = 100,
        max_finished: int = 100,
    ) -> None:
        self.clock = VirtualClock(start_wall)
        self.timer = VirtualClock()
        self.journal = Journal(journal_size)
        self.store = MessageStore(max_finished)
        self.timelines = Timelines(self.clock, self.store)
        self.fired: list[tuple[str, str]] = []
        self.persistence = Persistence.open(
            path,
            self.clock,
            self.timer,
            journal=self.journal,
            store=self.store,
            make_step=Step,
            make_delivery=Delivery,
            encode_pdu=encode_pdu,
            decode_pdu=decode_pdu,
        )
        self.persistence.watch(self.timelines, None)

    def submit(
        self, key: str, steps: tuple[Step, ...] = (ENROUTE, DELIVRD), **fields: Any
    ) -> MessageRecord:
        record = MessageRecord(
            key,
            "acct",
            "4930123",
            "4915112345678",
            submitted_at=self.clock.time(),
            plan=steps,
            **fields,
        )
        self.store.add(record, key)
        self.timelines.start(key, record, steps, self.sink)
        return record

    def resume(
        self, key: str, record: MessageRecord, steps: tuple[Any, ...], offset: float
    ) -> bool:
        self.timelines.start(key, record, steps, self.sink, offset=offset)
        return True

    def sink(self, record: MessageRecord, step: Step) -> None:
        self.fired.append((record.message_id, step.stat))

    def close(self) -> None:
        self.persistence.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    opened: list[Run] = []
    yield opened
    for run in opened:
        if not run.persistence._closed:
            run.close()


def start(runs: list[Run], path: Path, **options: Any) -> Run:
    run = Run(path, **options)
    runs.append(run)
    return run


def rows(path: Path, sql: str) -> list[Any]:
    """Read a closed file (a running store holds an exclusive lock on its file)."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def peek(run: Run, sql: str) -> list[Any]:
    """Read a running store's file through its own connection, once its writer is idle."""
    run.persistence.flush(wait=True)
    return run.persistence.db._conn.execute(sql).fetchall()


def receipt(message_id: str) -> Delivery:
    pdu = Pdu(
        CommandId.DELIVER_SM,
        params={
            "service_type": "",
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": "4915112345678",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": "4930123",
            "esm_class": 4,
            "data_coding": 0,
            "short_message": f"id:{message_id} stat:DELIVRD".encode(),
        },
    )
    return Delivery(pdu, "receipt", message_id, 7200.0, meta={"stat": "DELIVRD", "err": "000"})


# -- the journal ---------------------------------------------------------------------------------


def test_the_journal_reloads_its_latest_entries_and_numbering_continues(
    runs: list[Run], db: Path
) -> None:
    first = start(runs, db, journal_size=5)
    for n in range(12):
        first.journal.append(
            "submit",
            T0 + n,
            account="acct",
            message_id=f"m{n}",
            data={"n": n, "raw": b"\x00\xff", "nested": {"parts": [1, 2]}},
        )
    first.close()
    assert rows(db, "SELECT COUNT(*) FROM journal") == [(5,)]  # trimmed to the memory bound

    second = start(runs, db, journal_size=5)
    entries = list(second.journal)
    assert [e.seq for e in entries] == [8, 9, 10, 11, 12]
    assert entries[-1].message_id == "m11" and entries[-1].time == T0 + 11
    assert entries[-1].data == {"n": 11, "raw": "00ff", "nested": {"parts": [1, 2]}}
    assert [e.seq for e in second.journal.for_message("m9")] == [10]
    assert second.journal.append("status", T0 + 20).seq == 13


def test_entries_are_written_in_one_batch_per_flush_interval(runs: list[Run], db: Path) -> None:
    run = start(runs, db)
    for n in range(200):
        run.journal.append("submit", T0, message_id=f"m{n}")
    run.submit("x")
    assert run.persistence.batches == 0  # nothing written on the hot path
    run.timer.advance(FLUSH_INTERVAL / 2)
    assert run.persistence.batches == 0
    run.timer.advance(FLUSH_INTERVAL / 2)
    assert run.persistence.batches == 1
    assert peek(run, "SELECT COUNT(*) FROM journal") == [(200,)]
    assert peek(run, "SELECT key FROM messages") == [("x",)]
    run.timer.advance(1.0)
    assert run.persistence.batches == 1  # no timer armed while nothing changes


def test_a_busy_file_is_trimmed_while_running_not_only_at_close(
    runs: list[Run], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(persistence_module, "PRUNE_ROWS", 10)
    run = start(runs, db, journal_size=5)
    for n in range(8):
        run.journal.append("submit", T0, message_id=f"m{n}")
    assert peek(run, "SELECT COUNT(*) FROM journal") == [(8,)]  # under the trim threshold
    for n in range(8, 12):
        run.journal.append("submit", T0, message_id=f"m{n}")
    assert peek(run, "SELECT MIN(seq), MAX(seq) FROM journal") == [(8, 12)]


# -- messages --------------------------------------------------------------------------------


def test_a_record_comes_back_field_for_field_with_clock_times_rebased(
    runs: list[Run], db: Path
) -> None:
    first = start(runs, db)
    first.clock.advance(30)
    record = first.submit(
        "abc#1",
        body=b"\x00hi\xff",
        source_ton=1,
        dest_npi=1,
        data_coding=8,
        esm_class=0x40,
        registered_delivery=1,
        expires_at=first.clock.now() + 3600,
        part_index=2,
        part_count=3,
        concat_ref=77,
        transport="smpp",
        provider="infobip",
        rule="quick",
        lost=True,
        extra={"client_ref": "r-1", "list": [1, "two"]},
    )
    first.clock.advance(15)  # ENROUTE fires
    assert record.stat == "ENROUTE" and not record.final
    first.close()

    second = start(runs, db, start_wall=T0 + 500)  # another epoch: clock seconds shift by 500
    loaded = second.store.get("abc#1")
    assert loaded is not None and loaded is not record
    expected = asdict(record)
    expected["expires_at"] -= 500
    expected["history"] = [[at - 500, stat, err] for at, stat, err in record.history]
    got = asdict(loaded)
    got["history"] = [list(item) for item in got["history"]]
    assert got == expected
    assert isinstance(loaded.lost, bool) and loaded.plan == (ENROUTE, DELIVRD)


def test_finished_messages_beyond_the_store_bound_are_not_kept(runs: list[Run], db: Path) -> None:
    first = start(runs, db, max_finished=2)
    for n in range(5):
        first.submit(f"done{n}", steps=(DELIVRD,))
    first.submit("running")
    first.clock.advance(100)  # the five finish (ENROUTE of "running" too, its DELIVRD as well)
    first.submit("late")
    first.close()
    kept = {key for (key,) in rows(db, "SELECT key FROM messages")}
    assert kept == {"done4", "running", "late"}  # the two newest finished ones plus "late"
    second = start(runs, db, max_finished=2)
    assert {record.message_id for record in second.store} == kept


def test_the_remaining_steps_stay_due_at_their_planned_epoch(runs: list[Run], db: Path) -> None:
    first = start(runs, db)
    first.submit("m1")
    first.clock.advance(20)  # ENROUTE (10 s) fired, DELIVRD (100 s) is still ahead
    assert first.fired == [("m1", "ENROUTE")]
    first.close()

    second = start(runs, db, start_wall=T0 + 50)
    calls: list[tuple[str, tuple[Step, ...], float]] = []

    def resume(key: str, record: MessageRecord, steps: tuple[Any, ...], offset: float) -> bool:
        calls.append((key, steps, offset))
        return second.resume(key, record, steps, offset)

    assert second.persistence.resume(resume, lambda account, delivery: None) == (1, 0)
    assert calls == [("m1", (DELIVRD,), -50.0)]
    second.clock.advance(49.9)
    assert second.fired == []
    second.clock.advance(0.1)
    assert second.fired == [("m1", "DELIVRD")]
    assert second.store.get("m1").final  # type: ignore[union-attr]
    assert peek(second, "SELECT final, steps FROM messages WHERE key = 'm1'") == [(1, None)]


def test_an_overdue_step_fires_at_once_and_a_finished_message_is_not_resumed(
    runs: list[Run], db: Path
) -> None:
    first = start(runs, db)
    first.submit("overdue")
    first.submit("done", steps=(Step(5.0, "UNDELIV", "001"),))
    first.clock.advance(6)
    first.close()

    second = start(runs, db, start_wall=T0 + 10_000)
    assert second.persistence.resume(second.resume, lambda account, delivery: None) == (1, 0)
    second.clock.advance(0)
    assert second.fired == [("overdue", "ENROUTE"), ("overdue", "DELIVRD")]
    done = second.store.get("done")
    assert done is not None and done.final and done.stat == "UNDELIV" and done.err == "001"


def test_a_cancel_and_a_replace_are_written(runs: list[Run], db: Path) -> None:
    run = start(runs, db)
    cancelled = run.submit("c")
    replaced = run.submit("r")
    run.persistence.flush()
    run.timelines.cancel("c", cancelled)
    replaced.body = b"new text"
    run.timelines.touch("r", replaced)
    assert peek(run, "SELECT key, stat, final, body FROM messages ORDER BY key") == [
        ("c", "DELETED", 1, b""),
        ("r", "ENROUTE", 0, b"new text"),
    ]


# -- receipts --------------------------------------------------------------------------------


def test_only_receipts_still_unacknowledged_at_a_flush_are_kept(runs: list[Run], db: Path) -> None:
    run = start(runs, db)
    quick, slow, late = receipt("quick"), receipt("slow"), receipt("late")
    run.persistence.on_receipt_queued("acct", quick)
    run.persistence.on_receipt_queued("acct", slow)
    run.persistence.on_delivery_done(quick, "delivered")  # acknowledged within the batch
    assert peek(run, "SELECT message_id FROM deliveries") == [("slow",)]
    run.persistence.on_receipt_queued("other", late)
    run.persistence.on_delivery_done(slow, "delivered")  # acknowledged in a later batch
    run.close()
    assert rows(db, "SELECT account, message_id FROM deliveries") == [("other", "late")]

    second = start(runs, db, start_wall=T0 + 100)
    requeued: list[tuple[str, Delivery]] = []
    assert second.persistence.resume(lambda *args: True, lambda a, d: requeued.append((a, d))) == (
        0,
        1,
    )
    [(account, delivery)] = requeued
    assert account == "other" and delivery.message_id == "late" and delivery.kind == "receipt"
    assert encode_pdu(delivery.pdu) == encode_pdu(late.pdu) and delivery.meta == late.meta
    assert delivery.expires_at == late.expires_at - 100  # same epoch, later clock origin
    second.persistence.on_delivery_done(delivery, "delivered")  # now it reaches a client
    second.close()
    assert rows(db, "SELECT COUNT(*) FROM deliveries") == [(0,)]


def test_a_reset_forgets_messages_and_receipts_but_not_the_journal(
    runs: list[Run], db: Path
) -> None:
    run = start(runs, db)
    run.submit("m1")
    run.journal.append("submit", T0, message_id="m1")
    run.persistence.on_receipt_queued("acct", receipt("m1"))
    run.persistence.flush()
    run.store.clear()
    run.submit("m2")
    run.close()
    assert rows(db, "SELECT key FROM messages") == [("m2",)]
    assert rows(db, "SELECT COUNT(*) FROM deliveries") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM journal") == [(1,)]


# -- the file --------------------------------------------------------------------------------


def test_seeded_ids_differ_on_each_restart_of_one_file(runs: list[Run], db: Path) -> None:
    seeds = []
    for _ in range(3):
        run = start(runs, db)
        seeds.append(run.persistence.id_seed(7))
        assert run.persistence.id_seed(None) is None
        run.close()
    assert seeds[0] == 7 and len(set(seeds)) == 3


def test_a_failed_batch_is_counted_and_later_batches_still_commit(
    runs: list[Run], db: Path
) -> None:
    run = start(runs, db)
    run.persistence.db.write([("INSERT INTO no_such_table VALUES (?)", [(1,)])], wait=True)
    assert run.persistence.db.errors == 1
    run.journal.append("submit", T0)
    assert peek(run, "SELECT COUNT(*) FROM journal") == [(1,)]
