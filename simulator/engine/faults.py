"""Which faults apply to this PDU, bind, submit or receipt: decisions only, no I/O.

Each fault of the scenario has a kind, a probability and a scope (account, rule, bind type);
transports ask at the points where a fault can act and carry out the answer. Draws come from
the planner's seeded generator's sibling, so a seed reproduces faults as well as outcomes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.engine.compiler import Sampler, in_count, make_sampler
from simulator.scenario.model import Fault

SUBMIT_COMMANDS = frozenset({"submit_sm", "data_sm", "submit_multi"})


@dataclass(slots=True)
class PduFault:
    """What to do with one inbound PDU instead of answering it normally."""

    action: str  # "disconnect" | "no_response" | "generic_nack" | "reject" | "delay"
    fault: Fault
    status: int = 0
    delay: float = 0.0


@dataclass(slots=True)
class ReceiptFaults:
    drop: bool = False
    copies: int = 1
    extra_delay: float = 0.0
    reorder_hold: int = 0
    as_data_sm: bool = False
    unknown_id: bool = False
    applied: list[Fault] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.applied)


class _Armed:
    __slots__ = ("accounts", "commands", "delay", "fault", "rules", "seen", "session", "status")

    def __init__(self, fault: Fault, statuses: Mapping[str, int]) -> None:
        self.fault = fault
        scope = fault.scope
        self.accounts = _set(scope.account)
        self.rules = _set(scope.rule)
        self.session = scope.session
        self.commands = frozenset(fault.commands) if fault.commands else None
        self.delay: Sampler | None = make_sampler(fault.delay) if fault.delay else None
        status = fault.status
        if isinstance(status, str):
            status = statuses[status]
        self.status = status if status is not None else statuses.get("ESME_RSYSERR", 8)
        self.seen = 0

    def in_scope(self, account: str | None, bind_type: str | None, rule: str | None) -> bool:
        if self.accounts is not None and account not in self.accounts:
            return False
        if self.session is not None and bind_type != self.session:
            return False
        return self.rules is None or rule in self.rules


def _set(value: str | list[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


class FaultDecider:
    def __init__(self, faults: list[Fault], statuses: Mapping[str, int], seed: int | None = None):
        self.rng = random.Random(None if seed is None else seed ^ 0x5EED)
        self.faults = [_Armed(fault, statuses) for fault in faults]
        self._by_kind: dict[str, list[_Armed]] = {}
        for armed in self.faults:
            self._by_kind.setdefault(armed.fault.kind, []).append(armed)
        self.applied: dict[str, int] = {}

    @property
    def active(self) -> bool:
        return bool(self.faults)

    def _hits(self, armed: _Armed) -> bool:
        fault = armed.fault
        if fault.active is not None and not in_count(fault.active, armed.seen):
            return False
        return fault.probability >= 1.0 or self.rng.random() < fault.probability

    def _note(self, armed: _Armed) -> None:
        name = armed.fault.name or armed.fault.kind
        self.applied[name] = self.applied.get(name, 0) + 1

    # -- session level --------------------------------------------------------------------
    def on_bind(self, account: str, bind_type: str) -> int | None:
        for armed in self._by_kind.get("reject_bind", ()):
            if armed.in_scope(account, bind_type, None):
                armed.seen += 1
                if self._hits(armed):
                    self._note(armed)
                    return armed.status
        return None

    def on_pdu(
        self, account: str | None, bind_type: str | None, command: str, session_pdus: int
    ) -> PduFault | None:
        """Faults on a request as it arrives (before it is processed)."""
        for armed in self._by_kind.get("disconnect", ()):
            if not armed.in_scope(account, bind_type, None):
                continue
            armed.seen += 1
            fault = armed.fault
            if fault.after_pdus is not None:
                if session_pdus >= fault.after_pdus and self._hits(armed):
                    self._note(armed)
                    return PduFault("disconnect", fault)
            elif self._hits(armed):
                self._note(armed)
                return PduFault("disconnect", fault)
        is_submit = command in SUBMIT_COMMANDS
        for kind in ("no_response", "generic_nack", "reject_submit", "delay_response"):
            for armed in self._by_kind.get(kind, ()):
                wanted = (
                    armed.commands
                    if armed.commands is not None
                    else (SUBMIT_COMMANDS if kind != "delay_response" else None)
                )
                if wanted is not None and command not in wanted:
                    continue
                if kind == "reject_submit" and not is_submit:
                    continue
                if not armed.in_scope(account, bind_type, None):
                    continue
                armed.seen += 1
                if not self._hits(armed):
                    continue
                self._note(armed)
                if kind == "no_response":
                    return PduFault("no_response", armed.fault)
                if kind == "generic_nack":
                    return PduFault("generic_nack", armed.fault, armed.status)
                if kind == "reject_submit":
                    return PduFault("reject", armed.fault, armed.status)
                assert armed.delay is not None
                return PduFault("delay", armed.fault, delay=armed.delay(self.rng))
        return None

    def submit_rate(self, account: str, bind_type: str | None) -> tuple[Fault, float] | None:
        for armed in self._by_kind.get("throttle", ()):
            if armed.in_scope(account, bind_type, None) and armed.fault.rate is not None:
                return armed.fault, armed.fault.rate
        return None

    def window(self, account: str, bind_type: str | None) -> int | None:
        for armed in self._by_kind.get("window", ()):
            if armed.in_scope(account, bind_type, None) and armed.fault.size is not None:
                return armed.fault.size
        return None

    # -- receipts ---------------------------------------------------------------------------
    def on_receipt(self, account: str, rule: str | None) -> ReceiptFaults:
        effects = ReceiptFaults()
        for kind in (
            "drop_receipt",
            "duplicate_receipt",
            "delay_receipt",
            "reorder_receipts",
            "receipt_as_data_sm",
            "receipt_unknown_id",
        ):
            for armed in self._by_kind.get(kind, ()):
                if not armed.in_scope(account, None, rule):
                    continue
                armed.seen += 1
                if not self._hits(armed):
                    continue
                self._note(armed)
                effects.applied.append(armed.fault)
                if kind == "drop_receipt":
                    effects.drop = True
                elif kind == "duplicate_receipt":
                    effects.copies = max(effects.copies, armed.fault.copies)
                elif kind == "delay_receipt":
                    effects.extra_delay += armed.delay(self.rng) if armed.delay else 0.0
                elif kind == "reorder_receipts":
                    effects.reorder_hold = max(effects.reorder_hold, armed.fault.hold)
                elif kind == "receipt_as_data_sm":
                    effects.as_data_sm = True
                else:
                    effects.unknown_id = True
        return effects
