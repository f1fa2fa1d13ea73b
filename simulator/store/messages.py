"""Accepted messages and their current state.

Pure data: no I/O, no timers. The SMSC owns the timers that move a message along its plan;
this store only remembers where each message is, so query_sm, cancel_sm, replace_sm and the
receipts all read one record. Finished messages are evicted oldest-first beyond `max_finished`;
messages still in flight are never evicted, so nothing accepted is silently lost.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class MessageRecord:
    message_id: str
    account: str
    source_addr: str
    destination_addr: str
    source_ton: int = 0
    source_npi: int = 0
    dest_ton: int = 0
    dest_npi: int = 0
    service_type: str = ""
    data_coding: int = 0
    esm_class: int = 0
    body: bytes = b""
    registered_delivery: int = 0
    submitted_at: float = 0.0  # simulated epoch seconds
    expires_at: float = 0.0  # simulated clock seconds (Clock.now) when validity ends
    state: int = 1  # message_state value (1 = ENROUTE)
    stat: str = "ENROUTE"
    err: str = "000"
    done_at: float | None = None
    final: bool = False
    part_index: int = 1
    part_count: int = 1
    concat_ref: int | None = None
    transport: str = "smpp"
    provider: str | None = None  # provider whose API or SMPP flavour took it
    catalog_key: str | None = None  # catalog entry of the current state, when known
    extra: dict[str, Any] = field(default_factory=dict)  # transport-specific fields
    rule: str | None = None  # the scenario rule that decided its fate
    lost: bool = False  # its receipts are lost on purpose (scenario)
    plan: tuple[Any, ...] = ()  # the planned steps (engine Steps), for the journal views
    history: list[tuple[float, str, str]] = field(default_factory=list)


class MessageStore:
    def __init__(self, max_finished: int = 100_000) -> None:
        self.max_finished = max_finished
        self._records: dict[str, MessageRecord] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self.on_clear: list[Callable[[], None]] = []  # observers of clear() (the SQLite store)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[MessageRecord]:
        return iter(list(self._records.values()))

    def add(self, record: MessageRecord, key: str | None = None) -> None:
        """Store a record under its message id (or `key`: submit_multi's extra destinations)."""
        key = key or record.message_id
        if key in self._records:
            raise KeyError(f"message id {key} is already in use")
        self._records[key] = record

    def get(self, message_id: str) -> MessageRecord | None:
        return self._records.get(message_id)

    def mark_finished(self, record: MessageRecord, key: str | None = None) -> None:
        """Make a final message eligible for eviction once the store is over its bound."""
        self._finished[key or record.message_id] = None
        while len(self._finished) > self.max_finished:
            old_id, _ = self._finished.popitem(last=False)
            self._records.pop(old_id, None)

    def clear(self) -> None:
        self._records.clear()
        self._finished.clear()
        for observer in self.on_clear:
            observer()
