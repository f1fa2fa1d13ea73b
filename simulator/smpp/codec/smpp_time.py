"""SMPP time strings (`YYMMDDhhmmsstnnp`, SMPP 3.4 section 7.1.1), parsed to seconds.

Absolute times end in `+` or `-` (offset from UTC in quarter hours `nn`); relative times end in
`R` and count years, months, days, hours, minutes and seconds from now. An empty string means
"use the SMSC default".
"""

from __future__ import annotations

from datetime import UTC, datetime

from simulator.smpp.codec.constants import CommandStatus
from simulator.smpp.codec.errors import CodecError


def parse_smpp_time(
    value: str, now_epoch: float, *, status: int = CommandStatus.ESME_RINVEXPIRY
) -> float | None:
    """Seconds from `now_epoch` until the given time (negative if in the past); None if empty."""
    if not value:
        return None
    digits = value[:15]
    if len(value) != 16 or not (digits.isascii() and digits.isdigit()) or value[15] not in "+-R":
        raise CodecError(f"time {value!r} is not of the form YYMMDDhhmmsstnnp", status)
    yy, mo, dd, hh, mi, ss = (int(value[i : i + 2]) for i in range(0, 12, 2))
    tenths = int(value[12])
    quarters = int(value[13:15])
    kind = value[15]
    if kind == "R":
        # Relative: months as 30 days and years as 365, as SMSCs commonly do.
        return float(((yy * 365 + mo * 30 + dd) * 24 + hh) * 3600 + mi * 60 + ss) + tenths / 10
    if not (1 <= mo <= 12 and 1 <= dd <= 31 and hh < 24 and mi < 60 and ss < 60 and quarters <= 48):
        raise CodecError(f"time {value!r} has a field out of range", status)
    offset = quarters * 15 * 60 * (1 if kind == "+" else -1)
    try:
        moment = datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=UTC)
    except ValueError as error:  # 30 February and friends
        raise CodecError(f"time {value!r} is not a real date", status) from error
    epoch = moment.timestamp() - offset + tenths / 10
    return epoch - now_epoch


def format_relative(seconds: float) -> str:
    """Render a relative SMPP time (`...R`) for `seconds` from now (days folded into DD)."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    years, days = divmod(days, 365)
    months, days = divmod(days, 30)
    if years > 99:  # the format has two digits for years: saturate rather than overflow
        years, months, days, hours, minutes, secs = 99, 11, 29, 23, 59, 59
    return f"{years:02d}{months:02d}{days:02d}{hours:02d}{minutes:02d}{secs:02d}000R"
