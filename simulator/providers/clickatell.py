"""Clickatell: the One API send and status routes, the older platform route, callbacks, MO.

Routes (only the base URL differs from platform.clickatell.com):
- `POST /v1/message`: One API send, `Authorization: <raw API key>`, JSON `{"messages": [...]}`;
  answers 202 (all taken), 207 (some refused), 400 (none taken, or a request-level error),
  401 (bad key), 402 (every message refused for balance).
- `GET /v1/message/{id}`: the stored message's current status, `{"sms": {status, timestamp}}`.
- `POST /messages`: the older platform API that the `clickatell-platform` PyPI SDK calls,
  JSON `{"to": [...], "content": ...}`; its answers always carry both `messages` and `error`,
  because that SDK indexes both keys without checking.

Requests that fail the checks (see `clickatell_bodies.check_message`) are answered with the
gateway's error object and never reach the scenario engine, so nothing is stored or journaled
for them. Callbacks go to the URL configured for the provider (Clickatell sets it in its
portal), one flat JSON POST per timeline step.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator.catalog.model import Entry
from simulator.core.accounts import Account
from simulator.engine.plan import Step
from simulator.http.webhooks import CLICKATELL_RETRY, WebhookRequest
from simulator.providers import clickatell_bodies as bodies
from simulator.providers.base import Accepted, Outgoing, ProviderAdapter
from simulator.store.messages import MessageRecord

_MALFORMED = object()


def _ms(epoch_seconds: float) -> int:
    return round(epoch_seconds * 1000)


def _json(body: Any, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError:  # also bad UTF-8 (UnicodeDecodeError is a ValueError)
        return _MALFORMED


class Adapter(ProviderAdapter):
    name = "clickatell"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/message", self._send_one_api),
            web.get("/v1/message/{message_id}", self._status),
            web.post("/messages", self._send_platform),
        ]

    # -- sending -----------------------------------------------------------------------------
    def _authenticate(self, request: web.Request) -> tuple[Account | None, str]:
        key = request.headers.get("Authorization", "").strip()
        return self.context.authenticate(self.name, None, key or None), key

    def _request_error(
        self, code: int, status: int, legacy: bool, field: str | None = None
    ) -> web.Response:
        body: dict[str, Any] = {"error": bodies.gateway_error(code, field)}
        if legacy:
            body = {"messages": [], **body}
        return _json(body, status)

    async def _send_one_api(self, request: web.Request) -> web.Response:
        account, key = self._authenticate(request)
        if account is None:
            return self._request_error(bodies.BAD_KEY, 401, legacy=False)
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            return self._request_error(bodies.MALFORMED, 400, legacy=False)
        messages = payload.get("messages")
        if messages is None or messages == []:
            return self._request_error(bodies.BAD_PARAMETER, 400, False, "messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return self._request_error(bodies.MALFORMED, 400, legacy=False)
        if len(messages) > bodies.MAX_MESSAGES:
            return self._request_error(bodies.TOO_MANY_MESSAGES, 400, legacy=False)
        checked = [
            bodies.check_message(
                m.get("to"),
                m.get("content"),
                m.get("channel"),
                m.get("from"),
                m.get("clientMessageId"),
                self.part_count,
            )
            for m in messages
        ]
        return self._submit_all(account, key, checked, legacy=False)

    async def _send_platform(self, request: web.Request) -> web.Response:
        account, key = self._authenticate(request)
        if account is None:
            return self._request_error(bodies.BAD_KEY, 401, legacy=True)
        payload = await _read_json(request)
        if not isinstance(payload, dict):
            return self._request_error(bodies.MALFORMED, 400, legacy=True)
        to = payload.get("to")
        if isinstance(to, str):
            to = [to]
        if to is None or to == []:
            return self._request_error(bodies.BAD_PARAMETER, 400, True, "to")
        if not isinstance(to, list):
            return self._request_error(bodies.MALFORMED, 400, legacy=True)
        if len(to) > bodies.MAX_MESSAGES:
            return self._request_error(bodies.TOO_MANY_MESSAGES, 400, legacy=True)
        content, source = payload.get("content"), payload.get("from")
        client_ref = payload.get("clientMessageId")
        checked = [
            bodies.check_message(number, content, None, source, client_ref, self.part_count)
            for number in to
        ]
        return self._submit_all(account, key, checked, legacy=True)

    def _submit_all(
        self, account: Account, key: str, checked: list[bodies.Checked], *, legacy: bool
    ) -> web.Response:
        """Hand the valid messages to the engine (one request id for all) and answer."""
        request_id = self.context.new_id(self.name)
        items: list[dict[str, Any]] = []
        for message in checked:
            if message.error is not None:
                items.append(bodies.refused_item(message.to, message.error))
                continue
            outgoing = Outgoing(
                destination=message.to,
                text=message.content,
                source=message.source,
                client_ref=message.client_ref,
                extra={"api_key": key},
            )
            result = self.context.submit(self, account, outgoing, bulk_id=request_id)
            if isinstance(result, Accepted):
                items.append(bodies.accepted_item(result.record.message_id, message.to))
            else:
                error = bodies.refusal_error(result.entry, result.plan.reject_status)
                items.append(bodies.refused_item(message.to, error))
        status = bodies.send_status(items)
        if status == 400 and all(
            item["error"]["code"] == bodies.INSUFFICIENT_BALANCE for item in items
        ):
            # Out of funds is the one refusal the API answers for the whole request (402).
            return self._request_error(bodies.INSUFFICIENT_BALANCE, 402, legacy)
        return _json({"messages": items, "error": None}, status)

    # -- status ------------------------------------------------------------------------------
    async def _status(self, request: web.Request) -> web.Response:
        account, _ = self._authenticate(request)
        if account is None:
            return self._request_error(bodies.BAD_KEY, 401, legacy=False)
        record = self.context.store.get(request.match_info["message_id"])
        if record is None or record.account != account.system_id:
            # The status table's UNKNOWN doubles as "no such message" for status queries.
            unknown = self._by_key.get("UNKNOWN")
            status = unknown.callback.get("status", unknown.name) if unknown else "UNKNOWN"
            return _json(
                {"sms": {"status": status, "timestamp": _ms(self.context.clock.time())}}, 200
            )
        entry = self._current_entry(record)
        status = entry.callback.get("status", entry.name)
        return _json({"sms": {"status": status, "timestamp": self._changed_ms(record)}}, 200)

    def _current_entry(self, record: MessageRecord) -> Entry:
        """The entry the message is in now, from its plan when the plan speaks Clickatell."""
        for step in record.plan:
            if (
                isinstance(step, Step)
                and step.provider == self.name
                and step.catalog_key == record.catalog_key
            ):
                return self.entry_for_step(step)
        if not record.final:
            return self.initial_entry()
        return self.entry_for_step(Step(0.0, record.stat, record.err, final=True))

    def _changed_ms(self, record: MessageRecord) -> int:
        """When the message last changed state (accepted, or its latest step), epoch ms."""
        if not record.history:
            return _ms(record.submitted_at)
        clock = self.context.clock
        return _ms(clock.time() - clock.now() + record.history[-1][0])

    # -- callbacks ---------------------------------------------------------------------------
    def callbacks(self, record: MessageRecord, step: Step) -> list[WebhookRequest]:
        url = record.extra.get("callback_url")
        if not url:
            return []  # no URL configured for Clickatell: nothing to send (journal: callbacks=0)
        client_ref = record.extra.get("client_ref")
        body = bodies.status_callback(
            account=record.account,
            api_key=str(record.extra.get("api_key") or ""),
            message_id=record.message_id,
            request_id=str(record.extra.get("bulk_id") or ""),
            client_ref=client_ref if isinstance(client_ref, str) else None,
            to=record.destination_addr,
            source=record.source_addr,
            entry=self.entry_for_step(step),
            timestamp_ms=_ms(self.context.clock.time()),
        )
        return [
            WebhookRequest(
                provider=self.name,
                url=str(url),
                body=body,
                message_id=record.message_id,
                account=record.account,
                kind="delivery",
                policy=CLICKATELL_RETRY,
            )
        ]

    def mo_callback(
        self, *, url: str, source: str, destination: str, text: str, account: str | None
    ) -> WebhookRequest:
        """An inbound SMS in the One API reply-callback shape (`event.moText`)."""
        message_id = self.context.new_id(self.name)
        body = bodies.mo_callback(
            account=account,
            message_id=message_id,
            source=source,
            destination=destination,
            text=text,
            timestamp_ms=_ms(self.context.clock.time()),
        )
        return WebhookRequest(
            provider=self.name,
            url=url,
            body=body,
            message_id=message_id,
            account=account,
            kind="mo",
            policy=CLICKATELL_RETRY,
        )
