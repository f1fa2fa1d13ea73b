"""Clickatell's wire shapes as plain data: gateway errors, request checks, response items,
the status callback and the inbound (MO) callback. No I/O here; `clickatell.py` serves them.

Gateway errors are Clickatell's request-level codes (1 bad key, 21 malformed payload, 23 bad
parameter, ...), which are a different list from the message status codes in the catalog:
the two overlap in numbers (23 is a missing parameter here, DELIVERY_FAILURE in a callback),
so the adapter never mixes them. The texts are short phrasings of the codes' names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.catalog.model import Entry

#: Messages allowed in one send request (the Rust SDK's gateway limit; see docs).
MAX_MESSAGES = 100
#: Concatenated parts one message may take (Clickatell's archived concatenation page).
MAX_PARTS = 35

BAD_KEY = 1
INTERNAL_ERROR = 18
INSUFFICIENT_BALANCE = 20
MALFORMED = 21
TOO_MANY_MESSAGES = 22
BAD_PARAMETER = 23
CONTENT_TOO_LONG = 24
INVALID_RECIPIENT = 25
RECIPIENT_NOT_ON_CHANNEL = 27
CHANNEL_NOT_AVAILABLE = 39
RATE_LIMIT = 43

GATEWAY_ERRORS: dict[int, str] = {
    BAD_KEY: "Invalid or missing integration API Key",
    INTERNAL_ERROR: "Internal error",
    INSUFFICIENT_BALANCE: "Insufficient account balance",
    MALFORMED: "Payload data is malformed",
    TOO_MANY_MESSAGES: "Maximum messages per request payload exceeded",
    BAD_PARAMETER: "Invalid or missing parameter",
    CONTENT_TOO_LONG: "Maximum message content size exceeded",
    INVALID_RECIPIENT: "Invalid recipient address",
    RECIPIENT_NOT_ON_CHANNEL: "Recipient not available on channel",
    CHANNEL_NOT_AVAILABLE: "Channel is not available on integration",
    RATE_LIMIT: "Rate limit reached",
}

#: A scenario refusal that names a catalog entry -> the gateway code with the same meaning.
GATEWAY_FOR_ENTRY: dict[str, int] = {
    "INSUFFICIENT_ACCOUNT_BALANCE": INSUFFICIENT_BALANCE,
    "VOLUME_LIMIT": RATE_LIMIT,
    "VOLUME_LIMIT_DAILY": RATE_LIMIT,
    "VOLUME_LIMIT_MONTHLY": RATE_LIMIT,
    "RECIPIENT_DOES_NOT_EXIST": RECIPIENT_NOT_ON_CHANNEL,
}
#: A refusal given only as an SMPP command_status -> gateway code (numbers, not SMPP imports).
GATEWAY_FOR_SMPP_STATUS: dict[int, int] = {
    0x01: CONTENT_TOO_LONG,  # ESME_RINVMSGLEN
    0x0B: INVALID_RECIPIENT,  # ESME_RINVDSTADR
    0x14: RATE_LIMIT,  # ESME_RMSGQFUL
    0x58: RATE_LIMIT,  # ESME_RTHROTTLED
}

_NUMBER = re.compile(r"^\+?[0-9]+$")


def gateway_error(code: int, parameter: str | None = None) -> dict[str, Any]:
    """Clickatell's error object; code 23 names the parameter, with the API's odd " ." ending."""
    description = GATEWAY_ERRORS[code]
    if parameter is not None:
        description = f"{description}: {parameter} ."
    return {"code": code, "description": description}


def refusal_error(entry: Entry | None, reject_status: int | None) -> dict[str, Any]:
    """The gateway error for a message the scenario refused at submit time."""
    if entry is not None:
        return gateway_error(GATEWAY_FOR_ENTRY.get(entry.key, INTERNAL_ERROR))
    code = GATEWAY_FOR_SMPP_STATUS.get(reject_status or 0, INTERNAL_ERROR)
    return gateway_error(code)


@dataclass(frozen=True)
class Checked:
    """One message of a send request after the checks: its echo of `to`, and either the
    fields to send or the per-message error object."""

    to: str
    content: str = ""
    source: str = ""
    client_ref: str | None = None
    error: dict[str, Any] | None = None


def check_message(
    to: Any,
    content: Any,
    channel: Any,
    source: Any,
    client_ref: Any,
    parts_of: Callable[[str], int],
) -> Checked:
    """Validate one message the way the gateway does, first failure wins."""
    echo = to if isinstance(to, str) else ("" if to is None else str(to))

    def fail(code: int, parameter: str | None = None) -> Checked:
        return Checked(echo, error=gateway_error(code, parameter))

    if channel is not None and not isinstance(channel, str):
        return fail(BAD_PARAMETER, "channel")
    if channel is not None and channel.lower() != "sms":
        return fail(CHANNEL_NOT_AVAILABLE)
    if not isinstance(to, str) or not _NUMBER.match(to):
        return fail(BAD_PARAMETER, "to")
    digits = to.removeprefix("+")
    if digits.startswith("0") or not 7 <= len(digits) <= 15:
        return fail(INVALID_RECIPIENT)
    if not isinstance(content, str) or not content:
        return fail(BAD_PARAMETER, "content")
    if parts_of(content) > MAX_PARTS:
        return fail(CONTENT_TOO_LONG)
    if source is not None and not isinstance(source, str):
        return fail(BAD_PARAMETER, "from")
    if client_ref is not None and not isinstance(client_ref, str):
        return fail(BAD_PARAMETER, "clientMessageId")
    return Checked(echo, content, source or "", client_ref)


def accepted_item(message_id: str, to: str) -> dict[str, Any]:
    return {"apiMessageId": message_id, "accepted": True, "to": to, "error": None}


def refused_item(to: str, error: dict[str, Any]) -> dict[str, Any]:
    return {"error": error, "accepted": False, "to": to}


def send_status(items: list[dict[str, Any]]) -> int:
    """202 when every message was taken, 400 when none was, 207 for a mix."""
    taken = sum(1 for item in items if item["accepted"])
    if taken == len(items):
        return 202
    return 400 if taken == 0 else 207


def integration_name(account: str | None) -> str:
    """The portal integration the simulated account stands for (named after the account)."""
    return account or "dlrsim"


def integration_id(account: str | None) -> str:
    """A stable 32-hex id per account, like the ids Clickatell gives integrations."""
    return hashlib.md5(integration_name(account).encode(), usedforsecurity=False).hexdigest()


def status_callback(
    *,
    account: str | None,
    api_key: str,
    message_id: str,
    request_id: str,
    client_ref: str | None,
    to: str,
    source: str,
    entry: Entry,
    timestamp_ms: int,
) -> dict[str, Any]:
    """One status report, flat JSON: message fields, then the entry's statusCode/status/
    statusDescription exactly as the catalog gives them, then epoch milliseconds."""
    body: dict[str, Any] = {
        "integrationName": integration_name(account),
        "apiKey": api_key,
        "messageId": message_id,
        "requestId": request_id,
        "clientMessageId": client_ref or "",
        "to": to,
        "from": source,
    }
    body.update(entry.callback)
    body["timestamp"] = timestamp_ms
    body["channel"] = "sms"
    return body


def mo_callback(
    *,
    account: str | None,
    message_id: str,
    source: str,
    destination: str,
    text: str,
    timestamp_ms: int,
) -> dict[str, Any]:
    """The One API reply callback: an `event.moText` list holding the one inbound SMS."""
    return {
        "integrationId": integration_id(account),
        "integrationName": integration_name(account),
        "event": {
            "moText": [
                {
                    "channel": "sms",
                    "messageId": message_id,
                    "relatedMessageId": None,
                    "relatedClientMessageId": None,
                    "from": source,
                    "to": destination,
                    "timestamp": timestamp_ms,
                    "content": text,
                    "charset": "UTF-8",
                }
            ]
        },
    }
