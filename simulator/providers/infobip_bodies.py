"""Infobip request parsing and body shapes, kept apart from the adapter's wiring.

Three send APIs share one neutral form (`SendRequest`): v3 `POST /sms/3/messages`, v2
`POST /sms/2/text/advanced` and v1 `POST /sms/1/text/single`. Structural problems (no
messages, a destination without `to`, no text, wrong JSON types) raise `RequestInvalid`, which
the adapter answers with the API's own 400 body before anything is stored. Problems Infobip
reports per message (an unusable number, a text that is too long) are not raised here: the
adapter answers those with a REJECTED status in the 200 response, as the platform does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.store.messages import MessageRecord

V1, V2, V3 = "v1", "v2", "v3"

#: Limits from Infobip's documentation and its SDK models.
MAX_PARTS = 25  # REJECTED_MESSAGE_TOO_LONG: more than 25 parts ...
MAX_TEXT_BYTES = 4000  # ... or more than 4000 bytes of text
MAX_TO = 64  # SmsDestination.to
MAX_CLIENT_ID = 200  # SmsDestination.messageId
MAX_CALLBACK_DATA = 4000  # SmsWebhooks.callbackData
MAX_LIMIT = 1000  # reports and logs: at most 1000 per call
DEFAULT_LIMIT = 50  # ... and 50 when no limit is given

#: What every simulated message costs: nothing, in the currency of the docs' examples.
PRICE: dict[str, Any] = {"pricePerMessage": 0.0, "currency": "EUR"}

#: A usable destination: international digits, optionally after a '+'. E.164 allows at most
#: 15 digits; three is the shortest short code we accept.
VALID_TO = re.compile(r"^\+?[0-9]{3,15}$")


class RequestInvalid(Exception):
    """The request breaks the API's schema; `violations` are (property, problem) pairs."""

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {problem}" for path, problem in violations))
        self.violations = violations


@dataclass
class Destination:
    to: str
    client_id: str | None = None


@dataclass
class Message:
    destinations: list[Destination]
    text: str
    sender: str = ""
    callback_url: str | None = None
    intermediate: bool = False
    notify: bool = True
    callback_data: str | None = None
    platform: dict[str, str] | None = None


@dataclass
class SendRequest:
    version: str
    messages: list[Message] = field(default_factory=list)
    bulk_id: str | None = None  # client-supplied bulk id

    @property
    def destination_count(self) -> int:
        return sum(len(message.destinations) for message in self.messages)


