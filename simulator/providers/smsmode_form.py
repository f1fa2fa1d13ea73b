"""smsmode legacy HTTP API 1.6: form decoding, validation and the pipe-separated answers.

Pure functions, no I/O: `decode_form` turns a query string or form body into text (smsmode asks
for ISO-8859-15; UTF-8 is accepted too), `parse_send` checks a sendSMS.do request and either
returns a `SendRequest` or raises `ApiError`, whose `line()` is the plain-text answer
(`35 | Missing parameter: numero`). Every answer of this API, errors included, is HTTP 200.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

#: The API's own result codes (sendSMS.do and the other *.do calls) and their texts.
ACCEPTED = 0
INTERNAL_ERROR = 31
AUTHENTICATION_ERROR = 32
INSUFFICIENT_CREDIT = 33
MISSING_PARAMETER = 35  # also used here for a parameter that is present but unusable
TEMPORARILY_UNAVAILABLE = 50
API_TEXT: dict[int, str] = {
    ACCEPTED: "Accepted",
    INTERNAL_ERROR: "Internal error",
    AUTHENTICATION_ERROR: "Authentication error",
    INSUFFICIENT_CREDIT: "Insufficient credit",
    MISSING_PARAMETER: "Missing parameter",
    TEMPORARILY_UNAVAILABLE: "Temporarily unavailable",
}

#: Longest text accepted: this many concatenated SMS parts (`nbr_msg` may lower it).
MAX_PARTS = 10
#: smsmode caps a GET request at 300 recipients (POST has no documented cap).
MAX_GET_RECIPIENTS = 300
MAX_REF_CLIENT = 40
MAX_ALPHA_SENDER = 11
MAX_NUMERIC_SENDER = 15
DATE_ENVOI_FORMAT = "%d%m%Y-%H:%M"  # ddMMyyyy-HH:mm


class ApiError(Exception):
    """A request the API answers with an error line instead of an smsID."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        super().__init__(detail or API_TEXT.get(code, ""))
        self.code = code
        self.detail = detail

    def line(self) -> str:
        return f"{self.code} | {self.detail or API_TEXT[self.code]}"


@dataclass
class SendRequest:
    """A checked sendSMS.do request."""

    recipients: list[str]
    message: str
    sender: str = ""
    ref_client: str | None = None
    notification_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def decode_form(raw: bytes, charset: str | None = None) -> dict[str, str]:
    """Name -> value of a urlencoded query or body (the last of repeated names wins).

    Percent-decoded bytes are read as the declared charset, else as UTF-8 when they are valid
    UTF-8, else as ISO-8859-15 (what smsmode's own examples send).
    """
    text = raw.decode("latin-1")  # keeps every byte; percent escapes stay ASCII
    out: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
        out[_decode(name.encode("latin-1"), charset)] = _decode(value.encode("latin-1"), charset)
    return out


def _decode(data: bytes, charset: str | None) -> str:
    declared = (charset or "").lower().replace("_", "-")
    if declared in ("utf-8", "utf8"):
        return data.decode("utf-8", "replace")
    if declared.startswith(("iso-8859", "latin", "windows-125", "cp125")):
        return data.decode("iso-8859-15", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-15")


def normalise_number(raw: str) -> str | None:
    """A recipient in international form without '+' (336...), or None when unusable.

    `+` and `00` prefixes are dropped; a 10-digit national French number (06..., 07...) gets the
    33 country code, as smsmode reports such numbers back in international form.
    """
    number = raw.strip().replace(" ", "").replace(".", "").replace("-", "")
    if number.startswith("+"):
        number = number[1:]
    elif number.startswith("00"):
        number = number[2:]
    elif number.startswith("0") and len(number) == 10:
        number = "33" + number[1:]
    if not number.isascii() or not number.isdigit() or not 8 <= len(number) <= 15:
        return None
    return number


def parse_send(
    params: Mapping[str, str], *, is_get: bool, part_count: Callable[[str], int]
) -> SendRequest:
    """Check a sendSMS.do request; raises `ApiError` (code 35) for a missing or bad parameter."""
    numero = params.get("numero", "").strip()
    if not numero:
        if params.get("groupe"):
            raise ApiError(
                MISSING_PARAMETER, "Invalid parameter: groupe (not simulated; use numero)"
            )
        raise ApiError(MISSING_PARAMETER, "Missing parameter: numero")
    message = params.get("message", "")
    if not message:
        raise ApiError(MISSING_PARAMETER, "Missing parameter: message")
    recipients: list[str] = []
    for raw in numero.split(","):
        if not raw.strip():
            continue
        number = normalise_number(raw)
        if number is None:
            raise ApiError(MISSING_PARAMETER, f"Invalid parameter: numero ({raw.strip()[:32]})")
        if number not in recipients:
            recipients.append(number)
    if not recipients:
        raise ApiError(MISSING_PARAMETER, "Missing parameter: numero")
    if is_get and len(recipients) > MAX_GET_RECIPIENTS:
        raise ApiError(
            MISSING_PARAMETER,
            f"Invalid parameter: numero (more than {MAX_GET_RECIPIENTS} on GET; use POST)",
        )
    limit = MAX_PARTS
    nbr_msg = params.get("nbr_msg", "").strip()
    if nbr_msg:
        if not nbr_msg.isdigit() or not 1 <= int(nbr_msg) <= MAX_PARTS:
            raise ApiError(MISSING_PARAMETER, f"Invalid parameter: nbr_msg (1 to {MAX_PARTS})")
        limit = int(nbr_msg)
    if part_count(message) > limit:
        raise ApiError(MISSING_PARAMETER, f"Invalid parameter: message (longer than {limit} SMS)")
    sender = params.get("emetteur", "").strip()
    if sender and (len(sender) > (MAX_NUMERIC_SENDER if sender.isdigit() else MAX_ALPHA_SENDER)):
        raise ApiError(MISSING_PARAMETER, "Invalid parameter: emetteur (too long)")
    ref = params.get("refClient") or None
    if ref is not None and len(ref) > MAX_REF_CLIENT:
        raise ApiError(
            MISSING_PARAMETER, f"Invalid parameter: refClient (over {MAX_REF_CLIENT} characters)"
        )
    url = params.get("notification_url", "").strip() or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(MISSING_PARAMETER, "Invalid parameter: notification_url")
    extra: dict[str, str] = {}
    date_envoi = params.get("date_envoi", "").strip()
    if date_envoi:
        try:
            time.strptime(date_envoi, DATE_ENVOI_FORMAT)
        except ValueError:
            raise ApiError(
                MISSING_PARAMETER, "Invalid parameter: date_envoi (ddMMyyyy-HH:mm)"
            ) from None
        extra["date_envoi"] = date_envoi
    for name in ("classe_msg", "stop", "nbr_msg", "notification_url_reponse"):
        if params.get(name):
            extra[name] = params[name]
    return SendRequest(recipients, message, sender, ref, url, extra)


def report_time(epoch: float) -> str:
    """date_reception of a delivery report: yyyy-MM-dd HH:mm:ss (UTC here)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def reply_time(epoch: float) -> str:
    """date_reception of an inbound (MO) callback: ddMMyyyy-HHmmss (UTC here)."""
    return time.strftime("%d%m%Y-%H%M%S", time.gmtime(epoch))
