"""The active scenario of a running simulator, swappable without dropping anything.

Transports hold this object as their `Planner`; activating a new scenario (hot reload, the
control API) swaps the compiled rules, the planner and the fault decisions in one step, while
sessions, queued receipts and message timelines already planned carry on untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from simulator.catalog.registry import CatalogRegistry
from simulator.engine.compiler import ScenarioCompiler
from simulator.engine.faults import FaultDecider
from simulator.engine.plan import Plan, Submission
from simulator.engine.planner import ScenarioPlanner
from simulator.scenario.model import Scenario


class ScenarioRuntime:
    def __init__(
        self,
        registry: CatalogRegistry,
        smpp_statuses: Mapping[str, int],
        scenario: Scenario,
        *,
        seed: int | None = None,
    ) -> None:
        self.registry = registry
        self.smpp_statuses = smpp_statuses
        self.seed = seed
        self.listeners: list[Callable[[ScenarioRuntime], None]] = []
        self.activate(scenario)

    def activate(self, scenario: Scenario) -> None:
        """Compile and switch to `scenario` (raises before switching if it does not compile)."""
        compiled = ScenarioCompiler(self.registry, self.smpp_statuses).compile(scenario)
        seed = self.seed if self.seed is not None else scenario.seed
        planner = ScenarioPlanner(compiled, self.registry, self.smpp_statuses, seed=seed)
        faults = FaultDecider(list(scenario.faults), self.smpp_statuses, seed)
        self.scenario, self.planner, self.faults = scenario, planner, faults
        for listener in list(self.listeners):
            listener(self)

    def plan(self, submission: Submission) -> Plan:
        return self.planner.plan(submission)

    def reset(self) -> None:
        self.planner.reset()
        self.faults = FaultDecider(
            list(self.scenario.faults), self.smpp_statuses, self.planner.seed
        )
        for listener in list(self.listeners):
            listener(self)

    @property
    def state(self) -> str:
        return self.planner.state

    def set_state(self, state: str) -> None:
        self.planner.set_state(state)
