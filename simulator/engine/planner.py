"""The scenario planner: each submission in, a `Plan` out; seeded, stateful, no I/O.

Order of decision for one message:
1. a test number (`999 BB V NNNN`, see `numbers.py`) names its own outcome;
2. a text directive (`#dlrsim:outcome=EC_ABSENT_SUBSCRIBER`, `after=10s`, `provider=...`,
   `reject=ESME_RTHROTTLED`, `lost=true`) names it for tests that cannot pick the number;
3. the scenario's rules, first match wins; a rule's `nth` counts the messages that met its
   other conditions, `attempt` counts messages to the same destination, `state` reads the
   flow state that `set_state` moves;
4. the scenario's default (or the provider's plain delivered path).
All randomness (mixes, delay distributions) comes from one `random.Random(seed)`, so the same
seed and the same traffic give the same plans.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Mapping

from simulator.catalog.loader import CatalogError
from simulator.catalog.registry import CatalogRegistry
from simulator.engine.compiler import (
    CompiledScenario,
    Fate,
    OutcomeTemplate,
    ScenarioCompiler,
    in_count,
)
from simulator.engine.numbers import SUBMIT_REJECT_VARIANT, OutcomeNumbers
from simulator.engine.plan import Plan, Step, Submission
from simulator.scenario.model import parse_duration

_DIRECTIVE = re.compile(r"#dlrsim:([a-z_§]+)=([^\s#;,]+)")
# A client that sends ASCII as data_coding 0 gets its '_' read as GSM 0x5F, which is '§'.
# No catalog name or directive contains '§', so reading it back as '_' is always right.
_GSM_UNDERSCORE = str.maketrans("§", "_")
_OUTCOME_KEYS = frozenset({"outcome", "error", "status"})
_MAX_TRACKED_DESTINATIONS = 1_000_000


class ScenarioPlanner:
    def __init__(
        self,
        compiled: CompiledScenario,
        registry: CatalogRegistry,
        smpp_statuses: Mapping[str, int],
        *,
        seed: int | None = None,
    ) -> None:
        self.compiled = compiled
        self.registry = registry
        self.smpp_statuses = smpp_statuses
        self.compiler = ScenarioCompiler(registry, smpp_statuses)
        self.numbers = OutcomeNumbers(registry)
        scenario_seed = compiled.scenario.seed
        self.seed = seed if seed is not None else scenario_seed
        self.reset()

    @property
    def scenario_name(self) -> str:
        return self.compiled.scenario.name

    def reset(self) -> None:
        """Back to the initial state: counters, flow state and random sequence."""
        self.rng = random.Random(self.seed)
        self.state = self.compiled.scenario.states.initial
        self.rule_counts = [0] * len(self.compiled.rules)
        self.attempts: dict[str, int] = {}
        self._directive_cache: dict[str, OutcomeTemplate | str] = {}

    def set_state(self, state: str) -> None:
        self.state = state

    def plan(self, submission: Submission) -> Plan:
        scenario = self.compiled.scenario
        destination = submission.destination
        attempts = self.attempts
        if len(attempts) >= _MAX_TRACKED_DESTINATIONS and destination not in attempts:
            attempts.clear()
        attempt = attempts[destination] = attempts.get(destination, 0) + 1
        if scenario.outcome_numbers:
            plan = self._from_number(destination)
            if plan is not None:
                return plan
        if scenario.text_directives:
            plan = self._from_directives(submission)
            if plan is not None:
                return plan
        state = self.state
        counts = self.rule_counts
        for index, rule in enumerate(self.compiled.rules):
            if rule.states is not None and state not in rule.states:
                continue
            if not all(predicate(submission) for predicate in rule.predicates):
                continue
            counts[index] += 1
            if rule.nth is not None and not in_count(rule.nth, counts[index]):
                continue
            if rule.attempt is not None and not in_count(rule.attempt, attempt):
                continue
            return self._realise(rule.fate, rule.name)
        return self._realise(self.compiled.default, None)

    def _realise(self, fate: Fate, rule: str | None) -> Plan:
        if fate.set_state is not None:
            self.state = fate.set_state
        return self._timeline(fate.choose(self.rng), rule)

    def _timeline(self, outcome: OutcomeTemplate, rule: str | None) -> Plan:
        if outcome.reject_status is not None:
            return Plan(
                reject_status=outcome.reject_status,
                reject_http=outcome.reject_http,
                reason=outcome.label,
                rule=rule,
            )
        rng = self.rng
        delays = [template.sampler(rng) for template in outcome.steps]
        final_delay = delays[-1] if delays else 0.0
        steps = tuple(
            dataclasses.replace(
                template.step, delay=delay if template.step.final else min(delay, final_delay)
            )
            for template, delay in zip(outcome.steps, delays, strict=True)
        )
        return Plan(steps, rule=rule, lost=outcome.lost, reason=outcome.label)

    # -- test numbers and directives ---------------------------------------------------------
    def _from_number(self, destination: str) -> Plan | None:
        found = self.numbers.resolve(destination)
        if found is None:
            return None
        entry = found.entry
        if found.variant == SUBMIT_REJECT_VARIANT and entry.outcome == "rejected":
            return Plan(
                reject_status=self.smpp_statuses.get("ESME_RSUBMITFAIL", 0x45),
                reject_http=entry.key,
                reason=f"{found.provider}:{entry.key}",
                rule="test number",
            )
        catalog = self.registry.get(found.provider)
        template = self.compiler.entry_outcome(catalog, entry, after=5.0, intermediate_after=1.0)
        return self._timeline(template, "test number")

    def _from_directives(self, submission: Submission) -> Plan | None:
        text = submission.get_text()
        if not text or "#dlrsim:" not in text:
            return None
        found = {
            key.translate(_GSM_UNDERSCORE): value.translate(_GSM_UNDERSCORE)
            for key, value in _DIRECTIVE.findall(text)
        }
        if not found:
            return None
        cache_key = repr(sorted(found.items()))
        template = self._directive_cache.get(cache_key)
        if template is None:
            template = self._directive_template(found, submission.provider)
            if len(self._directive_cache) < 10_000:
                self._directive_cache[cache_key] = template
        if isinstance(template, str):
            status = self.smpp_statuses.get("ESME_RSUBMITFAIL", 0x45)
            return Plan(reject_status=status, reason=template, rule="text directive")
        return self._timeline(template, "text directive")

    def _directive_template(
        self, found: dict[str, str], provider: str | None
    ) -> OutcomeTemplate | str:
        """The outcome a set of directives asks for, or the reason it cannot be honoured."""
        if "reject" in found:
            name = found["reject"]
            status = self.smpp_statuses.get(name.upper())
            if status is None and name.isdigit():
                status = int(name)
            if status is None:
                return f"#dlrsim:reject={name}: not an ESME_* status name or number"
            return OutcomeTemplate(reject_status=status, label=f"reject {name}")
        provider = found.get("provider") or provider or self.compiled.scenario.provider
        try:
            after = parse_duration(found.get("after", "2s"))
        except ValueError as error:
            return f"#dlrsim:after: {error}"
        names = [found[key] for key in ("outcome", "error", "status") if key in found]
        if provider is None:
            return "#dlrsim directives need a provider (#dlrsim:provider=NAME or the scenario's)"
        try:
            catalog = self.registry.get(provider)
            if names:
                entry = self.registry.lookup(provider, names[0])
            else:
                entry = next(e for e in catalog.entries if e.key == catalog.delivered_status)
        except CatalogError as error:
            return f"#dlrsim directive: {error}"
        template = self.compiler.entry_outcome(catalog, entry, after=after)
        lost = found.get("lost", "").lower() in ("1", "true", "yes")
        return dataclasses.replace(template, lost=lost)


def fixed_step(delay: float, stat: str, err: str = "000", final: bool = True) -> Step:
    return Step(delay, stat, err, final)
