"""Sinch Brazil/LATAM (ex-Wavy) payloads: request parsing and the JSON the adapter sends.

Pure functions, no I/O: `parse_message` turns one send request (a JSON object or a GET query
string) into an `Outgoing`; `status_view` works out, from a stored message, which sent-level and
delivered-level statuses it has reached and when; the `*_body` functions render the callbacks,
the status-query items and the MO callback with Sinch's field names and JSON types.

Field facts (shared/reference/providers.md, section 5): ids are UUID strings, carrierId and the
status codes are JSON integers, times come twice, as epoch milliseconds (integer) and as an ISO
8601 UTC string without fractions (`2015-01-08T16:02:09Z`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.catalog.model import Entry
from simulator.engine.plan import Step
from simulator.providers.base import Outgoing
from simulator.store.messages import MessageRecord

MAX_TEXT = 1280  # messageText, characters
MAX_CORRELATION_ID = 64
MAX_EXTRA_INFO = 255
MAX_BULK = 1000  # messages per /v1/send-bulk-sms request
#: One carrier for every simulated message: the pair of the published sent-status example.
CARRIER_ID = 1
CARRIER_NAME = "VIVO"
SENT_SECTION = "sent_status"

_DESTINATION = re.compile(r"^\+?[0-9]{8,15}$")
_INT_FIELDS = ("expiresAt", "expiresInMinutes", "scheduledAt", "delayedInMinutes", "templateId")
_TEXT_FIELDS = (
    "expiresDate",
    "scheduledDate",
    "timeZone",
    "campaignAlias",
    "flowId",
    "subAccount",
    "templateName",
)


class SinchRequestError(Exception):
    """A request Sinch would refuse; `status` is the HTTP status of the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    """The error body (Sinch documents only the HTTP codes, so this shape is our own)."""
    return {"errorCode": status, "errorMessage": message}


# -- request parsing ---------------------------------------------------------------------------
def parse_message(fields: Mapping[str, Any], where: str = "") -> Outgoing:
    """One message from a request's fields (already merged with any bulk defaults)."""
    prefix = f"{where}: " if where else ""

    def bad(message: str) -> SinchRequestError:
        return SinchRequestError(400, prefix + message)

    destination = fields.get("destination")
    if isinstance(destination, int) and not isinstance(destination, bool):
        destination = str(destination)
    if destination is None or destination == "":
        raise bad("destination is required")
    if not isinstance(destination, str):
        raise bad("destination must be a string of digits")
    destination = destination.strip()
    if not _DESTINATION.match(destination):
        raise bad(f"invalid destination {destination!r}: expected 8 to 15 digits with country code")
    text = fields.get("messageText")
    if text is None or text == "":
        raise bad("messageText is required (templates and bot flows are not simulated)")
    if not isinstance(text, str):
        raise bad("messageText must be a string")
    if len(text) > MAX_TEXT:
        raise bad(f"messageText has {len(text)} characters; the limit is {MAX_TEXT}")
    correlation_id = _optional_text(fields, "correlationId", MAX_CORRELATION_ID, bad)
    extra_info = _optional_text(fields, "extraInfo", MAX_EXTRA_INFO, bad)
    options: dict[str, Any] = {}
    flash = fields.get("flashSMS")
    if flash is not None:
        if isinstance(flash, str) and flash.lower() in ("true", "false"):
            flash = flash.lower() == "true"
        if not isinstance(flash, bool):
            raise bad("flashSMS must be true or false")
        options["flashSMS"] = flash
    for name in _INT_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad(f"{name} must be an integer")
        options[name] = value
    for name in _TEXT_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise bad(f"{name} must be a string")
        options[name] = value
    if "scheduledDate" in options:
        scheduled_date(options)  # refuse a malformed date or zone now, not at send time
    window = fields.get("timeWindow")
    if window is not None:
        options["timeWindow"] = _time_window(window, bad)
    params = fields.get("params")
    if params is not None:
        if not isinstance(params, dict):
            raise bad("params must be an object")
        options["params"] = params
    return Outgoing(
        destination=destination.lstrip("+"),
        text=text,
        client_ref=correlation_id,
        extra={"extra_info": extra_info, "sinch_options": options},
    )


