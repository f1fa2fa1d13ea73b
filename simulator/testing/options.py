"""What a test asks of its simulator, and how that becomes a running `Simulator`.

`DlrsimSettings` is the small, hashable description a test gives (provider, scenario, seed,
accounts, extra `Settings` fields); its `key()` decides which tests may share one running
simulator. Starting is kept fast by loading the provider catalogs once per process
(`shared_registry`) and handing the simulator a ready `ScenarioRuntime`, instead of letting it
read the catalogs from disk again for every start.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from simulator.app import SMPP_COMMANDS, SMPP_STATUSES, Simulator
from simulator.catalog.loader import CatalogError
from simulator.catalog.registry import CatalogRegistry, load_registry
from simulator.config import Settings
from simulator.core.accounts import Account
from simulator.core.clock import VirtualClock
from simulator.core.errors import ConfigError
from simulator.engine.numbers import OutcomeNumbers
from simulator.engine.runtime import ScenarioRuntime
from simulator.scenario.files import scenario_dir
from simulator.scenario.loader import load_scenario, load_scenario_text
from simulator.scenario.model import Delay, Rejection, Rule, Scenario, Then, When

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

DEFAULT_PROVIDER = "infobip"
DEFAULT_SEED = 1
#: Simulated seconds from submit to the final status under the built-in test scenario.
DEFAULT_DELIVERY_AFTER = 2.0
SETTING_NAMES = ("provider", "scenario", "seed", "accounts", "options")

ScenarioSpec = str | Path | Mapping[str, Any] | None


@dataclass(frozen=True)
class DlrsimSettings:
    """How a test wants its simulator: every field has a default that suits most tests.

    `scenario` is a scenario file (path), the name of a shipped scenario (`chaos-throttling`),
    an inline scenario as a dict, or None for the built-in test scenario (every message
    delivered after 2 simulated seconds, in `provider`'s codes). `options` holds further
    `simulator.config.Settings` fields (`time_scale` excepted: tests run on a virtual clock).
    """

    provider: str = DEFAULT_PROVIDER
    scenario: ScenarioSpec = None
    seed: int | None = DEFAULT_SEED
    accounts: tuple[Account, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def merged(self, **changes: Any) -> DlrsimSettings:
        """A copy with `changes` applied (None values are ignored; unknown names refused)."""
        unknown = sorted(set(changes) - set(SETTING_NAMES))
        if unknown:
            raise TypeError(
                f"unknown dlrsim setting(s) {', '.join(unknown)}; expected some of "
                f"{', '.join(SETTING_NAMES)}"
            )
        given = {name: value for name, value in changes.items() if value is not None}
        if "accounts" in given:
            given["accounts"] = _accounts(given["accounts"])
        if "options" in given:
            given["options"] = {**self.options, **dict(given["options"])}
        return dataclasses.replace(self, **given)

    def key(self) -> str:
        """Equal keys mean one running simulator can serve both tests."""
        scenario: Any = self.scenario
        if isinstance(scenario, Path):
            scenario = str(scenario.resolve())
        return json.dumps(
            {
                "provider": self.provider,
                "scenario": scenario,
                "seed": self.seed,
                "accounts": [account.model_dump(mode="json") for account in self.accounts],
                "options": dict(self.options),
            },
            sort_keys=True,
            default=str,
        )


def coerce_settings(value: DlrsimSettings | Mapping[str, Any] | None) -> DlrsimSettings:
    """Accept what a `dlrsim_settings` fixture returns: settings, a plain dict or None."""
    if value is None:
        return DlrsimSettings()
    if isinstance(value, DlrsimSettings):
        return value
    if isinstance(value, Mapping):
        return DlrsimSettings().merged(**dict(value))
    raise TypeError(
        f"dlrsim settings must be a DlrsimSettings or a dict; found {type(value).__name__}"
    )


def _accounts(value: Any) -> tuple[Account, ...]:
    if isinstance(value, Account | Mapping):
        value = [value]
    return tuple(
        item if isinstance(item, Account) else Account.model_validate(item) for item in value
    )


@functools.lru_cache(maxsize=1)
def shared_registry() -> CatalogRegistry:
    """The provider catalogs, read once per process (read-only data, safe to share)."""
    return load_registry()


# -- scenarios -------------------------------------------------------------------------------


def build_scenario(settings: DlrsimSettings, registry: CatalogRegistry) -> Scenario:
    """The scenario a test runs under; raises `ScenarioError` or `ConfigError` when invalid."""
    spec = settings.scenario
    if spec is None:
        catalog = registry.get(settings.provider)
        return Scenario(
            name="pytest",
            description="dlrsim pytest default: every message delivered",
            provider=settings.provider,
            default=Then(
                outcome=catalog.delivered_status, after=Delay(fixed=DEFAULT_DELIVERY_AFTER)
            ),
        )
    if isinstance(spec, Mapping):
        data = dict(spec)
        data.setdefault("name", "inline")
        data.setdefault("provider", settings.provider)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        return load_scenario_text(
            text,
            "<inline scenario>",
            registry,
            known_smpp_statuses=SMPP_STATUSES,
            known_commands=SMPP_COMMANDS,
        )
    path = _scenario_path(spec)
    return load_scenario(
        path, registry, known_smpp_statuses=SMPP_STATUSES, known_commands=SMPP_COMMANDS
    )


def _scenario_path(spec: str | Path) -> Path:
    path = Path(spec)
    if path.exists():
        return path
    if isinstance(spec, str) and "/" not in spec and "\\" not in spec:
        shipped = scenario_dir() / (spec if spec.endswith(".yaml") else f"{spec}.yaml")
        if shipped.exists():
            return shipped
    raise ConfigError(f"scenario {spec}: no such file, nor a shipped scenario of that name")


def expectation_rule(
    index: int,
    registry: CatalogRegistry,
    provider: str | None,
    *,
    to: str | Sequence[str] | None,
    text: str | None,
    outcome: str | int | None,
    after: float | str | None,
    reject: str | int | None,
    times: int | None,
) -> Rule:
    """One `expect(...)` call as a scenario rule (checked against the catalogs now)."""
    if (outcome is None) == (reject is None):
        raise ValueError("expect() needs exactly one of outcome= or reject=")
    if times is not None and times < 1:
        raise ValueError(f"expect(times=...) must be 1 or more; found {times}")
    when: dict[str, Any] = {}
    if to is not None:
        when["destination"] = to if isinstance(to, str) else [str(item) for item in to]
    if text is not None:
        when["text"] = {"contains": text}
    if times is not None:
        when["nth"] = {"max": times}
    then: dict[str, Any]
    if reject is not None:
        as_smpp = isinstance(reject, int) or str(reject).upper().startswith("ESME_")
        if as_smpp and isinstance(reject, str) and reject.upper() not in SMPP_STATUSES:
            raise ValueError(f"expect(reject={reject!r}): not an SMPP ESME_* status name")
        then = {"reject": Rejection(smpp=reject) if as_smpp else Rejection(http=str(reject))}
    else:
        if provider is None:
            raise ValueError("expect(outcome=...) needs provider= (the scenario names none)")
        try:
            registry.lookup(provider, str(outcome))
        except CatalogError as error:
            raise ValueError(f"expect(outcome={outcome!r}): {error}") from None
        then = {"outcome": outcome, "provider": provider}
        if after is not None:
            then["after"] = after
    shown = ", ".join(
        f"{name}={value!r}"
        for name, value in (("to", to), ("text", text), ("outcome", outcome), ("reject", reject))
        if value is not None
    )
    return Rule(
        name=f"expect {index}: {shown}",
        when=When.model_validate(when),
        then=Then.model_validate(then),
    )


# -- starting ---------------------------------------------------------------------------------


def simulator_settings(settings: DlrsimSettings, scenario: Scenario, port: int = 0) -> Settings:
    """The `Settings` of a test simulator: loopback, a free port, quiet, seeded."""
    fields: dict[str, Any] = {"smpp_host": "127.0.0.1", "quiet": True}
    if "http_port" in Settings.model_fields:  # the provider HTTP APIs, on a free port too
        fields["http_port"] = 0
    fields.update(settings.options)
    if "time_scale" in fields:
        raise ConfigError("time_scale has no meaning under the virtual clock of the plugin")
    fields["smpp_port"] = port
    fields["seed"] = settings.seed
    configured = list(settings.accounts)
    fields["accounts"] = [*configured, *scenario.accounts]
    fields.setdefault("accept_any", not configured)
    return Settings.model_validate(fields)


async def start_simulator(
    settings: DlrsimSettings, clock: VirtualClock, registry: CatalogRegistry, port: int = 0
) -> tuple[Simulator, Scenario]:
    """Start a simulator on the running loop under `settings`; returns it and its scenario.

    The simulator gets its scenario runtime ready-made (as `Simulator.start` would build it
    from a file), so the catalogs are not read again for each start.
    """
    scenario = build_scenario(settings, registry)
    runtime = ScenarioRuntime(registry, SMPP_STATUSES, scenario, seed=settings.seed)
    sim = Simulator(simulator_settings(settings, scenario, port), clock=clock, planner=runtime)
    # Set before start: the HTTP side takes the registry from here, and start() wires the
    # runtime's scenario swaps to the SMSC's fault decisions.
    sim.registry = registry
    sim.scenario = runtime
    await sim.start()
    smsc = sim.smsc
    assert smsc is not None
    smsc.set_faults(runtime.faults)
    return sim, scenario


# -- every documented outcome -----------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeCase:
    """One documented SMS outcome and the test number that produces it."""

    provider: str
    number: str
    key: str
    stat: str
    err: str
    final: bool
    outcome: str  # the catalog's outcome class: delivered, undelivered, expired, rejected, ...
    code: str | None
    name: str


def outcome_cases(provider: str, registry: CatalogRegistry | None = None) -> list[OutcomeCase]:
    """Every SMS outcome of `provider`'s catalog, in catalog order, with its test number."""
    registry = registry or shared_registry()
    catalog = registry.get(provider)
    cases = [
        OutcomeCase(
            provider,
            number.number,
            number.entry.key,
            number.entry.smpp.stat,
            number.entry.smpp.err,
            number.entry.final,
            number.entry.outcome,
            number.entry.code,
            number.entry.name,
        )
        for number in OutcomeNumbers(registry).numbers(catalog)
    ]
    if not cases:
        raise ValueError(f"provider {provider!r} has no test numbers (no number_block)")
    return cases


def every_outcome(provider: str) -> list[ParameterSet]:
    """`pytest.param`s, one per documented SMS outcome of `provider` (ids: entry keys).

    Use at collection time: `@pytest.mark.parametrize("case", every_outcome("infobip"))`;
    each test then sends to `case.number` and expects `case.stat` / `case.err`.
    """
    import pytest

    return [pytest.param(case, id=case.key) for case in outcome_cases(provider)]
