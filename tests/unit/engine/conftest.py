from __future__ import annotations

from typing import Any

import pytest

from simulator.catalog.registry import CatalogRegistry, load_registry
from simulator.engine.compiler import ScenarioCompiler
from simulator.engine.planner import ScenarioPlanner
from simulator.scenario.model import Scenario
from simulator.smpp.codec.constants import CommandStatus

STATUSES = {member.name: int(member) for member in CommandStatus}


@pytest.fixture(scope="session")
def registry() -> CatalogRegistry:
    return load_registry()


@pytest.fixture
def make_planner(registry: CatalogRegistry) -> Any:
    def make(doc: dict[str, Any], seed: int | None = 1) -> ScenarioPlanner:
        scenario = Scenario.model_validate({"name": "test", **doc})
        compiled = ScenarioCompiler(registry, STATUSES).compile(scenario)
        return ScenarioPlanner(compiled, registry, STATUSES, seed=seed)

    return make
