"""Operations on a running simulator, shared by the REST API, MQTT commands and test helpers.

Strategy. Each function takes the simulator (anything shaped like `ControlTarget`), runs on
its loop thread, checks everything first and only then changes state, so a refused request
changes nothing. Refusals raise `ControlError` with an HTTP-like status, a stable code, and
`where` naming the field at fault; the REST layer answers with them as they are, MQTT replies
reuse code, message and where.

Faults added here live in a `ControlState` kept among the scenario runtime's listeners (no
module-level state): whenever the runtime rebuilds its fault decisions (a new scenario, a
reset), the listener adds the API faults back, so they last until removed or until `reset`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.catalog.loader import CatalogError
from simulator.catalog.registry import load_registry
from simulator.core.clock import VirtualClock
from simulator.core.errors import SimulatorError
from simulator.core.events import Event
from simulator.core.realclock import RealClock
from simulator.engine.compiler import step_from_entry
from simulator.engine.faults import FaultDecider
from simulator.engine.plan import Step
from simulator.engine.runtime import ScenarioRuntime
from simulator.engine.timelines import Timelines
from simulator.http.webhooks import WebhookRequest
from simulator.providers.base import ProviderAdapter
from simulator.scenario.loader import ScenarioError, load_scenario_text
from simulator.scenario.model import Fault, Scenario
from simulator.smpp.codec.constants import CommandId, CommandStatus
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.session import SmscSession
from simulator.smpp.smsc import Smsc
from simulator.store.messages import MessageRecord, MessageStore

from .models import MoRequest, PushStatusRequest, bad, conflict, located_problems, missing

if TYPE_CHECKING:
    from . import ControlTarget

SMPP_STATUSES: dict[str, int] = {member.name: int(member) for member in CommandStatus}
SMPP_COMMANDS: frozenset[str] = frozenset(
    member.name.lower() for member in CommandId if not member.name.endswith("_RESP")
)


# -- state kept with the scenario runtime ---------------------------------------------------


class ControlState:
    """API-added faults of one simulator; a scenario-runtime listener that re-arms them."""

    def __init__(self, sim: ControlTarget) -> None:
        self.sim = sim
        self.faults: dict[str, Fault] = {}
        self.next_fault = 1
        self.api_scenario: Scenario | None = None

    def __call__(self, runtime: ScenarioRuntime) -> None:
        if self.faults:
            self.rearm(runtime)

    def rearm(self, runtime: ScenarioRuntime) -> None:
        """Rebuild the fault decisions from the scenario's faults plus the API's."""
        faults = [*runtime.scenario.faults, *self.faults.values()]
        runtime.faults = FaultDecider(faults, runtime.smpp_statuses, runtime.planner.seed)
        smsc = self.sim.smsc
        if smsc is not None:
            smsc.set_faults(runtime.faults)


def _runtime(sim: ControlTarget, where: str | None = None) -> ScenarioRuntime:
    if sim.scenario is None:
        raise conflict("no_scenario", "this simulator was started without a scenario", where)
    return sim.scenario


def find_state(runtime: ScenarioRuntime) -> ControlState | None:
    for listener in runtime.listeners:
        if isinstance(listener, ControlState):
            return listener
    return None


def control_state(sim: ControlTarget) -> ControlState:
    runtime = _runtime(sim)
    state = find_state(runtime)
    if state is None:
        state = ControlState(sim)
        runtime.listeners.append(state)
    return state


def _smsc(sim: ControlTarget) -> Smsc:
    if sim.smsc is None:
        raise conflict("not_started", "the simulator is not started")
    return sim.smsc


def _publish(sim: ControlTarget, kind: str, account: str | None, **data: Any) -> None:
    if sim.events.active:
        sim.events.publish(Event(kind, sim.clock.time(), account, data))


# -- scenarios -------------------------------------------------------------------------------


def parse_scenario(sim: ControlTarget, text: str) -> Scenario:
    """Validate scenario YAML or JSON; every problem comes back located (400)."""
    registry = sim.registry or load_registry()
    try:
        return load_scenario_text(
            text, "body", registry, known_smpp_statuses=SMPP_STATUSES, known_commands=SMPP_COMMANDS
        )
    except ScenarioError as error:
        problems = located_problems(error.problems)
        raise bad(error.summary, problems[0].where, "invalid_scenario", problems) from None


def replace_scenario(sim: ControlTarget, text: str) -> Scenario:
    """Switch to the scenario in `text`; an invalid one leaves the running one in place."""
    state = control_state(sim)
    scenario = parse_scenario(sim, text)
    try:
        sim.replace_scenario(scenario)
    except (SimulatorError, ValueError, KeyError) as error:
        raise bad(str(error), "body", "invalid_scenario") from None
    state.api_scenario = scenario
    return scenario


def set_scenario_state(sim: ControlTarget, state: str) -> str:
    """Move the scenario's flow state (rules with `state:` read it); returns the previous."""
    runtime = _runtime(sim, "body.state")
    names = runtime.scenario.states.names
    if names is not None and state not in names:
        declared = ", ".join(names)
        raise bad(f"expected a declared state ({declared}); found {state!r}", "body.state")
    previous = runtime.state
    runtime.set_state(state)
    _publish(sim, "scenario", None, state=state, previous=previous)
    return previous


