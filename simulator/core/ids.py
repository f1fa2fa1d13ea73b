"""Message-id generators in the shapes real SMSCs and providers use.

Ids come from a seeded `random.Random`, so the same seed and the same traffic give the same
ids (tests and bug reports can be replayed). Uniqueness within a run is guaranteed by a counter
mixed into every id, not by luck.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Literal

IdFormat = Literal["hex", "decimal", "uuid", "uuid_upper", "alnum"]
ID_FORMATS: tuple[str, ...] = ("hex", "decimal", "uuid", "uuid_upper", "alnum")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class MessageIdGenerator:
    """Makes unique ids of one format; `next_id()` is called once per accepted message part."""

    def __init__(self, fmt: str = "hex", seed: int | None = None, length: int | None = None):
        if fmt not in ID_FORMATS:
            raise ValueError(f"unknown message-id format {fmt!r}; expected one of {ID_FORMATS}")
        self.format = fmt
        self._random = random.Random(seed)
        self._counter = 0
        self._length = length
        makers: dict[str, Callable[[], str]] = {
            "hex": self._hex,
            "decimal": self._decimal,
            "uuid": self._uuid,
            "uuid_upper": lambda: self._uuid().upper(),
            "alnum": self._alnum,
        }
        self._make = makers[fmt]

    def next_id(self) -> str:
        self._counter += 1
        return self._make()

    def _hex(self) -> str:
        # 16 hex digits: 40 random bits then a 24-bit counter, so ids never repeat in a run
        # of up to 16.7M messages and still look random to a client.
        width = self._length or 16
        random_bits = self._random.getrandbits(max(4, (width - 6) * 4))
        text = f"{random_bits:x}{self._counter & 0xFFFFFF:06x}"
        return text[-width:].rjust(width, "0")

    def _decimal(self) -> str:
        width = self._length or 10
        prefix_digits = max(1, width - 7)
        prefix = self._random.randrange(10 ** (prefix_digits - 1), 10**prefix_digits)
        return f"{prefix}{self._counter % 10**7:07d}"[-width:]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=(self._random.getrandbits(96) << 32) | self._counter, version=4))

    def _alnum(self) -> str:
        width = self._length or 12
        body = "".join(self._random.choice(_ALNUM) for _ in range(max(1, width - 4)))
        counter = self._counter
        tail = []
        for _ in range(4):
            counter, digit = divmod(counter, len(_ALNUM))
            tail.append(_ALNUM[digit])
        return body + "".join(reversed(tail))