def _optional_text(
    fields: Mapping[str, Any], name: str, limit: int, bad: Callable[[str], SinchRequestError]
) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    if len(value) > limit:
        raise bad(f"{name} has {len(value)} characters; the limit is {limit}")
    return value


def _time_window(value: Any, bad: Callable[[str], SinchRequestError]) -> list[int]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise bad("timeWindow must be a list of hours")
    hours = []
    for item in items:
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item)
        if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item <= 23:
            raise bad("timeWindow must hold hours from 0 to 23")
        hours.append(item)
    return hours


def scheduled_date(options: Mapping[str, Any]) -> datetime:
    """`scheduledDate` (yyyy-MM-ddTHH:mm:ss) in `timeZone`, UTC when none is given."""
    try:
        zone = ZoneInfo(options.get("timeZone") or "UTC")
    except (ValueError, ZoneInfoNotFoundError) as error:
        raise SinchRequestError(400, f"unknown timeZone {options.get('timeZone')!r}") from error
    try:
        local = datetime.strptime(options["scheduledDate"], "%Y-%m-%dT%H:%M:%S")
    except ValueError as error:
        raise SinchRequestError(400, "scheduledDate must look like 2017-01-28T02:30:43") from error
    return local.replace(tzinfo=zone)


def schedule_offset(options: Mapping[str, Any], now: float) -> float:
    """Seconds from now until a scheduled message goes out (0: at once).

    `delayedInMinutes` counts from the request; `scheduledAt` is Unix time, read as
    milliseconds like every other Sinch timestamp (a value below 10^11 as seconds);
    `scheduledDate` is a local time in `timeZone`.
    """
    if "delayedInMinutes" in options:
        minutes: int = options["delayedInMinutes"]
        return max(0.0, minutes * 60.0)
    if "scheduledAt" in options:
        value: int = options["scheduledAt"]
        at = value / 1000.0 if value >= 10**11 else float(value)
        return max(0.0, at - now)
    if "scheduledDate" in options:
        return max(0.0, scheduled_date(options).timestamp() - now)
    return 0.0


# -- where a message stands ----------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """One reported status level: its catalog entry, when it happened, which step made it."""

    entry: Entry
    at: float  # simulated epoch seconds
    step: int  # index of the fired step that produced it


@dataclass(frozen=True)
class StatusView:
    sent: Stage | None = None
    delivered: Stage | None = None

    @property
    def signature(self) -> tuple[int, int]:
        """Changes whenever a new status level is reached (the list endpoint's cursor)."""
        return (
            -1 if self.sent is None else self.sent.step,
            -1 if self.delivered is None else self.delivered.step,
        )


def status_view(
    record: MessageRecord,
    entry_for_step: Callable[[Step], Entry],
    sent_success: Entry,
    wall_offset: float,
    fired: int | None = None,
) -> StatusView:
    """The sent-level and delivered-level statuses of a message after `fired` steps.

    The engine puts the provider's initial status (SENT_SUCCESS) before every final outcome,
    but a sent-level failure replaces SENT_SUCCESS rather than following it, so when the plan
    ends in one, the earlier SENT_SUCCESS step is not a status of its own. A delivered-level
    status reached without a sent-level one first implies SENT_SUCCESS at the same moment.
    Steps fire in the order of their delays; `record.history` holds one entry per fired step,
    stamped with the clock's `now()`, which `wall_offset` turns into epoch seconds.
    """
    steps: list[Step] = sorted(record.plan, key=lambda step: step.delay)
    count = len(record.history) if fired is None else fired
    entries = [entry_for_step(step) for step in steps]
    sent_failure = any(
        step.final and entry.section == SENT_SECTION
        for step, entry in zip(steps, entries, strict=True)
    )
    sent: Stage | None = None
    delivered: Stage | None = None
    for index in range(min(count, len(steps), len(record.history))):
        entry = entries[index]
        at = record.history[index][0] + wall_offset
        if entry.section == SENT_SECTION:
            # SENT_SUCCESS before a sent-level failure, or once more: nothing new to report.
            if entry.key == sent_success.key and (sent_failure or sent is not None):
                continue
            sent = Stage(entry, at, index)
        else:
            if sent is None:
                sent = Stage(sent_success, at, index)
            delivered = Stage(entry, at, index)
    return StatusView(sent, delivered)