# -- faults ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultInfo:
    id: str
    source: str  # "scenario" | "api"
    fault: Fault
    applied: int


def list_faults(sim: ControlTarget) -> list[FaultInfo]:
    runtime = sim.scenario
    if runtime is None:
        return []
    applied = runtime.faults.applied
    found = [
        FaultInfo(f"scenario-{index}", "scenario", fault, applied.get(fault.name or fault.kind, 0))
        for index, fault in enumerate(runtime.scenario.faults)
    ]
    state = find_state(runtime)
    if state is not None:
        found.extend(
            FaultInfo(key, "api", fault, applied.get(fault.name or fault.kind, 0))
            for key, fault in state.faults.items()
        )
    return found


def add_fault(sim: ControlTarget, raw: Any) -> FaultInfo:
    """Arm one more fault, checked exactly as a scenario file's fault would be."""
    runtime = _runtime(sim)
    if not isinstance(raw, dict):
        raise bad("expected a JSON object with one fault", "body", "invalid_fault")
    data = runtime.scenario.model_dump(mode="json", exclude_defaults=True)
    data["faults"] = [raw]
    try:
        checked = load_scenario_text(
            json.dumps(data, indent=1),
            "fault",
            sim.registry or load_registry(),
            known_smpp_statuses=SMPP_STATUSES,
            known_commands=SMPP_COMMANDS,
        )
    except ScenarioError as error:
        problems = located_problems(error.problems, prefix="faults[0]")
        raise bad(problems[0].message, problems[0].where, "invalid_fault", problems) from None
    state = control_state(sim)
    key = f"api-{state.next_fault}"
    state.next_fault += 1
    fault = checked.faults[0]
    if fault.name is None:
        fault = fault.model_copy(update={"name": key})
    state.faults[key] = fault
    state.rearm(runtime)
    _publish(sim, "fault", None, action="added", id=key, fault=fault.kind, name=fault.name)
    return FaultInfo(key, "api", fault, 0)


def remove_fault(sim: ControlTarget, fault_id: str) -> FaultInfo:
    runtime = _runtime(sim, "path.fault_id")
    for info in list_faults(sim):
        if info.id != fault_id:
            continue
        if info.source == "scenario":
            text = "faults of the scenario go away by replacing the scenario"
            raise conflict("scenario_fault", text, "path.fault_id")
        state = control_state(sim)
        del state.faults[fault_id]
        state.rearm(runtime)
        _publish(sim, "fault", None, action="removed", id=fault_id, fault=info.fault.kind)
        return info
    raise missing(f"no fault with id {fault_id!r}", "path.fault_id")


# -- messages --------------------------------------------------------------------------------


def message_stores(sim: ControlTarget) -> list[tuple[MessageStore, Timelines | None]]:
    """Each message store with the timelines that move its records: the SMSC's and the HTTP
    side's, or one pair when they share them."""
    pairs: list[tuple[MessageStore, Timelines | None]] = []
    if sim.smsc is not None:
        pairs.append((sim.smsc.store, sim.smsc.timelines))
    if not any(store is sim.store for store, _ in pairs):
        pairs.append((sim.store, sim.timelines))
    return pairs


def all_messages(sim: ControlTarget) -> list[MessageRecord]:
    """Every stored message of both transports, in submit order."""
    found = [record for store, _ in message_stores(sim) for record in store]
    return sorted(found, key=lambda record: record.submitted_at)


def find_message(sim: ControlTarget, message_id: str) -> MessageRecord | None:
    for store, _ in message_stores(sim):
        record = store.get(message_id)
        if record is not None:
            return record
    return None


