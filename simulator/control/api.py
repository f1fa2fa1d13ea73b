"""The REST control API under /api/v1: read the journal and the store, drive the simulator.

Strategy: handlers are thin. They validate the query or body with a model from `models.py`,
call an operation from `actions.py` (or read the journal, the store, the sessions), and answer
with a response model. Every route is an `ApiRoute`, so the OpenAPI document comes from the
same table the router is built from; `register_control_api` (in `__init__`) adds the table and
the middleware that checks access and shapes errors.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from simulator import __version__
from simulator.core.clock import VirtualClock
from simulator.core.realclock import RealClock
from simulator.engine.plan import Step
from simulator.smpp.codec.constants import ESM_CLASS_UDHI
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.text import decode_text, is_text_coding, parse_udh
from simulator.smpp.session import SmscSession
from simulator.store.journal import KINDS, JournalEntry
from simulator.store.messages import MessageRecord

from . import actions
from . import models as m
from .openapi import API_PREFIX, ApiRoute, build_document, control_routes, docs_page

if TYPE_CHECKING:
    from . import ControlTarget

M = TypeVar("M", bound=BaseModel)


# -- views of the simulator's own objects ----------------------------------------------------


def json_safe(value: Any) -> Any:
    """Journal data and transport extras as JSON: bytes as hex, other objects as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return str(value)


def _text_of(record: MessageRecord) -> str | None:
    if record.transport != "smpp":
        return record.body.decode("utf-8", "replace")
    if not is_text_coding(record.data_coding):
        return None
    body = record.body
    try:
        if record.esm_class & ESM_CLASS_UDHI:
            _, body = parse_udh(body)
        return decode_text(body, record.data_coding)
    except CodecError:
        return None


def step_view(step: Step) -> m.StepView:
    return m.StepView(
        delay=step.delay,
        stat=step.stat,
        err=step.err,
        final=step.final,
        network_error_code=step.network_error_code,
        catalog_key=step.catalog_key,
        provider=step.provider,
    )


def message_view(record: MessageRecord) -> m.MessageView:
    return m.MessageView(
        message_id=record.message_id,
        account=record.account,
        transport=record.transport,
        provider=record.provider,
        source=record.source_addr,
        destination=record.destination_addr,
        text=_text_of(record),
        body_hex=record.body.hex(),
        data_coding=record.data_coding,
        registered_delivery=record.registered_delivery,
        part_index=record.part_index,
        part_count=record.part_count,
        submitted_at=record.submitted_at,
        state=record.state,
        stat=record.stat,
        err=record.err,
        final=record.final,
        done_at=record.done_at,
        catalog_key=record.catalog_key,
        rule=record.rule,
        lost=record.lost,
        plan=[step_view(step) for step in record.plan if isinstance(step, Step)],
        history=[m.HistoryItem(at=at, stat=stat, err=err) for at, stat, err in record.history],
        extra=json_safe(_without_credentials(record.extra)),
    )


#: Fields of a record's transport data that hold credentials (Clickatell echoes its API key in
#: callbacks, so the adapter keeps it): never shown by the API or the UI.
_CREDENTIAL_FIELDS = frozenset({"api_key", "password", "token", "access_token"})


def _without_credentials(extra: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in extra.items() if key not in _CREDENTIAL_FIELDS}


def entry_view(entry: JournalEntry) -> m.JournalEntryView:
    return m.JournalEntryView(
        seq=entry.seq,
        time=entry.time,
        kind=entry.kind,
        account=entry.account,
        provider=entry.provider,
        message_id=entry.message_id,
        data=json_safe(entry.data),
    )


def session_view(session: SmscSession) -> m.SessionView:
    return m.SessionView(
        session_id=session.session_id,
        peer=session.peer,
        system_id=session.system_id,
        bind_type=session.bind_type,
        state=session.state.value,
        bound=session.bound,
        outstanding=session.outstanding,
        counters=dict(session.counters),
    )


def fault_view(info: actions.FaultInfo) -> m.FaultView:
    return m.FaultView(
        id=info.id,
        source="api" if info.source == "api" else "scenario",
        removable=info.source == "api",
        applied=info.applied,
        fault=info.fault.model_dump(mode="json", exclude_defaults=True),
    )


# -- request helpers -------------------------------------------------------------------------


