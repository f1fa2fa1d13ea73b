"""`--store sqlite:PATH` end to end: a real dlrsim, stopped and started again on the same file.

Each simulator runs on its own loop thread with a VirtualClock (the e2e harness); clients are
smpplib sessions. Both virtual clocks start at the same simulated epoch, and a remaining step
stays due at its planned simulated epoch, so a receipt planned for one hour after a submit at
second 4 of the first run is due at second 3604 of the second run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from simulator.config import Settings
from simulator.core.errors import ConfigError
from tests.e2e.conftest import Esme, SimHandle, receipt_fields, text_of, write_scenario
from tests.e2e.http.conftest import Receiver, loop_thread, receiver  # noqa: F401

HOUR = 3600.0
QUICK = "4915100000001"  # destinations the scenario delivers after 1 s
SCENARIO = """\
    name: restart
    provider: infobip
    rules:
      - name: quick
        when: {destination: "4915100000001"}
        then: {outcome: DELIVERED_TO_HANDSET, after: 1s}
    default: {outcome: DELIVERED_TO_HANDSET, after: 1h}
    """


class World:
    """Simulators (started on demand, possibly twice on one file) and their clients."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.db = tmp_path / "dlrsim.db"
        self.scenario = write_scenario(tmp_path, SCENARIO)
        self.sims: list[SimHandle] = []
        self.clients: list[Esme] = []

    def settings(self, db: Path | None = None, **extra: Any) -> Settings:
        fields: dict[str, Any] = {
            "smpp_port": 0,
            "seed": 7,
            "quiet": True,
            "scenario": self.scenario,
            "store": f"sqlite:{db or self.db}",
        }
        fields.update(extra)
        return Settings(**fields)

    def start(self, db: Path | None = None, **extra: Any) -> SimHandle:
        handle = SimHandle(self.settings(db, **extra), virtual=True, planner=None)
        self.sims.append(handle)
        handle.start()
        return handle

    def bound(self, sim: SimHandle, kind: str, system_id: str = "tester") -> Esme:
        client = Esme(sim.address, f"{kind}:{system_id}")
        self.clients.append(client)
        assert client.bind(kind, system_id) == 0
        return client

    def stop(self, sim: SimHandle) -> None:
        """A clean stop: clients leave first, then the simulator closes its file."""
        for client in self.clients:
            client.close()
        self.clients.clear()
        sim.close()

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for sim in self.sims:
            sim.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = World(tmp_path)
    try:
        yield found
    finally:
        found.close()


def _receipt_ids(esme: Esme) -> list[str]:
    return [text_of(pdu.receipted_message_id) for pdu in esme.delivered]


def _query_state(esme: Esme, message_id: str) -> int:
    response = esme.query(message_id)
    assert response.command == "query_sm_resp" and response.status == 0, response.status
    return int(response.message_state)


def test_receipts_pending_at_a_clean_stop_arrive_after_the_restart(world: World) -> None:
    first = world.start()
    trx = world.bound(first, "transceiver")
    # A: delivered and acknowledged before the stop: it must not come again.
    delivered = trx.submit_ok(b"acknowledged", destination=QUICK, registered_delivery=1)
    first.advance(2)
    trx.receipt_for(delivered, "DELIVRD")
    first.wait_until(lambda smsc: smsc.counters["receipts_delivered"] == 1, "A's receipt acked")
    # B: for an account with no receiver bound, so its receipt is still queued at the stop.
    offline = world.bound(first, "transmitter", "offline")
    queued = offline.submit_ok(b"queued at stop", destination=QUICK, registered_delivery=1)
    first.advance(2)
    first.wait_until(lambda smsc: smsc.pending_deliveries("offline") == 1, "B's receipt queued")
    # C, D: planned an hour after submit, not due at the stop.
    later = [trx.submit_ok(f"later {n}".encode(), registered_delivery=1) for n in range(2)]
    first.advance(600)
    assert _query_state(trx, later[0]) == 1  # ENROUTE
    assert first.counter("receipts_queued") == 2
    world.stop(first)
    last_seq = first.sim.journal.last_seq

    second = world.start()
    offline_rx = world.bound(second, "receiver", "offline")
    offline_rx.receipt_for(queued, "DELIVRD")  # queued again at start, sent on bind
    trx2 = world.bound(second, "transceiver")
    assert _query_state(trx2, later[0]) == 1
    # C and D were submitted 4 s after the simulated epoch both clocks start at, so they stay
    # due at 3604 s: not one second earlier, although the first run had already run 604 s.
    second.advance(HOUR)
    assert second.counter("receipts_queued") == 0  # counts new ones: B was queued in run 1
    second.advance(5)
    for message_id in later:
        receipt = trx2.receipt_for(message_id, "DELIVRD")
        fields = receipt_fields(receipt.short_message)
        assert fields["id"] == message_id and fields["err"] == "000"
    assert _query_state(trx2, later[0]) == 2  # DELIVERED
    # One receiver per account gets receipts in order: a repeat of A would have come first.
    assert _receipt_ids(trx2) == later
    assert _receipt_ids(offline_rx) == [queued]
    fresh = trx2.submit_ok(b"after the restart", registered_delivery=1)
    assert fresh not in {delivered, queued, *later}

    journal = second.call(lambda: list(second.sim.journal))
    seqs = [entry.seq for entry in journal]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    old = [entry for entry in journal if entry.seq <= last_seq]
    assert [entry.seq for entry in old] == list(range(1, last_seq + 1))
    submitted = {e.message_id for e in old if e.kind == "submit" and e.message_id}
    assert submitted == {delivered, queued, *later}
    new = [entry for entry in journal if entry.seq > last_seq]
    assert new[0].seq == last_seq + 1
    assert any(e.kind == "submit" and e.message_id == fresh for e in new)


