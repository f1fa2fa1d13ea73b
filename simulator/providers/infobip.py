"""Infobip: the SMS send APIs (v3, v2, v1), delivery-report webhooks, report pull and logs.

Routes, at Infobip's own paths so only the base URL changes in a client or the official SDK:

- `POST /sms/3/messages` (current), `POST /sms/2/text/advanced`, `POST /sms/1/text/single`;
- `GET /sms/3/reports` (each final report is handed out once) and `GET /sms/3/logs`.

Credentials: `Authorization: App <key>`, `Bearer <token>` or `Basic <user:password>`. A
request that breaks the schema gets the API's own 400 body (v3 `ApiError`, v1/v2
`requestError`) and nothing is stored. A message the platform refuses on its own (unusable
number, empty `to`, text over 25 parts or 4000 bytes, duplicate client messageId) or that the
scenario refuses comes back in the 200 response with a REJECTED status object, unstored.

Delivery reports are POSTed as `{"results": [...]}` to `webhooks.delivery.url` (v3), `notifyUrl`
(v2) or the account's configured URL, batched per URL, retried on Infobip's schedule. Pending
steps are reported only when the request set `intermediateReport`; `notify=false` silences all.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from simulator.catalog.model import Entry
from simulator.core.accounts import Account
from simulator.engine.plan import Step
from simulator.http.webhooks import INFOBIP_RETRY, WebhookRequest
from simulator.providers.base import Outgoing, ProviderAdapter, ProviderContext, Refused
from simulator.providers.infobip_bodies import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PARTS,
    MAX_TEXT_BYTES,
    PARSERS,
    PRICE,
    V1,
    V2,
    V3,
    VALID_TO,
    Destination,
    Message,
    RequestInvalid,
    SendRequest,
    error_body,
    log_item,
    report_item,
    timestamp,
    wrap_results,
)
from simulator.store.messages import MessageRecord


class Adapter(ProviderAdapter):
    name = "infobip"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._no_error: dict[str, Any] = dict(self._by_key["NO_ERROR"].callback["error"])
        self._fallback_reject = self._by_key["REJECTED_SYSTEM_ERROR"]

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/sms/3/messages", self._send_v3),
            web.post("/sms/2/text/advanced", self._send_v2),
            web.post("/sms/1/text/single", self._send_v1),
            web.get("/sms/3/reports", self._reports),
            web.get("/sms/3/logs", self._logs),
        ]

    # -- credentials and errors ------------------------------------------------------------
    def _account(self, request: web.Request) -> Account | None:
        scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
        value = value.strip()
        user: str | None = None
        if scheme.lower() == "basic":
            try:
                user, _, value = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
        elif scheme.lower() not in ("app", "bearer"):
            return None
        return self.context.authenticate(self.name, user, value or None)

    @staticmethod
    def _error(
        version: str, status: int, kind: str, violations: list[tuple[str, str]]
    ) -> web.Response:
        return web.json_response(error_body(version, status, kind, violations), status=status)

    # -- sending ---------------------------------------------------------------------------
    async def _send_v3(self, request: web.Request) -> web.Response:
        return await self._send(request, V3)

    async def _send_v2(self, request: web.Request) -> web.Response:
        return await self._send(request, V2)

    async def _send_v1(self, request: web.Request) -> web.Response:
        return await self._send(request, V1)

    async def _send(self, request: web.Request, version: str) -> web.Response:
        account = self._account(request)
        if account is None:
            return self._error(version, 401, "auth", [])
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._error(version, 400, "json", [])
        try:
            parsed = PARSERS[version](body)
        except RequestInvalid as invalid:
            return self._error(version, 400, "fields", invalid.violations)
        return web.json_response(self._accept(account, parsed))

    def _accept(self, account: Account, parsed: SendRequest) -> dict[str, Any]:
        version = parsed.version
        bulk_id = parsed.bulk_id
        if bulk_id is None and (version == V3 or parsed.destination_count > 1):
            bulk_id = self.context.new_id(self.name)
        lines: list[dict[str, Any]] = []
        claimed: set[str] = set()
        for message in parsed.messages:
            parts = self.part_count(message.text)
            too_long = parts > MAX_PARTS or len(message.text.encode("utf-8")) > MAX_TEXT_BYTES
            for destination in message.destinations:
                refusal = self._precheck(destination, too_long, claimed)
                if refusal is not None:
                    message_id = destination.client_id or self.context.new_id(self.name)
                    lines.append(self._line(version, message_id, destination.to, refusal, parts))
                    continue
                outcome = self.context.submit(
                    self, account, self._outgoing(message, destination, version), bulk_id=bulk_id
                )
                if isinstance(outcome, Refused):
                    message_id = destination.client_id or self.context.new_id(self.name)
                    entry = outcome.entry or self._fallback_reject
                    lines.append(self._line(version, message_id, destination.to, entry, parts))
                else:
                    record = outcome.record
                    lines.append(
                        self._line(
                            version, record.message_id, destination.to, self.initial_entry(), parts
                        )
                    )
        response: dict[str, Any] = {} if bulk_id is None else {"bulkId": bulk_id}
        response["messages"] = lines
        return response

    def _precheck(
        self, destination: Destination, too_long: bool, claimed: set[str]
    ) -> Entry | None:
        """The REJECTED status Infobip gives a message it will not take, or None."""
        if not destination.to.strip():
            return self._by_key["MISSING_TO"]
        if not VALID_TO.match(destination.to):
            return self._by_key["REJECTED_DESTINATION"]
        if too_long:
            return self._by_key["REJECTED_MESSAGE_TOO_LONG"]
        client_id = destination.client_id
        if client_id is not None:
            if client_id in claimed or self.context.store.get(client_id) is not None:
                return self._by_key["REJECTED_DUPLICATE_MESSAGE_ID"]
            claimed.add(client_id)
        return None

    @staticmethod
    def _outgoing(message: Message, destination: Destination, version: str) -> Outgoing:
        return Outgoing(
            destination=destination.to,
            text=message.text,
            source=message.sender,
            client_id=destination.client_id,
            client_ref=message.callback_data,
            callback_url=message.callback_url,
            extra={
                "infobip_api": version,
                "infobip_intermediate": message.intermediate,
                "infobip_notify": message.notify,
                "infobip_platform": message.platform,
            },
        )

    def _line(
        self, version: str, message_id: str, to: str, entry: Entry, parts: int
    ) -> dict[str, Any]:
        status = self._status_object(entry)
        if version == V3:
            return {
                "messageId": message_id,
                "status": status,
                "destination": to,
                "details": {"messageCount": parts},
            }
        return {"messageId": message_id, "status": status, "to": to, "smsCount": parts}

    # -- status and error objects ----------------------------------------------------------
    def _status_object(self, entry: Entry) -> dict[str, Any]:
        """An entry's status object; an error reports the status it is paired with."""
        if entry.kind == "error" and entry.with_status is not None:
            entry = self._by_key[entry.with_status]
        status = entry.callback.get("status")
        if status is None:
            status = self._fallback_reject.callback["status"]
        return dict(status)

    def _error_object(self, entry: Entry) -> dict[str, Any]:
        error = entry.callback.get("error") if entry.kind == "error" else None
        return dict(error) if error is not None else dict(self._no_error)

    def _record_entry(self, record: MessageRecord) -> Entry:
        """The catalog entry of a stored message's current state."""
        known = self.entry(record.extra.get("infobip_key"))
        if known is not None:
            return known
        ours = record.catalog_key in self._by_key
        step = Step(
            0.0,
            record.stat,
            record.err,
            record.final,
            catalog_key=record.catalog_key,
            provider=self.name if ours else None,
        )
        return self.entry_for_step(step)

    def _report(
        self, record: MessageRecord, entry: Entry, version: str, done_at: float | None
    ) -> dict[str, Any]:
        """One delivery report (a `results` item), in the field names of the sending API."""
        status, error = self._status_object(entry), self._error_object(entry)
        return report_item(record, version, status, error, done_at)

    # -- callbacks -------------------------------------------------------------------------
    def callbacks(self, record: MessageRecord, step: Step) -> list[WebhookRequest]:
        entry = self.entry_for_step(step)
        record.extra["infobip_key"] = entry.key
        url = record.extra.get("callback_url")
        if not url or record.extra.get("infobip_notify") is False:
            return []
        if not step.final and not record.extra.get("infobip_intermediate"):
            return []
        version = record.extra.get("infobip_api", V3)
        body = self._report(record, entry, version, self.context.clock.time())
        return [
            WebhookRequest(
                provider=self.name,
                url=url,
                body=body,
                message_id=record.message_id,
                account=record.account,
                kind="delivery",
                batch_key=url,
                render_batch=wrap_results,
                policy=INFOBIP_RETRY,
            )
        ]

    def mo_callback(
        self, *, url: str, source: str, destination: str, text: str, account: str | None
    ) -> WebhookRequest:
        """An inbound message as Infobip forwards it (`SmsInboundMessageResult`)."""
        message_id = self.context.new_id(self.name)
        item = {
            "messageId": message_id,
            "from": source,
            "to": destination,
            "text": text,
            "cleanText": text,
            "keyword": "",
            "receivedAt": timestamp(self.context.clock.time()),
            "smsCount": self.part_count(text),
            "price": dict(PRICE),
        }
        return WebhookRequest(
            provider=self.name,
            url=url,
            body={"results": [item], "messageCount": 1, "pendingMessageCount": 0},
            message_id=message_id,
            account=account,
            kind="mo",
            policy=INFOBIP_RETRY,
        )

    # -- pull: reports and logs ------------------------------------------------------------
    def _pull(self, request: web.Request) -> tuple[Account, int] | web.Response:
        """The caller's account and the `limit` of a reports or logs call, or the error."""
        account = self._account(request)
        if account is None:
            return self._error(V3, 401, "auth", [])
        raw = request.query.get("limit")
        if raw is None:
            return account, DEFAULT_LIMIT
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            return self._error(V3, 400, "fields", [("limit", f"must be between 1 and {MAX_LIMIT}")])
        return account, int(raw)

    def _mine(self, account: Account) -> list[MessageRecord]:
        return [
            record
            for record in self.context.store
            if record.provider == self.name and record.account == account.system_id
        ]

    async def _reports(self, request: web.Request) -> web.Response:
        pulled = self._pull(request)
        if isinstance(pulled, web.Response):
            return pulled
        account, limit = pulled
        message_id = request.query.get("messageId")
        bulk_id = request.query.get("bulkId")
        results: list[dict[str, Any]] = []
        for record in self._mine(account):
            if len(results) >= limit:
                break
            if not record.final or record.lost or record.extra.get("infobip_pulled"):
                continue
            if message_id is not None and record.message_id != message_id:
                continue
            if bulk_id is not None and record.extra.get("bulk_id") != bulk_id:
                continue
            record.extra["infobip_pulled"] = True
            results.append(self._report(record, self._record_entry(record), V3, record.done_at))
        return web.json_response({"results": results})

    async def _logs(self, request: web.Request) -> web.Response:
        pulled = self._pull(request)
        if isinstance(pulled, web.Response):
            return pulled
        account, limit = pulled
        query = request.query
        ids = {part for value in query.getall("messageId", []) for part in value.split(",")}
        bulks = {part for value in query.getall("bulkId", []) for part in value.split(",")}
        group = query.get("generalStatus")
        results: list[dict[str, Any]] = []
        for record in reversed(self._mine(account)):
            if len(results) >= limit:
                break
            entry = self._record_entry(record)
            status = self._status_object(entry)
            if (
                (ids and record.message_id not in ids)
                or (bulks and record.extra.get("bulk_id") not in bulks)
                or query.get("destination", record.destination_addr) != record.destination_addr
                or query.get("sender", record.source_addr) != record.source_addr
                or (group is not None and status.get("groupName") != group)
            ):
                continue
            results.append(self._log(record, entry))
        return web.json_response({"results": results})

    def _log(self, record: MessageRecord, entry: Entry) -> dict[str, Any]:
        return log_item(record, self._status_object(entry), self._error_object(entry))
