"""ClickSend REST v3 stand-in: send, delivery-receipt rules and pushes, receipt pulls, inbound.

Routes (HTTP Basic auth: user name = account system_id, password = API key):
- `POST /v3/sms/send`: ClickSend's envelope; one result per message, with a per-message
  `status` (SUCCESS, or INVALID_RECIPIENT and the like for a message that cannot be queued).
- `POST|GET /v3/automations/sms/receipts`, `GET|PUT|DELETE .../{receipt_rule_id}`: the
  delivery-receipt rules through which a ClickSend client registers its webhook (action URL).
- `GET /v3/sms/receipts` and `GET /v3/sms/receipts/{message_id}`: receipts pulled from the
  shared message store (SMPP and HTTP messages alike).

Each timeline step becomes one receipt push per enabled URL rule of the message's account, or,
without such a rule, one to the callback URL configured for ClickSend. Pushes are
form-encoded; a rule with `webhook_type: json` or a URL ending in `#json` gets JSON instead.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

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
from simulator.providers.clicksend_format import (
    GENERIC_REFUSAL,
    HTTP_CODES,
    MESSAGE_STATUSES,
    QUEUED_MSG,
    REFUSAL_MESSAGES,
    Draft,
    ReceiptRule,
    RequestError,
    account_ids,
    as_form,
    envelope,
    inbound,
    page_args,
    paginated,
    parse_send,
    receipt,
    rule_fields,
    send_data,
    sent_message,
    split_target,
)
from simulator.store.messages import MessageRecord

FORM = "application/x-www-form-urlencoded"
SCHEDULED = "SCHEDULED"
_LAST_MT_LIMIT = 10_000  # destinations remembered to link an inbound reply to its message

Answer = tuple[int, dict[str, Any]]
Handler = Callable[[web.Request, Account], Awaitable[Answer]]


class Adapter(ProviderAdapter):
    name = "clicksend"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._rules: dict[str, dict[int, ReceiptRule]] = {}  # account -> rule id -> rule
        self._rule_ids = 0
        self._last_mt: OrderedDict[str, str] = OrderedDict()  # destination -> message id

    def routes(self) -> list[web.RouteDef]:
        rules = "/v3/automations/sms/receipts"
        return [
            web.post("/v3/sms/send", self._api(self._send)),
            web.get("/v3/sms/receipts", self._api(self._list_receipts)),
            web.get("/v3/sms/receipts/{message_id}", self._api(self._view_receipt)),
            web.post(rules, self._api(self._create_rule)),
            web.get(rules, self._api(self._list_rules)),
            web.get(rules + "/{rule_id}", self._api(self._view_rule)),
            web.put(rules + "/{rule_id}", self._api(self._update_rule)),
            web.delete(rules + "/{rule_id}", self._api(self._delete_rule)),
        ]

    # -- plumbing --------------------------------------------------------------------------
    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def run(request: web.Request) -> web.Response:
            account = self._account(request)
            if account is None:
                status, body = envelope(
                    "UNAUTHORIZED", "Authentication failed: check the username and API key."
                )
            else:
                try:
                    status, body = await handler(request, account)
                except RequestError as error:
                    status, body = envelope(error.response_code, error.message)
            return web.json_response(body, status=status)

        return run

    def _account(self, request: web.Request) -> Account | None:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user, colon, key = decoded.partition(":")
        if not colon or not user:
            return None
        return self.context.authenticate(self.name, user, key)

    @staticmethod
    async def _json(request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            raise RequestError("BAD_REQUEST", "The request body is not valid JSON.") from None

    # -- send ------------------------------------------------------------------------------
    async def _send(self, request: web.Request, account: Account) -> Answer:
        drafts = parse_send(await self._json(request), self.part_count)
        user_id, subaccount_id = account_ids(account.system_id)
        now = int(self.context.clock.time())
        results: list[dict[str, Any]] = []
        request_level: list[str] = []  # refusals the scenario named as whole-request errors
        blocked = 0
        for draft in drafts:
            status, message_id = draft.problem, None
            if status is None:
                outcome = self.context.submit(self, account, self._outgoing(draft))
                if isinstance(outcome, Accepted):
                    status, message_id = "SUCCESS", outcome.record.message_id
                    self._accepted(outcome, draft, now)
                else:
                    status = self._refusal_status(outcome)
                    blocked += 1
                    if status in HTTP_CODES:
                        request_level.append(status)
            parts = self.part_count(draft.body) if draft.body else 1
            results.append(
                sent_message(
                    draft,
                    now=now,
                    message_id=message_id,
                    parts=parts,
                    status=status,
                    user_id=user_id,
                    subaccount_id=subaccount_id,
                )
            )
        if request_level and len(request_level) == len(results):
            return envelope(request_level[0], REFUSAL_MESSAGES[request_level[0]])
        return envelope("SUCCESS", QUEUED_MSG, send_data(results, blocked))

    @staticmethod
    def _outgoing(draft: Draft) -> Outgoing:
        assert draft.to is not None and draft.body is not None
        return Outgoing(
            destination=draft.to,
            text=draft.body,
            source=draft.sender or "",
            client_ref=draft.custom_string,
            extra={"source": draft.source, "schedule": draft.schedule},
        )

    def _accepted(self, outcome: Accepted, draft: Draft, now: int) -> None:
        record = outcome.record
        assert draft.to is not None
        self._last_mt[draft.to] = record.message_id
        self._last_mt.move_to_end(draft.to)
        while len(self._last_mt) > _LAST_MT_LIMIT:
            self._last_mt.popitem(last=False)
        scheduled = self.entry(SCHEDULED)
        if draft.schedule and draft.schedule > now and scheduled is not None and not record.history:
            record.catalog_key = scheduled.key
            record.stat, record.err = scheduled.smpp.stat, scheduled.smpp.err

    @staticmethod
    def _refusal_status(refused: Refused) -> str:
        """How a scenario refusal shows in the message's `status` (or as a request error)."""
        name = (refused.plan.reject_http or "").strip().upper()
        if name != "SUCCESS" and (name in MESSAGE_STATUSES or name in HTTP_CODES):
            return name
        return GENERIC_REFUSAL

    # -- receipts --------------------------------------------------------------------------
    def callbacks(self, record: MessageRecord, step: Step) -> list[WebhookRequest]:
        entry = self.entry_for_step(step)
        now = int(self.context.clock.time())
        record.extra["clicksend_key"] = entry.key
        record.extra["receipt_at"] = now
        fields = self._receipt(record, entry, now)
        return [
            self._request(url, fields, as_json, record.message_id, record.account, "delivery")
            for url, as_json in self._targets(record.account, record.extra.get("callback_url"))
        ]

    def _targets(self, account: str, configured: str | None) -> list[tuple[str, bool]]:
        rules = [rule for rule in self._rules.get(account, {}).values() if rule.pushes]
        if rules:
            return [(rule.action_address, rule.wants_json) for rule in rules]
        return [] if not configured else [(configured, False)]

    def _request(
        self,
        url: str,
        fields: dict[str, Any],
        as_json: bool,
        message_id: str | None,
        account: str | None,
        kind: str,
    ) -> WebhookRequest:
        target, fragment_json = split_target(url)
        json_body = as_json or fragment_json
        return WebhookRequest(
            provider=self.name,
            url=target,
            method="POST",
            content_type="application/json" if json_body else FORM,
            body=fields if json_body else as_form(fields),
            message_id=message_id,
            account=account,
            kind=kind,
            policy=DEFAULT_RETRY,
        )

    def _receipt(self, record: MessageRecord, entry: Entry, timestamp: int) -> dict[str, Any]:
        user_id, subaccount_id = account_ids(record.account)
        return receipt(
            entry,
            message_id=record.message_id,
            timestamp_send=int(record.submitted_at),
            timestamp=timestamp,
            custom_string=record.extra.get("client_ref"),
            user_id=user_id,
            subaccount_id=subaccount_id,
        )

    def _current(self, record: MessageRecord) -> Entry:
        """The catalog entry a stored message is in now, whoever planned its steps."""
        entry = self.entry(record.extra.get("clicksend_key") or record.catalog_key)
        if entry is not None and entry.smpp.stat == record.stat:
            return entry
        return self.entry_for_step(Step(0.0, record.stat, record.err, record.final))

    def _stored_receipt(self, record: MessageRecord) -> dict[str, Any]:
        at = record.extra.get("receipt_at") or int(record.done_at or record.submitted_at)
        return self._receipt(record, self._current(record), int(at))

    async def _list_receipts(self, request: web.Request, account: Account) -> Answer:
        page, limit = page_args(request.query)
        records = [
            record
            for record in self.context.store
            if record.provider == self.name
            and record.account == account.system_id
            and record.history
        ]
        items = [self._stored_receipt(record) for record in records]
        data = paginated(items, page, limit, str(request.url.with_query(None)))
        return envelope("SUCCESS", "Here are your delivery receipts.", data)

    async def _view_receipt(self, request: web.Request, account: Account) -> Answer:
        record = self.context.store.get(request.match_info["message_id"])
        if record is None or record.provider != self.name or record.account != account.system_id:
            raise RequestError("NOT_FOUND", "No receipt was found for this message id.")
        return envelope("SUCCESS", "Here is the receipt.", self._stored_receipt(record))

    # -- receipt rules ---------------------------------------------------------------------
    def _rule(self, request: web.Request, account: Account) -> ReceiptRule:
        raw = request.match_info["rule_id"]
        rule = self._rules.get(account.system_id, {}).get(int(raw)) if raw.isdigit() else None
        if rule is None:
            raise RequestError("NOT_FOUND", "No receipt rule was found with this id.")
        return rule

    async def _create_rule(self, request: web.Request, account: Account) -> Answer:
        fields = rule_fields(await self._json(request))
        self._rule_ids += 1
        rule = ReceiptRule(receipt_rule_id=self._rule_ids, account=account.system_id, **fields)
        self._rules.setdefault(account.system_id, {})[rule.receipt_rule_id] = rule
        return envelope("SUCCESS", "The SMS receipt rule was created.", rule.as_dict())

    async def _list_rules(self, request: web.Request, account: Account) -> Answer:
        page, limit = page_args(request.query)
        rules = sorted(self._rules.get(account.system_id, {}).items())
        items = [rule.as_dict() for _, rule in rules]
        data = paginated(items, page, limit, str(request.url.with_query(None)))
        return envelope("SUCCESS", "Here are your SMS receipt rules.", data)

    async def _view_rule(self, request: web.Request, account: Account) -> Answer:
        rule = self._rule(request, account)
        return envelope("SUCCESS", "Here is the SMS receipt rule.", rule.as_dict())

    async def _update_rule(self, request: web.Request, account: Account) -> Answer:
        rule = self._rule(request, account)
        for key, value in rule_fields(await self._json(request), rule).items():
            setattr(rule, key, value)
        return envelope("SUCCESS", "The SMS receipt rule was updated.", rule.as_dict())

    async def _delete_rule(self, request: web.Request, account: Account) -> Answer:
        rule = self._rule(request, account)
        del self._rules[account.system_id][rule.receipt_rule_id]
        return envelope("SUCCESS", "The SMS receipt rule was deleted.", [])

    # -- inbound (MO) ----------------------------------------------------------------------
    def mo_callback(
        self, *, url: str, source: str, destination: str, text: str, account: str | None
    ) -> WebhookRequest:
        """An inbound SMS push (what a ClickSend inbound rule with action URL posts)."""
        original = None
        last = self._last_mt.get(source)
        record = None if last is None else self.context.store.get(last)
        if record is not None and account in (None, record.account):
            original = (
                record.message_id,
                record.body.decode("utf-8", "replace"),
                record.extra.get("client_ref"),
            )
            account = record.account
        user_id, subaccount_id = account_ids(account or "")
        message_id = self.context.new_id(self.name)
        fields = inbound(
            message_id=message_id,
            source=source,
            destination=destination,
            text=text,
            timestamp=int(self.context.clock.time()),
            original=original,
            user_id=user_id,
            subaccount_id=subaccount_id,
        )
        return self._request(url, fields, False, message_id, account, "mo")