# -- bodies --------------------------------------------------------------------------------------
def epoch_ms(at: float) -> int:
    return round(at * 1000)


def iso_date(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _head(record: MessageRecord) -> dict[str, Any]:
    return {
        "id": record.message_id,
        "correlationId": record.extra.get("client_ref"),
        "carrierId": CARRIER_ID,
        "carrierName": CARRIER_NAME,
        "destination": record.destination_addr,
    }


def _tail(record: MessageRecord) -> dict[str, Any]:
    extra_info = record.extra.get("extra_info")
    return {"campaignId": None, "extraInfo": "" if extra_info is None else extra_info}


def sent_body(record: MessageRecord, sent: Stage) -> dict[str, Any]:
    """The sent-status callback: the carrier took the message or refused it."""
    return {
        **_head(record),
        **sent.entry.callback,
        "sentAt": epoch_ms(sent.at),
        "sentDate": iso_date(sent.at),
        **_tail(record),
    }


def _sent_times(sent: Stage | None) -> dict[str, Any]:
    at_ms = None if sent is None else epoch_ms(sent.at)
    date = None if sent is None else iso_date(sent.at)
    # Both spellings: the field list says sentAt/sentDate, the published DR example and the
    # status-query table say sentStatusAt/sentStatusDate.
    return {"sentStatusAt": at_ms, "sentStatusDate": date, "sentAt": at_ms, "sentDate": date}


def delivery_body(record: MessageRecord, sent: Stage, delivered: Stage) -> dict[str, Any]:
    """The delivery report (DR): the handset-level result, repeating the sent status."""
    return {
        **_head(record),
        **sent.entry.callback,
        **_sent_times(sent),
        **delivered.entry.callback,
        "deliveredAt": epoch_ms(delivered.at),
        "deliveredDate": iso_date(delivered.at),
        **_tail(record),
    }


def status_item(record: MessageRecord, view: StatusView) -> dict[str, Any]:
    """One entry of `smsStatuses` in the status-query answers; null where nothing happened."""
    sent, delivered = view.sent, view.delivered
    item = _head(record)
    item.update(
        sent.entry.callback if sent is not None else {"sentStatusCode": None, "sentStatus": None}
    )
    item.update(_sent_times(sent))
    if delivered is not None:
        item.update(delivered.entry.callback)
        item.update(deliveredAt=epoch_ms(delivered.at), deliveredDate=iso_date(delivered.at))
    else:
        item.update(
            deliveredStatusCode=None, deliveredStatus=None, deliveredAt=None, deliveredDate=None
        )
    item.update(_tail(record))
    return item


def mo_body(
    *,
    message_id: str,
    source: str,
    short_code: str,
    text: str,
    at: float,
    sub_account: str | None,
    mt: MessageRecord | None,
) -> dict[str, Any]:
    """The inbound (MO) callback, POST JSON form, with the MT it answers when one is known."""
    options = {} if mt is None else mt.extra.get("sinch_options") or {}
    return {
        "id": message_id,
        "subAccount": sub_account,
        "campaignAlias": options.get("campaignAlias"),
        "carrierId": CARRIER_ID,
        "carrierName": CARRIER_NAME,
        "source": source,
        "shortCode": short_code,
        "messageText": text,
        "receivedAt": epoch_ms(at),
        "receivedDate": iso_date(at),
        "mt": None
        if mt is None
        else {
            "id": mt.message_id,
            "correlationId": mt.extra.get("client_ref"),
            "username": mt.account,
            "email": None,
        },
    }
