"""What every provider adapter shares: credentials, acceptance, timelines, callbacks.

An adapter is thin: it parses its provider's request into `Outgoing` messages, renders the
provider's response and error bodies, and turns a timeline step into the provider's callback.
Everything else -- planning the fate with the scenario engine, storing the message where the
status endpoints and query_sm read it, running its timeline on the simulation clock, journaling
-- happens here, the same for all five providers, so one scenario drives SMPP and HTTP alike.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.catalog.model import Catalog, Entry
from simulator.catalog.registry import CatalogRegistry
from simulator.core.accounts import Account
from simulator.core.clock import Clock
from simulator.core.events import Event, EventBus
from simulator.core.ids import MessageIdGenerator
from simulator.engine.faults import FaultDecider
from simulator.engine.plan import Plan, Planner, Step, Submission
from simulator.engine.timelines import Timelines
from simulator.http.webhooks import WebhookEmitter, WebhookRequest
from simulator.store.messages import MessageRecord, MessageStore

log = logging.getLogger("dlrsim.http")


@dataclass
class Outgoing:
    """One message as a provider API request describes it (one per destination)."""

    destination: str
    text: str
    source: str = ""
    client_id: str | None = None  # the id to use: client-supplied (Infobip) or adapter-chosen
    client_ref: str | None = None  # echoed reference (callbackData, custom_string, refClient, ...)
    callback_url: str | None = None  # where this message's delivery callbacks go
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Accepted:
    record: MessageRecord
    plan: Plan


@dataclass
class Refused:
    """The scenario refused the message at submit time; the adapter renders the error."""

    outgoing: Outgoing
    plan: Plan
    entry: Entry | None  # the catalog entry named by the rejection, when it names one


class ProviderContext:
    """The simulator's shared parts, as the provider adapters see them."""

    def __init__(
        self,
        *,
        registry: CatalogRegistry,
        planner: Planner,
        store: MessageStore,
        timelines: Timelines,
        clock: Clock,
        events: EventBus,
        webhooks: WebhookEmitter,
        accounts: Callable[[], list[Account]],
        accept_any: bool,
        callback_urls: Mapping[str, str],
        faults: Callable[[], FaultDecider | None],
        seed: int | None = None,
    ) -> None:
        self.registry = registry
        self.planner = planner
        self.store = store
        self.timelines = timelines
        self.clock = clock
        self.events = events
        self.webhooks = webhooks
        self._accounts = accounts
        self.accept_any = accept_any
        self.callback_urls = dict(callback_urls)
        self.faults = faults
        self.seed = seed
        self._ids: dict[str, MessageIdGenerator] = {}

    def catalog(self, provider: str) -> Catalog:
        return self.registry.get(provider)

    def new_id(self, provider: str) -> str:
        generator = self._ids.get(provider)
        if generator is None:
            shape = self.catalog(provider).message_id
            seed = None if self.seed is None else (self.seed * 31 + len(self._ids) + 1)
            generator = self._ids[provider] = MessageIdGenerator(shape.format, seed, shape.length)
        return generator.next_id()

    def authenticate(self, provider: str, user: str | None, key: str | None) -> Account | None:
        """The account a credential belongs to, or None when it is refused.

        In accept-any mode every non-empty credential is accepted (as a transient account named
        after the user or the key); configured accounts must match on `api_key` (and on
        `system_id` when the provider sends a user name too).
        """
        if not key:
            return None
        for account in self._accounts():
            if account.provider not in (None, provider):
                continue
            if account.api_key is None and not self.accept_any:
                continue
            if account.api_key not in (None, key):
                continue
            if user is not None and account.system_id != user:
                continue
            return account
        if self.accept_any:
            return Account(system_id=(user or key)[:15] or "http")
        return None

    def callback_url(self, provider: str, requested: str | None) -> str | None:
        return requested or self.callback_urls.get(provider)

    # -- accepting messages ----------------------------------------------------------------
    def submit(
        self,
        adapter: ProviderAdapter,
        account: Account,
        outgoing: Outgoing,
        *,
        bulk_id: str | None = None,
        offset: float = 0.0,
    ) -> Accepted | Refused:
        """Plan one message; accepted ones are stored and their timeline starts.

        `offset` delays the whole timeline (a send scheduled for later by the client).
        """
        provider = adapter.name
        submission = Submission(
            account=account.system_id,
            source=outgoing.source,
            destination=outgoing.destination,
            body=outgoing.text.encode("utf-8"),
            transport="http",
            provider=provider,
            text=outgoing.text,
            part_count=adapter.part_count(outgoing.text),
        )
        plan = self.planner.plan(submission)
        if not plan.accepted:
            entry = None
            if plan.reject_http:
                try:
                    entry = self.registry.lookup(provider, plan.reject_http, channel="sms")
                except Exception:  # a name of another provider or free text: no entry
                    entry = None
            self._publish(
                "submit",
                account.system_id,
                provider,
                message_id=None,
                status=plan.reject_status,
                reason=plan.reason,
                rule=plan.rule,
                destination=outgoing.destination,
                text=outgoing.text,
                transport="http",
            )
            return Refused(outgoing, plan, entry)
        message_id = outgoing.client_id or self.new_id(provider)
        now = self.clock.time()
        record = MessageRecord(
            message_id=message_id,
            account=account.system_id,
            source_addr=outgoing.source,
            destination_addr=outgoing.destination,
            body=outgoing.text.encode("utf-8"),
            registered_delivery=1,
            submitted_at=now,
            expires_at=self.clock.now() + 48 * 3600.0,
            part_count=submission.part_count,
            transport="http",
            provider=provider,
            rule=plan.rule,
            lost=plan.lost,
            plan=plan.steps,
        )
        record.extra.update(outgoing.extra)
        record.extra["client_ref"] = outgoing.client_ref
        record.extra["callback_url"] = self.callback_url(provider, outgoing.callback_url)
        record.extra["bulk_id"] = bulk_id
        initial = adapter.initial_entry()
        record.stat, record.err = initial.smpp.stat, initial.smpp.err
        record.catalog_key = initial.key
        try:
            self.store.add(record)
        except KeyError:
            # A client-supplied id that is already in use: make it unique, keep the message.
            record.message_id = f"{message_id}-{self.new_id(provider)}"
            self.store.add(record)
        self.timelines.start(
            record.message_id,
            record,
            plan.steps,
            lambda r, s: self.on_step(adapter, r, s),
            offset=max(0.0, offset),
        )
        self._publish(
            "submit",
            account.system_id,
            provider,
            message_id=record.message_id,
            status=0,
            source=outgoing.source,
            destination=outgoing.destination,
            text=outgoing.text,
            transport="http",
            rule=plan.rule,
            outcome=plan.reason,
            client_ref=outgoing.client_ref,
            callback_url=record.extra["callback_url"],
        )
        return Accepted(record, plan)

    def on_step(self, adapter: ProviderAdapter, record: MessageRecord, step: Step) -> None:
        requests = [] if record.lost else adapter.callbacks(record, step)
        self._publish(
            "status",
            record.account,
            adapter.name,
            message_id=record.message_id,
            stat=step.stat,
            err=step.err,
            final=step.final,
            catalog_key=step.catalog_key,
            callbacks=len(requests),
        )
        faults = self.faults()
        for request in requests:
            effects = None
            if faults is not None and faults.active:
                effects = faults.on_receipt(record.account, record.rule)
                if effects.any:
                    self._publish(
                        "fault",
                        record.account,
                        adapter.name,
                        message_id=record.message_id,
                        where="webhook",
                        fault=",".join(f.kind for f in effects.applied),
                    )
            if effects is not None and effects.drop:
                continue
            copies = effects.copies if effects is not None else 1
            delay = effects.extra_delay if effects is not None else 0.0
            for _ in range(copies):
                if delay > 0:
                    self.clock.call_later(delay, _sender(self.webhooks, request))
                else:
                    self.webhooks.send(request)

    def _publish(self, kind: str, account: str | None, provider: str, **data: Any) -> None:
        if self.events.active:
            data["provider"] = provider
            self.events.publish(Event(kind, self.clock.time(), account, data))


