"""Find, read and validate the provider catalogs (`catalogs/*.yaml`).

Strategy: compose each YAML file into PyYAML's node tree first, so every mapping key and list
item keeps its line number, then build plain data from the same nodes and hand it to the
pydantic `Catalog` model. Each pydantic error location is mapped back onto the data to name the
file, the line, the entry (index and key) and the dotted field path, and is reworded as
"expected ...; found ...". Cross-reference errors, which pydantic reports for the whole catalog,
are pinned down again here so that they too point at the exact entry and field.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from simulator.catalog.model import FINAL_STATS, Catalog
from simulator.core.errors import SimulatorError

#: Environment variable naming the catalog directory (overrides the bundled `catalogs/`).
CATALOG_DIR_ENV = "DLRSIM_CATALOG_DIR"

Loc = tuple[str | int, ...]

# libyaml's loader, where PyYAML was built with it, composes about five times faster (the
# Infobip catalog: 0.1 s against 0.57 s) and keeps the same node marks.
_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
# Plain YAML 1.1 integers whose value differs from what the text looks like: leading-zero octal
# (`010` is 8), base 60 (`1:30` is 90) and digit separators (`1_000`).
_SURPRISING_INT = re.compile(r"^[-+]?(0[0-7_]+|[0-9][0-9_]*(:[0-5]?[0-9])+|.*_.*)$")
_TYPE_WORDS = {
    "int": "an integer",
    "str": "text",
    "bool": "true or false",
    "float": "a number",
    "none": "null",
}

# Plain wording for pydantic's type errors (its own says "a valid dictionary or instance of ...").
_EXPECTED_BY_TYPE = {
    "string_type": "text",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
}


class CatalogError(SimulatorError):
    """A catalog could not be found, read or validated, or a lookup in it failed.

    `problems` holds one self-contained line per problem; `str()` joins them with newlines.
    """

    def __init__(self, first: str, *more: str) -> None:
        self.problems: tuple[str, ...] = (first, *more)
        super().__init__("\n".join(self.problems))

    @property
    def summary(self) -> str:
        """The first problem, plus how many more there are: fits on one terminal line."""
        extra = len(self.problems) - 1
        if extra == 0:
            return self.problems[0]
        return f"{self.problems[0]} (and {extra} more problem{'s' if extra > 1 else ''})"


def default_catalog_dir() -> Path:
    """The directory to load: `$DLRSIM_CATALOG_DIR` when set, else the repository's `catalogs/`."""
    configured = os.environ.get(CATALOG_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "catalogs"


def catalog_files(directory: Path) -> list[Path]:
    """The catalog files of a directory, sorted; schema files and hidden files are skipped."""
    return sorted(
        path
        for path in directory.glob("*.yaml")
        if path.is_file()
        and not path.name.startswith(".")
        and path.stem != "schema"
        and not path.stem.endswith(".schema")
    )


def load_catalogs(directory: Path | None = None) -> dict[str, Catalog]:
    """Load and validate every catalog of `directory`, keyed by provider.

    All files are checked before anything is raised, so one run reports every broken catalog.
    """
    root = default_catalog_dir() if directory is None else directory
    if not root.is_dir():
        from_env = directory is None and bool(os.environ.get(CATALOG_DIR_ENV, "").strip())
        origin = f" (from {CATALOG_DIR_ENV})" if from_env else ""
        raise CatalogError(f"{_display(root)}: catalog directory{origin} does not exist")
    files = catalog_files(root)
    if not files:
        raise CatalogError(f"{_display(root)}: no catalog files (*.yaml) found")
    catalogs: dict[str, Catalog] = {}
    problems: list[str] = []
    for path in files:
        try:
            catalog = load_catalog_file(path)
        except CatalogError as error:
            problems.extend(error.problems)
            continue
        catalogs[catalog.provider] = catalog
    if problems:
        raise CatalogError(*problems)
    return catalogs


def load_catalog_file(path: Path) -> Catalog:
    """Read one catalog file; the provider must match the file name (`infobip.yaml`)."""
    name = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        reason = f"{error.reason} at byte {error.start}"
        raise CatalogError(f"{name}: not UTF-8 text ({reason})") from None
    except OSError as error:
        raise CatalogError(f"{name}: cannot be read ({error.strerror or error})") from None
    document = parse_yaml(text, name)
    catalog = validate_catalog(document, name)
    if catalog.provider != path.stem:
        line = document.line_of(("provider",))
        raise CatalogError(
            f"{name}:{line}: provider: expected {path.stem!r} (the file name); "
            f"found {catalog.provider!r}"
        )
    return catalog


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from one YAML file plus the line (1-based) of each key and list item."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, path: Loc) -> int:
        """Line of `path`, or of its nearest ancestor the file has (1 at worst)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


def parse_yaml(text: str, name: str) -> YamlDocument:
    """Parse YAML text keeping line numbers; syntax errors name the file and the line."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        problems: list[tuple[int, Loc, str]] = []
        if node is not None:
            _index_node(node, (), lines, problems, loader, set())
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        detail = "; ".join(part for part in (error.context, error.problem) if part)
        raise CatalogError(f"{name}{line}: YAML syntax error: {detail}") from None
    except yaml.YAMLError as error:
        raise CatalogError(f"{name}: YAML error: {error}") from None
    finally:
        loader.dispose()
    if problems:
        raise CatalogError(
            *(f"{name}:{line}: {_path_text(loc, data)}{text}" for line, loc, text in problems)
        )
    return YamlDocument(data, lines)


def _index_node(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[tuple[int, Loc, str]],
    loader: yaml.SafeLoader | yaml.CSafeLoader,
    active: set[int],
) -> None:
    """Record the line of every key and item under `node`; flag duplicate keys and odd ints."""
    if id(node) in active:  # a recursive alias: nothing more to index below it
        return
    active.add(id(node))
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    (
                        line,
                        (*loc, key),
                        f"expected each key once per mapping; found {key!r} again "
                        f"(first at line {seen[key]})",
                    )
                )
                continue
            seen[key] = line
            lines[(*loc, key)] = line
            _index_node(value_node, (*loc, key), lines, problems, loader, active)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index_node(item, (*loc, position), lines, problems, loader, active)
    elif (
        isinstance(node, yaml.ScalarNode)
        and node.tag == _INT_TAG
        and not node.style  # plain (None in PyYAML, "" in libyaml), not quoted
        and _SURPRISING_INT.match(node.value)
    ):
        value = loader.construct_object(node)
        problems.append(
            (
                node.start_mark.line + 1,
                loc,
                f"expected a plain number or quoted text; found {node.value}, which YAML reads "
                f"as the number {value} (quote it: '{node.value}')",
            )
        )
    active.discard(id(node))


