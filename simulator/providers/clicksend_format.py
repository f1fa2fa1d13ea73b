"""ClickSend's REST v3 shapes: the response envelope, send results, receipts, rules, inbound.

Pure functions and data, no I/O: `clicksend.py` parses requests and calls these to build the
bodies. Field names and JSON types follow the official SDK's models (clicksend-python-v2:
`SendSms`, `SmsSendSms`, `SmsReceipt`, `SmsDeliveryReceiptRule`, ...), because its pydantic
models are strict: an int where a string is declared makes the whole response unreadable.
"""

from __future__ import annotations

import math
import re
import string
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simulator.catalog.model import Entry

#: HTTP status of each response_code ClickSend uses for a whole request.
HTTP_CODES: dict[str, int] = {
    "SUCCESS": 200,
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_FOUND": 405,
    "TOO_MANY_REQUESTS": 429,
    "INTERNAL_SERVER_ERROR": 500,
}

#: Default response_msg of a whole-request refusal the scenario asks for.
REFUSAL_MESSAGES: dict[str, str] = {
    "BAD_REQUEST": "The request was refused as invalid.",
    "UNAUTHORIZED": "The account may not send this request.",
    "FORBIDDEN": "This account may not use this resource.",
    "NOT_FOUND": "The resource was not found.",
    "METHOD_NOT_FOUND": "This method is not allowed here.",
    "TOO_MANY_REQUESTS": "Too many requests: slow down and try again later.",
    "INTERNAL_SERVER_ERROR": "The request failed on the server: try again later.",
}

#: ClickSend's application status codes: the per-message `status` of a send result.
MESSAGE_STATUSES: frozenset[str] = frozenset(
    {
        "SUCCESS",
        "MISSING_CREDENTIALS",
        "ACCOUNT_NOT_ACTIVATED",
        "INVALID_RECIPIENT",
        "THROTTLED",
        "INVALID_SENDER_ID",
        "INSUFFICIENT_CREDIT",
        "INVALID_CREDENTIALS",
        "COUNTRY_NOT_ENABLED",
        "ALREADY_EXISTS",
        "EMPTY_MESSAGE",
        "TOO_MANY_RECIPIENTS",
        "MISSING_REQUIRED_FIELDS",
        "INVALID_SCHEDULE",
        "NOT_ENOUGH_PERMISSION_TO_LIST_ID",
        "INTERNAL_ERROR",
        "INVALID_LANG",
        "INVALID_VOICE",
        "SUBJECT_REQUIRED",
        "INVALID_MEDIA_FILE",
        "SOMETHING_IS_WRONG",
        "REGISTRATION_NEEDED",
    }
)
#: The status a scenario refusal gets when it names nothing ClickSend itself would say.
GENERIC_REFUSAL = "SOMETHING_IS_WRONG"

QUEUED_MSG = "Messages queued for delivery."
MAX_MESSAGES = 1000  # messages in one send request
MAX_PARTS = 8  # longest body accepted: 8 parts (1224 GSM-7 characters, 536 UCS-2)
PRICE_PER_PART = 0.0792  # AUD, the example price in ClickSend's own documentation
CURRENCY: dict[str, str] = {
    "currency_name_short": "AUD",
    "currency_prefix_d": "$",
    "currency_prefix_c": "c",
    "currency_name_long": "Australian Dollars",
    "min_recharge_amount": "20.00",
    "max_recharge_amount": "10000.00",
}
PAGE_DEFAULT, PAGE_MIN, PAGE_MAX = 15, 15, 100  # the `limit` bounds the SDK enforces

_PHONE = re.compile(r"^\+?\d{5,15}$")
_SEPARATORS = re.compile(r"[\s\-().]")


class RequestError(Exception):
    """The whole request is refused: rendered as the envelope with this response_code."""

    def __init__(self, response_code: str, message: str) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.message = message


def envelope(response_code: str, message: str, data: Any = None) -> tuple[int, dict[str, Any]]:
    """ClickSend's envelope around every answer, with the HTTP status it is sent with."""
    http_code = HTTP_CODES[response_code]
    return http_code, {
        "http_code": http_code,
        "response_code": response_code,
        "response_msg": message,
        "data": data,
    }


def account_ids(system_id: str) -> tuple[int, int]:
    """Stable user_id and subaccount_id for an account (ClickSend sends both as integers)."""
    raw = system_id.encode("utf-8")
    return zlib.crc32(raw) % 900_000 + 100_000, zlib.crc32(b"sub:" + raw) % 900_000 + 100_000


def clean_number(value: str) -> str:
    return _SEPARATORS.sub("", value.strip())


def valid_number(number: str) -> bool:
    """A plausible E.164 (or national) number: digits only after an optional +."""
    return _PHONE.match(number) is not None


def price(parts: int) -> float:
    return round(parts * PRICE_PER_PART, 4)


# -- send ------------------------------------------------------------------------------------
@dataclass
class Draft:
    """One message of a send request, after the request-level checks."""

    index: int
    to: str | None
    body: str | None
    sender: str | None
    source: str | None
    schedule: int | None
    custom_string: str | None
    country: str | None
    list_id: str | None
    contact_id: str | None
    from_email: str | None
    problem: str | None = None  # per-message status when the message cannot be queued


