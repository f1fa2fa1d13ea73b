"""The fake SMSC: accounts, accepted messages, their timelines and their receipts.

Sessions ask it to bind, accept, look up, cancel and replace; it asks a `Planner` what happens
to each message and runs the answer on the simulation clock. When a step falls due it updates
the message record and, where the client asked for one (registered_delivery), queues a receipt
for the account's receivers. Socket-free: the server feeds it sessions, tests can too.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from typing import cast

from simulator.catalog.registry import CatalogRegistry
from simulator.core.accounts import Account
from simulator.core.clock import Clock
from simulator.core.events import Event, EventBus
from simulator.core.ids import MessageIdGenerator
from simulator.engine.faults import FaultDecider, ReceiptFaults
from simulator.engine.plan import Plan, Planner, Step, Submission
from simulator.engine.timelines import Timelines
from simulator.smpp.accounts import AccountRegistry
from simulator.smpp.codec.constants import (
    REGISTERED_DELIVERY_FAILURE,
    REGISTERED_DELIVERY_FINAL,
    REGISTERED_DELIVERY_INTERMEDIATE,
    REGISTERED_DELIVERY_MASK,
    REGISTERED_DELIVERY_SUCCESS,
)
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.pdu import DestAddress, Pdu, UnsuccessSme, response_for
from simulator.smpp.delivery import Delivery, DeliveryQueue
from simulator.smpp.intake import message_from_pdu, mo_pdus
from simulator.smpp.lookups import cancellable, query_response, replace_message
from simulator.smpp.ratelimit import TokenBucket
from simulator.smpp.receipts import ReceiptSender
from simulator.smpp.session import SmscSession
from simulator.store.messages import MessageRecord, MessageStore

log = logging.getLogger("dlrsim.smpp")

_SUCCESS_STATS = frozenset({"DELIVRD", "ACCEPTD"})


def _account_id(session: SmscSession) -> str | None:
    account = session.account
    return account.system_id if isinstance(account, Account) else None


class AccountState:
    """Per-account runtime: its binds, its receipt queue, its id generator and rate limit."""

    def __init__(
        self,
        account: Account,
        queue: DeliveryQueue,
        ids: MessageIdGenerator,
        bucket: TokenBucket | None,
    ) -> None:
        self.account = account
        self.queue = queue
        self.ids = ids
        self.bucket = bucket
        self.sessions: list[SmscSession] = []


class Smsc:
    def __init__(
        self,
        accounts: AccountRegistry,
        planner: Planner,
        clock: Clock,
        net_clock: Clock,
        *,
        events: EventBus | None = None,
        seed: int | None = None,
        store: MessageStore | None = None,
        faults: FaultDecider | None = None,
        timer_resolution: float = 0.0,
        timelines: Timelines | None = None,
        registry: CatalogRegistry | None = None,
    ) -> None:
        self.accounts = accounts
        self.planner = planner
        self.clock = clock
        self.net_clock = net_clock
        self.events = EventBus() if events is None else events
        self.seed = seed
        # `is None`, not `or`: an empty store is falsy (it has __len__) and must still be used.
        self.store = MessageStore() if store is None else store
        self.sessions: dict[str, SmscSession] = {}
        self._states: dict[str, AccountState] = {}

        self._concat_plans: dict[tuple[str, str, str, int, int], tuple[Plan, int]] = {}
        self._mo_reference = 0
        self.registry = registry
        self.timelines = (
            Timelines(clock, self.store, timer_resolution) if timelines is None else timelines
        )
        self.faults = faults
        self._fault_buckets: dict[int, TokenBucket] = {}
        self.receipts = ReceiptSender(clock, faults, self._receipt_fault, seed)
        self.counters: dict[str, int] = {
            "submitted": 0,
            "rejected": 0,
            "receipts_queued": 0,
            "receipts_delivered": 0,
            "deliveries_failed": 0,
            "mo_queued": 0,
            "mo_delivered": 0,
            "faults_applied": 0,
        }
        # Observers of receipts (the SQLite store): (account, delivery) when one is queued,
        # (delivery, outcome) when it leaves its queue for good (delivered, refused, ...).
        self.on_receipt_queued: list[Callable[[str, Delivery], None]] = []
        self.on_delivery_done: list[Callable[[Delivery, str], None]] = []

    # -- accounts ------------------------------------------------------------------------
    def account_state(self, account: Account) -> AccountState:
        state = self._states.get(account.system_id)
        if state is None or state.account is not account:
            # crc32, not hash(): string hashes differ between processes, ids must not.
            seed = (
                None
                if self.seed is None
                else zlib.crc32(f"{self.seed}:{account.system_id}".encode())
            )
            queue = (
                state.queue
                if state is not None
                else DeliveryQueue(
                    account.system_id,
                    account.window,
                    self.clock,
                    self.net_clock,
                    self._delivery_outcome,
                )
            )
            queue.window = account.window
            bucket = (
                TokenBucket(account.max_submit_rate, self.net_clock)
                if account.max_submit_rate
                else None
            )
            new_state = AccountState(account, queue, self._id_generator(account, seed), bucket)
            if state is not None:
                new_state.sessions = state.sessions
            self._states[account.system_id] = new_state
            state = new_state
        return state

    def _id_generator(self, account: Account, seed: int | None) -> MessageIdGenerator:
        """Ids in the account's format, or in its impersonated provider's shape."""
        if account.provider is not None and self.registry is not None:
            shape = self.registry.get(account.provider).message_id
            return MessageIdGenerator(shape.format, seed, shape.length)
        return MessageIdGenerator(account.message_id_format, seed)

    def _render_as_provider(self, record: MessageRecord, step: Step) -> Step:
        """A step in the codes of the provider the account impersonates (if any)."""
        state = self._states.get(record.account)
        provider = None if state is None else state.account.provider
        if provider is None or self.registry is None or step.provider == provider:
            return step
        entry = self.registry.entry_for_step(
            provider,
            step_provider=step.provider,
            catalog_key=step.catalog_key,
            stat=step.stat,
            final=step.final,
        )
        catalog = self.registry.get(provider)
        code = entry.smpp.network_error_code if catalog.uses_network_error_code else None
        return Step(
            step.delay, entry.smpp.stat, entry.smpp.err, step.final, code, entry.key, provider
        )

    def _state_for(self, system_id: str) -> AccountState:
        account = self.accounts.get(system_id)
        if account is None:
            if not self.accounts.accept_any:
                raise KeyError(f"no account {system_id!r}")
            account = Account(system_id=system_id)
            self.accounts.add(account)
        return self.account_state(account)

    # -- SessionCore -------------------------------------------------------------------------
    def register_session(self, session: SmscSession) -> None:
        self.sessions[session.session_id] = session

    def on_bind(self, session: SmscSession, bind_type: str, system_id: str, password: str) -> int:
        verdict = self.accounts.authenticate(system_id, password, bind_type)
        if isinstance(verdict, int):
            self._publish(
                "bind",
                system_id,
                session=session.session_id,
                bind_type=bind_type,
                status=int(verdict),
                peer=session.peer,
            )
            log.debug(
                "bind refused: %s as %s from %s (0x%X)", system_id, bind_type, session.peer, verdict
            )
            return verdict
        if self.faults is not None and self.faults.active:
            refused = self.faults.on_bind(system_id, bind_type)
            if refused is not None:
                self.counters["faults_applied"] += 1
                self._publish(
                    "fault",
                    system_id,
                    fault="reject_bind",
                    status=refused,
                    session=session.session_id,
                )
                return refused
        state = self.account_state(verdict)
        if len(state.sessions) >= verdict.max_binds:
            log.debug("bind refused: %s already has %d binds", system_id, len(state.sessions))
            self._publish(
                "bind",
                system_id,
                session=session.session_id,
                bind_type=bind_type,
                status=int(S.ESME_RBINDFAIL),
                peer=session.peer,
                reason="max_binds",
            )
            return S.ESME_RBINDFAIL
        state.sessions.append(session)
        session.account = verdict
        session.response_delay = verdict.response_delay
        self._publish(
            "bind",
            system_id,
            session=session.session_id,
            bind_type=bind_type,
            status=0,
            peer=session.peer,
        )
        log.debug("bound %s as %s from %s", system_id, bind_type, session.peer)
        if bind_type in ("receiver", "transceiver"):
            # Register after the bind response is written, so queued receipts follow it.
            self.net_clock.call_later(0, lambda: state.queue.add_session(session))
        return S.ESME_ROK

    def on_closed(self, session: SmscSession) -> None:
        self.sessions.pop(session.session_id, None)
        account = session.account
        if isinstance(account, Account):
            state = self._states.get(account.system_id)
            if state is not None:
                if session in state.sessions:
                    state.sessions.remove(session)
                state.queue.remove_session(session)
            self._publish("unbind", account.system_id, session=session.session_id)

    def on_submit(self, session: SmscSession, pdu: Pdu) -> tuple[int, str]:
        account = session.account
        assert isinstance(account, Account)
        state = self._states[account.system_id]
        if state.bucket is not None and not state.bucket.take():
            return self._reject(account, pdu, S.ESME_RTHROTTLED, "over the account's submit rate")
        if session.inflight > account.window:
            return self._reject(account, pdu, S.ESME_RMSGQFUL, "over the account's window")
        if self.faults is not None and self.faults.active:
            refusal = self._submit_faults(session, account)
            if refusal:
                return self._reject(account, pdu, refusal, "fault")
        try:
            record, submission = message_from_pdu(
                self.clock,
                state.account,
                state.ids.next_id,
                pdu,
                pdu.str_param("destination_addr"),
                pdu.int_param("dest_addr_ton"),
                pdu.int_param("dest_addr_npi"),
            )
        except CodecError as error:
            return self._reject(account, pdu, error.status, str(error))
        defer = session.response_delay + session.fault_delay > 0
        status = self._accept(state, record, submission, defer=defer)
        return status, record.message_id

    def set_faults(self, faults: FaultDecider | None) -> None:
        """Switch fault decisions (a new scenario); planned timelines are not touched."""
        self.faults = faults
        self.receipts.faults = faults
        self._fault_buckets.clear()

    @property
    def faults_active(self) -> bool:
        return self.faults is not None and self.faults.active

    def pdu_fault(self, session: SmscSession, pdu: Pdu) -> tuple[str, int, float] | None:
        assert self.faults is not None
        account = session.account.system_id if isinstance(session.account, Account) else None
        found = self.faults.on_pdu(account, session.bind_type, pdu.name, session.counters["in"])
        if found is None:
            return None
        self.counters["faults_applied"] += 1
        self._publish(
            "fault",
            account,
            fault=found.fault.kind,
            name=found.fault.name,
            command=pdu.name,
            session=session.session_id,
        )
        return found.action, found.status, found.delay

    def _submit_faults(self, session: SmscSession, account: Account) -> int:
        """Throttling and window faults; the status refusing the submit, or 0."""
        assert self.faults is not None
        throttle = self.faults.submit_rate(account.system_id, session.bind_type)
        if throttle is not None:
            fault, rate = throttle
            bucket = self._fault_buckets.get(id(fault))
            if bucket is None or bucket.rate != rate:
                bucket = self._fault_buckets[id(fault)] = TokenBucket(rate, self.net_clock)
            if not bucket.take():
                return S.ESME_RTHROTTLED
        window = self.faults.window(account.system_id, session.bind_type)
        if window is not None and session.inflight > window:
            return S.ESME_RMSGQFUL
        return 0

    def on_response_sent(self, session: SmscSession, message_id: str) -> None:
        """A delayed submit response went out: now the message's timeline may start."""
        self.timelines.release(message_id)

    def on_submit_multi(self, session: SmscSession, pdu: Pdu) -> Pdu:
        account = session.account
        assert isinstance(account, Account)
        state = self._states[account.system_id]
        if state.bucket is not None and not state.bucket.take():
            return response_for(pdu, S.ESME_RTHROTTLED)
        dests = cast(list[DestAddress], pdu.params.get("dest_addresses") or [])
        message_id = state.ids.next_id()
        unsuccess: list[UnsuccessSme] = []
        accepted = 0
        for index, dest in enumerate(dests):
            if dest.dest_flag == 2:
                unsuccess.append(UnsuccessSme(dest.address, S.ESME_RINVDLNAME))
                continue
            try:
                record, submission = message_from_pdu(
                    self.clock,
                    state.account,
                    state.ids.next_id,
                    pdu,
                    dest.address,
                    dest.ton,
                    dest.npi,
                    message_id=message_id,
                )
            except CodecError as error:
                unsuccess.append(UnsuccessSme(dest.address, error.status, dest.ton, dest.npi))
                continue
            key = message_id if accepted == 0 else f"{message_id}#{index}"
            status = self._accept(state, record, submission, key=key)
            if status:
                unsuccess.append(UnsuccessSme(dest.address, status, dest.ton, dest.npi))
            else:
                accepted += 1
        status = S.ESME_ROK if accepted else S.ESME_RSUBMITFAIL
        return response_for(
            pdu, status, message_id=message_id if accepted else "", unsuccess_smes=unsuccess
        )

    def _plan(self, record: MessageRecord, submission: Submission) -> Plan:
        """Plan a message part; all parts of one long message share the first part's plan.

        The fate of a concatenated message is decided once (by the first part that arrives,
        which in practice is part 1, so text rules and #dlrsim: directives at the start of a
        long text apply to every part).
        """
        if record.part_count <= 1 or record.concat_ref is None:
            return self.planner.plan(submission)
        group = (
            record.account,
            record.source_addr,
            record.destination_addr,
            record.concat_ref,
            record.part_count,
        )
        plans = self._concat_plans
        cached = plans.get(group)
        if cached is not None:
            plan, seen = cached
            seen += 1
            if seen >= record.part_count:
                del plans[group]
            else:
                plans[group] = (plan, seen)
            return plan
        plan = self.planner.plan(submission)
        if len(plans) >= 10_000:
            plans.pop(next(iter(plans)))
        plans[group] = (plan, 1)
        return plan

    def _accept(
        self,
        state: AccountState,
        record: MessageRecord,
        submission: Submission,
        key: str | None = None,
        defer: bool = False,
    ) -> int:
        plan = self._plan(record, submission)
        if plan.reject_status is not None:
            self.counters["rejected"] += 1
            self._publish(
                "submit",
                record.account,
                message_id=None,
                status=plan.reject_status,
                reason=plan.reason,
                rule=plan.rule,
                source=record.source_addr,
                destination=record.destination_addr,
            )
            return plan.reject_status
        key = key or record.message_id
        record.rule = plan.rule
        record.lost = plan.lost
        record.plan = plan.steps
        self.store.add(record, key=key)
        offset = 0.0
        if record.history and record.history[-1][1] == "SCHEDULED":
            offset = float(record.history[-1][2])
        self.timelines.start(key, record, plan.steps, self._on_step, offset=offset, defer=defer)
        self.counters["submitted"] += 1
        if self.events.active:
            self._publish(
                "submit",
                record.account,
                message_id=record.message_id,
                status=0,
                transport="smpp",
                provider=record.provider,
                source=record.source_addr,
                destination=record.destination_addr,
                text=submission.get_text(),
                data_coding=record.data_coding,
                registered_delivery=record.registered_delivery,
                part_index=record.part_index,
                part_count=record.part_count,
                rule=plan.rule,
                outcome=plan.reason,
            )
        return S.ESME_ROK

    def _reject(self, account: Account, pdu: Pdu, status: int, reason: str) -> tuple[int, str]:
        self.counters["rejected"] += 1
        self._publish(
            "submit",
            account.system_id,
            message_id=None,
            status=int(status),
            reason=reason,
            destination=pdu.str_param("destination_addr"),
        )
        return status, ""

    # -- timelines and receipts ----------------------------------------------------------
    def _on_step(self, record: MessageRecord, step: Step) -> None:
        rendered = self._render_as_provider(record, step)
        if rendered is not step:  # what query_sm reports follows the impersonated provider
            record.stat, record.err = rendered.stat, rendered.err
            record.catalog_key = rendered.catalog_key
            step = rendered
        wanted = not record.lost and self._wants_receipt(record.registered_delivery, step)
        if self.events.active:
            self._publish(
                "status",
                record.account,
                message_id=record.message_id,
                stat=step.stat,
                err=step.err,
                final=step.final,
                catalog_key=step.catalog_key,
                provider=step.provider,
                receipt=wanted,
            )
        if wanted:
            self.queue_receipt(record, step)

    @staticmethod
    def _wants_receipt(registered_delivery: int, step: Step) -> bool:
        if not step.final:
            return bool(registered_delivery & REGISTERED_DELIVERY_INTERMEDIATE)
        mode = registered_delivery & REGISTERED_DELIVERY_MASK
        if mode == REGISTERED_DELIVERY_FINAL:
            return True
        if mode == REGISTERED_DELIVERY_FAILURE:
            return step.stat not in _SUCCESS_STATS
        if mode == REGISTERED_DELIVERY_SUCCESS:
            return step.stat in _SUCCESS_STATS
        return False

    def queue_receipt(self, record: MessageRecord, step: Step) -> None:
        state = self._state_for(record.account)
        put: Callable[[Delivery], None] = state.queue.put
        if self.on_receipt_queued:
            put = self._observed_put(record.account, put)
        queued = self.receipts.send(record, step, state.account, put, state.ids.next_id)
        self.counters["receipts_queued"] += queued

    def _observed_put(
        self, account: str, put: Callable[[Delivery], None]
    ) -> Callable[[Delivery], None]:
        def observed(delivery: Delivery) -> None:
            for observer in self.on_receipt_queued:
                observer(account, delivery)
            put(delivery)

        return observed

    def resume(
        self, key: str, record: MessageRecord, steps: tuple[Step, ...], offset: float
    ) -> None:
        """Run the rest of a reloaded message's timeline, receipts included (after a restart)."""
        self.timelines.start(key, record, steps, self._on_step, offset=offset)

    def requeue(self, system_id: str, delivery: Delivery) -> None:
        """Queue a reloaded, never acknowledged receipt again for the account's receivers."""
        self._state_for(system_id).queue.put(delivery)

    def _receipt_fault(self, where: str, effects: ReceiptFaults, record: MessageRecord) -> None:
        self.counters["faults_applied"] += len(effects.applied)
        if self.events.active:
            for fault in effects.applied:
                self._publish(
                    "fault",
                    record.account,
                    fault=fault.kind,
                    name=fault.name,
                    message_id=record.message_id,
                    where=where,
                )

    def _delivery_outcome(self, delivery: Delivery, outcome: str, status: int | None) -> None:
        for observer in self.on_delivery_done:
            observer(delivery, outcome)
        if outcome == "delivered":
            self.counters[
                "receipts_delivered" if delivery.kind == "receipt" else "mo_delivered"
            ] += 1
        else:
            self.counters["deliveries_failed"] += 1
            log.warning(
                "%s %s for %s not delivered: %s%s",
                delivery.kind,
                delivery.message_id or "",
                delivery.pdu.str_param("destination_addr"),
                outcome,
                "" if status is None else f" (0x{status:X})",
            )
        if self.events.active:
            self._publish(
                delivery.kind,
                None,
                message_id=delivery.message_id,
                outcome=outcome,
                status=status,
                attempts=delivery.attempts,
                **delivery.meta,
            )

    # -- query, cancel, replace ----------------------------------------------------------
    def on_query(self, session: SmscSession, pdu: Pdu) -> Pdu:
        return query_response(self.store, _account_id(session), pdu)

    def on_cancel(self, session: SmscSession, pdu: Pdu) -> int:
        found = cancellable(self.store, _account_id(session), pdu)
        if not found:
            return S.ESME_RCANCELFAIL
        for key, record in found:
            self.timelines.cancel(key, record)
        return S.ESME_ROK

    def on_replace(self, session: SmscSession, pdu: Pdu) -> int:
        status = replace_message(self.store, _account_id(session), pdu, self.clock)
        if status == S.ESME_ROK and self.timelines.on_change:
            message_id = pdu.str_param("message_id")
            record = self.store.get(message_id)
            if record is not None:
                self.timelines.touch(message_id, record)
        return status

    # -- MO ---------------------------------------------------------------------------------
    def send_mo(
        self,
        system_id: str,
        source: str,
        destination: str,
        text: str,
        *,
        data_coding: int | None = None,
        use_payload: bool | None = None,
    ) -> int:
        """Queue a mobile-originated message for the account's receivers; returns the part count."""
        state = self._state_for(system_id)
        whole = state.account.mo_use_payload if use_payload is None else use_payload
        self._mo_reference = (self._mo_reference + 1) % 256
        pdus = mo_pdus(
            text, source, destination, self._mo_reference, data_coding=data_coding, whole=whole
        )
        expires = self.clock.now() + state.account.default_validity
        meta: dict[str, object] = {"source": source, "destination": destination}
        for pdu in pdus:
            state.queue.put(Delivery(pdu, "mo", None, expires, meta=dict(meta)))
        bodies = pdus
        self.counters["mo_queued"] += len(bodies)
        self._publish("mo", system_id, source=source, destination=destination, parts=len(bodies))
        return len(bodies)

    # -- misc -----------------------------------------------------------------------------
    def pending_deliveries(self, system_id: str) -> int:
        state = self._states.get(system_id)
        return 0 if state is None else len(state.queue)

    def _publish(self, kind: str, account: str | None, **data: object) -> None:
        events = self.events
        if events.active:
            events.publish(Event(kind, self.clock.time(), account, data))
