"""What a test reads back: journal entries as small typed records, and filters over them.

The journal is the one source of truth (see `store/journal.py`); these records only give its
entries names and types a test can assert on. A receipt entry carries no account or address
of its own, so those come from the submit entry of the same message. Filters are keyword
arguments naming record fields (`to` is short for `destination`); a filter value is compared
with `==`, or called when it is a function, or searched when it is a compiled regex.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.store.journal import JournalEntry

#: Filter names that stand for a field of another name.
ALIASES = {"to": "destination", "sender": "source"}


@dataclass(frozen=True)
class Submit:
    """A message part the simulator took (or refused) at submit time."""

    seq: int
    time: float
    message_id: str | None
    account: str | None
    source: str | None
    destination: str | None
    text: str | None
    status: int  # the SMPP command_status answered (0: accepted)
    accepted: bool
    rule: str | None  # the scenario rule that decided (or "test number", "text directive")
    outcome: str | None  # what the plan said: a catalog key, "reject ESME_...", ...
    reason: str | None  # why it was refused, for refused ones
    transport: str | None
    provider: str | None
    part_index: int
    part_count: int
    registered_delivery: int | None

    SHOWN = ("message_id", "destination", "text", "status", "outcome", "reason")


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt the client answered (or that could not be delivered)."""

    seq: int
    time: float
    message_id: str | None
    account: str | None
    source: str | None
    destination: str | None
    stat: str | None
    err: str | None
    outcome: str  # delivered, refused, expired or gave_up
    status: int | None  # the deliver_sm_resp command_status, when there was one
    attempts: int

    SHOWN = ("message_id", "destination", "stat", "err", "outcome")


@dataclass(frozen=True)
class Webhook:
    """One attempt at a provider callback (delivery report) to the application's URL."""

    seq: int
    time: float
    message_id: str | None
    account: str | None
    provider: str | None
    kind: str | None  # delivery, sent, mo
    url: str | None
    method: str | None
    attempt: int
    status_code: int | None
    outcome: str | None  # delivered, refused, retry, gave_up
    error: str | None
    body: str | None

    SHOWN = ("message_id", "url", "status_code", "outcome", "attempt")

    def json(self) -> Any:
        """The request body parsed as JSON."""
        return None if self.body is None else json.loads(self.body)


Record = Submit | Receipt | Webhook
KIND_TYPES: dict[str, type[Submit] | type[Receipt] | type[Webhook]] = {
    "submit": Submit,
    "receipt": Receipt,
    "webhook": Webhook,
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def submit_from(entry: JournalEntry) -> Submit:
    data = entry.data
    status = _int(data.get("status"))
    return Submit(
        seq=entry.seq,
        time=entry.time,
        message_id=entry.message_id,
        account=entry.account,
        source=_text(data.get("source")),
        destination=_text(data.get("destination")),
        text=_text(data.get("text")),
        status=status,
        accepted=status == 0,
        rule=_text(data.get("rule")),
        outcome=_text(data.get("outcome")),
        reason=_text(data.get("reason")),
        transport=_text(data.get("transport")),
        provider=entry.provider,
        part_index=_int(data.get("part_index"), 1),
        part_count=_int(data.get("part_count"), 1),
        registered_delivery=data.get("registered_delivery"),
    )


def receipt_from(entry: JournalEntry, submit: JournalEntry | None) -> Receipt:
    data = entry.data
    origin = submit.data if submit is not None else {}
    return Receipt(
        seq=entry.seq,
        time=entry.time,
        message_id=entry.message_id,
        account=entry.account or (submit.account if submit is not None else None),
        source=_text(origin.get("source")),
        destination=_text(origin.get("destination")),
        stat=_text(data.get("stat")),
        err=_text(data.get("err")),
        outcome=str(data.get("outcome")),
        status=data.get("status"),
        attempts=_int(data.get("attempts")),
    )


def webhook_from(entry: JournalEntry) -> Webhook:
    data = entry.data
    return Webhook(
        seq=entry.seq,
        time=entry.time,
        message_id=entry.message_id,
        account=entry.account,
        provider=entry.provider,
        kind=_text(data.get("kind")),
        url=_text(data.get("url")),
        method=_text(data.get("method")),
        attempt=_int(data.get("attempt"), 1),
        status_code=data.get("status_code"),
        outcome=_text(data.get("outcome")),
        error=_text(data.get("error")),
        body=_text(data.get("body")),
    )


def records(kind: str, entries: Iterable[JournalEntry]) -> list[Record]:
    """Records of one kind (`submit`, `receipt` or `webhook`) from journal entries, in order."""
    if kind == "submit":
        return [submit_from(e) for e in entries if e.kind == "submit"]
    if kind == "webhook":
        return [webhook_from(e) for e in entries if e.kind == "webhook"]
    if kind == "receipt":
        listed = list(entries)
        submits = {e.message_id: e for e in listed if e.kind == "submit" and e.message_id}
        return [
            receipt_from(e, submits.get(e.message_id or "")) for e in listed if e.kind == "receipt"
        ]
    raise ValueError(f"unknown record kind {kind!r}")


# -- filters ------------------------------------------------------------------------------------


def normalise_filters(kind: str, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve aliases and refuse names the record type does not have (a typo must not pass)."""
    record_type = KIND_TYPES[kind]
    names = [f.name for f in dataclasses.fields(record_type)]
    out: dict[str, Any] = {}
    for name, value in filters.items():
        field_name = ALIASES.get(name, name)
        if field_name not in names:
            raise TypeError(
                f"{kind} records have no field {name!r}; filter on one of {', '.join(names)}"
            )
        out[field_name] = value
    return out


def _wanted(value: Any) -> str:
    if isinstance(value, re.Pattern):
        return f"to match /{value.pattern}/"
    if callable(value):
        return f"to satisfy {getattr(value, '__name__', 'a predicate')}"
    return f"{value!r}"


def mismatches(record: Record, filters: Mapping[str, Any]) -> list[str]:
    """One phrase per filter the record fails, e.g. `stat is 'UNDELIV', wanted 'DELIVRD'`."""
    out = []
    for name, wanted in filters.items():
        actual = getattr(record, name)
        if isinstance(wanted, re.Pattern):
            ok = isinstance(actual, str) and wanted.search(actual) is not None
        elif callable(wanted):
            predicate: Callable[[Any], Any] = wanted
            ok = bool(predicate(actual))
        else:
            ok = actual == wanted
        if not ok:
            out.append(f"{name} is {actual!r}, wanted {_wanted(wanted)}")
    return out


def matches(record: Record, filters: Mapping[str, Any]) -> bool:
    return not mismatches(record, filters)


def describe(record: Record) -> str:
    """The fields that tell arrivals apart, in a fixed order (those without a value left out;
    SMPP statuses in hex, as the specification writes them)."""
    shown = []
    for name in record.SHOWN:
        value = getattr(record, name)
        if value is None:
            continue
        if name == "status" and isinstance(value, int):
            shown.append(f"status=0x{value:X}")
        else:
            shown.append(f"{name}={value!r}")
    return " ".join(shown)
