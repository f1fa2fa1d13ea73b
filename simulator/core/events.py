"""A tiny synchronous event bus: the SMSC reports what happened, subscribers listen.

Kept deliberately small: logging, counters and (later) the journal subscribe here. Publishing
with no subscribers costs one attribute check, so the hot path pays nothing when nobody listens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """One thing that happened. A plain slotted class: thousands are made per second."""

    __slots__ = ("account", "data", "kind", "time")

    def __init__(
        self, kind: str, time: float, account: str | None = None, data: dict[str, Any] | None = None
    ) -> None:
        self.kind = kind  # "bind", "unbind", "submit", "status", "receipt", "mo", "fault", ...
        self.time = time
        self.account = account
        self.data: dict[str, Any] = {} if data is None else data

    def __repr__(self) -> str:
        return f"Event({self.kind!r}, {self.time!r}, {self.account!r}, {self.data!r})"


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:  # a tuple: subscribing mid-publish is safe
            subscriber(event)
