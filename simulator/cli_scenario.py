"""`dlrsim scenario validate|list|show`: check and read scenario files from the command line.

Strategy: `register` adds the parsers to the main CLI. `validate` loads each file with the
catalogs and the SMPP status and command names of the codec, printing `ok: ...` or every
problem (exit 1 when any file is invalid). `list` reads only the name and description of the
shipped scenarios (`$DLRSIM_SCENARIO_DIR`, else the repository's `scenarios/`), so one broken
file does not hide the others. `show` prints one scenario as readable text. Bad input (unknown
scenario, unreadable catalogs) is one `dlrsim: ...` line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from simulator.catalog import CatalogRegistry, load_registry
from simulator.core.errors import SimulatorError
from simulator.core.yamldoc import YamlError, display_path, parse_yaml, read_text
from simulator.scenario.files import SCENARIO_DIR_ENV
from simulator.scenario.files import scenario_dir as default_scenario_dir
from simulator.scenario.loader import ScenarioError, load_scenario
from simulator.scenario.model import (
    AddressMatch,
    CountMatch,
    Delay,
    Exponential,
    Fault,
    Normal,
    Outcome,
    Scenario,
    Then,
    Uniform,
    When,
)
from simulator.smpp.codec.constants import CommandId, CommandStatus

Handler = Callable[[argparse.Namespace], int]

INVALID_EXIT = 1
ERROR_EXIT = 2


def scenario_files(directory: Path) -> list[Path]:
    """The scenario files of a directory, sorted; hidden and schema files are skipped."""
    if not directory.is_dir():
        raise SimulatorError(f"{display_path(directory)}: scenario directory does not exist")
    return sorted(
        path
        for path in directory.glob("*.yaml")
        if path.is_file() and not path.name.startswith(".") and path.stem != "schema"
    )


def smpp_statuses() -> dict[str, int]:
    """Every command_status name of the codec, for checking `reject.smpp` and fault statuses."""
    return {status.name: int(status) for status in CommandStatus}


def smpp_commands() -> frozenset[str]:
    """Names of the SMPP requests a fault may target (`submit_sm`, `enquire_link`, ...)."""
    return frozenset(
        command.name.lower()
        for command in CommandId
        if not command.name.endswith("_RESP") and command is not CommandId.GENERIC_NACK
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `scenario` command and its subcommands to the main parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    scenario = subparsers.add_parser(
        "scenario",
        help="validate, list and show scenario files",
        description="Scenario files say what happens to each message: rules in the provider's "
        "own codes, delays, stateful flows and faults.",
        epilog="examples:\n  dlrsim scenario validate my-test.yaml\n  dlrsim scenario list",
        formatter_class=formatter,
    )
    scenario.add_argument(
        "--catalog-dir",
        type=Path,
        metavar="DIR",
        help="directory of catalog files (env DLRSIM_CATALOG_DIR; default: the bundled catalogs)",
    )
    scenario.add_argument(
        "--scenario-dir",
        type=Path,
        metavar="DIR",
        help=f"directory of shipped scenarios (env {SCENARIO_DIR_ENV}; default: scenarios/)",
    )
    commands = scenario.add_subparsers(dest="scenario_command", metavar="COMMAND", required=True)
    validate = commands.add_parser(
        "validate",
        help="check scenario files; print every problem with its line",
        description="Check each FILE against the scenario schema and the provider catalogs. "
        "Prints `ok: FILE (N rules, M faults)` or every problem of the file; exits 1 when any "
        "file is invalid.",
        epilog="examples:\n  dlrsim scenario validate my-test.yaml\n"
        "  dlrsim scenario validate scenarios/*.yaml",
        formatter_class=formatter,
    )
    validate.add_argument("files", metavar="FILE", nargs="+", type=Path, help="scenario file")
    validate.set_defaults(handler=_guarded(_validate))
    listing = commands.add_parser(
        "list",
        help="the shipped scenarios: name, file and description",
        description="List the scenario files of the scenario directory with the first line "
        "of their description.",
        epilog="example:\n  dlrsim scenario list\n  DLRSIM_SCENARIO_DIR=./my-scenarios "
        "dlrsim scenario list",
        formatter_class=formatter,
    )
    listing.set_defaults(handler=_guarded(_list))
    show = commands.add_parser(
        "show",
        help="one scenario summarised: provider, rules and their fates, faults",
        description="Print a readable summary of a scenario, given as a file or as the name "
        "of a shipped scenario.",
        epilog="examples:\n  dlrsim scenario show default\n  dlrsim scenario show my-test.yaml",
        formatter_class=formatter,
    )
    show.add_argument("scenario", metavar="NAME|FILE", help="shipped scenario name, or a file")
    show.set_defaults(handler=_guarded(_show))


def _guarded(action: Handler) -> Handler:
    """Run `action`; our own errors become one `dlrsim: ...` line on stderr and exit code 2."""

    def handler(args: argparse.Namespace) -> int:
        try:
            return action(args)
        except SimulatorError as error:
            summary = getattr(error, "summary", None)
            print(f"dlrsim: {summary or str(error).splitlines()[0]}", file=sys.stderr)
            return ERROR_EXIT
        except BrokenPipeError:
            return 0

    handler.__name__ = action.__name__
    return handler


def _scenario_dir(args: argparse.Namespace) -> Path:
    directory: Path | None = getattr(args, "scenario_dir", None)
    return default_scenario_dir() if directory is None else directory


def _load(path: Path, registry: CatalogRegistry) -> Scenario:
    return load_scenario(
        path, registry, known_smpp_statuses=smpp_statuses(), known_commands=smpp_commands()
    )


def _validate(args: argparse.Namespace) -> int:
    """Print `ok: ...` or the problems of each file; exit 1 when any is invalid."""
    registry = load_registry(getattr(args, "catalog_dir", None))
    invalid = 0
    for path in args.files:
        try:
            scenario = _load(path, registry)
        except ScenarioError as error:
            invalid += 1
            print("\n".join(error.problems))
            continue
        rules, faults = len(scenario.rules), len(scenario.faults)
        print(f"ok: {display_path(path)} ({_count(rules, 'rule')}, {_count(faults, 'fault')})")
    if invalid and len(args.files) > 1:
        print(f"dlrsim: {invalid} of {len(args.files)} files are invalid", file=sys.stderr)
    return INVALID_EXIT if invalid else 0


def _list(args: argparse.Namespace) -> int:
    """One row per shipped scenario: name, file, first line of the description."""
    directory = _scenario_dir(args)
    rows = [["NAME", "FILE", "DESCRIPTION"]]
    for path in scenario_files(directory):
        name, description = path.stem, ""
        try:
            data = parse_yaml(read_text(path, path.name), path.name).data
        except YamlError:
            description = "(cannot be parsed: run dlrsim scenario validate on it)"
        else:
            if isinstance(data, dict):
                name = str(data.get("name") or path.stem)
                description = str(data.get("description") or "").strip().split("\n")[0]
        rows.append([name, display_path(path), description])
    if len(rows) == 1:
        print(f"dlrsim: no scenario files (*.yaml) in {display_path(directory)}", file=sys.stderr)
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
    return 0


def _find(argument: str, directory: Path) -> Path:
    """A file path as given, else the shipped scenario with that file stem or `name:`."""
    candidate = Path(argument)
    if candidate.is_file():
        return candidate
    files = scenario_files(directory) if directory.is_dir() else []
    for path in files:
        if path.stem == argument:
            return path
    names: list[str] = []
    for path in files:
        try:
            data = parse_yaml(read_text(path, path.name), path.name).data
        except YamlError:
            names.append(path.stem)
            continue
        name = data.get("name") if isinstance(data, dict) else None
        if name == argument:
            return path
        names.append(str(name or path.stem))
    known = ", ".join(names) or f"none in {display_path(directory)}"
    raise SimulatorError(f"no scenario file or shipped scenario named {argument!r}; known: {known}")


def _show(args: argparse.Namespace) -> int:
    """Print a scenario as readable text; an invalid one prints its problems (exit 1)."""
    path = _find(args.scenario, _scenario_dir(args))
    registry = load_registry(getattr(args, "catalog_dir", None))
    try:
        scenario = _load(path, registry)
    except ScenarioError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return INVALID_EXIT
    print("\n".join(describe_scenario(scenario, display_path(path), registry)))
    return 0


# --- readable summaries ---------------------------------------------------------------------------


def describe_scenario(scenario: Scenario, file: str, registry: CatalogRegistry) -> list[str]:
    """The lines `dlrsim scenario show` prints."""
    lines = [f"scenario  {scenario.name}  ({file})"]
    lines += [f"          {line}" for line in scenario.description.strip().splitlines()]
    lines.append(f"provider  {scenario.provider or '-'}")
    lines.append(f"seed      {'random' if scenario.seed is None else scenario.seed}")
    states = scenario.states
    declared = f"; declared: {', '.join(states.names)}" if states.names is not None else ""
    lines.append(f"states    initial {states.initial}{declared}")
    lines.append(
        f"numbers   outcome test numbers {_yes(scenario.outcome_numbers)}, "
        f"#dlrsim: text directives {_yes(scenario.text_directives)}"
    )
    for account in scenario.accounts:
        lines.append(f"account   {account.system_id} (binds: {', '.join(account.bind_types)})")
    lines.append(f"rules     {len(scenario.rules)} (first match wins)")
    for number, rule in enumerate(scenario.rules, start=1):
        label = f"{number}. {rule.name + ': ' if rule.name else ''}"
        lines.append(f"  {label}when {describe_when(rule.when)}")
        then = describe_then(rule.then, scenario, registry)
        lines += _indented(f"  {' ' * len(label)}then ", then)
    if scenario.default is not None:
        lines += _indented("default   ", describe_then(scenario.default, scenario, registry))
    lines.append(f"faults    {len(scenario.faults)}")
    lines += [f"  {n}. {describe_fault(f)}" for n, f in enumerate(scenario.faults, start=1)]
    return lines


def describe_when(when: When) -> str:
    """`destination prefix 4477 and attempt 1..2`, or `every message`."""
    parts: list[str] = []
    for label, address in (("destination", when.destination), ("sender", when.sender)):
        if address is not None:
            parts.append(f"{label} {_address(address)}")
    if when.text is not None:
        text = when.text
        parts.append(
            f"text contains {text.contains!r}"
            if text.contains is not None
            else f"text matches /{text.regex}/"
        )
    for label, value in (
        ("account", when.account),
        ("provider", when.provider),
        ("transport", when.transport),
        ("data_coding", when.data_coding),
        ("registered_delivery", when.registered_delivery),
        ("state", when.state),
    ):
        if value is not None:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{label} {'in ' if isinstance(value, list) else ''}{shown}")
    for label, count in (("parts", when.parts), ("nth", when.nth), ("attempt", when.attempt)):
        if count is not None:
            parts.append(f"{label} {_count_match(count)}")
    return " and ".join(parts) or "every message"


def describe_then(then: Then, scenario: Scenario, registry: CatalogRegistry) -> list[str]:
    """The fate of a rule: one outcome, a rejection or a weighted mix (one line per share),
    then any state change."""
    provider = then.provider or scenario.provider
    if then.mix is None:
        lines = [_fate(then, provider, registry)]
    else:
        total = sum(item.weight for item in then.mix) or 1.0
        lines = [f"mix of {len(then.mix)}:"] + [
            f"  {item.weight / total * 100:>5.3g}%  "
            f"{_fate(item, item.provider or provider, registry)}"
            for item in then.mix
        ]
    if then.set_state is not None:
        lines.append(f"state -> {then.set_state}")
    return lines


def _indented(first: str, lines: list[str]) -> list[str]:
    return [f"{first if n == 0 else ' ' * len(first)}{line}" for n, line in enumerate(lines)]


def _fate(outcome: Outcome, provider: str | None, registry: CatalogRegistry) -> str:
    if outcome.reject is not None:
        reject = outcome.reject
        parts = [
            f"SMPP {reject.smpp}" if reject.smpp is not None else "",
            f"HTTP {reject.http}" if reject.http is not None else "",
        ]
        reason = f" ({reject.reason})" if reject.reason else ""
        return f"reject at submit: {', '.join(p for p in parts if p)}{reason}"
    steps = [
        f"{_entry(provider, s.status, registry)} after {describe_delay(s.after)}"
        for s in outcome.steps or []
    ]
    final = f"{_entry(provider, outcome.outcome or '', registry)} after "
    final += describe_delay(outcome.after)
    lost = " (no receipt sent)" if outcome.lost else ""
    return " then ".join([*steps, final]) + lost


def _entry(provider: str | None, name: str | int, registry: CatalogRegistry) -> str:
    if provider is None:
        return str(name)
    entry = registry.lookup(provider, name)
    return f"{provider}:{entry.key} ({entry.smpp.stat} err {entry.smpp.err})"


def describe_delay(delay: Delay) -> str:
    """`2s`, `48h`, `uniform 1s..5s`, `lognormal median 2s sigma 0.5`."""
    if delay.fixed is not None:
        return _seconds(delay.fixed)
    shape = delay.distribution
    if shape is None:
        return "0s"
    if isinstance(shape, Uniform):
        low, high = shape.uniform
        return f"uniform {_seconds(low)}..{_seconds(high)}"
    if isinstance(shape, Normal):
        return f"normal mean {_seconds(shape.normal.mean)} sd {_seconds(shape.normal.stddev)}"
    if isinstance(shape, Exponential):
        return f"exponential mean {_seconds(shape.exponential.mean)}"
    params = shape.lognormal
    return f"lognormal median {_seconds(params.median)} sigma {params.sigma:g}"


def describe_fault(fault: Fault) -> str:
    """`throttle (slow): 50/s, 10% of the time, account a`."""
    details: list[str] = []
    if fault.after_pdus is not None:
        details.append(f"after {fault.after_pdus} PDUs")
    if fault.commands:
        details.append(f"commands {', '.join(fault.commands)}")
    if fault.delay is not None:
        details.append(f"delay {describe_delay(fault.delay)}")
    if fault.status is not None:
        details.append(f"status {fault.status}")
    if fault.rate is not None:
        details.append(f"{fault.rate:g}/s")
    if fault.size is not None:
        details.append(f"window {fault.size}")
    if fault.kind == "duplicate_receipt":
        details.append(f"{fault.copies} copies")
    if fault.kind == "reorder_receipts":
        details.append(f"{fault.hold} receipts shuffled")
    if fault.probability < 1:
        details.append(f"{fault.probability * 100:.3g}% of the time")
    if fault.active is not None:
        details.append(f"submits {_count_match(fault.active)}")
    scope = fault.scope
    for label, value in (
        ("account", scope.account),
        ("rule", scope.rule),
        ("session", scope.session),
    ):
        if value is not None:
            details.append(f"{label} {', '.join(value) if isinstance(value, list) else value}")
    name = f" ({fault.name})" if fault.name else ""
    return f"{fault.kind}{name}{': ' + ', '.join(details) if details else ''}"


def _address(match: AddressMatch) -> str:
    if match.range is not None:
        return f"in range {match.range.from_}..{match.range.to}"
    if match.any_of is not None:
        shown = ", ".join(match.any_of[:5]) + (", ..." if len(match.any_of) > 5 else "")
        return f"one of {len(match.any_of)} ({shown})"
    if match.regex is not None:
        return f"matches /{match.regex}/"
    for label in ("exact", "prefix", "glob"):
        value = getattr(match, label)
        if value is not None:
            return f"{label} {value}"
    return "any"


def _count_match(count: CountMatch) -> str:
    if count.min == count.max:
        return str(count.min)
    if count.max is None:
        return f">= {count.min}"
    if count.min is None:
        return f"<= {count.max}"
    return f"{count.min}..{count.max}"


def _seconds(value: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if value >= size and value % size == 0:
            return f"{value / size:g}{unit}"
    return f"{value * 1000:g}ms" if 0 < value < 1 else f"{value:g}s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _yes(flag: bool) -> str:
    return "on" if flag else "off"