@dataclass
class PushResult:
    record: MessageRecord
    step: Step
    sink: str  # "smpp_receipt" | "webhook"
    receipt: bool | None = None


def resolve_step(sim: ControlTarget, record: MessageRecord, request: PushStatusRequest) -> Step:
    """The step a push names: a catalog entry of the message's provider, or a raw stat/err."""
    if (request.status is None) == (request.stat is None):
        raise bad("give exactly one of status (a catalog entry) or stat (raw)", "body.status")
    if request.stat is not None:
        final = request.stat != "ENROUTE"
        if request.final is not None and request.final != final:
            raise bad(f"{request.stat} is {'' if final else 'not '}a final stat", "body.final")
        return Step(0.0, request.stat, request.err, final, request.network_error_code)
    for name in ("final", "network_error_code"):
        if getattr(request, name) is not None:
            raise bad(f"{name} goes with a raw stat only", f"body.{name}")
    runtime = sim.scenario
    provider = request.provider or record.provider
    if provider is None and runtime is not None:
        provider = runtime.scenario.provider
    if provider is None:
        raise bad(
            "the message has no provider: name a catalog, or push a raw stat", "body.provider"
        )
    registry = sim.registry or load_registry()
    if provider not in registry:
        known = ", ".join(registry.providers())
        raise bad(f"no catalog {provider!r}; known: {known}", "body.provider", "unknown_provider")
    try:
        entry = registry.lookup(provider, request.status or "")
    except CatalogError as error:
        raise bad(str(error), "body.status", "unknown_status") from None
    return step_from_entry(registry.get(provider), entry)


def push_status(sim: ControlTarget, message_id: str, request: PushStatusRequest) -> PushResult:
    """Move a message to a status now and send what that status sends (receipt or webhook).

    A final status ends the message: its remaining planned steps are dropped. A non-final one
    is inserted and the planned timeline carries on.
    """
    found = [(s, lines) for s, lines in message_stores(sim) if s.get(message_id) is not None]
    if not found:
        raise missing(f"no message {message_id!r}", "path.message_id")
    store, timelines = found[0]
    record = store.get(message_id)
    assert record is not None
    if record.final:
        text = f"message {message_id} is already final ({record.stat})"
        raise conflict("final_state", text, "path.message_id")
    step = resolve_step(sim, record, request)
    if timelines is None:
        raise conflict("not_started", "the simulator is not started")
    adapter: ProviderAdapter | None = None
    smsc: Smsc | None = None
    if record.transport == "http":
        adapter = sim.providers.get(record.provider or "")
        if adapter is None:
            raise conflict("provider_off", f"provider {record.provider} has no adapter running")
    else:
        smsc = _smsc(sim)
    timelines.apply(record, step)
    if step.final:
        # The planned steps would find the record final and do nothing; drop their timers.
        timelines.stop(message_id)
        store.mark_finished(record, message_id)
    if adapter is not None:
        adapter.context.on_step(adapter, record, step)
        return PushResult(record, step, "webhook")
    assert smsc is not None
    wanted = not record.lost and smsc._wants_receipt(record.registered_delivery, step)
    smsc._on_step(record, step)
    return PushResult(record, step, "smpp_receipt", wanted)


# -- MO --------------------------------------------------------------------------------------


@dataclass
class MoResult:
    transport: str
    account: str | None
    parts: int | None = None
    message_id: str | None = None
    url: str | None = None


def _only_receiver(smsc: Smsc) -> str:
    bound = sorted({s.system_id for s in smsc.sessions.values() if s.can_receive})
    if len(bound) == 1:
        return bound[0]
    found = f"{len(bound)} accounts have receivers bound" if bound else "no receiver is bound"
    raise bad(f"name the account ({found})", "body.account")


