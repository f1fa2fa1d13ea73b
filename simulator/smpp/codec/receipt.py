"""The delivery receipt text of SMPP 3.4 Appendix B: render it, and parse what SMSCs really send.

Strategy: rendering is one f-string per field. Parsing is tolerant because receipts in the wild
vary (see shared/reference/users.md): `Text:` or `text:`, fields dropped or reordered, 10, 12
or 14 digit dates, all-zero placeholder dates, free-form stat and err values. The `text:` label
is found first and everything after it is the message text (so a text that contains words like
"stat:" cannot confuse the parser); the fields before it are read with one compiled regex.
Only when id or stat is missing before the text is the text taken to end at the next label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from simulator.smpp.codec.constants import STATE_BY_STAT, CommandStatus
from simulator.smpp.codec.errors import CodecError

__all__ = [
    "ReceiptParseError",
    "ReceiptText",
    "date_stamp",
    "format_receipt",
    "parse_receipt",
]


class ReceiptParseError(CodecError):
    """A receipt text without the id or stat a client needs to match and classify it.

    The status is the one a receiving ESME would answer the deliver_sm with (permanent error).
    """

    def __init__(self, message: str, status: int = CommandStatus.ESME_RX_P_APPN) -> None:
        super().__init__(message, status)


def _format_date(value: datetime | None, seconds: bool) -> str:
    if value is None:
        return "000000000000" if seconds else "0000000000"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    stamp = (
        f"{value.year % 100:02d}{value.month:02d}{value.day:02d}{value.hour:02d}{value.minute:02d}"
    )
    return f"{stamp}{value.second:02d}" if seconds else stamp


@dataclass(frozen=True, slots=True)
class ReceiptText:
    """The fields of a receipt text. None means the field is absent (dates: a zero placeholder).

    Dates are naive UTC; `err` and `stat` are kept exactly as written.
    """

    id: str
    sub: int | None
    dlvrd: int | None
    submit_date: datetime | None
    done_date: datetime | None
    stat: str
    err: str | None
    text: str | None

    @property
    def state(self) -> int | None:
        """The message_state value of a standard stat (case-insensitive), else None."""
        return STATE_BY_STAT.get(self.stat.upper())

    def render(self, *, text_label: str = "text", date_seconds: bool = False) -> str:
        """The receipt as an SMSC writes it into short_message; `text` keeps 20 characters.

        Absent sub, dlvrd, err and text fields are left out; absent dates are written as zeros.
        """
        out = [f"id:{self.id}"]
        if self.sub is not None:
            out.append(f"sub:{self.sub:03d}")
        if self.dlvrd is not None:
            out.append(f"dlvrd:{self.dlvrd:03d}")
        out.append(f"submit date:{_format_date(self.submit_date, date_seconds)}")
        out.append(f"done date:{_format_date(self.done_date, date_seconds)}")
        out.append(f"stat:{self.stat}")
        if self.err is not None:
            out.append(f"err:{self.err}")
        if self.text is not None:
            out.append(f"{text_label}:{self.text[:20]}")
        return " ".join(out)


def format_receipt(
    message_id: str,
    dlvrd: int,
    submit_stamp: str,
    done_stamp: str,
    stat: str,
    err: str,
    text: str,
    text_label: str = "text",
) -> str:
    """The common receipt (sub:001, all fields present) from preformatted date stamps.

    The simulator's hot path: no datetime objects, one f-string. Same output as
    `ReceiptText(...).render()` for a receipt with sub 1 and every field given.
    """
    return (
        f"id:{message_id} sub:001 dlvrd:{dlvrd:03d} submit date:{submit_stamp} "
        f"done date:{done_stamp} stat:{stat} err:{err} {text_label}:{text[:20]}"
    )


def date_stamp(epoch: float, *, seconds: bool = False) -> str:
    """`YYMMDDhhmm` (or `YYMMDDhhmmss`) in UTC for an epoch time."""
    return _format_date(datetime.fromtimestamp(epoch, UTC), seconds)


_LABEL: Final = r"(?:id|sub|dlvrd|submit[\s_]*date|done[\s_]*date|stat|err|text)"
# A field is `label:value`; spaces after the colon are skipped unless the next token is itself
# a label (then the value is empty, as in `sub: dlvrd:001`).
_FIELD_RE: Final = re.compile(
    r"(?<!\S)(?P<key>id|sub|dlvrd|submit[\s_]*date|done[\s_]*date|stat|err)\s*:"
    rf"(?:[ \t]+(?!{_LABEL}\s*:))?(?P<value>\S*)",
    re.IGNORECASE,
)
_TEXT_RE: Final = re.compile(r"(?<!\S)text\s*:", re.IGNORECASE)
_KEYS: Final = {
    "id": "id",
    "sub": "sub",
    "dlvrd": "dlvrd",
    "submit date": "submit",
    "done date": "done",
    "stat": "stat",
    "err": "err",
}


def _collect(receipt: str, start: int, end: int, found: dict[str, str]) -> None:
    for match in _FIELD_RE.finditer(receipt, start, end):
        raw = match["key"].lower()
        key = _KEYS.get(raw) or ("submit" if raw.startswith("submit") else "done")
        found.setdefault(key, match["value"])


def _number(value: str | None) -> int | None:
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def _parse_date(value: str | None) -> datetime | None:
    """10 (YYMMDDhhmm), 12 (YYMMDDhhmmss) or 14 (yyyyMMddHHmmss) digits; else None."""
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    size = len(value)
    try:
        if size in (10, 12):
            second = int(value[10:12]) if size == 12 else 0
            return datetime(
                2000 + int(value[0:2]),
                int(value[2:4]),
                int(value[4:6]),
                int(value[6:8]),
                int(value[8:10]),
                second,
            )
        if size == 14:
            return datetime(
                int(value[0:4]),
                int(value[4:6]),
                int(value[6:8]),
                int(value[8:10]),
                int(value[10:12]),
                int(value[12:14]),
            )
    except ValueError:  # all-zero placeholders and impossible dates
        return None
    return None


def parse_receipt(receipt: str) -> ReceiptText:
    """Read a receipt text; raises ReceiptParseError when it has no id or no stat."""
    found: dict[str, str] = {}
    text_match = _TEXT_RE.search(receipt)
    if text_match is None:
        _collect(receipt, 0, len(receipt), found)
        text = None
    else:
        _collect(receipt, 0, text_match.start(), found)
        text = receipt[text_match.end() :]
        if "id" not in found or "stat" not in found:
            # the text is not the last field: it ends where the next label starts
            following = _FIELD_RE.search(receipt, text_match.end())
            if following is not None:
                _collect(receipt, following.start(), len(receipt), found)
                text = receipt[text_match.end() : following.start()].rstrip()
    message_id = found.get("id")
    stat = found.get("stat")
    if not message_id:
        raise ReceiptParseError(f"receipt has no id: field: {receipt[:80]!r}")
    if not stat:
        raise ReceiptParseError(f"receipt has no stat: field: {receipt[:80]!r}")
    return ReceiptText(
        id=message_id,
        sub=_number(found.get("sub")),
        dlvrd=_number(found.get("dlvrd")),
        submit_date=_parse_date(found.get("submit")),
        done_date=_parse_date(found.get("done")),
        stat=stat,
        err=found.get("err"),
        text=text,
    )
