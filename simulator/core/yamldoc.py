"""YAML with line numbers, and pydantic errors reworded as located, readable lines.

Strategy: compose a YAML file into PyYAML's node tree first, so every mapping key and list item
keeps its line number, then build plain data from the same nodes. Model validation happens
elsewhere (catalogs, scenarios); this module turns each pydantic error back into one line that
names the file, the line, the dotted path inside the document and "expected ...; found ...".
Callers may pin whole-model errors onto the field that breaks them with a `Pinner`.

Only the standard library, PyYAML and pydantic are imported here (plus `core.errors`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from simulator.core.errors import SimulatorError

Loc = tuple[str | int, ...]
#: (path, union-member tags, pydantic error detail, whole data) -> located problems, or []
Pinner = Callable[[Loc, Loc, Mapping[str, Any], Any], list[tuple[Loc, str]]]
YamlLoader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]

# libyaml's loader, where PyYAML was built with it, composes about five times faster and keeps
# the same node marks.
DEFAULT_LOADER: YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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


class ProblemsError(SimulatorError):
    """An error made of one or more self-contained problem lines; `str()` joins them."""

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


class YamlError(ProblemsError):
    """A file is not readable text or not well-formed YAML; callers usually re-raise its
    `problems` as their own error class."""


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


def read_text(path: Path, name: str) -> str:
    """The UTF-8 text of a file; unreadable or non-UTF-8 files raise `YamlError`."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        reason = f"{error.reason} at byte {error.start}"
        raise YamlError(f"{name}: not UTF-8 text ({reason})") from None
    except OSError as error:
        raise YamlError(f"{name}: cannot be read ({error.strerror or error})") from None