def _text(item: dict[str, Any], key: str, index: int) -> str | None:
    value = item.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError("BAD_REQUEST", f"messages[{index}].{key} must be a string.")
    return str(value)


def parse_send(payload: Any, part_count: Any) -> list[Draft]:
    """Check a decoded send request; a request-level fault raises `RequestError`."""
    if not isinstance(payload, dict):
        raise RequestError("BAD_REQUEST", "The request body must be a JSON object.")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("BAD_REQUEST", "The messages field must be a non-empty array.")
    if len(messages) > MAX_MESSAGES:
        raise RequestError(
            "BAD_REQUEST", f"At most {MAX_MESSAGES} messages can be sent in one request."
        )
    drafts = []
    for index, item in enumerate(messages):
        if not isinstance(item, dict):
            raise RequestError("BAD_REQUEST", f"messages[{index}] must be a JSON object.")
        body = _text(item, "body", index)
        if body is not None and part_count(body) > MAX_PARTS:
            raise RequestError(
                "BAD_REQUEST",
                f"messages[{index}].body is too long: at most {MAX_PARTS} SMS parts "
                "(1224 GSM characters or 536 Unicode characters).",
            )
        to = _text(item, "to", index)
        draft = Draft(
            index=index,
            to=None if to is None else clean_number(to),
            body=body,
            sender=_text(item, "from", index),
            source=_text(item, "source", index),
            schedule=None,
            custom_string=_text(item, "custom_string", index),
            country=_text(item, "country", index),
            list_id=_text(item, "list_id", index),
            contact_id=_text(item, "contact_id", index),
            from_email=_text(item, "from_email", index),
        )
        schedule = item.get("schedule")
        if schedule not in (None, "", 0):
            try:
                draft.schedule = int(str(schedule))
            except ValueError:
                draft.problem = "INVALID_SCHEDULE"
        if not draft.to:
            draft.problem = (
                "NOT_ENOUGH_PERMISSION_TO_LIST_ID" if draft.list_id else "MISSING_REQUIRED_FIELDS"
            )
        elif body is None:
            draft.problem = "MISSING_REQUIRED_FIELDS"
        elif not body.strip():
            draft.problem = "EMPTY_MESSAGE"
        elif not valid_number(draft.to):
            draft.problem = "INVALID_RECIPIENT"
        drafts.append(draft)
    return drafts


def sent_message(
    draft: Draft,
    *,
    now: int,
    message_id: str | None,
    parts: int,
    status: str,
    user_id: int,
    subaccount_id: int,
) -> dict[str, Any]:
    """One element of `data.messages` in the send answer (SDK model `SmsSendSms`)."""
    queued = status == "SUCCESS"
    return {
        "direction": "out",
        "date": now,
        "to": draft.to,
        "body": draft.body,
        "from": draft.sender,
        "schedule": draft.schedule or 0,
        "message_id": message_id,
        "message_parts": parts,
        "message_price": f"{price(parts) if queued else 0.0:.4f}",
        "from_email": draft.from_email,
        "list_id": draft.list_id,
        "custom_string": draft.custom_string or "",
        "contact_id": draft.contact_id,
        "user_id": user_id,
        "subaccount_id": subaccount_id,
        "is_shared_system_number": draft.sender is None,
        "country": draft.country.upper() if draft.country else None,
        "carrier": None,
        "status": status,
    }


def send_data(messages: list[dict[str, Any]], blocked: int) -> dict[str, Any]:
    """`data` of the send answer (SDK model `SendSmsData`)."""
    queued = [m for m in messages if m["status"] == "SUCCESS"]
    return {
        "total_price": float(round(sum(price(m["message_parts"]) for m in queued), 4)),
        "total_count": len(messages),
        "queued_count": len(queued),
        "messages": messages,
        "_currency": dict(CURRENCY),
        "blocked_count": blocked,
    }


# -- receipts --------------------------------------------------------------------------------
def receipt(
    entry: Entry,
    *,
    message_id: str,
    timestamp_send: int,
    timestamp: int,
    custom_string: str | None,
    user_id: int,
    subaccount_id: int,
) -> dict[str, Any]:
    """A delivery receipt with JSON types (SDK model `SmsReceipt` plus status and user_id)."""
    fields = entry.callback
    return {
        "timestamp_send": timestamp_send,
        "timestamp": timestamp,
        "message_id": message_id,
        "status": fields.get("status"),
        "status_code": fields.get("status_code"),
        "status_text": fields.get("status_text"),
        "error_code": fields.get("error_code"),
        "error_text": fields.get("error_text"),
        "custom_string": custom_string,
        "user_id": user_id,
        "subaccount_id": subaccount_id,
        "message_type": "sms",
    }


def as_form(fields: dict[str, Any]) -> dict[str, str]:
    """Form encoding carries text only: null becomes an empty value, numbers their digits."""
    return {key: "" if value is None else str(value) for key, value in fields.items()}