class _Reader:
    """Typed field access that collects every violation instead of stopping at the first."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str]] = []

    def fail(self, path: str, problem: str) -> None:
        self.violations.append((path, problem))

    def obj(self, value: Any, path: str, *, required: bool = True) -> dict[str, Any] | None:
        if value is None:
            if required:
                self.fail(path, "must not be null")
            return None
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return None
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            self.fail(path, "must not be null")
            return []
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return []
        if not value:
            self.fail(path, "must not be empty")
        return value

    def text(
        self,
        value: Any,
        path: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        number: bool = False,
    ) -> str | None:
        """A string field; with `number`, a JSON integer is taken too (phone numbers)."""
        if value is None:
            if required:
                self.fail(path, "must not be null")
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, str | int)
            or (isinstance(value, int) and not number)
        ):
            self.fail(path, "must be a string")
            return None
        result = str(value)
        if max_length is not None and len(result) > max_length:
            self.fail(path, f"size must be between 0 and {max_length}")
        return result

    def flag(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, "must be a boolean")
            return default
        return value

    def destination(self, value: Any, path: str) -> Destination | None:
        entry = self.obj(value, path)
        if entry is None:
            return None
        to = self.text(entry.get("to"), f"{path}.to", required=True, max_length=MAX_TO, number=True)
        client_id = self.text(entry.get("messageId"), f"{path}.messageId", max_length=MAX_CLIENT_ID)
        return None if to is None else Destination(to, client_id or None)

    def message_text(self, value: Any, path: str) -> str:
        text = self.text(value, path, required=True)
        if text is not None and not text.strip():
            self.fail(path, "must not be blank")
        return text or ""

    def done(self, request: SendRequest) -> SendRequest:
        if self.violations:
            raise RequestInvalid(self.violations)
        return request


def parse_v3(body: Any) -> SendRequest:
    """`{"messages": [{sender, destinations, content: {text}, webhooks, options}], options}`."""
    read = _Reader()
    root = read.obj(body, "body")
    request = SendRequest(V3)
    if root is None:
        return read.done(request)
    options = read.obj(root.get("options"), "options", required=False) or {}
    schedule = read.obj(options.get("schedule"), "options.schedule", required=False) or {}
    request.bulk_id = read.text(schedule.get("bulkId"), "options.schedule.bulkId") or None
    for i, raw in enumerate(read.items(root.get("messages"), "messages")):
        path = f"messages[{i}]"
        item = read.obj(raw, path)
        if item is None:
            continue
        content = read.obj(item.get("content"), f"{path}.content") or {}
        webhooks = read.obj(item.get("webhooks"), f"{path}.webhooks", required=False) or {}
        delivery = (
            read.obj(webhooks.get("delivery"), f"{path}.webhooks.delivery", required=False) or {}
        )
        message_options = read.obj(item.get("options"), f"{path}.options", required=False) or {}
        platform = read.obj(
            message_options.get("platform"), f"{path}.options.platform", required=False
        )
        message = Message(
            destinations=_destinations(read, item.get("destinations"), path),
            text=read.message_text(content.get("text"), f"{path}.content.text"),
            sender=read.text(item.get("sender"), f"{path}.sender") or "",
            callback_url=read.text(delivery.get("url"), f"{path}.webhooks.delivery.url") or None,
            intermediate=read.flag(
                delivery.get("intermediateReport"),
                f"{path}.webhooks.delivery.intermediateReport",
                False,
            ),
            notify=read.flag(delivery.get("notify"), f"{path}.webhooks.delivery.notify", True),
            callback_data=read.text(
                webhooks.get("callbackData"),
                f"{path}.webhooks.callbackData",
                max_length=MAX_CALLBACK_DATA,
            ),
            platform=_platform(platform),
        )
        request.messages.append(message)
    return read.done(request)


def parse_v2(body: Any) -> SendRequest:
    """`{"bulkId", "messages": [{from, destinations, text, notifyUrl, intermediateReport,
    notify, callbackData}]}`."""
    read = _Reader()
    root = read.obj(body, "body")
    request = SendRequest(V2)
    if root is None:
        return read.done(request)
    request.bulk_id = read.text(root.get("bulkId"), "bulkId") or None
    for i, raw in enumerate(read.items(root.get("messages"), "messages")):
        path = f"messages[{i}]"
        item = read.obj(raw, path)
        if item is None:
            continue
        message = Message(
            destinations=_destinations(read, item.get("destinations"), path),
            text=read.message_text(item.get("text"), f"{path}.text"),
            sender=read.text(item.get("from"), f"{path}.from") or "",
            callback_url=read.text(item.get("notifyUrl"), f"{path}.notifyUrl") or None,
            intermediate=read.flag(
                item.get("intermediateReport"), f"{path}.intermediateReport", False
            ),
            notify=read.flag(item.get("notify"), f"{path}.notify", True),
            callback_data=read.text(
                item.get("callbackData"), f"{path}.callbackData", max_length=MAX_CALLBACK_DATA
            ),
        )
        request.messages.append(message)
    return read.done(request)


def parse_v1(body: Any) -> SendRequest:
    """`{"from", "to": "..." | ["...", ...], "text"}`; reports go to the account's URL."""
    read = _Reader()
    root = read.obj(body, "body")
    request = SendRequest(V1)
    if root is None:
        return read.done(request)
    raw_to = root.get("to")
    targets = raw_to if isinstance(raw_to, list) else [raw_to]
    if isinstance(raw_to, list) and not raw_to:
        read.fail("to", "must not be empty")
    destinations = []
    for i, value in enumerate(targets):
        path = f"to[{i}]" if isinstance(raw_to, list) else "to"
        to = read.text(value, path, required=True, max_length=MAX_TO, number=True)
        if to is not None:
            destinations.append(Destination(to))
    message = Message(
        destinations=destinations,
        text=read.message_text(root.get("text"), "text"),
        sender=read.text(root.get("from"), "from") or "",
    )
    request.messages.append(message)
    return read.done(request)


PARSERS = {V1: parse_v1, V2: parse_v2, V3: parse_v3}


def _destinations(read: _Reader, value: Any, path: str) -> list[Destination]:
    found = []
    for j, raw in enumerate(read.items(value, f"{path}.destinations")):
        destination = read.destination(raw, f"{path}.destinations[{j}]")
        if destination is not None:
            found.append(destination)
    return found


def _platform(value: dict[str, Any] | None) -> dict[str, str] | None:
    if not value:
        return None
    keys = ("entityId", "applicationId")
    kept = {key: value[key] for key in keys if isinstance(value.get(key), str)}
    return kept or None


