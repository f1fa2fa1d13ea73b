"""YAML with line numbers and pydantic errors reworded as located lines (`core.yamldoc`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulator.core.errors import SimulatorError
from simulator.core.yamldoc import (
    Loc,
    ProblemsError,
    YamlDocument,
    YamlError,
    closest,
    display_path,
    explain_errors,
    format_located,
    found,
    get_path,
    model_at,
    parse_yaml,
    path_text,
    read_text,
    split_loc,
    type_word,
)

LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]


class Span(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    low: int = Field(alias="from")
    high: int = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.low > self.high:
            raise ValueError(f"expected from <= to; found from {self.low} > to {self.high}")
        return self


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[A-Z]+$")
    colour: Literal["red", "green"] = "red"
    weight: float = Field(default=1.0, gt=0)
    ident: int | str | None = None
    span: Span | None = None

    @model_validator(mode="after")
    def _not_both(self) -> Item:
        if self.colour == "green" and self.weight > 5:
            raise ValueError("green items weigh at most 5")
        return self


class Root(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    items: list[Item] = Field(default_factory=list)


def located(text: str, *, pin: Any = None, labels: tuple[str, ...] = ("key",)) -> list[str]:
    document = parse_yaml(text, "doc.yaml")
    with pytest.raises(ValidationError) as caught:
        Root.model_validate(document.data)
    errors = caught.value.errors(include_url=False)
    return format_located(
        "doc.yaml", explain_errors(errors, document, Root, pin=pin, label_keys=labels)
    )


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("loader", LOADERS)
def test_every_key_and_list_item_keeps_its_line(loader: type[yaml.SafeLoader]) -> None:
    text = "name: a\nitems:\n  - key: A\n    colour: red\n  - {key: B}\n"
    document = parse_yaml(text, "doc.yaml", loader=loader)
    assert document.data == {"name": "a", "items": [{"key": "A", "colour": "red"}, {"key": "B"}]}
    assert document.lines[("name",)] == 1
    assert document.lines[("items", 0)] == 3
    assert document.lines[("items", 0, "colour")] == 4
    assert document.lines[("items", 1, "key")] == 5


def test_line_of_falls_back_to_the_nearest_ancestor_then_to_one() -> None:
    document = YamlDocument({"a": {"b": 1}}, {(): 1, ("a",): 2, ("a", "b"): 3})
    assert document.line_of(("a", "b")) == 3
    assert document.line_of(("a", "missing", 4)) == 2
    assert YamlDocument({}).line_of(("x",)) == 1


@pytest.mark.parametrize("loader", LOADERS)
def test_syntax_error_names_the_file_and_line(loader: type[yaml.SafeLoader]) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("name: a\nitems: [x\nother: 1\n", "doc.yaml", loader=loader)
    (problem,) = caught.value.problems
    assert problem.startswith("doc.yaml:")
    assert "YAML syntax error" in problem
    assert int(problem.split(":")[1]) in (2, 3)


@pytest.mark.parametrize("loader", LOADERS)
def test_repeated_key_reports_both_lines_with_the_item_label(loader: type[yaml.SafeLoader]) -> None:
    text = "items:\n  - key: A\n    colour: red\n    colour: green\n"
    with pytest.raises(YamlError) as caught:
        parse_yaml(text, "doc.yaml", loader=loader)
    assert caught.value.problems == (
        "doc.yaml:4: items[0] (A).colour: expected each key once per mapping; found 'colour' "
        "again (first at line 3)",
    )
    with pytest.raises(YamlError) as unlabelled:
        parse_yaml(text, "doc.yaml", loader=loader, label_keys=())
    assert unlabelled.value.problems[0].startswith("doc.yaml:4: items[0].colour: ")


@pytest.mark.parametrize("raw", ["010", "1_000", "1:30"])
def test_integers_yaml_would_reinterpret_are_refused(raw: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(f"name: a\ncode: {raw}\n", "doc.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("doc.yaml:2: code: expected a plain number or quoted text; ")
    assert f"quote it: '{raw}'" in problem


def test_quoted_and_ordinary_numbers_pass() -> None:
    assert parse_yaml("a: '010'\nb: 10\nc: 0\n", "doc.yaml").data == {"a": "010", "b": 10, "c": 0}


def test_empty_text_is_null_data() -> None:
    assert parse_yaml("", "doc.yaml").data is None


def test_read_text_reports_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match=r"^gone\.yaml: cannot be read \("):
        read_text(tmp_path / "gone.yaml", "gone.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\n")
    with pytest.raises(YamlError, match=r"^bad\.yaml: not UTF-8 text \(.* at byte 6\)$"):
        read_text(bad, "bad.yaml")


def test_problems_error_joins_lines_and_summarises() -> None:
    error = YamlError("one", "two", "three")
    assert isinstance(error, ProblemsError) and isinstance(error, SimulatorError)
    assert str(error) == "one\ntwo\nthree"
    assert error.summary == "one (and 2 more problems)"
    assert YamlError("one", "two").summary == "one (and 1 more problem)"
    assert YamlError("only").summary == "only"


# --- rewording pydantic errors --------------------------------------------------------------------


def test_missing_field_and_unknown_field() -> None:
    problems = located("items:\n  - key: A\n    size: 3\n")
    assert problems == [
        "doc.yaml:1: name: expected this required field; found it missing",
        "doc.yaml:3: items[0] (A).size: expected one of the fields key, colour, weight, ident, "
        "span; found unknown field 'size'",
    ]


def test_unknown_field_lists_aliases_not_python_names() -> None:
    problems = located("name: a\nitems:\n  - key: A\n    span: {from: 1, to: 2, step: 1}\n")
    assert problems == [
        "doc.yaml:4: items[0] (A).span.step: expected one of the fields from, to; "
        "found unknown field 'step'"
    ]


def test_literal_pattern_and_number_bounds() -> None:
    text = "name: a\nitems:\n  - key: a1\n    colour: blue\n    weight: 0\n"
    assert located(text) == [
        "doc.yaml:3: items[0] (a1).key: expected text matching ^[A-Z]+$; found 'a1'",
        "doc.yaml:4: items[0] (a1).colour: expected one of red, green; found 'blue'",
        "doc.yaml:5: items[0] (a1).weight: expected a number greater than 0; found 0",
    ]


def test_union_members_merge_and_numbers_for_text_suggest_quoting() -> None:
    assert located("name: a\nitems:\n  - {key: A, ident: 1.5}\n") == [
        "doc.yaml:3: items[0] (A).ident: expected an integer or text; found 1.5"
    ]
    (problem,) = located("name: 12\n")
    assert problem == (
        "doc.yaml:1: name: expected text; found 12 (YAML read it as a number or boolean: "
        "quote it)"
    )


def test_value_errors_keep_their_own_found_part_or_get_one() -> None:
    text = (
        "name: a\nitems:\n  - key: A\n    span: {from: 5, to: 3}\n"
        "  - {key: B, colour: green, weight: 9}\n"
    )
    assert located(text, labels=()) == [
        "doc.yaml:4: items[0].span: expected from <= to; found from 5 > to 3",
        "doc.yaml:5: items[1]: green items weigh at most 5; found a mapping",
    ]


def test_a_pinner_moves_model_errors_onto_the_field_that_breaks_them() -> None:
    seen: list[tuple[Loc, Loc]] = []

    def pin(path: Loc, tags: Loc, detail: Any, data: Any) -> list[tuple[Loc, str]]:
        seen.append((path, tags))
        if detail["type"] == "value_error" and path == ("items", 0):
            return [((*path, "weight"), "expected at most 5 for a green item; found 9")]
        return []

    problems = located("name: a\nitems:\n  - key: A\n    colour: green\n    weight: 9\n", pin=pin)
    assert problems == [
        "doc.yaml:5: items[0] (A).weight: expected at most 5 for a green item; found 9"
    ]
    assert seen == [(("items", 0), ())]


def test_format_located_sorts_by_line_and_keeps_order_within_a_line() -> None:
    assert format_located("f", [(3, "c"), (1, "b"), (3, "a")]) == ["f:1: b", "f:3: c", "f:3: a"]


# --- helpers -------------------------------------------------------------------------------------


def test_split_loc_separates_union_tags_from_the_data_path() -> None:
    data = {"items": [{"ident": 1.5}]}
    assert split_loc(("items", 0, "ident", "int"), data) == (("items", 0, "ident"), ("int",))
    assert split_loc(("items", 0, "missing"), data) == (("items", 0, "missing"), ())
    assert split_loc(("items", 3, "key"), data) == (("items",), (3, "key"))


def test_get_path_and_path_text() -> None:
    data = {"items": [{"key": "A", "id": 7}, {"id": 9}, "plain"]}
    assert get_path(data, ("items", 1, "id")) == 9
    assert get_path(data, ("items", 5)) is None
    assert path_text(("items", 0, "key"), data) == "items[0] (A).key: "
    assert path_text(("items", 1, "id"), data) == "items[1] (9).id: "
    assert path_text(("items", 2), data) == "items[2]: "
    assert path_text(("items", 0), data, ()) == "items[0]: "
    assert path_text((), data) == ""


def test_found_closest_and_type_words() -> None:
    values: list[Any] = [{}, [1], [1, 2], None, "x", 3]
    assert [found(v) for v in values] == [
        "a mapping", "a list of 1 item", "a list of 2 items", "null", "'x'", "3"
    ]
    assert closest("gren", ["red", "green"]) == " (closest: green)"
    assert closest("zzz", ["red"]) == ""
    assert closest(5, ["red"]) == ""
    assert [type_word(t) for t in ("int", "str", "list[str]", "Uniform", "odd")] == [
        "an integer", "text", "a list", "a mapping", "odd"
    ]


def test_model_at_follows_fields_lists_and_aliases() -> None:
    assert model_at(Root, ()) is Root
    assert model_at(Root, ("items", 0)) is Item
    assert model_at(Root, ("items", 0, "span")) is Span
    assert model_at(Root, ("items", 0, "key")) is None
    assert model_at(Root, ("nothing",)) is None


def test_display_path_is_relative_below_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "a" / "b.yaml") == str(Path("a") / "b.yaml")
    assert display_path(Path("/elsewhere/c.yaml")) == "/elsewhere/c.yaml"
