"""Read a scenario file into a `Scenario`, reporting every problem at once with its line.

Strategy: `core.yamldoc` parses the YAML keeping the line of every key and item. Two passes
then collect problems without stopping at the first: the pydantic model checks the shape
(its errors are tidied, then reworded as "expected ...; found ..."), and a semantic pass checks
what the model cannot know: providers and outcome names against the catalogs, SMPP status and
command names, declared states, the parameters each fault kind needs, unique rule names. The
semantic pass validates each rule, outcome and fault on its own, so one broken rule does not
hide the problems of the others. SMPP names come in as parameters (this layer does not import
the SMPP codec); without them only their shape is checked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from simulator.catalog import CatalogError, CatalogRegistry, Entry
from simulator.core.yamldoc import (
    Loc,
    ProblemsError,
    YamlError,
    closest,
    display_path,
    explain_errors,
    format_located,
    found,
    get_path,
    parse_yaml,
    path_text,
    read_text,
)
from simulator.scenario.model import Delay, FaultKind, Rejection, Scenario, States, StepSpec

Problem = tuple[Loc, str]
_M = TypeVar("_M", bound=BaseModel)

_DISTRIBUTIONS = {
    "uniform": "Uniform",
    "normal": "Normal",
    "exponential": "Exponential",
    "lognormal": "LogNormal",
}
_SHORTHAND_WORDS = {
    "AddressMatch": "an address (text, a number or a list) or a mapping with one of exact, "
    "prefix, glob, regex, in, range",
    "TextMatch": "text or a mapping with contains or regex",
    "CountMatch": "a number or a mapping with min and/or max",
}
_REGEX_PREFIX = "Value error, expected a valid regular expression; "
_ONE_OF_OUTCOME = "Value error, expected exactly one of outcome, reject"
_FAULT_NEEDS = {
    "delay_response": "delay",
    "delay_receipt": "delay",
    "reject_submit": "status",
    "reject_bind": "status",
    "throttle": "rate",
    "window": "size",
}
_FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
_BIND_TYPES = ("transmitter", "receiver", "transceiver")
_RECEIPT_FAULTS = frozenset(
    {
        "drop_receipt",
        "duplicate_receipt",
        "delay_receipt",
        "reorder_receipts",
        "receipt_as_data_sm",
        "receipt_unknown_id",
    }
)
#: Rule labels the engine gives plans that no scenario rule made (`engine.planner`).
_ENGINE_RULE_LABELS = ("test number", "text directive")
_STATUS_SHAPE = re.compile(r"^ESME_[A-Z0-9]+$")
_COMMAND_SHAPE = re.compile(r"^[a-z][a-z_]*$")


class ScenarioError(ProblemsError):
    """A scenario could not be read or is invalid; `problems` holds one located line each."""


def load_scenario(
    path: Path,
    registry: CatalogRegistry,
    *,
    known_smpp_statuses: Mapping[str, int] | None = None,
    known_commands: Collection[str] | None = None,
) -> Scenario:
    """Read and validate one scenario file (see `load_scenario_text`)."""
    name = display_path(path)
    try:
        text = read_text(path, name)
    except YamlError as error:
        raise ScenarioError(*error.problems) from None
    return load_scenario_text(
        text,
        name,
        registry,
        known_smpp_statuses=known_smpp_statuses,
        known_commands=known_commands,
    )


def load_scenario_text(
    text: str,
    name: str,
    registry: CatalogRegistry,
    *,
    known_smpp_statuses: Mapping[str, int] | None = None,
    known_commands: Collection[str] | None = None,
) -> Scenario:
    """Validate scenario YAML; `name` labels the problems. `known_smpp_statuses` (ESME_* name
    to value) and `known_commands` (`submit_sm`, ...) check SMPP names when given."""
    try:
        document = parse_yaml(text, name, label_keys=())
    except YamlError as error:
        raise ScenarioError(*error.problems) from None
    data = document.data
    if not isinstance(data, dict):
        shown = "an empty file" if data is None else found(data)
        raise ScenarioError(f"{name}:1: expected a mapping of scenario fields; found {shown}")
    located: list[tuple[int, str]] = []
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        details = _tidy(error.errors(include_url=False), data)
        located.extend(explain_errors(details, document, Scenario, label_keys=()))
    checker = _Checker(registry, known_smpp_statuses, known_commands)
    for loc, problem in checker.run(data):
        located.append((document.line_of(loc), f"{path_text(loc, data, ())}{problem}"))
    if located or scenario is None:
        raise ScenarioError(*dict.fromkeys(format_located(name, located)))
    return scenario


# --- tidying pydantic's errors before they are reworded ---------------------------------------


def _tidy(errors: Iterable[Mapping[str, Any]], data: Any) -> list[Mapping[str, Any]]:
    """Collapse the four distribution members into one error, move regex errors onto the
    `regex` field, and word type errors of models that also take a shorthand."""
    result: list[Mapping[str, Any]] = []
    seen_unions: set[Loc] = set()
    for detail in errors:
        loc: Loc = tuple(detail["loc"])
        msg = str(detail["msg"])
        value = detail.get("input")
        if "distribution" in loc[:-1]:
            cut = loc.index("distribution")
            tidied = _distribution_error(detail, loc[:cut], loc[cut + 1 :], data, seen_unions)
            result.extend(tidied)
        elif msg.startswith(_REGEX_PREFIX) and isinstance(value, dict) and "regex" in value:
            reason = msg.removeprefix(_REGEX_PREFIX)
            result.append(
                _value_error(
                    (*loc, "regex"),
                    f"expected a valid regular expression ({reason})",
                    value["regex"],
                )
            )
        elif msg == _ONE_OF_OUTCOME and isinstance(value, dict):
            given = [key for key in ("outcome", "reject") if value.get(key) is not None]
            result.append(
                _value_error(
                    loc,
                    f"expected exactly one of outcome, reject; found {', '.join(given) or 'none'}",
                    value,
                )
            )
        elif (
            detail["type"] == "model_type"
            and (model := re.search(r"instance of (\w+)$", msg))
            and model.group(1) in _SHORTHAND_WORDS
        ):
            result.append(_value_error(loc, f"expected {_SHORTHAND_WORDS[model.group(1)]}", value))
        else:
            result.append(detail)
    return result


def _distribution_error(
    detail: Mapping[str, Any], prefix: Loc, rest: Loc, data: Any, seen: set[Loc]
) -> list[Mapping[str, Any]]:
    given = get_path(data, prefix)
    keys = list(given) if isinstance(given, dict) else []
    if "distribution" in keys or not rest:  # written out in full: keep pydantic's errors
        return [{**detail, "loc": (*prefix, "distribution", *rest[1:])}]
    if len(keys) == 1 and keys[0] in _DISTRIBUTIONS:
        if rest[0] != _DISTRIBUTIONS[keys[0]]:
            return []
        return [{**detail, "loc": (*prefix, *rest[1:])}]
    if prefix in seen:
        return []
    seen.add(prefix)
    hint = closest(keys[0], _DISTRIBUTIONS) if len(keys) == 1 else ""
    shown = f"a mapping with {', '.join(map(str, keys)) or 'no keys'}"
    expected = f"a duration such as 2s, or one of uniform, normal, exponential, lognormal{hint}"
    return [_value_error(prefix, f"expected {expected}; found {shown}", given)]


def _value_error(loc: Loc, text: str, value: Any) -> dict[str, Any]:
    if "; found " not in text:
        text = f"{text}; found {found(value)}"
    return {"type": "value_error", "loc": loc, "msg": f"Value error, {text}", "input": value}


# --- the semantic pass ---------------------------------------------------------------------------


def _parse(model: type[_M], value: Any) -> _M | None:
    """`value` as `model`, or None when its shape is wrong (the shape pass reports that)."""
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class _Checker:
    """Collects (path, "expected ...; found ...") for what the catalogs and names decide."""

    def __init__(
        self,
        registry: CatalogRegistry,
        statuses: Mapping[str, int] | None,
        commands: Collection[str] | None,
    ) -> None:
        self.registry = registry
        self.statuses = statuses
        self.commands = commands
        self.problems: list[Problem] = []
        self.states: list[str] | None = None

    def run(self, data: dict[str, Any]) -> list[Problem]:
        provider = data.get("provider")
        if isinstance(provider, str):
            self._provider(provider, ("provider",))
        scenario_provider = provider if isinstance(provider, str) else None
        states = _parse(States, data.get("states", {}))
        if states is not None and states.names is not None:
            self.states = list(states.names)
            self._state(states.initial, ("states", "initial"))
        rules = data.get("rules")
        rule_names: dict[str, int] = {}
        labels: list[str] = []  # what the engine calls each rule, for fault scopes
        for index, raw in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(raw, dict):
                continue
            loc: Loc = ("rules", index)
            name = raw.get("name")
            labels.append(name if isinstance(name, str) else f"rule {index + 1}")
            if isinstance(name, str):
                if name in rule_names:
                    self._add(
                        (*loc, "name"),
                        f"expected a name no other rule has; found {name!r}, "
                        f"already the name of rules[{rule_names[name]}]",
                    )
                else:
                    rule_names[name] = index
            self._when(raw.get("when"), (*loc, "when"))
            self._then(raw.get("then"), (*loc, "then"), scenario_provider)
        self._then(data.get("default"), ("default",), scenario_provider)
        faults = data.get("faults")
        for index, raw in enumerate(faults if isinstance(faults, list) else []):
            self._fault(raw, ("faults", index), [*labels, *_ENGINE_RULE_LABELS])
        return self.problems

    def _add(self, loc: Loc, text: str) -> None:
        self.problems.append((loc, text))

    def _provider(self, provider: str, loc: Loc) -> None:
        if provider not in self.registry:
            known = self.registry.providers()
            self._add(
                loc,
                f"expected a catalog provider ({', '.join(known)})"
                f"{closest(provider, known)}; found {provider!r}",
            )

    def _state(self, value: str, loc: Loc) -> None:
        if self.states is not None and value not in self.states:
            self._add(
                loc,
                f"expected a state declared in states.names ({', '.join(self.states)})"
                f"{closest(value, self.states)}; found {value!r}",
            )

    def _when(self, raw: Any, loc: Loc) -> None:
        if not isinstance(raw, dict):
            return
        if isinstance(raw.get("provider"), str):
            self._provider(raw["provider"], (*loc, "provider"))
        for where, state in _strings(raw.get("state"), (*loc, "state")):
            self._state(state, where)

    def _then(self, raw: Any, loc: Loc, scenario_provider: str | None) -> None:
        """Check a `then` (or `default`) piece by piece, so one bad field hides nothing else."""
        if not isinstance(raw, dict):
            return
        provider = self._own_provider(raw, loc) or scenario_provider
        self._fate(raw, loc, provider)
        mix = raw.get("mix")
        if isinstance(mix, list):
            if not mix:
                self._add((*loc, "mix"), "expected at least one weighted outcome; found none")
            for position, item in enumerate(mix):
                if isinstance(item, dict):
                    item_loc = (*loc, "mix", position)
                    self._fate(item, item_loc, self._own_provider(item, item_loc) or provider)
        state = raw.get("set_state")
        if isinstance(state, str):
            self._state(state, (*loc, "set_state"))

    def _own_provider(self, raw: dict[str, Any], loc: Loc) -> str | None:
        provider = raw.get("provider")
        if not isinstance(provider, str):
            return None
        self._provider(provider, (*loc, "provider"))
        return provider

    def _fate(self, raw: dict[str, Any], loc: Loc, provider: str | None) -> None:
        """Check the outcome name, steps and rejection of one outcome mapping."""
        outcome = raw.get("outcome")
        if isinstance(outcome, bool) or not isinstance(outcome, str | int):
            outcome = None
        raw_steps = raw.get("steps")
        steps = list(enumerate(raw_steps)) if isinstance(raw_steps, list) else []
        if raw.get("reject") is not None:
            reject = _parse(Rejection, raw["reject"])
            if reject is not None and reject.smpp is not None:
                self._smpp_status(reject.smpp, (*loc, "reject", "smpp"))
            if steps:
                self._add(
                    (*loc, "steps"),
                    "expected no steps next to reject (a refused message "
                    f"has no later states); found {found(raw_steps)}",
                )
                return
        if outcome is None and not steps:
            return
        if provider is None:
            where = (*loc, "outcome") if outcome is not None else (*loc, "steps")
            self._add(
                where,
                "expected a provider whose catalog names this outcome (set "
                "`provider:` on the scenario or on the outcome); found none",
            )
            return
        if provider not in self.registry:
            return  # reported where the provider is written
        if outcome is not None:
            self._entry(provider, outcome, (*loc, "outcome"), "SMS status or error")
        delay = _parse(Delay, raw["after"]) if "after" in raw else Delay(fixed=2.0)
        final_after = delay.fixed if delay is not None else None
        for position, raw_step in steps:
            step = _parse(StepSpec, raw_step)
            if step is not None:
                self._step(provider, step, (*loc, "steps", position), final_after)

    def _step(self, provider: str, step: StepSpec, loc: Loc, final_after: float | None) -> None:
        entry = self._entry(provider, step.status, (*loc, "status"), "SMS status")
        if entry is not None and (entry.final or entry.kind != "status"):
            pending = [
                e.key for e in self.registry.entries(provider) if e.kind == "status" and not e.final
            ]
            what = "a final status" if entry.kind == "status" else "an error"
            self._add(
                (*loc, "status"),
                f"expected {_article(provider)} {provider} status that "
                f"is not final "
                f"({', '.join(pending)}); found {step.status!r}, {what}",
            )
        after = step.after.fixed
        if after is not None and final_after is not None and after > final_after:
            self._add(
                (*loc, "after"),
                f"expected a step no later than the outcome "
                f"(after {final_after:g}s); found after {after:g}s",
            )

    def _entry(self, provider: str, value: str | int, loc: Loc, what: str) -> Entry | None:
        """The SMS catalog entry `value` names, or None after recording why there is none."""
        try:
            return self.registry.lookup(provider, value)
        except CatalogError:
            pass
        query = str(value).strip()
        sms = self.registry.entries(provider)
        by_name = [e for e in sms if e.name.casefold() == query.casefold()]
        by_code = [
            e
            for e in sms
            if e.code is not None
            and (
                e.code == query
                or (query.isdigit() and e.code.isdigit() and int(e.code) == int(query))
            )
        ]
        shared = by_name if len(by_name) > 1 else by_code
        expected = f"expected {_article(provider)} {provider} {what}"
        if len(shared) > 1:
            shared_keys = ", ".join(entry.key for entry in shared)
            self._add(
                loc,
                f"{expected} that one name or code identifies; found {value!r}, "
                f"shared by {shared_keys} (write one of these keys)",
            )
            return None
        try:
            elsewhere = self.registry.lookup(provider, value, channel=None)
        except CatalogError:
            pool: dict[str, str] = {}
            for entry in sms:
                pool.setdefault(entry.key.casefold(), entry.key)
                pool.setdefault(entry.name.casefold(), entry.key)
            matches = difflib.get_close_matches(query.casefold(), list(pool), n=8, cutoff=0.6)
            near = list(dict.fromkeys(pool[match] for match in matches))[:3]
            hint = f" (closest: {', '.join(near)})" if near else ""
            self._add(loc, f"{expected}{hint}; found {value!r}")
        else:
            self._add(
                loc,
                f"{expected}; found {value!r}, which is {elsewhere.key}, "
                f"{_article(elsewhere.channel)} {elsewhere.channel} {elsewhere.kind}",
            )
        return None

    def _smpp_status(self, value: str | int, loc: Loc) -> None:
        expected = (
            "expected an SMPP error status (an ESME_* name other than ESME_ROK, or a "
            "number from 1 to 4294967295)"
        )
        if isinstance(value, int):
            if not 1 <= value <= 0xFFFFFFFF:
                self._add(loc, f"{expected}; found {value}")
        elif self.statuses is None:
            if not _STATUS_SHAPE.match(value):
                self._add(loc, f"{expected}; found {value!r}")
        elif value not in self.statuses:
            hint = closest(value.upper(), [n for n, v in self.statuses.items() if v])
            self._add(loc, f"{expected}{hint}; found {value!r}")
        elif self.statuses[value] == 0:
            self._add(loc, f"{expected}; found {value!r}")

    def _fault(self, raw: Any, loc: Loc, rule_names: list[str]) -> None:
        """Check one fault from its mapping, field by field (the kind itself is shape)."""
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or kind not in _FAULT_KINDS:
            return
        needed = _FAULT_NEEDS.get(kind)
        if needed is not None and raw.get(needed) is None:
            self._add((*loc, needed), f"expected this field for a {kind} fault; found it missing")
        probability = raw.get("probability", 1.0)
        if kind == "disconnect" and raw.get("after_pdus") is None and probability == 1:
            self._add(
                loc,
                "expected after_pdus or a probability below 1 for a disconnect fault "
                "(else the link drops at once); found neither",
            )
        status: Any = raw.get("status")
        if kind in ("reject_submit", "reject_bind") and type(status) in (str, int):
            self._smpp_status(status, (*loc, "status"))
        commands = raw.get("commands")
        for position, command in enumerate(commands if isinstance(commands, list) else []):
            known = self.commands
            if isinstance(command, str) and (
                (known is None and not _COMMAND_SHAPE.match(command))
                or (known is not None and command not in known)
            ):
                self._add(
                    (*loc, "commands", position),
                    "expected an SMPP command name such as "
                    f"submit_sm{closest(command, known or ())}; found {command!r}",
                )
        if kind in ("throttle", "window"):
            for field in ("probability", "active"):
                value = raw.get(field)
                valid_probability = isinstance(value, int | float) and 0 <= value < 1
                if field in raw and (field == "active" or valid_probability):
                    self._add(
                        (*loc, field),
                        f"expected no {field} for a {kind} fault (it "
                        f"limits every submit in its scope); found {raw[field]!r}",
                    )
        scope = raw.get("scope")
        if not isinstance(scope, dict):
            return
        receipt_fault = kind in _RECEIPT_FAULTS
        if scope.get("rule") is not None and not receipt_fault:
            self._add(
                (*loc, "scope", "rule"),
                "expected no rule scope for a "
                f"{kind} fault (a request is faulted before any rule decides it; rule "
                "scopes apply to receipt faults); found "
                f"{scope.get('rule')!r}",
            )
        if scope.get("session") is not None and receipt_fault:
            self._add(
                (*loc, "scope", "session"),
                "expected no session scope for a "
                f"{kind} fault (receipts are faulted before a session is chosen); found "
                f"{scope.get('session')!r}",
            )
        names = ", ".join(rule_names)
        for where, rule in _strings(scope.get("rule"), (*loc, "scope", "rule")):
            if rule not in rule_names:
                self._add(
                    where,
                    f"expected the name of a rule ({names})"
                    f"{closest(rule, rule_names)}; found {rule!r}",
                )
        session = scope.get("session")
        if isinstance(session, str) and session not in _BIND_TYPES:
            self._add(
                (*loc, "scope", "session"),
                f"expected a bind type ({', '.join(_BIND_TYPES)}); found {session!r}",
            )


def _strings(value: Any, loc: Loc) -> list[tuple[Loc, str]]:
    """The text values of a `str | list[str]` field, each with its own path."""
    if isinstance(value, str):
        return [(loc, value)]
    if isinstance(value, list):
        return [((*loc, i), item) for i, item in enumerate(value) if isinstance(item, str)]
    return []
