"""Shared check of a catalog's flows: from a non-final entry, `next` must lead to a final one."""

from __future__ import annotations

from collections.abc import Mapping

from simulator.catalog.model import Entry


def reaches_final(entries: Mapping[str, Entry], start: Entry) -> bool:
    seen: set[str] = set()
    frontier = list(start.next)
    while frontier:
        key = frontier.pop()
        if key in seen:
            continue
        seen.add(key)
        successor = entries[key]
        if successor.final:
            return True
        frontier.extend(successor.next)
    return False
