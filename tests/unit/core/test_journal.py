from __future__ import annotations

from simulator.core.events import Event, EventBus
from simulator.store.journal import Journal


def test_entries_are_numbered_indexed_and_filtered() -> None:
    journal = Journal()
    journal.append("submit", 1.0, account="a", message_id="m1", data={"destination": "1"})
    journal.append("status", 2.0, account="a", message_id="m1", data={"stat": "DELIVRD"})
    journal.append("submit", 3.0, account="b", message_id="m2")
    assert [e.seq for e in journal] == [1, 2, 3]
    assert [e.kind for e in journal.for_message("m1")] == ["submit", "status"]
    assert journal.count("submit") == 2
    assert [e.message_id for e in journal.find("submit", account="b")] == ["m2"]
    assert [e.seq for e in journal.find(since=1)] == [2, 3]
    assert journal.find(where=lambda e: e.data.get("stat") == "DELIVRD")[0].seq == 2
    assert journal.find(["submit", "status"], message_id="m1", limit=1)[0].kind == "submit"


def test_bounded_size_drops_the_oldest_and_counts_them() -> None:
    journal = Journal(max_entries=3)
    for n in range(5):
        journal.append("submit", float(n), message_id=f"m{n % 2}")
    assert len(journal) == 3 and journal.dropped == 2
    assert [e.seq for e in journal] == [3, 4, 5]
    assert [e.seq for e in journal.for_message("m0")] == [3, 5]


def test_subscribers_and_event_bus_bridge() -> None:
    bus, journal = EventBus(), Journal()
    bus.subscribe(journal.record_event)
    seen: list[int] = []
    unsubscribe = journal.subscribe(lambda entry: seen.append(entry.seq))
    bus.publish(Event("receipt", 5.0, "acct", {"message_id": "m9", "provider": "sinch"}))
    unsubscribe()
    bus.publish(Event("mo", 6.0, "acct", {}))
    (entry, _) = list(journal)
    assert (entry.kind, entry.account, entry.message_id, entry.provider) == (
        "receipt",
        "acct",
        "m9",
        "sinch",
    )
    assert seen == [1] and entry.as_dict()["data"]["provider"] == "sinch"