def validate(model: type[M], data: Any, root: str) -> M:
    """`data` as `model`, or a 400 naming every field at fault (`root.field`)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [
            m.Problem(
                where=".".join([root, *(str(part) for part in detail["loc"])]),
                message=detail["msg"],
            )
            for detail in error.errors(include_url=False)
        ]
        code = "invalid_parameter" if root == "query" else "invalid_body"
        raise m.bad(problems[0].message, problems[0].where, code, problems) from None


def query(request: web.Request, model: type[M]) -> M:
    return validate(model, dict(request.query), "query")


async def body(request: web.Request, model: type[M] | None = None) -> Any:
    """The JSON body (validated as `model` when given)."""
    try:
        data = await request.json() if request.can_read_body else None
    except ValueError as error:
        raise m.bad(f"the body is not valid JSON: {error}", "body", "invalid_json") from None
    if data is None:
        raise m.bad("expected a JSON body", "body")
    return data if model is None else validate(model, data, "body")


def answer(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


def _kinds(text: str | None) -> set[str] | None:
    if not text:
        return None
    kinds = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise m.bad(
            f"unknown kind {unknown[0]!r}; known: {', '.join(KINDS)}",
            "query.kind",
            "invalid_parameter",
        )
    return kinds


class ControlApi:
    """The handlers of one simulator's control API."""

    def __init__(self, sim: ControlTarget) -> None:
        self.sim = sim
        self.waiters: set[asyncio.Event] = set()
        self.max_waiters = 64  # long-polls waiting at once; each listens to every journal entry
        self.extra_routes: list[ApiRoute] = []
        self._document: dict[str, Any] | None = None

    # -- service -------------------------------------------------------------------------
    async def health(self, request: web.Request) -> web.Response:
        listeners = [m.ListenerView(name=item.name, url=item.url) for item in self.sim.listeners]
        return answer(m.Health(status="ok", listeners=listeners))

    async def version(self, request: web.Request) -> web.Response:
        return answer(
            m.Version(
                name="dlrsim", version=__version__, api="v1", providers=sorted(self.sim.providers)
            )
        )

    def document(self) -> dict[str, Any]:
        if self._document is None:
            routes = [*control_routes(self), *self.extra_routes]
            self._document = build_document(routes, __version__)
        return self._document

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(self.document())

    async def docs(self, request: web.Request) -> web.Response:
        page = docs_page(self.document(), f"{API_PREFIX}/openapi.json")
        return web.Response(text=page, content_type="text/html")

    # -- messages and journal views ------------------------------------------------------
    async def messages(self, request: web.Request) -> web.Response:
        q = query(request, m.MessageQuery)
        found = [
            record
            for record in actions.all_messages(self.sim)
            if (q.account is None or record.account == q.account)
            and (q.provider is None or record.provider == q.provider)
            and (q.transport is None or record.transport == q.transport)
            and (q.destination is None or record.destination_addr == q.destination)
            and (q.stat is None or record.stat == q.stat)
            and (q.final is None or record.final == q.final)
            and (q.since is None or record.submitted_at >= q.since)
        ]
        shown = [message_view(record) for record in found[: q.limit]]
        return answer(m.MessageList(messages=shown, count=len(shown), total=len(found)))

    async def message(self, request: web.Request) -> web.Response:
        message_id = request.match_info["message_id"]
        record = actions.find_message(self.sim, message_id)
        if record is None:
            raise m.missing(f"no message {message_id!r}", "path.message_id")
        timeline = [entry_view(e) for e in self.sim.journal.for_message(record.message_id)]
        return answer(m.MessageDetail(message=message_view(record), timeline=timeline))

    async def push_status(self, request: web.Request) -> web.Response:
        wanted = await body(request, m.PushStatusRequest)
        result = actions.push_status(self.sim, request.match_info["message_id"], wanted)
        sink = "webhook" if result.sink == "webhook" else "smpp_receipt"
        return answer(
            m.PushStatusResponse(
                message=message_view(result.record),
                step=step_view(result.step),
                sink=sink,
                receipt=result.receipt,
            )
        )

    async def receipts(self, request: web.Request) -> web.Response:
        q = query(request, m.ReceiptQuery)
        shown = []
        for entry in self.sim.journal.find("receipt", message_id=q.message_id, since=q.since):
            data = entry.data
            record = actions.find_message(self.sim, entry.message_id or "")
            view = m.ReceiptView(
                seq=entry.seq,
                time=entry.time,
                message_id=entry.message_id,
                account=entry.account or (record.account if record else None),
                stat=data.get("stat"),
                err=data.get("err"),
                outcome=data.get("outcome"),
                status=data.get("status"),
                attempts=data.get("attempts"),
            )
            checks = ((q.account, view.account), (q.outcome, view.outcome), (q.stat, view.stat))
            if all(wanted is None or wanted == got for wanted, got in checks):
                shown.append(view)
                if len(shown) >= q.limit:
                    break
        last = self.sim.journal.last_seq
        return answer(m.ReceiptList(receipts=shown, count=len(shown), last_seq=last))

    async def webhooks(self, request: web.Request) -> web.Response:
        q = query(request, m.WebhookQuery)
        shown = []
        wanted = {"kind": q.kind, "outcome": q.outcome, "status_code": q.status_code}
        for entry in self.sim.journal.find(
            "webhook",
            account=q.account,
            provider=q.provider,
            message_id=q.message_id,
            since=q.since,
        ):
            data = entry.data
            if any(value is not None and data.get(key) != value for key, value in wanted.items()):
                continue
            shown.append(
                m.WebhookView(
                    seq=entry.seq,
                    time=entry.time,
                    message_id=entry.message_id,
                    account=entry.account,
                    provider=entry.provider,
                    kind=data.get("kind"),
                    url=data.get("url"),
                    method=data.get("method"),
                    attempt=data.get("attempt"),
                    status_code=data.get("status_code"),
                    latency_ms=data.get("latency_ms"),
                    outcome=data.get("outcome"),
                    error=data.get("error"),
                    body=data.get("body"),
                )
            )
            if len(shown) >= q.limit:
                break
        last = self.sim.journal.last_seq
        return answer(m.WebhookList(webhooks=shown, count=len(shown), last_seq=last))

    async def events(self, request: web.Request) -> web.Response:
        """Journal entries after `since`; with none yet, wait (bounded) for the next one."""
        q = query(request, m.EventQuery)
        kinds, journal = _kinds(q.kind), self.sim.journal
        found = journal.find(kinds, since=q.since, limit=q.limit)
        if not found and q.wait > 0:
            if len(self.waiters) >= self.max_waiters:
                raise m.ControlError(
                    503,
                    "too_many_waiters",
                    f"{len(self.waiters)} long-polls are waiting already; poll again later",
                    "query.wait",
                )
            woken = asyncio.Event()

            def on_entry(entry: JournalEntry) -> None:
                if entry.seq > q.since and (kinds is None or entry.kind in kinds):
                    woken.set()

            unsubscribe = journal.subscribe(on_entry)
            self.waiters.add(woken)
            try:
                await asyncio.wait_for(woken.wait(), q.wait)
            except TimeoutError:
                pass
            finally:
                unsubscribe()
                self.waiters.discard(woken)
            found = journal.find(kinds, since=q.since, limit=q.limit)
        next_since = found[-1].seq if found else max(q.since, journal.last_seq)
        return answer(
            m.EventList(
                entries=[entry_view(e) for e in found],
                last_seq=journal.last_seq,
                next_since=next_since,
                dropped=journal.dropped,
            )
        )

    # -- sessions and accounts -----------------------------------------------------------
    async def sessions(self, request: web.Request) -> web.Response:
        smsc = self.sim.smsc
        found = sorted(smsc.sessions.values(), key=lambda s: s.session_id) if smsc else []
        return answer(m.SessionList(sessions=[session_view(s) for s in found]))

    async def disconnect(self, request: web.Request) -> web.Response:
        mode = query(request, m.DisconnectQuery).mode
        session = actions.disconnect_session(self.sim, request.match_info["session_id"], mode)
        return answer(m.DisconnectResponse(session=session_view(session), action=mode))

    async def accounts(self, request: web.Request) -> web.Response:
        smsc = self.sim.smsc
        if smsc is None:
            return answer(m.AccountList(accounts=[], accept_any=False))
        views = []
        for account in smsc.accounts:
            binds = sum(
                1 for s in smsc.sessions.values() if s.bound and s.system_id == account.system_id
            )
            views.append(
                m.AccountView(
                    system_id=account.system_id,
                    provider=account.provider,
                    password_set=account.password is not None,
                    api_key_set=account.api_key is not None,
                    bind_types=list(account.bind_types),
                    max_binds=account.max_binds,
                    window=account.window,
                    max_submit_rate=account.max_submit_rate,
                    message_id_format=account.message_id_format,
                    binds=binds,
                    pending_deliveries=smsc.pending_deliveries(account.system_id),
                )
            )
        return answer(m.AccountList(accounts=views, accept_any=smsc.accounts.accept_any))

    # -- scenario and faults -------------------------------------------------------------
    def scenario_view(self) -> m.ScenarioView:
        runtime = self.sim.scenario
        if runtime is None:
            return m.ScenarioView(
                active=False,
                name=None,
                description=None,
                provider=None,
                state=None,
                rules=0,
                faults=0,
                source=None,
                scenario=None,
            )
        scenario, state = runtime.scenario, actions.find_state(runtime)
        from_api = state is not None and state.api_scenario is scenario
        return m.ScenarioView(
            active=True,
            name=scenario.name,
            description=scenario.description,
            provider=scenario.provider,
            state=runtime.state,
            rules=len(scenario.rules),
            faults=len(scenario.faults),
            source="api" if from_api else str(self.sim.settings.scenario),
            scenario=scenario.model_dump(mode="json", exclude_defaults=True),
        )

    async def get_scenario(self, request: web.Request) -> web.Response:
        return answer(self.scenario_view())

    async def put_scenario(self, request: web.Request) -> web.Response:
        actions.replace_scenario(self.sim, await request.text())
        return answer(self.scenario_view())

    async def validate_scenario(self, request: web.Request) -> web.Response:
        scenario = actions.parse_scenario(self.sim, await request.text())
        return answer(
            m.ScenarioValidation(
                valid=True,
                name=scenario.name,
                rules=len(scenario.rules),
                faults=len(scenario.faults),
            )
        )

    async def put_state(self, request: web.Request) -> web.Response:
        state = (await body(request, m.StateRequest)).state
        previous = actions.set_scenario_state(self.sim, state)
        return answer(m.StateResponse(state=state, previous=previous))

    async def faults(self, request: web.Request) -> web.Response:
        return answer(m.FaultList(faults=[fault_view(f) for f in actions.list_faults(self.sim)]))

    async def add_fault(self, request: web.Request) -> web.Response:
        return answer(fault_view(actions.add_fault(self.sim, await body(request))), 201)

    async def remove_fault(self, request: web.Request) -> web.Response:
        info = actions.remove_fault(self.sim, request.match_info["fault_id"])
        return answer(fault_view(info))

    # -- clock, MO, reset ----------------------------------------------------------------
    def clock_view(self) -> m.ClockView:
        clock = self.sim.clock
        virtual = isinstance(clock, VirtualClock)
        return m.ClockView(
            kind="virtual" if virtual else "real",
            now=clock.now(),
            time=clock.time(),
            scale=clock.scale if isinstance(clock, RealClock) else None,
            pending=clock.pending if isinstance(clock, VirtualClock) else None,
        )

    async def clock(self, request: web.Request) -> web.Response:
        return answer(self.clock_view())

    async def advance(self, request: web.Request) -> web.Response:
        seconds = (await body(request, m.AdvanceRequest)).seconds
        fired = actions.advance_clock(self.sim, seconds)
        return answer(m.AdvanceResponse(fired=fired, clock=self.clock_view()))

    async def time_scale(self, request: web.Request) -> web.Response:
        actions.set_time_scale(self.sim, (await body(request, m.TimeScaleRequest)).scale)
        return answer(self.clock_view())

    async def mo(self, request: web.Request) -> web.Response:
        result = actions.inject_mo(self.sim, await body(request, m.MoRequest))
        transport = "http" if result.transport == "http" else "smpp"
        return answer(
            m.MoResponse(
                transport=transport,
                account=result.account,
                parts=result.parts,
                message_id=result.message_id,
                url=result.url,
            ),
            202,
        )

    async def reset(self, request: web.Request) -> web.Response:
        return answer(m.ResetResponse(cleared=actions.reset(self.sim)))
