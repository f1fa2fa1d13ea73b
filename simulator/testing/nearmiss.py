"""The near-miss report: why a wait gave up, told so the fix is obvious.

When `wait_for_receipts(2, stat="DELIVRD")` times out, "timed out" alone sends the reader to
a debugger. The report instead lists everything of that kind that did arrive and, for each
arrival, which filter it failed and with what value ("stat is 'UNDELIV', wanted 'DELIVRD'"),
so a wrong number, a wrong expectation or a client that never answered shows at a glance.
Pure text from records: the golden file `tests/golden/near_miss_report.txt` pins the format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.testing.records import Record, describe, mismatches

#: Arrivals listed in full; the rest are counted.
MAX_LISTED = 20

_PLURAL = {"submit": "submits", "receipt": "receipts", "webhook": "webhooks"}
_HINTS = {
    "submit": "no message reached the simulator: did the application connect to "
    "smpp_address (or http_url) and send?",
    "receipt": "no receipt was answered by a client: a receipt is recorded once a bound "
    "receiver (or transceiver) answers its deliver_sm, and only for messages sent with "
    "registered_delivery set",
    "webhook": "no callback was attempted: webhooks go to the URL the application gave "
    "with its HTTP request",
}


def _noun(kind: str, count: int) -> str:
    return kind if count == 1 else _PLURAL.get(kind, f"{kind}s")


def _filters_text(filters: Mapping[str, Any]) -> str:
    if not filters:
        return ""
    return " with " + ", ".join(f"{name}={value!r}" for name, value in filters.items())


def near_miss_report(
    kind: str,
    wanted: int,
    filters: Mapping[str, Any],
    arrivals: Sequence[Record],
    timeout: float,
    *,
    clock_now: float | None = None,
    pending_timers: int = 0,
) -> str:
    """The text of the `AssertionError` a timed-out wait raises."""
    matched = sum(1 for record in arrivals if not mismatches(record, filters))
    lines = [
        f"dlrsim: waited {timeout:g} s for {wanted} {_noun(kind, wanted)}"
        f"{_filters_text(filters)}; {matched} matched."
    ]
    if clock_now is not None:
        left = "no timer" if not pending_timers else f"{pending_timers} timer(s)"
        lines.append(f"The virtual clock stands at {clock_now:g} s, with {left} left to fire.")
    if not arrivals:
        lines.append(f"Nothing arrived: {_HINTS.get(kind, 'the journal has no such entry')}.")
        return "\n".join(lines)
    lines.append(f"{len(arrivals)} {_noun(kind, len(arrivals))} arrived:")
    for number, record in enumerate(arrivals[:MAX_LISTED], 1):
        lines.append(f"  {number}. {describe(record)}")
        failed = mismatches(record, filters)
        lines.append("     did not match: " + "; ".join(failed) if failed else "     matched")
    if len(arrivals) > MAX_LISTED:
        lines.append(f"  ... and {len(arrivals) - MAX_LISTED} more")
    return "\n".join(lines)