def parse_yaml(
    text: str,
    name: str,
    *,
    loader: YamlLoader | None = None,
    label_keys: Sequence[str] = ("key", "id"),
) -> YamlDocument:
    """Parse YAML text keeping line numbers; syntax errors, repeated keys and integers YAML
    would silently reinterpret raise `YamlError` naming the file and the line."""
    parser = (loader or DEFAULT_LOADER)(text)
    try:
        node = parser.get_single_node()
        lines: dict[Loc, int] = {}
        problems: list[tuple[int, Loc, str]] = []
        if node is not None:
            _index_node(node, (), lines, problems, parser, set())
        data = None if node is None else parser.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        context = error.context
        opened = error.context_mark
        if context and opened is not None and mark is not None and opened.line != mark.line:
            context += f" (which starts at line {opened.line + 1})"
        detail = "; ".join(part for part in (context, error.problem) if part)
        raise YamlError(f"{name}{line}: YAML syntax error: {detail}") from None
    except yaml.YAMLError as error:
        raise YamlError(f"{name}: YAML error: {error}") from None
    finally:
        parser.dispose()
    if problems:
        raise YamlError(
            *(
                f"{name}:{line}: {path_text(loc, data, label_keys)}{text}"
                for line, loc, text in problems
            )
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


# --- turning pydantic errors into located, readable lines --------------------------------------


def explain_errors(
    errors: Iterable[Mapping[str, Any]],
    document: YamlDocument,
    root: type[BaseModel],
    *,
    pin: Pinner | None = None,
    label_keys: Sequence[str] = (),
) -> list[tuple[int, str]]:
    """(line, "path: expected ...; found ...") for each pydantic error detail, in order.

    Union members failing at one place (`id.int`, `id.str`) merge into one problem. `pin` may
    relocate an error (a whole-model rule) onto the fields that break it; `label_keys` name the
    fields whose value labels a list item in paths (`entries[3] (KEY).stat`).
    """
    grouped: dict[Loc, list[tuple[Loc, Mapping[str, Any]]]] = {}
    for detail in errors:
        path, tags = split_loc(tuple(detail["loc"]), document.data)
        grouped.setdefault(path, []).append((tags, detail))
    located: list[tuple[int, str]] = []
    for path, details in grouped.items():
        for where, text in _explain(path, details, document.data, root, pin):
            prefix = path_text(where, document.data, label_keys)
            located.append((document.line_of(where), f"{prefix}{text}"))
    return located


def format_located(name: str, located: Iterable[tuple[int, str]]) -> list[str]:
    """`name:line: text` lines sorted by line (problems on one line keep their order)."""
    return [f"{name}:{line}: {text}" for line, text in sorted(located, key=lambda item: item[0])]


def _explain(
    path: Loc,
    details: list[tuple[Loc, Mapping[str, Any]]],
    data: Any,
    root: type[BaseModel],
    pin: Pinner | None,
) -> list[tuple[Loc, str]]:
    if len(details) > 1 and all(tags for tags, _ in details):
        words = dict.fromkeys(type_word(str(tags[0])) for tags, _ in details)
        return [(path, f"expected {' or '.join(words)}; found {found(details[0][1].get('input'))}")]
    result: list[tuple[Loc, str]] = []
    for tags, detail in details:
        pinned = pin(path, tags, detail, data) if pin is not None else []
        result.extend(pinned or [(path, reword(path, detail, root))])
    return result


def reword(path: Loc, detail: Mapping[str, Any], root: type[BaseModel]) -> str:
    """One pydantic error detail as "expected ...; found ..."."""
    kind = str(detail["type"])
    message = str(detail["msg"])
    context: Mapping[str, Any] = detail.get("ctx") or {}
    value = detail.get("input")
    if kind == "missing":
        return "expected this required field; found it missing"
    if kind == "extra_forbidden":
        model = model_at(root, path[:-1])
        names = [info.alias or name for name, info in model.model_fields.items()] if model else []
        allowed = ", ".join(names) or "the documented fields"
        return (
            f"expected one of the fields {allowed}; found unknown field {path[-1]!r}"
            f"{closest(path[-1], names)}"
        )
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        return f"expected one of {', '.join(choices)}; found {found(value)}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {context.get('pattern')}; found {found(value)}"
    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        return text if "; found " in text else f"{text}; found {found(value)}"
    if kind in _EXPECTED_BY_TYPE:
        expected = _EXPECTED_BY_TYPE[kind]
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        expected = "a number " + message.removeprefix("Input should be ")
    elif message.startswith("Input should be "):
        expected = message.removeprefix("Input should be ")
    else:
        expected = message[:1].lower() + message[1:]
    hint = ""
    if kind == "string_type" and isinstance(value, bool | int | float):
        hint = " (YAML read it as a number or boolean: quote it)"
    return f"expected {expected}; found {found(value)}{hint}"


def type_word(tag: str) -> str:
    """Words for a union member tag: `int` -> an integer, `list[str]` -> a list."""
    if tag in _TYPE_WORDS:
        return _TYPE_WORDS[tag]
    if tag.startswith(("list[", "tuple[", "set[")):
        return "a list"
    if tag.startswith("dict[") or tag[:1].isupper():
        return "a mapping"
    return tag


# --- small helpers -------------------------------------------------------------------------------


def split_loc(loc: Loc, data: Any) -> tuple[Loc, Loc]:
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


def get_path(data: Any, path: Loc) -> Any:
    """The value at `path` in plain data, or None where the path does not exist."""
    node = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def path_text(path: Loc, data: Any, label_keys: Sequence[str] = ("key", "id")) -> str:
    """`entries[12] (EC_ABSENT_SUBSCRIBER).smpp.stat: `; empty for the document as a whole.

    A list item is labelled with the value of the first of `label_keys` it has.
    """
    text = ""
    node: Any = data
    for part in path:
        if isinstance(node, list) and isinstance(part, int):
            node = node[part] if 0 <= part < len(node) else None
            text += f"[{part}]"
            if isinstance(node, dict):
                label = next((node[key] for key in label_keys if key in node), None)
                if isinstance(label, str | int) and not isinstance(label, bool):
                    text += f" ({label})"
        else:
            text += f"{'.' if text else ''}{part}"
            node = node.get(part, None) if isinstance(node, dict) else None
    return f"{text}: " if text else ""


def found(value: Any) -> str:
    """How a found value reads in a message: `'text'`, `5`, `a mapping`, `a list of 2 items`."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if value is None:
        return "null"
    return repr(value)


def closest(value: Any, choices: Iterable[str], *, limit: int = 3) -> str:
    """` (closest: A, B)` for the choices that look like `value`, or an empty string."""
    if not isinstance(value, str):
        return ""
    matches = difflib.get_close_matches(value, list(choices), n=limit, cutoff=0.6)
    return f" (closest: {', '.join(matches)})" if matches else ""


def model_at(root: type[BaseModel], path: Loc) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `path` (for listing allowed fields)."""
    annotation: Any = root
    for part in path:
        if isinstance(part, int):
            continue  # list items: `_models_in` looks inside list[...] anyway
        models = _models_in(annotation)
        if not models:
            return None
        fields = {info.alias or name: info for name, info in models[0].model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
    models = _models_in(annotation)
    return models[0] if models else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