# -- bodies -------------------------------------------------------------------------------

# Error texts in our own words; the codes and the v2 UNAUTHORIZED text are Infobip's.
_V3_TEXTS = {
    "auth": (
        "Authentication failed: the credentials are missing or not valid.",
        "Send a valid API key in the Authorization header, as 'App <key>'.",
    ),
    "json": (
        "The request body could not be read as JSON.",
        "Send a well-formed JSON body and try again.",
    ),
    "fields": (
        "The request has missing or invalid fields.",
        "Correct the fields listed under violations and send the request again.",
    ),
}
_V2_TEXTS = {
    "auth": ("UNAUTHORIZED", "Invalid login details"),
    "json": ("BAD_REQUEST", "Bad request: the body is not valid JSON"),
    "fields": ("BAD_REQUEST", "Bad request"),
}


def error_body(
    version: str, status: int, kind: str, violations: list[tuple[str, str]]
) -> dict[str, Any]:
    """The error body of a send API (`kind`: auth, json or fields) for an HTTP status."""
    if version == V3:
        description, action = _V3_TEXTS[kind]
        return error_v3(description, action, violations, code=f"E{status}")
    return error_v2(*_V2_TEXTS[kind], violations)


def error_v3(
    description: str, action: str, violations: list[tuple[str, str]], *, code: str
) -> dict[str, Any]:
    """The v3 `ApiError` body: errorCode, description, action, violations, resources."""
    return {
        "errorCode": code,
        "description": description,
        "action": action,
        "violations": [{"property": path, "violation": problem} for path, problem in violations],
        "resources": [],
    }


def error_v2(
    message_id: str, text: str, violations: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The v1/v2 `requestError.serviceException` body (validationErrors when there are any)."""
    detail: dict[str, Any] = {"messageId": message_id, "text": text}
    if violations:
        grouped: dict[str, list[str]] = {}
        for path, problem in violations:
            grouped.setdefault(path, []).append(problem)
        detail["validationErrors"] = grouped
    return {"requestError": {"serviceException": detail}}


def timestamp(epoch: float) -> str:
    """Infobip's `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, in UTC: 2026-01-01T00:00:05.000+0000."""
    millis = round(epoch * 1000)
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}+0000"


def report_item(
    record: MessageRecord,
    version: str,
    status: dict[str, Any],
    error: dict[str, Any],
    done_at: float | None,
) -> dict[str, Any]:
    """One delivery report; v3 names `sender`/`messageCount`, v1 and v2 `from`/`smsCount`."""
    v3 = version == V3
    report: dict[str, Any] = {}
    bulk_id = record.extra.get("bulk_id")
    if bulk_id is not None:
        report["bulkId"] = bulk_id
    report["messageId"] = record.message_id
    report["to"] = record.destination_addr
    if record.source_addr:
        report["sender" if v3 else "from"] = record.source_addr
    report["sentAt"] = timestamp(record.submitted_at)
    if done_at is not None:
        report["doneAt"] = timestamp(done_at)
    report["messageCount" if v3 else "smsCount"] = record.part_count
    report["mccMnc"] = None
    callback_data = record.extra.get("client_ref")
    if callback_data is not None:
        report["callbackData"] = callback_data
    report["price"] = dict(PRICE)
    report["status"] = status
    report["error"] = error
    platform = record.extra.get("infobip_platform")
    if v3 and platform:
        report["platform"] = dict(platform)
    return report


def log_item(
    record: MessageRecord, status: dict[str, Any], error: dict[str, Any]
) -> dict[str, Any]:
    """One `GET /sms/3/logs` result (`SmsLog`)."""
    log: dict[str, Any] = {"sender": record.source_addr, "destination": record.destination_addr}
    bulk_id = record.extra.get("bulk_id")
    if bulk_id is not None:
        log["bulkId"] = bulk_id
    log["messageId"] = record.message_id
    log["sentAt"] = timestamp(record.submitted_at)
    if record.done_at is not None:
        log["doneAt"] = timestamp(record.done_at)
    log["messageCount"] = record.part_count
    log["price"] = dict(PRICE)
    log["status"] = status
    log["error"] = error
    log["content"] = {"text": record.body.decode("utf-8", "replace")}
    log["mccMnc"] = None
    return log


def wrap_results(items: list[Any]) -> dict[str, Any]:
    """Batched delivery reports: one `{"results": [...]}` body per call."""
    return {"results": list(items)}