def _sender(webhooks: WebhookEmitter, request: WebhookRequest) -> Callable[[], None]:
    return lambda: webhooks.send(request)


class ProviderAdapter(ABC):
    """Base of the five adapters; subclasses set `name` and implement the abstract hooks."""

    name: str = ""

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.catalog = context.catalog(self.name)
        self._by_key = {entry.key: entry for entry in self.catalog.entries}

    @abstractmethod
    def routes(self) -> list[web.RouteDef]:
        """The provider's endpoints, at its own paths."""

    @abstractmethod
    def callbacks(self, record: MessageRecord, step: Step) -> list[WebhookRequest]:
        """The provider's callback request(s) for one step of a message (may be none)."""

    @abstractmethod
    def mo_callback(
        self, *, url: str, source: str, destination: str, text: str, account: str | None
    ) -> WebhookRequest:
        """The provider's inbound-message (MO) callback for one message."""

    def entry(self, key: str | None) -> Entry | None:
        return None if key is None else self._by_key.get(key)

    def initial_entry(self) -> Entry:
        return self._by_key[self.catalog.initial_status]

    def entry_for_step(self, step: Step) -> Entry:
        """This provider's catalog entry for a step (see `CatalogRegistry.entry_for_step`)."""
        return self.context.registry.entry_for_step(
            self.name,
            step_provider=step.provider,
            catalog_key=step.catalog_key,
            stat=step.stat,
            final=step.final,
        )

    def part_count(self, text: str) -> int:
        """SMS parts the text needs (GSM 160/153, else UCS-2 70/67), as providers bill it."""
        from simulator.providers.text import sms_parts

        return sms_parts(text)
