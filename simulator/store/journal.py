"""The journal: everything observable, in order, in one bounded in-memory log.

Every event (bind, unbind, submit and its verdict, each receipt and its delivery, each webhook
attempt, MO, fault applied, scenario change) becomes one `JournalEntry` with a sequence number.
The pytest helpers, the control API, MQTT and the web UI all read it, so they can never
disagree. Pure data: waiting is built on `subscribe` by the layers that own an event loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

KINDS = ("bind", "unbind", "submit", "status", "receipt", "webhook", "mo", "fault", "scenario")


class JournalEntry(NamedTuple):
    """One journaled event (a NamedTuple: cheap to make, immutable, ordered by `seq`)."""

    seq: int
    time: float  # simulated epoch seconds
    kind: str
    account: str | None = None
    provider: str | None = None
    message_id: str | None = None
    data: dict[str, Any] = {}  # noqa: RUF012 - never mutated; entries always pass their own

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "account": self.account,
            "provider": self.provider,
            "message_id": self.message_id,
            "data": self.data,
        }


Filter = Callable[[JournalEntry], bool]


class Journal:
    """A bounded log: beyond `max_entries` the oldest entries go (and are counted)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.dropped = 0
        self._entries: deque[JournalEntry] = deque()
        self._next_seq = 1
        self._slack = max_entries // 100  # 0 for small journals: their bound stays exact
        self._by_message: dict[str, list[JournalEntry]] = {}
        self._subscribers: tuple[Callable[[JournalEntry], None], ...] = ()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def append(
        self,
        kind: str,
        time: float,
        *,
        account: str | None = None,
        provider: str | None = None,
        message_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> JournalEntry:
        seq = self._next_seq
        self._next_seq = seq + 1
        entry = JournalEntry(
            seq, time, kind, account, provider, message_id, {} if data is None else data
        )
        entries = self._entries
        entries.append(entry)
        if message_id:
            bucket = self._by_message.get(message_id)
            if bucket is None:
                self._by_message[message_id] = [entry]
            else:
                bucket.append(entry)
        if len(entries) > self.max_entries + self._slack:
            self._evict_oldest()
        for subscriber in self._subscribers:
            subscriber(entry)
        return entry

    def _evict_oldest(self) -> None:
        """Drop the oldest entries down to `max_entries`, in one batch.

        Eviction runs once per `_slack` appends rather than on every one (the journal may hold
        up to 1% more than its bound between batches), and each message's index bucket is
        trimmed once per batch instead of once per entry.
        """
        entries = self._entries
        touched: set[str] = set()
        while len(entries) > self.max_entries:
            old = entries.popleft()
            self.dropped += 1
            if old.message_id:
                touched.add(old.message_id)
        oldest = entries[0].seq if entries else self._next_seq
        for message_id in touched:
            bucket = self._by_message.get(message_id)
            if bucket is None:
                continue
            kept = [entry for entry in bucket if entry.seq >= oldest]
            if kept:
                self._by_message[message_id] = kept
            else:
                del self._by_message[message_id]

    def record_event(self, event: Any) -> None:
        """EventBus subscriber: journal an `Event` (kind, time, account, data)."""
        data = event.data
        message_id = data.get("message_id")
        provider = data.get("provider")
        self.append(
            event.kind,
            event.time,
            account=event.account,
            provider=provider if provider.__class__ is str else None,
            message_id=message_id if message_id.__class__ is str else None,
            data=data,
        )

    def subscribe(self, callback: Callable[[JournalEntry], None]) -> Callable[[], None]:
        self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    def for_message(self, message_id: str) -> list[JournalEntry]:
        return list(self._by_message.get(message_id, ()))

    def find(
        self,
        kind: str | Iterable[str] | None = None,
        *,
        account: str | None = None,
        provider: str | None = None,
        message_id: str | None = None,
        since: int = 0,
        where: Filter | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first (`since`: after that seq)."""
        kinds = None if kind is None else ({kind} if isinstance(kind, str) else set(kind))
        source: Iterable[JournalEntry] = (
            self._by_message.get(message_id, ()) if message_id else self._entries
        )
        out = []
        for entry in source:
            if entry.seq <= since:
                continue
            if kinds is not None and entry.kind not in kinds:
                continue
            if account is not None and entry.account != account:
                continue
            if provider is not None and entry.provider != provider:
                continue
            if where is not None and not where(entry):
                continue
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
        return out

    def count(self, kind: str | Iterable[str] | None = None, **filters: Any) -> int:
        return len(self.find(kind, **filters))

    def clear(self) -> None:
        self._entries.clear()
        self._by_message.clear()
        self.dropped = 0
