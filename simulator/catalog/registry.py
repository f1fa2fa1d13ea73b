"""All loaded provider catalogs, indexed for the lookups the engine makes per message.

Strategy: every index (by key, by name, by code, by channel, by outcome) is built once when the
registry is created, and the results of lookups and successor searches are memoised per
registry instance, so a lookup on the hot path is a couple of dict reads. The registry is
read-only after construction; the memo dicts only ever grow with answers that cannot change.

Channels: an entry whose channel is `all` (codes a provider shares between its SMS, media and
chat products) matches every channel; `channel=None` means "any channel".
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

from simulator.catalog.loader import (
    CatalogError,
    catalog_files,
    default_catalog_dir,
    load_catalogs,
)
from simulator.catalog.model import Catalog, Entry, EntryKind, OutcomeClass

#: Channel value of entries that apply to every channel of the provider.
ANY_CHANNEL = "all"

_LOOKUP_MEMO_LIMIT = 65536

OUTCOME_CLASSES: tuple[OutcomeClass, ...] = get_args(OutcomeClass)


class _ProviderIndex:
    """The lookup tables of one catalog."""

    __slots__ = (
        "by_code",
        "by_key",
        "by_name",
        "by_number",
        "catalog",
        "channel_entries",
        "successors",
    )

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_key: dict[str, Entry] = {entry.key: entry for entry in catalog.entries}
        self.by_name: dict[str, list[Entry]] = {}
        self.by_code: dict[str, list[Entry]] = {}
        self.by_number: dict[int, list[Entry]] = {}  # numeric codes, so "007" finds "7"
        for entry in catalog.entries:
            self.by_name.setdefault(entry.name.casefold(), []).append(entry)
            if entry.code is not None:
                self.by_code.setdefault(entry.code, []).append(entry)
                if entry.code.isdigit():
                    self.by_number.setdefault(int(entry.code), []).append(entry)
        self.channel_entries: dict[str | None, tuple[Entry, ...]] = {None: tuple(catalog.entries)}
        self.successors: dict[str, frozenset[str]] = {}

    def in_channel(self, channel: str | None) -> tuple[Entry, ...]:
        cached = self.channel_entries.get(channel)
        if cached is None:
            cached = tuple(e for e in self.catalog.entries if _fits(e, None, channel))
            self.channel_entries[channel] = cached
        return cached


def _fits(entry: Entry, kind: EntryKind | None, channel: str | None) -> bool:
    if kind is not None and entry.kind != kind:
        return False
    return channel is None or entry.channel in (channel, ANY_CHANNEL)


def _scope(kind: EntryKind | None, channel: str | None, *, plural: bool = False) -> str:
    """`sms error`, `statuses`, `whatsapp entries`: words for messages about a lookup filter."""
    noun: str = kind or "entry"
    if plural:
        noun = {"status": "statuses", "error": "errors"}.get(noun, "entries")
    return f"{channel} {noun}" if channel else noun


class CatalogRegistry:
    """The catalogs of all providers, with fast lookups by key, name or provider code."""

    def __init__(self, catalogs: Iterable[Catalog]) -> None:
        self._indexes: dict[str, _ProviderIndex] = {}
        for catalog in sorted(catalogs, key=lambda c: c.provider):
            if catalog.provider in self._indexes:
                raise CatalogError(f"provider {catalog.provider!r} is defined twice")
            self._indexes[catalog.provider] = _ProviderIndex(catalog)
        self._lookups: dict[tuple[str, str, str | None, str | None], Entry] = {}

    def providers(self) -> list[str]:
        """Provider ids, sorted."""
        return list(self._indexes)

    def catalogs(self) -> list[Catalog]:
        """Every catalog, sorted by provider id."""
        return [index.catalog for index in self._indexes.values()]

    def get(self, provider: str) -> Catalog:
        """The catalog of `provider`; an unknown provider names the known ones."""
        return self._index(provider).catalog

    def __contains__(self, provider: object) -> bool:
        return provider in self._indexes

    def entries(self, provider: str, channel: str | None = "sms") -> list[Entry]:
        """Entries of one channel (plus the channel-independent ones), in catalog order."""
        return list(self._index(provider).in_channel(channel))

    def by_outcome(
        self, provider: str, channel: str | None = "sms"
    ) -> dict[OutcomeClass, list[Entry]]:
        """Entries grouped by outcome class; every class is present, possibly empty."""
        grouped: dict[OutcomeClass, list[Entry]] = {outcome: [] for outcome in OUTCOME_CLASSES}
        for entry in self._index(provider).in_channel(channel):
            grouped[entry.outcome].append(entry)
        return grouped

    def lookup(
        self,
        provider: str,
        code_or_name_or_key: str | int,
        *,
        kind: EntryKind | None = None,
        channel: str | None = "sms",
    ) -> Entry:
        """Find one entry by key, else by name (any case), else by the provider's code.

        A code shared by several entries (ClickSend's 301, say) is an error that lists them, so
        a scenario never silently picks one.
        """
        query = str(code_or_name_or_key).strip()
        memo_key = (provider, query, kind, channel)
        found = self._lookups.get(memo_key)
        if found is not None:
            return found
        index = self._index(provider)
        found = self._find(index, query, kind, channel)
        if len(self._lookups) < _LOOKUP_MEMO_LIMIT:  # odd spellings must not grow it forever
            self._lookups[memo_key] = found
        return found

    def final_successors(self, provider: str, key: str) -> frozenset[str]:
        """Keys of the final entries reachable from `key` by following `next` (through
        intermediate states only); empty for a final entry that lists no successors."""
        index = self._index(provider)
        cached = index.successors.get(key)
        if cached is not None:
            return cached
        if key not in index.by_key:
            close = difflib.get_close_matches(key, index.by_key, n=5, cutoff=0.6)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise CatalogError(f"{provider} has no entry with key {key!r}{hint}")
        finals: set[str] = set()
        seen = {key}
        pending = list(index.by_key[key].next)
        while pending:
            successor = index.by_key[pending.pop()]
            if successor.key in seen:
                continue
            seen.add(successor.key)
            if successor.final:
                finals.add(successor.key)
            else:
                pending.extend(successor.next)
        result = frozenset(finals)
        index.successors[key] = result
        return result

    # --- internals ---------------------------------------------------------------------------

    def entry_for_step(
        self,
        provider: str,
        *,
        step_provider: str | None,
        catalog_key: str | None,
        stat: str,
        final: bool,
    ) -> Entry:
        """`provider`'s entry for a timeline step, so each provider renders in its own codes.

        A step planned in this provider's codes names its entry. A step from elsewhere (the
        plain timeline, or a scenario written in another provider's codes) maps by its SMPP
        stat: DELIVRD to the delivered status, a non-final step to the initial status, any
        other to the first SMS entry with the same stat and finality.
        """
        index = self._index(provider)
        catalog = index.catalog
        if step_provider == provider and catalog_key in index.by_key:
            return index.by_key[catalog_key]
        if stat == "DELIVRD" and final:
            return index.by_key[catalog.delivered_status]
        if not final:
            return index.by_key[catalog.initial_status]
        for entry in catalog.entries:
            if entry.channel == "sms" and entry.final and entry.smpp.stat == stat:
                return entry
        return index.by_key[catalog.delivered_status]

    def _index(self, provider: str) -> _ProviderIndex:
        index = self._indexes.get(provider)
        if index is None:
            known = ", ".join(self._indexes) or "none loaded"
            raise CatalogError(f"unknown provider {provider!r}; known providers: {known}")
        return index

    def _find(
        self, index: _ProviderIndex, query: str, kind: EntryKind | None, channel: str | None
    ) -> Entry:
        provider = index.catalog.provider
        by_key = index.by_key.get(query)
        if by_key is None:
            by_key = index.by_key.get(query.upper())
        if by_key is not None:
            if _fits(by_key, kind, channel):
                return by_key
            raise CatalogError(
                f"{provider} entry {by_key.key} ({by_key.channel} {by_key.kind}) is outside "
                f"this lookup, which only takes {_scope(kind, channel, plural=True)}"
            )
        candidates: tuple[tuple[str, list[Entry]], ...] = (
            ("name", index.by_name.get(query.casefold(), [])),
            ("code", index.by_code.get(query, [])),
        )
        if query.isdigit() and query not in index.by_code:
            candidates += (("code", index.by_number.get(int(query), [])),)
        for what, table in candidates:
            matches = [entry for entry in table if _fits(entry, kind, channel)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                keys = ", ".join(entry.key for entry in matches)
                raise CatalogError(
                    f"{provider} {what} {query!r} matches {len(matches)} "
                    f"{_scope(kind, channel, plural=True)}: {keys}; look it up by key instead"
                )
        raise CatalogError(self._unknown(index, query, kind, channel))

    def _unknown(
        self, index: _ProviderIndex, query: str, kind: EntryKind | None, channel: str | None
    ) -> str:
        provider = index.catalog.provider
        message = f"{provider} has no {_scope(kind, channel)} with key, name or code {query!r}"
        elsewhere = [
            entry
            for entry in (
                *index.by_name.get(query.casefold(), ()),
                *index.by_code.get(query, ()),
            )
            if not _fits(entry, kind, channel)
        ]
        if elsewhere:
            listed = ", ".join(f"{e.key} ({e.channel} {e.kind})" for e in elsewhere[:5])
            return f"{message}; it exists outside this filter: {listed}"
        pool: dict[str, Entry] = {}
        for entry in index.in_channel(channel):
            if _fits(entry, kind, None):
                pool.setdefault(entry.key.casefold(), entry)
                pool.setdefault(entry.name.casefold(), entry)
        close = difflib.get_close_matches(query.casefold(), pool, n=8, cutoff=0.6)
        shown = list(dict.fromkeys(_describe(pool[match]) for match in close))[:5]
        return f"{message}; closest: {', '.join(shown)}" if shown else message


def _describe(entry: Entry) -> str:
    """`KEY`, or `KEY (name)` when the name reads differently from the key."""
    if entry.name.casefold().replace(" ", "_") == entry.key.casefold():
        return entry.key
    return f"{entry.key} ({entry.name})"


def load_registry(directory: Path | None = None) -> CatalogRegistry:
    """Load every catalog of `directory` (default: see `default_catalog_dir`) into a registry.

    Parsed registries are shared while the files are unchanged: parsing all catalogs takes
    about half a second, and a test suite starts many simulators. A registry is read-only
    (its lookup memos only ever add answers that cannot change), so sharing is safe.
    """
    folder = (directory or default_catalog_dir()).resolve()
    signature = tuple(
        (path.name, path.stat().st_mtime_ns, path.stat().st_size) for path in catalog_files(folder)
    )
    return _cached_registry(folder, signature)


@functools.lru_cache(maxsize=8)
def _cached_registry(folder: Path, signature: tuple[tuple[str, int, int], ...]) -> CatalogRegistry:
    return CatalogRegistry(load_catalogs(folder).values())
