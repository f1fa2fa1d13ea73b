"""Sinch Brazil/LATAM (ex-Wavy/Movile "Messaging" API): send, status query, callbacks, MO.

Routes, at Sinch's own paths (only the base URL changes in a client):

- `POST /v1/send-sms` (JSON object) and `GET /v1/send-sms` (query string): one message,
  answered `200 [{"id": "<uuid>", "correlationId": ...}]`.
- `POST /v1/send-bulk-sms`: `{"messages": [...], "defaultValues": {...}}`, at most 1000 messages,
  answered `200 {"id": "<batch uuid>", "messages": [{"id": ...}, ...]}`.
- `POST /v1/sms/status/search` (`{"ids": [...], "correlationIds": [...]}`) and
  `GET /v1/sms/status/list` (statuses not returned by the list before), answered
  `{"total": n, "smsStatuses": [...]}` from the shared message store.

Credentials come in the `UserName` and `AuthenticationToken` headers (a GET send may put them
in the query string instead). Every message gets up to two JSON POSTs to the callback URL
configured for `sinch`: the sent-status callback (carrier level), then, only after
sentStatusCode 2, the delivery report (handset level). See docs/providers/sinch.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.accounts import Account
from simulator.engine.plan import Step
from simulator.http.webhooks import DEFAULT_RETRY, WebhookRequest
from simulator.providers.base import Accepted, Outgoing, ProviderAdapter, ProviderContext, Refused
from simulator.providers.sinch_payloads import (
    MAX_BULK,
    SinchRequestError,
    StatusView,
    delivery_body,
    error_body,
    mo_body,
    parse_message,
    schedule_offset,
    sent_body,
    status_item,
    status_view,
)
from simulator.smpp.codec.constants import CommandStatus
from simulator.store.messages import MessageRecord

#: HTTP status for a scenario's submit-time rejection, by the SMPP status it names.
_HTTP_FOR_SMPP: dict[int, int] = {
    int(CommandStatus.ESME_RTHROTTLED): 429,
    int(CommandStatus.ESME_RMSGQFUL): 429,
    int(CommandStatus.ESME_RSYSERR): 500,
    int(CommandStatus.ESME_RINVPASWD): 401,
}
_BULK_ROOT_OPTIONS = (
    "timeWindow",
    "scheduledDate",
    "scheduledAt",
    "delayedInMinutes",
    "expiresAt",
    "expiresInMinutes",
    "expiresDate",
    "timeZone",
    "campaignAlias",
    "flowId",
    "subAccount",
    "templateId",
    "templateName",
)
_LISTED = "sinch_listed"  # record.extra key: the StatusView signature the list last returned


class Adapter(ProviderAdapter):
    name = "sinch"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._sent_success = self.initial_entry()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/send-sms", self._send_single),
            web.get("/v1/send-sms", self._send_single),
            web.post("/v1/send-bulk-sms", self._send_bulk),
            web.post("/v1/sms/status/search", self._status_search),
            web.get("/v1/sms/status/list", self._status_list),
        ]

    # -- send ------------------------------------------------------------------------------
    async def _send_single(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return _unauthorized()
        try:
            if request.method == "GET":
                fields: Mapping[str, Any] = request.query
            else:
                fields = _object(await _json(request), "the request body")
            outgoing = parse_message(fields)
        except SinchRequestError as error:
            return _error(error.status, error.message)
        result = self._submit(account, outgoing)
        if isinstance(result, Refused):
            status, body = self._refusal(result)
            return web.json_response(body, status=status)
        return web.json_response(
            [{"id": result.record.message_id, "correlationId": outgoing.client_ref}]
        )

    async def _send_bulk(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return _unauthorized()
        try:
            body = _object(await _json(request), "the request body")
            outgoings = _bulk_messages(body)
        except SinchRequestError as error:
            return _error(error.status, error.message)
        batch_id = self.context.new_id(self.name)
        items: list[dict[str, Any]] = []
        for outgoing in outgoings:
            result = self._submit(account, outgoing, batch_id)
            if isinstance(result, Accepted):
                items.append({"id": result.record.message_id})
            else:
                items.append({"id": None, **self._refusal(result)[1]})
        return web.json_response({"id": batch_id, "messages": items})

    def _submit(
        self, account: Account, outgoing: Outgoing, bulk_id: str | None = None
    ) -> Accepted | Refused:
        offset = schedule_offset(outgoing.extra["sinch_options"], self.context.clock.time())
        return self.context.submit(self, account, outgoing, bulk_id=bulk_id, offset=offset)

    def _refusal(self, refused: Refused) -> tuple[int, dict[str, Any]]:
        """A scenario's submit-time rejection as an HTTP error (Sinch documents no other way)."""
        plan = refused.plan
        named = plan.reject_http or ""
        if refused.entry is not None:
            status = 400
            message = f"message refused: {refused.entry.name}"
        elif named.isdigit() and 400 <= int(named) <= 599:
            status = int(named)
            message = plan.reason or "message refused"
        else:
            status = _HTTP_FOR_SMPP.get(plan.reject_status or 0, 400)
            message = plan.reason or "message refused"
        body = error_body(status, message)
        if refused.entry is not None:
            body.update(refused.entry.callback)
        return status, body

    # -- status query ----------------------------------------------------------------------
    async def _status_search(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return _unauthorized()
        try:
            body = _object(await _json(request), "the request body")
            ids = _strings(body, "ids")
            refs = set(_strings(body, "correlationIds"))
        except SinchRequestError as error:
            return _error(error.status, error.message)
        if not ids and not refs:
            return _error(400, "give at least one of ids, correlationIds")
        found: dict[str, MessageRecord] = {}
        for message_id in ids:
            record = self.context.store.get(message_id) or self.context.store.get(
                message_id.lower()
            )
            if record is not None and self._owned(record, account):
                found[record.message_id] = record
        if refs:
            for record in self.context.store:
                if self._owned(record, account) and record.extra.get("client_ref") in refs:
                    found.setdefault(record.message_id, record)
        items = [status_item(r, self._view(r)) for r in found.values()]
        return web.json_response({"total": len(items), "smsStatuses": items})

    async def _status_list(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return _unauthorized()
        limit_text = request.query.get("limit", str(MAX_BULK))
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_BULK:
            return _error(400, f"limit must be a number from 1 to {MAX_BULK}")
        limit = int(limit_text)
        items: list[dict[str, Any]] = []
        for record in sorted(self.context.store, key=lambda r: r.submitted_at):
            if len(items) >= limit:
                break
            if not self._owned(record, account):
                continue
            view = self._view(record)
            if view.sent is None or record.extra.get(_LISTED) == view.signature:
                continue
            record.extra[_LISTED] = view.signature
            items.append(status_item(record, view))
        return web.json_response({"total": len(items), "smsStatuses": items})

    def _owned(self, record: MessageRecord, account: Account) -> bool:
        return record.provider == self.name and record.account == account.system_id

    def _view(self, record: MessageRecord, fired: int | None = None) -> StatusView:
        clock = self.context.clock
        return status_view(
            record, self.entry_for_step, self._sent_success, clock.time() - clock.now(), fired
        )

    # -- callbacks -------------------------------------------------------------------------
    def callbacks(self, record: MessageRecord, step: Step) -> list[WebhookRequest]:
        """The sent-status callback and/or delivery report that this step newly produced."""
        url = record.extra.get("callback_url")
        if not url:
            return []
        before = self._view(record, len(record.history) - 1)
        after = self._view(record)
        requests = []
        if after.sent is not None and after.sent != before.sent:
            requests.append(self._request(record, url, "sent", sent_body(record, after.sent)))
        delivered = after.delivered
        if after.sent is not None and delivered is not None and delivered != before.delivered:
            body = delivery_body(record, after.sent, delivered)
            requests.append(self._request(record, url, "delivery", body))
        return requests

    def _request(
        self, record: MessageRecord, url: str, kind: str, body: dict[str, Any]
    ) -> WebhookRequest:
        return WebhookRequest(
            provider=self.name,
            url=url,
            body=body,
            message_id=record.message_id,
            account=record.account,
            kind=kind,
            policy=DEFAULT_RETRY,
        )

    # -- MO ----------------------------------------------------------------------------------
    def mo_callback(
        self, *, url: str, source: str, destination: str, text: str, account: str | None
    ) -> WebhookRequest:
        """An inbound message as Sinch pushes it (POST JSON), linked to the MT it answers."""
        handset = source.lstrip("+")
        latest: MessageRecord | None = None
        for record in self.context.store:
            if record.provider != self.name or record.destination_addr != handset:
                continue
            if account is not None and record.account != account:
                continue
            if latest is None or record.submitted_at >= latest.submitted_at:
                latest = record
        message_id = self.context.new_id(self.name)
        body = mo_body(
            message_id=message_id,
            source=handset,
            short_code=destination,
            text=text,
            at=self.context.clock.time(),
            sub_account=account,
            mt=latest,
        )
        return WebhookRequest(
            provider=self.name,
            url=url,
            body=body,
            message_id=message_id,
            account=account,
            kind="mo",
            policy=DEFAULT_RETRY,
        )

    # -- credentials -----------------------------------------------------------------------
    def _account(self, request: web.Request) -> Account | None:
        user = request.headers.get("UserName")
        token = request.headers.get("AuthenticationToken")
        if request.method == "GET" and (not user or not token):
            query = {key.lower(): value for key, value in request.query.items()}
            user = user or query.get("username")
            token = token or query.get("authenticationtoken")
        if not user or not token:
            return None
        return self.context.authenticate(self.name, user, token)


def _bulk_messages(body: Mapping[str, Any]) -> list[Outgoing]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise SinchRequestError(400, "messages must be a non-empty list")
    if len(messages) > MAX_BULK:
        raise SinchRequestError(400, f"{len(messages)} messages; the limit is {MAX_BULK}")
    defaults = body.get("defaultValues") or {}
    if not isinstance(defaults, dict):
        raise SinchRequestError(400, "defaultValues must be an object")
    root = {key: body[key] for key in _BULK_ROOT_OPTIONS if key in body}
    outgoings = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise SinchRequestError(400, f"{where}: each message must be an object")
        outgoings.append(parse_message({**root, **defaults, **message}, where))
    return outgoings


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except UnicodeDecodeError as error:
        raise SinchRequestError(400, "the body is not valid UTF-8 JSON") from error
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise SinchRequestError(400, f"the body is not valid JSON ({where})") from error


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SinchRequestError(400, f"{what} must be a JSON object")
    return value


def _strings(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SinchRequestError(400, f"{name} must be a list of strings")
    return value


def _error(status: int, message: str) -> web.Response:
    return web.json_response(error_body(status, message), status=status)


def _unauthorized() -> web.Response:
    return _error(401, "UserName and AuthenticationToken headers must name an active user")
