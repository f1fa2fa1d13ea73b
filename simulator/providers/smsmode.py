"""smsmode: the legacy HTTP API 1.6 (sendSMS.do, smsStatus.do, compteRendu.do) and its reports.

Requests are form-encoded (GET query or POST body), authenticated by `accessToken` (or the
older `pseudo`/`pass` pair), and every answer is one line of plain text with HTTP 200, errors
included: `0 | Accepted | <smsID>`, `32 | Authentication error`, `35 | Missing parameter: ...`.

One sendSMS.do call gets one smsID however many recipients `numero` lists. Each recipient is
stored as its own message (id = the smsID for a single recipient, `<smsID>-<msisdn>` for
several), runs its own timeline and gets its own delivery reports; compteRendu.do lists the
recipients with their status and smsStatus.do sums the send up in one status.

Delivery reports are GET requests to the send's `notification_url` with numero,
date_reception, statut, smsID, refClient, cost and mcc_mnc, sent whenever a recipient's status
changes (the step that merely confirms the starting "Sent" status sends nothing).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from aiohttp import web

from simulator.catalog.model import Entry
from simulator.core.accounts import Account
from simulator.engine.plan import Step
from simulator.http.webhooks import DEFAULT_RETRY, WebhookRequest
from simulator.providers.base import (
    Accepted,
    Outgoing,
    ProviderAdapter,
    ProviderContext,
    Refused,
)
from simulator.providers.smsmode_form import (
    API_TEXT,
    AUTHENTICATION_ERROR,
    INSUFFICIENT_CREDIT,
    INTERNAL_ERROR,
    MISSING_PARAMETER,
    TEMPORARILY_UNAVAILABLE,
    ApiError,
    decode_form,
    parse_send,
    reply_time,
    report_time,
)
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.store.messages import MessageRecord

SEND_PATH = "/http/1.6/sendSMS.do"
STATUS_PATH = "/http/1.6/smsStatus.do"
REPORT_PATH = "/http/1.6/compteRendu.do"
#: Operator code reported in delivery reports (the documentation's example value).
MCC_MNC = "20801"
#: How many sends compteRendu.do / smsStatus.do remember (oldest forgotten first).
MAX_SENDS = 100_000
#: Catalog keys used to sum up a send whose recipients differ.
MIXED_PENDING, MIXED_SOME_RECEIVED, MIXED_FAILED = "IN_PROGRESS", "PARTIALLY_RECEIVED", "UNDEFINED"

#: Scenario refusals without a catalog entry: SMPP status -> the API's own code.
_REFUSAL_CODES: dict[int, int] = {
    S.ESME_RTHROTTLED: TEMPORARILY_UNAVAILABLE,
    S.ESME_RMSGQFUL: TEMPORARILY_UNAVAILABLE,
    S.ESME_RX_T_APPN: TEMPORARILY_UNAVAILABLE,
    S.ESME_RINVDSTADR: MISSING_PARAMETER,
    S.ESME_RINVSRCADR: MISSING_PARAMETER,
    S.ESME_RINVMSGLEN: MISSING_PARAMETER,
    S.ESME_RINVPASWD: AUTHENTICATION_ERROR,
    S.ESME_RINVSYSID: AUTHENTICATION_ERROR,
}
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Recipient:
    """One recipient of a send: its stored message, or the code it was refused with."""

    msisdn: str
    message_id: str | None
    refused_code: int | None = None
    refused_text: str = ""


class Adapter(ProviderAdapter):
    name = "smsmode"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._sends: OrderedDict[str, tuple[Recipient, ...]] = OrderedDict()
        for key in (MIXED_PENDING, MIXED_SOME_RECEIVED, MIXED_FAILED):
            if key not in self._by_key:
                raise ValueError(f"the smsmode catalog lacks {key}, needed for send summaries")

    def routes(self) -> list[web.RouteDef]:
        routes: list[web.RouteDef] = []
        for path, handler in (
            (SEND_PATH, self._send),
            (STATUS_PATH, self._status),
            (REPORT_PATH, self._report),
        ):
            routes += [web.get(path, handler), web.post(path, handler)]
        return routes

    # -- requests ----------------------------------------------------------------------------
    async def _send(self, request: web.Request) -> web.Response:
        params = await _params(request)
        account = self._account(params)
        if account is None:
            return _answer(ApiError(AUTHENTICATION_ERROR).line())
        try:
            send = parse_send(params, is_get=request.method == "GET", part_count=self.part_count)
        except ApiError as error:
            return _answer(error.line())
        sms_id = self.context.new_id(self.name)
        single = len(send.recipients) == 1
        initial = self.initial_entry().key
        recipients: list[Recipient] = []
        for msisdn in send.recipients:
            outgoing = Outgoing(
                destination=msisdn,
                text=send.message,
                source=send.sender,
                client_id=sms_id if single else f"{sms_id}-{msisdn}",
                client_ref=send.ref_client,
                callback_url=send.notification_url,
                extra={"sms_id": sms_id, "smsmode_key": initial, **send.extra},
            )
            result = self.context.submit(self, account, outgoing, bulk_id=sms_id)
            if isinstance(result, Accepted):
                recipients.append(Recipient(msisdn, result.record.message_id))
            else:
                code, text = self._refusal(result)
                recipients.append(Recipient(msisdn, None, code, text))
        if all(r.message_id is None for r in recipients):
            first = recipients[0]
            return _answer(f"{first.refused_code} | {first.refused_text}")
        self._sends[sms_id] = tuple(recipients)
        while len(self._sends) > MAX_SENDS:
            self._sends.popitem(last=False)
        return _answer(f"0 | {API_TEXT[0]} | {sms_id}")

    async def _status(self, request: web.Request) -> web.Response:
        """smsStatus.do: `code | description` of the whole send."""
        found = await self._lookup(request)
        if isinstance(found, str):
            return _answer(found)
        statuses = [status for _, status in found]
        first = statuses[0]
        if all(status == first for status in statuses):
            code, text = first[0], first[1]
        else:
            if not all(final for _, _, final, _ in statuses):
                key = MIXED_PENDING
            elif any(delivered for _, _, _, delivered in statuses):
                key = MIXED_SOME_RECEIVED
            else:
                key = MIXED_FAILED
            code, text = self._statut(self._by_key[key]), self._by_key[key].name
        return _answer(f"{code} | {text}")

    async def _report(self, request: web.Request) -> web.Response:
        """compteRendu.do: `msisdn status | msisdn status` for every recipient of a send."""
        found = await self._lookup(request)
        if isinstance(found, str):
            return _answer(found)
        return _answer(" | ".join(f"{msisdn} {status[0]}" for msisdn, status in found))

    async def _lookup(
        self, request: web.Request
    ) -> str | list[tuple[str, tuple[int, str, bool, bool]]]:
        """The recipients of the smsID asked about with (code, text, final, delivered) each,
        or the error line to answer."""
        params = await _params(request)
        if self._account(params) is None:
            return ApiError(AUTHENTICATION_ERROR).line()
        sms_id = params.get("smsID", "").strip()
        if not sms_id:
            return ApiError(MISSING_PARAMETER, "Missing parameter: smsID").line()
        recipients = self._sends.get(sms_id)
        if recipients is None:
            record = self.context.store.get(sms_id)  # an SMPP message, or a forgotten send
            recipients = () if record is None else (Recipient(record.destination_addr, sms_id),)
        found: list[tuple[str, tuple[int, str, bool, bool]]] = []
        for recipient in recipients:
            if recipient.message_id is None:
                code = recipient.refused_code or INTERNAL_ERROR
                found.append((recipient.msisdn, (code, recipient.refused_text, True, False)))
                continue
            record = self.context.store.get(recipient.message_id)
            if record is None:  # evicted from the store
                continue
            entry = self._current(record)
            delivered = entry.key == self.catalog.delivered_status
            found.append(
                (recipient.msisdn, (self._statut(entry), entry.name, record.final, delivered))
            )
        if not found:
            return ApiError(MISSING_PARAMETER, f"Invalid parameter: smsID ({sms_id[:40]})").line()
        return found

    def _account(self, params: dict[str, str]) -> Account | None:
        token = params.get("accessToken")
        if token:
            return self.context.authenticate(self.name, None, token)
        user, password = params.get("pseudo"), params.get("pass")
        if user and password:
            return self.context.authenticate(self.name, user, password)
        return None

    def _refusal(self, refused: Refused) -> tuple[int, str]:
        """How sendSMS.do reports a message the scenario refused at submit time."""
        entry = refused.entry
        if entry is not None and entry.key in self._by_key:
            code = self._statut(entry)
            return code, API_TEXT[code] if code == INSUFFICIENT_CREDIT else entry.name
        named = (refused.plan.reject_http or "").strip()
        if named.isdigit() and int(named) in API_TEXT and int(named) != 0:
            return int(named), API_TEXT[int(named)]
        code = _REFUSAL_CODES.get(refused.plan.reject_status or 0, INTERNAL_ERROR)
        return code, API_TEXT[code]

    # -- status ------------------------------------------------------------------------------
    def _current(self, record: MessageRecord) -> Entry:
        """The catalog entry a stored message is in now."""
        entry = self.entry(record.catalog_key)
        if entry is not None and entry.smpp.stat == record.stat:
            return entry
        return self.entry_for_step(Step(0.0, record.stat, record.err, record.final))

    @staticmethod
    def _statut(entry: Entry) -> int:
        value = entry.callback.get("statut", entry.code)
        return int(value) if value is not None else 999

    # -- callbacks ---------------------------------------------------------------------------
    def callbacks(self, record: MessageRecord, step: Step) -> list[WebhookRequest]:
        entry = self.entry_for_step(step)
        previous = record.extra.get("smsmode_key")
        record.extra["smsmode_key"] = entry.key
        url = record.extra.get("callback_url")
        if not url or previous == entry.key:
            return []
        params = {
            "numero": record.destination_addr,
            "date_reception": report_time(self.context.clock.time()),
        }
        params.update({name: str(value) for name, value in entry.callback.items()})
        params["smsID"] = str(record.extra.get("sms_id") or record.message_id)
        ref = record.extra.get("client_ref")
        if ref:
            params["refClient"] = str(ref)
        params["cost"] = str(record.part_count)
        params["mcc_mnc"] = MCC_MNC
        return [
            WebhookRequest(
                provider=self.name,
                url=str(url),
                method="GET",
                content_type=None,
                body=None,
                params=params,
                message_id=record.message_id,
                account=record.account,
                kind="delivery",
                policy=DEFAULT_RETRY,
            )
        ]

    def mo_callback(
        self, *, url: str, source: str, destination: str, text: str, account: str | None
    ) -> WebhookRequest:
        """An inbound SMS as smsmode forwards it: GET with the reply's fields in the query."""
        response_id = self.context.new_id(self.name)
        params = {
            "numero": destination,
            "message": text,
            "emetteur": source,
            "date_reception": reply_time(self.context.clock.time()),
            "responseID": response_id,
        }
        return WebhookRequest(
            provider=self.name,
            url=url,
            method="GET",
            content_type=None,
            body=None,
            params=params,
            message_id=response_id,
            account=account,
            kind="mo",
            policy=DEFAULT_RETRY,
        )


async def _params(request: web.Request) -> dict[str, str]:
    """Query and form fields together (the body wins on a repeated name)."""
    params = decode_form(request.rel_url.raw_query_string.encode("utf-8"))
    if request.method == "POST" and request.can_read_body:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            body = await request.read()
            if request.content_type in (_FORM, "text/plain", "application/octet-stream", ""):
                params.update(decode_form(body, request.charset))
    return params


def _answer(line: str) -> web.Response:
    return web.Response(status=200, text=line, content_type="text/plain", charset="utf-8")
