"""What every controller shares: settings, expectations, journal queries, reset, errors.

`BaseController` does not know where the simulator's loop runs; `_call(fn)` does, in the
subclasses: `controller.Controller` hands `fn` to the loop thread and waits for the result,
`aio.AsyncController` calls it directly (the caller already is on the loop). Expectations are
rules placed in front of the scenario's own, activated on the loop with the planner's counters,
flow state and random sequence carried over. Errors the simulator logs, or that escape a
callback on its loop, are kept and raised at the next helper call.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from simulator.app import Simulator
from simulator.catalog.registry import CatalogRegistry
from simulator.core.accounts import Account
from simulator.core.clock import VirtualClock
from simulator.scenario.model import Rule, Scenario
from simulator.store.journal import JournalEntry
from simulator.testing.nearmiss import near_miss_report
from simulator.testing.options import (
    DlrsimSettings,
    coerce_settings,
    every_outcome,
    expectation_rule,
    shared_registry,
)
from simulator.testing.records import (
    Receipt,
    Record,
    Submit,
    Webhook,
    matches,
    normalise_filters,
    records,
)

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

T = TypeVar("T")
#: Real seconds a helper waits for the loop thread before declaring it stuck.
CALL_TIMEOUT = 30.0
DEFAULT_WAIT = 5.0


class SimulatorInternalError(RuntimeError):
    """Something went wrong inside the simulator during the test (a bug, not a test failure)."""


class ClockControl:
    """The simulated clock of one simulator, moved on its loop thread (`dlrsim_clock`)."""

    def __init__(self, owner: BaseController) -> None:
        self._owner = owner

    def advance(self, seconds: float) -> int:
        """Move simulated time forward, firing what falls due; returns how many timers fired."""
        clock = self._owner.virtual_clock
        return self._owner._call(lambda: clock.advance(seconds))

    def run_until_idle(self) -> int:
        """Fire every pending simulated timer (all timelines run to their end)."""
        return self._owner._call(self._owner.virtual_clock.run_until_idle)

    def now(self) -> float:
        """Simulated seconds since the simulator started."""
        return self._owner._call(self._owner.virtual_clock.now)

    @property
    def pending(self) -> int:
        return self._owner._call(lambda: self._owner.virtual_clock.pending)


class _ErrorTrap(logging.Handler):
    """Keeps ERROR records of the `dlrsim` loggers emitted on one thread."""

    def __init__(self, sink: list[str], thread_id: int) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink
        self.thread_id = thread_id
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_id:
            self.sink.append(self.format(record))


class BaseController:
    """Settings, queries, expectations and reset; subclasses say where the loop runs."""

    def __init__(
        self,
        settings: DlrsimSettings | Mapping[str, Any] | None = None,
        *,
        registry: CatalogRegistry | None = None,
        port: int = 0,
        **changes: Any,
    ) -> None:
        self.settings = coerce_settings(settings).merged(**changes)
        self.registry = registry or shared_registry()
        self.virtual_clock = VirtualClock()
        self.clock = ClockControl(self)
        self._port = port
        self._sim: Simulator | None = None
        self._base: Scenario | None = None
        self._rules: list[Rule] = []
        self._errors: list[str] = []
        self._trap: _ErrorTrap | None = None

    def _call(self, fn: Callable[[], T]) -> T:
        raise NotImplementedError

    # -- what the application needs ------------------------------------------------------------
    @property
    def simulator(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("the dlrsim simulator is not running (call start() first)")
        return self._sim

    @property
    def smpp_address(self) -> tuple[str, int]:
        """(host, port) of the SMPP listener."""
        return self.simulator.smpp_address

    @property
    def http_url(self) -> str | None:
        """Base URL of the provider HTTP APIs, or None while this simulator has none."""
        url = getattr(self._sim, "http_url", None)
        return url if isinstance(url, str) else None

    @property
    def accounts(self) -> tuple[Account, ...]:
        """Configured accounts (settings, then scenario); none means any credentials work."""
        scenario = self._base.accounts if self._base is not None else []
        return (*self.settings.accounts, *scenario)

    @property
    def scenario(self) -> Scenario:
        """The scenario the simulator runs (without this test's expectations)."""
        if self._base is None:
            raise RuntimeError("the dlrsim simulator is not running")
        return self._base

    # -- scripting outcomes ------------------------------------------------------------------------
    def expect(
        self,
        to: str | Sequence[str] | None = None,
        *,
        outcome: str | int | None = None,
        provider: str | None = None,
        after: float | str | None = None,
        reject: str | int | None = None,
        text: str | None = None,
        times: int | None = None,
    ) -> None:
        """Script the fate of matching messages until the next reset (first match wins).

        `to`: a number, a glob (`4477009*`) or a list; `text`: a substring of the message;
        `outcome`: a catalog key, name or code of `provider` (default: the scenario's) after
        `after` simulated seconds; or `reject`: an `ESME_*` status (or a provider HTTP error
        name) to refuse the submit with; `times`: only the first n matching messages.
        Test numbers (999...) keep their own outcome whatever is expected.
        """
        self._raise_errors()
        rule = expectation_rule(
            len(self._rules) + 1,
            self.registry,
            provider or self.scenario.provider or self.settings.provider,
            to=to,
            text=text,
            outcome=outcome,
            after=after,
            reject=reject,
            times=times,
        )
        self._call(lambda: self._activate([*self._rules, rule]))

    def _activate(self, rules: list[Rule]) -> None:
        """On the loop: run the base scenario with `rules` in front, keeping counters and state."""
        runtime = self.simulator.scenario
        assert runtime is not None and self._base is not None
        before, old_count = runtime.planner, len(self._rules)
        derived = self._base.model_copy(update={"rules": [*rules, *self._base.rules]})
        runtime.activate(derived)
        after = runtime.planner
        after.state = before.state
        after.attempts = before.attempts
        after.rng.setstate(before.rng.getstate())
        after.rule_counts[:old_count] = before.rule_counts[:old_count]
        after.rule_counts[len(rules) :] = before.rule_counts[old_count:]
        self._rules = rules

    # -- reading the journal -----------------------------------------------------------------------
    def _entries(self) -> list[JournalEntry]:
        journal = self.simulator.journal
        return self._call(lambda: list(journal))

    def _records(self, kind: str, filters: Mapping[str, Any]) -> list[Record]:
        wanted = normalise_filters(kind, filters)
        return [r for r in records(kind, self._entries()) if matches(r, wanted)]

    def submits(self, **filters: Any) -> list[Submit]:
        """Message parts submitted since the last reset (refused ones too), oldest first."""
        self._raise_errors()
        return [r for r in self._records("submit", filters) if isinstance(r, Submit)]

    def receipts(self, **filters: Any) -> list[Receipt]:
        """Delivery receipts handed to clients since the last reset, oldest first."""
        self._raise_errors()
        return [r for r in self._records("receipt", filters) if isinstance(r, Receipt)]

    def webhooks(self, **filters: Any) -> list[Webhook]:
        """Provider callback attempts since the last reset, oldest first."""
        self._raise_errors()
        return [r for r in self._records("webhook", filters) if isinstance(r, Webhook)]

    # -- other helpers ----------------------------------------------------------------------------
    def send_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        account: str | None = None,
        data_coding: int | None = None,
        use_payload: bool | None = None,
    ) -> int:
        """Deliver a mobile-originated message to an account's receivers; returns its parts.

        Without `account`, the one account bound to receive (or the one configured) is used.
        """
        self._raise_errors()

        def send() -> int:
            smsc = self.simulator.smsc
            assert smsc is not None
            system_id = account or self._only_account()
            return smsc.send_mo(
                system_id,
                source,
                destination,
                text,
                data_coding=data_coding,
                use_payload=use_payload,
            )

        return self._call(send)

    def _only_account(self) -> str:
        smsc = self.simulator.smsc
        assert smsc is not None
        bound = {
            session.account.system_id
            for session in smsc.sessions.values()
            if isinstance(session.account, Account) and session.can_receive
        }
        candidates = bound or {account.system_id for account in self.accounts}
        if len(candidates) != 1:
            found = ", ".join(sorted(candidates)) or "none"
            raise ValueError(f"send_mo() needs account=...: candidate accounts are {found}")
        return candidates.pop()

    def every_outcome(self, provider: str | None = None) -> list[ParameterSet]:
        """One `pytest.param` per documented SMS outcome (see `simulator.testing.every_outcome`)."""
        return every_outcome(provider or self.settings.provider)

    def reset(self) -> None:
        """Back to a clean simulator: journal, messages, expectations, scenario counters.

        Binds and ports stay; simulated time only moves forward (leftover timers of the
        previous test fire now, and what they produce is discarded).
        """
        self._call(self._reset_on_loop)
        self._errors.clear()

    def _reset_on_loop(self) -> None:
        sim = self.simulator
        smsc, runtime = sim.smsc, sim.scenario
        assert smsc is not None and runtime is not None and self._base is not None
        if self._rules:
            self._rules = []
            runtime.activate(self._base)
        runtime.reset()
        smsc.timelines.clear()
        self.virtual_clock.run_until_idle()
        for account in smsc.accounts:
            if smsc.pending_deliveries(account.system_id):
                queue = smsc.account_state(account).queue
                queue.waiting.clear()
                queue.retrying.clear()
        smsc.store.clear()
        for name in smsc.counters:
            smsc.counters[name] = 0
        sim.journal.clear()

    # -- errors inside the simulator ------------------------------------------------------------
    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        text = str(context.get("message") or "unhandled error on the simulator's loop")
        if isinstance(error, BaseException):
            text += "\n" + "".join(traceback.format_exception(error)).rstrip()
        self._errors.append(text)

    def _install_trap(self, thread_id: int) -> None:
        self._trap = _ErrorTrap(self._errors, thread_id)
        logging.getLogger("dlrsim").addHandler(self._trap)

    def _remove_trap(self) -> None:
        if self._trap is not None:
            logging.getLogger("dlrsim").removeHandler(self._trap)
            self._trap = None

    def _raise_errors(self) -> None:
        if self._errors:
            found = list(self._errors)
            del self._errors[: len(found)]  # the loop thread may be appending meanwhile
            raise SimulatorInternalError(
                "dlrsim: error(s) inside the simulator during this test:\n" + "\n".join(found)
            )

    def raise_errors(self) -> None:
        """Raise `SimulatorInternalError` if the simulator hit an error since the last check."""
        self._raise_errors()

    # -- waiting ----------------------------------------------------------------------------------
    def _step(self) -> int:
        """On the loop: fire the timers due at the next simulated moment; 0 if none is pending."""
        clock = self.virtual_clock
        due = clock.next_due()
        if due is None:
            return 0
        return clock.advance(max(0.0, due - clock.now()))

    def _report(
        self, kind: str, wanted: int, filters: Mapping[str, Any], timeout: float
    ) -> AssertionError:
        clock = self.virtual_clock
        now, pending = self._call(lambda: (clock.now(), clock.pending))
        arrivals = records(kind, self._entries())
        return AssertionError(
            near_miss_report(
                kind, wanted, filters, arrivals, timeout, clock_now=now, pending_timers=pending
            )
        )
