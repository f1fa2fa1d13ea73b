"""A tiny synchronous event bus: the SMSC reports what happened, subscribers listen.

Kept deliberately small: logging, counters and (later) the journal subscribe here. Publishing
with no subscribers costs one attribute check, so the hot path pays nothing when nobody listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Event:
    kind: str  # "bind", "unbind", "submit", "receipt", "mo", "session", "error"
    time: float
    account: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    @property
    def active(self) -> bool:
        return bool(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            subscriber(event)