def validate_catalog(document: YamlDocument, name: str) -> Catalog:
    """Validate parsed data against `Catalog`; every problem becomes one located line."""
    if not isinstance(document.data, dict):
        found = "an empty file" if document.data is None else _found(document.data)
        raise CatalogError(f"{name}:1: expected a mapping of catalog fields; found {found}")
    try:
        return Catalog.model_validate(document.data)
    except ValidationError as error:
        raise CatalogError(*_problems(error, document, name)) from None


# --- turning pydantic errors into located, readable lines --------------------------------------


def _problems(error: ValidationError, document: YamlDocument, name: str) -> list[str]:
    # Union members fail separately at the same place (`group.id.int`, `group.id.str`): merge
    # them into one problem per data path, keeping pydantic's order.
    grouped: dict[Loc, list[tuple[Loc, Mapping[str, Any]]]] = {}
    for detail in error.errors(include_url=False):
        path, tags = _split_loc(tuple(detail["loc"]), document.data)
        grouped.setdefault(path, []).append((tags, detail))
    located: list[tuple[int, str]] = []
    for path, details in grouped.items():
        for where, text in _explain(path, details, document.data):
            located.append((document.line_of(where), f"{_path_text(where, document.data)}{text}"))
    located.sort(key=lambda item: item[0])
    return [f"{name}:{line}: {text}" for line, text in located]


def _explain(
    path: Loc, details: list[tuple[Loc, Mapping[str, Any]]], data: Any
) -> Iterator[tuple[Loc, str]]:
    """Yield (precise path, "expected ...; found ...") for the errors found at one path."""
    if len(details) > 1 and all(tags for tags, _ in details):
        expected = " or ".join(_TYPE_WORDS.get(str(tags[0]), str(tags[0])) for tags, _ in details)
        yield path, f"expected {expected}; found {_found(details[0][1].get('input'))}"
        return
    for tags, detail in details:
        pinned: list[tuple[Loc, str]] = []
        if detail["type"] == "value_error" and not tags:
            if not path:
                pinned = list(_reference_problems(data))
            elif len(path) == 2 and path[0] == "entries" and isinstance(path[1], int):
                pinned = list(_entry_rule_problems(path, _get(data, path)))
        if pinned:
            yield from pinned
        else:
            yield path, _reword(path, detail)


def _reword(path: Loc, detail: Mapping[str, Any]) -> str:
    kind = str(detail["type"])
    message = str(detail["msg"])
    context: Mapping[str, Any] = detail.get("ctx") or {}
    value = detail.get("input")
    if kind == "missing":
        return "expected this required field; found it missing"
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        allowed = ", ".join(model.model_fields) if model is not None else "the documented fields"
        return f"expected one of the fields {allowed}; found unknown field {path[-1]!r}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        return f"expected one of {', '.join(choices)}; found {_found(value)}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {context.get('pattern')}; found {_found(value)}"
    if kind == "value_error":
        return f"{message.removeprefix('Value error, ')}; found {_found(value)}"
    if kind in _EXPECTED_BY_TYPE:
        expected = _EXPECTED_BY_TYPE[kind]
    elif message.startswith("Input should be "):
        expected = message.removeprefix("Input should be ")
    else:
        expected = message[:1].lower() + message[1:]
    hint = ""
    if kind == "string_type" and isinstance(value, bool | int | float):
        hint = " (YAML read it as a number or boolean: quote it)"
    return f"expected {expected}; found {_found(value)}{hint}"