def split_target(url: str) -> tuple[str, bool]:
    """A callback URL without its fragment, and whether the fragment asks for JSON (`#json`).

    The fragment never travels over HTTP, so it is a safe place for the simulator's switch:
    `--callback-url clicksend=http://host/dlr#json`, or a rule's action_address ending in it.
    """
    base, _, fragment = url.partition("#")
    return base, fragment.strip().lower() in ("json", "format=json")


def inbound(
    *,
    message_id: str,
    source: str,
    destination: str,
    text: str,
    timestamp: int,
    original: tuple[str, str, str | None] | None,
    user_id: int,
    subaccount_id: int,
) -> dict[str, Any]:
    """An inbound SMS push as a URL inbound rule delivers it (n8n trigger and SDK examples)."""
    words = text.split()
    return {
        "originalsenderid": destination,
        "body": text,
        "message": text,
        "sms": source,
        "from": source,
        "to": destination,
        "timestamp": timestamp,
        "message_id": message_id,
        "original_message_id": original[0] if original else None,
        "original_body": original[1] if original else None,
        "user_id": user_id,
        "subaccount_id": subaccount_id,
        "custom_string": (original[2] if original else None) or "",
        "_keyword": words[0].strip(string.punctuation).lower() if words else "",
    }


# -- receipt rules ---------------------------------------------------------------------------
@dataclass
class ReceiptRule:
    """One SMS delivery-receipt automation (SDK model `SmsDeliveryReceiptRule`)."""

    receipt_rule_id: int
    account: str
    rule_name: str
    match_type: int
    action: str
    action_address: str
    enabled: int
    webhook_type: str | None = None  # "json" asks for JSON pushes (ClickSend's n8n node sends it)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "receipt_rule_id": self.receipt_rule_id,
            "rule_name": self.rule_name,
            "match_type": self.match_type,
            "action": self.action,
            "action_address": self.action_address,
            "enabled": self.enabled,
        }
        if self.webhook_type is not None:
            data["webhook_type"] = self.webhook_type
        return data

    @property
    def pushes(self) -> bool:
        return bool(self.enabled) and self.action.upper() == "URL"

    @property
    def wants_json(self) -> bool:
        return (self.webhook_type or "").lower() == "json" or split_target(self.action_address)[1]


def _int_field(payload: dict[str, Any], key: str, default: int) -> int:
    value = payload.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise RequestError("BAD_REQUEST", f"The {key} field must be an integer.")


def rule_fields(payload: Any, current: ReceiptRule | None = None) -> dict[str, Any]:
    """Validated rule fields from a create (or, with `current`, an update) request."""
    if not isinstance(payload, dict):
        raise RequestError("BAD_REQUEST", "The request body must be a JSON object.")
    fields: dict[str, Any] = {}
    for key in ("rule_name", "action", "action_address", "webhook_type"):
        value = payload.get(key, getattr(current, key) if current else None)
        if value is not None and not isinstance(value, str):
            raise RequestError("BAD_REQUEST", f"The {key} field must be a string.")
        fields[key] = value
    fields["match_type"] = _int_field(payload, "match_type", current.match_type if current else 0)
    fields["enabled"] = _int_field(payload, "enabled", current.enabled if current else 1)
    if not fields["rule_name"]:
        raise RequestError("BAD_REQUEST", "The rule_name field is required.")
    if not fields["action"]:
        raise RequestError("BAD_REQUEST", "The action field is required.")
    address = fields["action_address"] or ""
    if fields["action"].upper() == "URL":
        parts = urlsplit(split_target(address)[0])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RequestError(
                "BAD_REQUEST", "A URL rule needs an http or https URL in action_address."
            )
    fields["action_address"] = address
    return fields


# -- pagination ------------------------------------------------------------------------------
def page_args(query: Any) -> tuple[int, int]:
    """`page` and `limit` query parameters, clamped as ClickSend documents them."""

    def number(name: str, default: int) -> int:
        raw = query.get(name)
        try:
            return int(raw) if raw not in (None, "") else default
        except ValueError:
            raise RequestError("BAD_REQUEST", f"The {name} parameter must be an integer.") from None

    page = max(1, number("page", 1))
    limit = min(PAGE_MAX, max(PAGE_MIN, number("limit", PAGE_DEFAULT)))
    return page, limit


def paginated(items: list[Any], page: int, limit: int, url: str) -> dict[str, Any]:
    """ClickSend's paginated `data` object (`total`, `per_page`, ..., `from`, `to`, `data`)."""
    total = len(items)
    last = max(1, math.ceil(total / limit))
    start = (page - 1) * limit
    chunk = items[start : start + limit]

    def link(number: int) -> str | None:
        return f"{url}?page={number}&limit={limit}" if 1 <= number <= last else None

    return {
        "total": total,
        "per_page": limit,
        "current_page": page,
        "last_page": last,
        "next_page_url": link(page + 1),
        "prev_page_url": link(page - 1),
        "from": start + 1 if chunk else None,
        "to": start + len(chunk) if chunk else None,
        "data": chunk,
    }