def inject_mo(sim: ControlTarget, request: MoRequest) -> MoResult:
    """An inbound SMS: deliver_sm to an SMPP account's receivers, or a provider's push."""
    if request.transport == "smpp":
        for name in ("provider", "url"):
            if getattr(request, name) is not None:
                raise bad(f"{name} goes with transport http", f"body.{name}")
        smsc = _smsc(sim)
        account = request.account or _only_receiver(smsc)
        try:
            parts = smsc.send_mo(
                account,
                request.source,
                request.destination,
                request.text,
                data_coding=request.data_coding,
                use_payload=request.use_payload,
            )
        except KeyError:
            raise missing(f"no account {account!r}", "body.account") from None
        except CodecError as error:
            raise bad(str(error), "body.data_coding") from None
        return MoResult("smpp", account, parts=parts)
    for name in ("data_coding", "use_payload"):
        if getattr(request, name) is not None:
            raise bad(f"{name} goes with transport smpp", f"body.{name}")
    if request.provider is None:
        raise bad("an http MO names its provider", "body.provider")
    if request.url is None or not request.url.startswith(("http://", "https://")):
        raise bad("an http MO needs an http(s):// url to push to", "body.url")
    adapter = sim.providers.get(request.provider)
    if adapter is None:
        known = ", ".join(sim.providers) or "none"
        raise missing(f"no provider API {request.provider!r}; running: {known}", "body.provider")
    make = getattr(adapter, "mo_callback", None)
    webhooks = sim.webhooks
    if not callable(make) or webhooks is None:
        text = f"{request.provider} cannot send inbound messages here"
        raise conflict("no_mo", text, "body.provider")
    push = make(
        url=request.url,
        source=request.source,
        destination=request.destination,
        text=request.text,
        account=request.account,
    )
    assert isinstance(push, WebhookRequest)
    webhooks.send(push)
    _publish(
        sim,
        "mo",
        request.account,
        transport="http",
        provider=request.provider,
        message_id=push.message_id,
        source=request.source,
        destination=request.destination,
        text=request.text,
        url=request.url,
    )
    return MoResult("http", request.account, message_id=push.message_id, url=request.url)


# -- sessions, clock, reset ------------------------------------------------------------------


def disconnect_session(sim: ControlTarget, session_id: str, mode: str = "unbind") -> SmscSession:
    """End one SMPP session: `unbind` politely (closes when answered), or `close` at once."""
    session = _smsc(sim).sessions.get(session_id)
    if session is None:
        raise missing(f"no session {session_id!r}", "path.session_id")
    if mode == "close":
        session.close("closed by the control API")
    else:
        session.unbind()
    return session


def advance_clock(sim: ControlTarget, seconds: float) -> int:
    """Move a virtual clock forward, firing what falls due; returns how many timers fired."""
    clock = sim.clock
    if not isinstance(clock, VirtualClock):
        raise conflict("not_virtual_clock", "only a virtual clock moves on request", "body.seconds")
    return clock.advance(seconds)


def set_time_scale(sim: ControlTarget, scale: float) -> None:
    """Change a real clock's speed without a jump: simulated time carries on from now.

    Timers already armed keep the real delay they were armed with.
    """
    clock = sim.clock
    if not isinstance(clock, RealClock):
        raise conflict("not_real_clock", "only a real clock has a time scale", "body.scale")
    clock.set_scale(scale)


def reset(sim: ControlTarget) -> dict[str, int]:
    """Back to a clean slate with the same scenario, binds and clock.

    Clears: API-added faults; the scenario's flow state, rule counters, random sequence and
    fault counters; every running message timeline; receipts and MO waiting for a receiver;
    stored messages; SMSC and webhook counters; the journal. Keeps: the active scenario,
    accounts, bound sessions, simulated time, and deliveries or webhook attempts already on
    the wire (their outcome is journaled after the reset).
    """
    cleared = {"api_faults": 0, "timelines": 0, "pending_deliveries": 0}
    runtime = sim.scenario
    if runtime is not None:
        state = find_state(runtime)
        if state is not None:
            cleared["api_faults"] = len(state.faults)
            state.faults.clear()
        runtime.reset()
    cleared["messages"] = 0
    for store, timelines in message_stores(sim):
        if timelines is not None:
            cleared["timelines"] += len(timelines)
            timelines.clear()
        cleared["messages"] += len(store)
        store.clear()
    smsc = sim.smsc
    if smsc is not None:
        for account in smsc.accounts:
            if smsc.pending_deliveries(account.system_id):
                queue = smsc.account_state(account).queue
                cleared["pending_deliveries"] += len(queue.waiting) + len(queue.retrying)
                queue.waiting.clear()
                queue.retrying.clear()
        for name in smsc.counters:
            smsc.counters[name] = 0
    if sim.webhooks is not None:
        for name in sim.webhooks.counters:
            sim.webhooks.counters[name] = 0
    cleared["journal_entries"] = len(sim.journal)
    sim.journal.clear()
    return cleared