def _reference_problems(data: Any) -> Iterator[tuple[Loc, str]]:
    """Locate the catalog-wide rules of `Catalog` (unique keys, references that must resolve)."""
    entries = [item if isinstance(item, dict) else {} for item in data.get("entries") or []]
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        key = entry.get("key")
        if not isinstance(key, str):
            continue
        if key in first_index:
            yield (
                ("entries", index, "key"),
                f"expected a key not used by another entry; found {key!r}, already the key "
                f"of entries[{first_index[key]}]",
            )
        else:
            first_index[key] = index
    keys = sorted(first_index)
    for field_name in ("initial_status", "delivered_status"):
        value = data.get(field_name)
        if value not in first_index:
            yield (field_name,), f"expected the key of an entry; found {_found(value)}"
    sections = [s.get("id") for s in data.get("sections") or [] if isinstance(s, dict)]
    for index, entry in enumerate(entries):
        if entry.get("section") not in sections:
            yield (
                ("entries", index, "section"),
                f"expected a declared section id ({', '.join(map(str, sections))}); "
                f"found {_found(entry.get('section'))}",
            )
        for position, successor in enumerate(entry.get("next") or []):
            if successor not in first_index:
                yield (
                    ("entries", index, "next", position),
                    f"expected the key of an entry{_closest(successor, keys)}; "
                    f"found {_found(successor)}",
                )
        status = entry.get("with_status")
        if status is not None and status not in first_index:
            yield (
                ("entries", index, "with_status"),
                f"expected the key of an entry{_closest(status, keys)}; found {_found(status)}",
            )


def _entry_rule_problems(path: Loc, entry: Any) -> Iterator[tuple[Loc, str]]:
    """Locate the per-entry consistency rules of `Entry` on the field that breaks them."""
    if not isinstance(entry, dict):
        return
    raw_smpp = entry.get("smpp")
    smpp: dict[str, Any] = raw_smpp if isinstance(raw_smpp, dict) else {}
    final = entry.get("final")
    if final is True and smpp.get("stat") == "ENROUTE":
        yield (
            (*path, "smpp", "stat"),
            f"expected a final stat ({', '.join(sorted(FINAL_STATS))}) because final is true; "
            "found 'ENROUTE'",
        )
    if final is False and entry.get("outcome") != "pending":
        yield (
            (*path, "outcome"),
            f"expected 'pending' because final is false; found {_found(entry.get('outcome'))}",
        )
    if final is False and not entry.get("next"):
        yield (
            (*path, "next"),
            "expected at least one successor key because final is false; found none",
        )


# --- small helpers -------------------------------------------------------------------------------


def _split_loc(loc: Loc, data: Any) -> tuple[Loc, Loc]:
    """Split a pydantic location into the part that exists in the data and union-member tags."""
    node: Any = data
    present = True
    for position, part in enumerate(loc):
        if not present:
            continue
        if isinstance(node, dict):
            present = part in node
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return loc[:position], loc[position:]
    return loc, ()


def _get(data: Any, path: Loc) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _path_text(path: Loc, data: Any) -> str:
    """`entries[12] (EC_ABSENT_SUBSCRIBER).smpp.stat: `; empty for the catalog as a whole."""
    text = ""
    node: Any = data
    for part in path:
        if isinstance(node, list) and isinstance(part, int):
            node = node[part] if 0 <= part < len(node) else None
            text += f"[{part}]"
            if isinstance(node, dict):
                label = node.get("key", node.get("id"))
                if isinstance(label, str | int) and not isinstance(label, bool):
                    text += f" ({label})"
        else:
            text += f"{'.' if text else ''}{part}"
            node = node.get(part, None) if isinstance(node, dict) else None
    return f"{text}: " if text else ""


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if value is None:
        return "null"
    return repr(value)


def _closest(value: Any, keys: Sequence[str]) -> str:
    if not isinstance(value, str):
        return ""
    matches = difflib.get_close_matches(value, keys, n=3, cutoff=0.6)
    return f" (closest: {', '.join(matches)})" if matches else ""


def _model_at(path: Loc) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `path` (for listing allowed fields)."""
    annotation: Any = Catalog
    for part in path:
        if isinstance(part, int):
            continue  # list items: `_models_in` looks inside list[...] anyway
        models = _models_in(annotation)
        if not models or part not in models[0].model_fields:
            return None
        annotation = models[0].model_fields[part].annotation
    models = _models_in(annotation)
    return models[0] if models else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _display(path: Path) -> str:
    """The path relative to the working directory when it is below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