def test_an_abrupt_stop_keeps_everything_up_to_the_last_flush(world: World) -> None:
    first = world.start()
    trx = world.bound(first, "transceiver")
    message_id = trx.submit_ok(b"survives a crash", registered_delivery=1)
    first.advance(60)
    sim = first.sim
    assert sim.persistence is not None
    persistence = sim.persistence
    first.call(lambda: persistence.flush(wait=True))
    flushed_seq = first.call(lambda: sim.journal.last_seq)
    # The process "dies" here: copy the file as it is on disk, WAL included, without a stop.
    copy = world.tmp_path / "copy.db"
    for suffix in ("", "-wal"):
        source = Path(f"{world.db}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{copy}{suffix}")

    second = world.start(copy)
    journal = second.call(lambda: list(second.sim.journal))
    assert journal[-1].seq >= flushed_seq
    assert [e.seq for e in journal[:flushed_seq]] == list(range(1, flushed_seq + 1))
    rx = world.bound(second, "receiver")
    second.advance(HOUR)
    rx.receipt_for(message_id, "DELIVRD")


def test_an_http_message_resumes_with_its_provider_webhook(
    world: World,
    receiver: Receiver,  # noqa: F811
) -> None:
    first = world.start(http_port=0)
    body = json.dumps(
        {
            "messages": [
                {
                    "from": "Shop",
                    "destinations": [{"to": "4915112345678"}],
                    "text": "webhook later",
                    "notifyUrl": receiver.url,
                }
            ]
        }
    )
    request = urllib.request.Request(
        f"{first.sim.http_url}/sms/2/text/advanced",
        data=body.encode(),
        method="POST",
        headers={"Authorization": "App key-1", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        message_id = json.load(reply)["messages"][0]["messageId"]
    first.advance(60)
    world.stop(first)
    assert receiver.calls == []

    second = world.start(http_port=0)
    second.advance(HOUR)
    results = [item for call in receiver.wait_for(1) for item in call.json["results"]]
    assert [item["messageId"] for item in results] == [message_id]
    assert results[0]["status"]["groupName"] == "DELIVERED"


def test_a_file_that_is_not_a_database_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"these are not the pages of an SQLite database\n" * 100)
    handle = SimHandle(Settings(smpp_port=0, store=f"sqlite:{bad}"), virtual=True, planner=None)
    try:
        with pytest.raises(ConfigError) as caught:
            handle.start()
        assert str(bad) in str(caught.value) and "not a usable SQLite database" in str(caught.value)
        assert handle.sim.listeners == []
    finally:
        handle.close()


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "app.sqlite"
    with closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.commit()
    handle = SimHandle(Settings(smpp_port=0, store=f"sqlite:{foreign}"), virtual=True, planner=None)
    try:
        with pytest.raises(ConfigError, match="another application") as caught:
            handle.start()
        assert str(foreign) in str(caught.value) and "customers" in str(caught.value)
    finally:
        handle.close()
    with closing(sqlite3.connect(foreign)) as conn:  # left as it was
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["customers"]


def test_a_file_in_use_by_a_running_simulator_is_refused(world: World) -> None:
    world.start()
    other = SimHandle(world.settings(), virtual=True, planner=None)
    try:
        with pytest.raises(ConfigError, match="in use by another process"):
            other.start()
    finally:
        other.close()
