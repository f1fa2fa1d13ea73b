"""Turn a validated `Scenario` into fast matchers and outcome templates, once.

Everything that can be decided ahead of time is: catalog names become step templates (stat,
err, network error code), address patterns become compiled regexes or sets, delays become
sampling functions. Per message the planner then only runs predicates and draws random
numbers. Names are assumed valid (the scenario loader checked them with line numbers); a name
that still fails here raises `EngineError`.
"""

from __future__ import annotations

import fnmatch
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from simulator.catalog.model import Catalog, Entry
from simulator.catalog.registry import CatalogRegistry
from simulator.core.errors import SimulatorError
from simulator.engine.plan import Step, Submission
from simulator.scenario.model import (
    AddressMatch,
    CountMatch,
    Delay,
    Exponential,
    LogNormal,
    Normal,
    Outcome,
    Scenario,
    Then,
    Uniform,
    When,
)

Sampler = Callable[[random.Random], float]
Predicate = Callable[[Submission], bool]


class EngineError(SimulatorError):
    pass


def make_sampler(delay: Delay) -> Sampler:
    """A function drawing one delay in seconds (never negative) from a seeded generator."""
    if delay.fixed is not None:
        fixed = delay.fixed
        return lambda rng: fixed
    dist = delay.distribution
    if isinstance(dist, Uniform):
        low, high = dist.uniform
        return lambda rng: rng.uniform(low, high)
    if isinstance(dist, Normal):
        mean, stddev = dist.normal.mean, dist.normal.stddev
        return lambda rng: max(0.0, rng.gauss(mean, stddev))
    if isinstance(dist, Exponential):
        mean = dist.exponential.mean
        return lambda rng: rng.expovariate(1.0 / mean) if mean > 0 else 0.0
    if isinstance(dist, LogNormal):
        mu, sigma = math.log(max(dist.lognormal.median, 1e-9)), dist.lognormal.sigma
        return lambda rng: rng.lognormvariate(mu, sigma)
    raise EngineError(f"unsupported delay {delay!r}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class StepTemplate:
    step: Step  # delay 0; the sampler gives the real delay
    sampler: Sampler


@dataclass(frozen=True, slots=True)
class OutcomeTemplate:
    steps: tuple[StepTemplate, ...] = ()
    reject_status: int | None = None
    reject_http: str | None = None
    lost: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class Fate:
    """What a rule does: one outcome, or a weighted choice among several; maybe a new state."""

    choices: tuple[tuple[float, OutcomeTemplate], ...]  # cumulative weights, last = total
    set_state: str | None = None

    def choose(self, rng: random.Random) -> OutcomeTemplate:
        if len(self.choices) == 1:
            return self.choices[0][1]
        point = rng.random() * self.choices[-1][0]
        for cumulative, outcome in self.choices:
            if point < cumulative:
                return outcome
        return self.choices[-1][1]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    predicates: tuple[Predicate, ...]
    states: frozenset[str] | None
    nth: CountMatch | None
    attempt: CountMatch | None
    fate: Fate


@dataclass(frozen=True, slots=True)
class CompiledScenario:
    scenario: Scenario
    rules: tuple[CompiledRule, ...]
    default: Fate


def in_count(match: CountMatch, value: int) -> bool:
    return (match.min is None or value >= match.min) and (match.max is None or value <= match.max)


def step_from_entry(catalog: Catalog, entry: Entry) -> Step:
    code = entry.smpp.network_error_code if catalog.uses_network_error_code else None
    return Step(
        0.0, entry.smpp.stat, entry.smpp.err, entry.final, code, entry.key, catalog.provider
    )


class ScenarioCompiler:
    def __init__(self, registry: CatalogRegistry, smpp_statuses: Mapping[str, int]) -> None:
        self.registry = registry
        self.smpp_statuses = smpp_statuses

    def compile(self, scenario: Scenario) -> CompiledScenario:
        rules = []
        for index, rule in enumerate(scenario.rules):
            name = rule.name or f"rule {index + 1}"
            rules.append(self._rule(scenario, name, rule.when, rule.then))
        if scenario.default is not None:
            default = self._fate(scenario, scenario.default)
        else:
            default = Fate(((1.0, self.delivered(scenario.provider)),))
        return CompiledScenario(scenario, tuple(rules), default)

    # -- outcomes --------------------------------------------------------------------------
    def delivered(self, provider: str | None, after: float = 2.0) -> OutcomeTemplate:
        """The plain happy path: the provider's initial status, then its delivered status."""
        if provider is None:
            return OutcomeTemplate(
                (
                    StepTemplate(Step(0.0, "ENROUTE", "000", final=False), lambda rng: 0.5),
                    StepTemplate(Step(0.0, "DELIVRD", "000"), lambda rng: after),
                ),
                label="DELIVRD",
            )
        catalog = self.registry.get(provider)
        index = {entry.key: entry for entry in catalog.entries}
        return self.entry_outcome(catalog, index[catalog.delivered_status], after)

    def entry_outcome(
        self, catalog: Catalog, entry: Entry, after: float = 2.0, intermediate_after: float = 0.5
    ) -> OutcomeTemplate:
        """An entry as a timeline: the provider's initial status first, when the catalog's
        flow (`next`) leads from it to the entry; a refusal that happens before that status
        (Sinch's carrier rejections, say) comes alone."""
        steps = []
        initial = next(e for e in catalog.entries if e.key == catalog.initial_status)
        reachable = self.registry.final_successors(catalog.provider, initial.key)
        follows = entry.key in reachable or entry.with_status in reachable
        if entry.final and initial.key != entry.key and follows:
            first = min(intermediate_after, after)
            steps.append(StepTemplate(step_from_entry(catalog, initial), lambda rng: first))
        steps.append(StepTemplate(step_from_entry(catalog, entry), lambda rng: after))
        return OutcomeTemplate(tuple(steps), label=entry.key)

    def _fate(self, scenario: Scenario, then: Then) -> Fate:
        if then.mix is not None:
            total = 0.0
            choices = []
            for item in then.mix:
                total += item.weight
                choices.append((total, self._outcome(scenario, item)))
            return Fate(tuple(choices), then.set_state)
        return Fate(((1.0, self._outcome(scenario, then)),), then.set_state)

    def _outcome(self, scenario: Scenario, outcome: Outcome) -> OutcomeTemplate:
        if outcome.reject is not None:
            status = outcome.reject.smpp
            if isinstance(status, str):
                if status not in self.smpp_statuses:
                    raise EngineError(f"unknown SMPP status {status!r}")
                status = self.smpp_statuses[status]
            if status is None:
                status = self.smpp_statuses.get("ESME_RSUBMITFAIL", 0x45)
            return OutcomeTemplate(
                reject_status=status,
                reject_http=outcome.reject.http,
                # The scenario's own words when it gave some: they reach logs and error bodies.
                label=outcome.reject.reason
                or f"reject {outcome.reject.smpp or outcome.reject.http}",
            )
        provider = outcome.provider or scenario.provider
        if provider is None:
            raise EngineError(f"outcome {outcome.outcome!r} needs a provider")
        catalog = self.registry.get(provider)
        entry = self.registry.lookup(provider, str(outcome.outcome))
        final_sampler = make_sampler(outcome.after)
        if outcome.steps is None:
            template = self.entry_outcome(catalog, entry)
            # The planner keeps the automatic intermediate step before the final one.
            steps = [*template.steps[:-1], StepTemplate(template.steps[-1].step, final_sampler)]
        else:
            steps = [
                StepTemplate(
                    step_from_entry(catalog, self.registry.lookup(provider, str(s.status))),
                    make_sampler(s.after),
                )
                for s in outcome.steps
            ]
            steps.append(StepTemplate(step_from_entry(catalog, entry), final_sampler))
        return OutcomeTemplate(tuple(steps), lost=outcome.lost, label=entry.key)

    # -- matching ----------------------------------------------------------------------------
    def _rule(self, scenario: Scenario, name: str, when: When, then: Then) -> CompiledRule:
        predicates: list[Predicate] = []
        if when.account is not None:
            accounts = frozenset([when.account] if isinstance(when.account, str) else when.account)
            predicates.append(lambda s: s.account in accounts)
        if when.transport is not None:
            transport = when.transport
            predicates.append(lambda s: s.transport == transport)
        if when.provider is not None:
            provider = when.provider
            predicates.append(lambda s: (s.provider or scenario.provider) == provider)
        if when.data_coding is not None:
            codings = frozenset(_as_list(when.data_coding))
            predicates.append(lambda s: s.data_coding in codings)
        if when.registered_delivery is not None:
            flags = frozenset(_as_list(when.registered_delivery))
            predicates.append(lambda s: s.registered_delivery in flags)
        if when.parts is not None:
            parts = when.parts
            predicates.append(lambda s: in_count(parts, s.part_count))
        if when.destination is not None:
            destination = address_predicate(when.destination)
            predicates.append(lambda s: destination(s.destination))
        if when.sender is not None:
            sender = address_predicate(when.sender)
            predicates.append(lambda s: sender(s.source))
        if when.text is not None:
            predicates.append(text_predicate(when.text.contains, when.text.regex))
        states = None
        if when.state is not None:
            states = frozenset([when.state] if isinstance(when.state, str) else when.state)
        return CompiledRule(
            name, tuple(predicates), states, when.nth, when.attempt, self._fate(scenario, then)
        )


def _as_list(value: int | list[int]) -> list[int]:
    return [value] if isinstance(value, int) else value


def _digits(number: str) -> str:
    return number[1:] if number.startswith("+") else number


def address_predicate(match: AddressMatch) -> Callable[[str], bool]:
    if match.exact is not None:
        exact = _digits(match.exact)
        return lambda value: _digits(value) == exact
    if match.prefix is not None:
        prefix = _digits(match.prefix)
        return lambda value: _digits(value).startswith(prefix)
    if match.glob is not None:
        pattern = re.compile(fnmatch.translate(_digits(match.glob)))
        return lambda value: pattern.match(_digits(value)) is not None
    if match.regex is not None:
        regex = re.compile(match.regex)
        return lambda value: regex.search(value) is not None
    if match.any_of is not None:
        members = frozenset(_digits(item) for item in match.any_of)
        return lambda value: _digits(value) in members
    assert match.range is not None
    low, high = match.range.from_, match.range.to

    def in_range(value: str) -> bool:
        digits = _digits(value)
        return digits.isdigit() and low <= int(digits) <= high

    return in_range


def text_predicate(contains: str | None, regex: str | None) -> Predicate:
    if contains is not None:
        needle = contains

        def has(submission: Submission) -> bool:
            text = submission.get_text()
            return text is not None and needle in text

        return has
    pattern = re.compile(regex or "")

    def matches(submission: Submission) -> bool:
        text = submission.get_text()
        return text is not None and pattern.search(text) is not None

    return matches
