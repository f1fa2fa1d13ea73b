"""The published scenario schema is current, and it accepts the YAML shorthand forms the model
accepts (checked with a small validator for the JSON Schema keywords the export uses)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.scenario.model import Scenario
from simulator.scenario.schema_export import SCHEMA_PATH, main, render_schema

SHORTHANDS = """\
name: shorthand-forms
provider: infobip
rules:
  - when:
      destination: "4477*"
      sender: [ACME, 4477]
      text: hello
      parts: 2
      nth: {min: 3}
      attempt: 1
    then:
      outcome: EC_ABSENT_SUBSCRIBER
      after: 48h
      steps: [{status: PENDING_ENROUTE, after: 1.5}]
  - when: {destination: 447700900123, data_coding: [0, 8]}
    then:
      mix:
        - {outcome: DELIVERED_TO_HANDSET, weight: 9, after: {uniform: [1s, 3s]}}
        - {outcome: 15, weight: 1, after: {normal: {mean: 2s, stddev: 500ms}}}
        - {outcome: 15, weight: 1, after: {exponential: {mean: 1m}}}
        - {outcome: 15, weight: 1, after: {lognormal: {median: 2s, sigma: 0.5}}}
        - {outcome: 15, weight: 1, after: {fixed: 2.5}}
  - when: {destination: {range: {from: 447700900000, to: 447700900999}}}
    then: {reject: {smpp: ESME_RTHROTTLED}}
faults:
  - {kind: delay_receipt, delay: 250ms, active: {min: 100, max: 200}}
  - {kind: throttle, rate: 50}
"""


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render_schema())
    return loaded


def errors(value: Any, node: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """Problems of `value` against `node`, for the keywords the exported schema uses."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return errors(value, root["$defs"][name], root, path)
    if "anyOf" in node:
        tried = [errors(value, choice, root, path) for choice in node["anyOf"]]
        if all(tried):  # no choice fits: say so, with why each one did not
            return [f"{path}: no anyOf choice fits {value!r}", *(e for t in tried for e in t)]
    found: list[str] = []
    kinds = node.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is(value, kind) for kind in allowed):
            return [f"{path}: {value!r} is not {allowed}"]
    if "enum" in node and value not in node["enum"]:
        found.append(f"{path}: {value!r} not in enum")
    if isinstance(value, str):
        if "pattern" in node and not re.search(node["pattern"], value):
            found.append(f"{path}: {value!r} does not match {node['pattern']}")
        if len(value) < node.get("minLength", 0) or len(value) > node.get("maxLength", 1 << 30):
            found.append(f"{path}: length of {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < node.get("minimum", value) or value > node.get("maximum", value):
            found.append(f"{path}: {value} out of range")
        if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
            found.append(f"{path}: {value} not above {node['exclusiveMinimum']}")
    if isinstance(value, dict):
        properties = node.get("properties", {})
        for key in node.get("required", []):
            if key not in value:
                found.append(f"{path}: {key} missing")
        for key, item in value.items():
            if key in properties:
                found += errors(item, properties[key], root, f"{path}.{key}")
            elif node.get("additionalProperties") is False:
                found.append(f"{path}: unknown key {key}")
    if isinstance(value, list):
        if not node.get("minItems", 0) <= len(value) <= node.get("maxItems", 1 << 30):
            found.append(f"{path}: {len(value)} items")
        prefix = node.get("prefixItems", [])
        for index, item in enumerate(value):
            sub = prefix[index] if index < len(prefix) else node.get("items")
            if isinstance(sub, dict):
                found += errors(item, sub, root, f"{path}[{index}]")
    return found


def _is(value: Any, kind: str) -> bool:
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    return bool(checks[kind](value))


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.is_file(), "run python -m simulator.scenario.schema_export"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema()
    assert main(["--check"]) == 0


def test_check_flags_a_stale_file_and_export_writes_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "schema.json"
    assert main(["--check", "--output", str(target)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render_schema()
    assert main(["--check", "--output", str(target)]) == 0


def test_the_shorthand_forms_the_model_accepts_fit_the_schema() -> None:
    data = yaml.safe_load(SHORTHANDS)
    Scenario.model_validate(data)  # the model takes them ...
    assert errors(data, schema(), schema()) == []  # ... and so does the schema


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        ({"colour": "red"}, "unknown key colour"),
        ({"name": "Has Spaces"}, "does not match"),
        ({"rules": [{"then": {"outcome": "X", "after": "2 hours"}}]}, "no anyOf choice"),
        ({"rules": [{"when": {"destination": 1.5}, "then": {"outcome": "X"}}]}, "no anyOf"),
        ({"faults": [{"kind": "disconect"}]}, "not in enum"),
        ({"rules": [{"then": {"mix": [{"outcome": "X", "weight": 0}]}}]}, "not above 0"),
    ],
)
def test_the_schema_still_refuses_what_the_model_refuses(
    edit: dict[str, Any], where: str
) -> None:
    data = {**yaml.safe_load(SHORTHANDS), **edit}
    with pytest.raises(ValueError):
        Scenario.model_validate(data)
    problems = errors(data, schema(), schema())
    assert any(where in problem for problem in problems), problems
