"""Loading catalog files: good fixtures load; each kind of mistake is reported with the file,
the line, the entry (index and key) and the field path, as "expected ...; found ..."."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator.catalog.loader import (
    CATALOG_DIR_ENV,
    CatalogError,
    catalog_files,
    default_catalog_dir,
    load_catalog_file,
    load_catalogs,
)
from simulator.core.errors import SimulatorError

REPO_CATALOGS = Path(__file__).resolve().parents[3] / "catalogs"

GOOD = """\
provider: acme
display_name: Acme SMS
seed: 000_acme.txt
language: en
message_id: {format: uuid}
callback:
  method: POST
  content_type: application/json
initial_status: QUEUED
delivered_status: DELIVERED
uses_network_error_code: true
sections:
  - {id: statuses, title: Statuses}
  - {id: errors, title: Errors}
entries:
  - key: QUEUED
    code: 1
    name: Queued
    kind: status
    section: statuses
    description: Waiting at the provider.
    final: false
    permanent: null
    outcome: pending
    smpp: {stat: ENROUTE, err: "000"}
    next: [DELIVERED, FAILED]
  - key: DELIVERED
    code: "002"
    name: Delivered
    kind: status
    section: statuses
    description: Reached the handset.
    final: true
    permanent: null
    outcome: delivered
    smpp: {stat: DELIVRD, err: "000"}
  - key: FAILED
    code: 9
    name: Failed
    kind: error
    section: errors
    group: {id: 1, name: Undeliverable}
    description: Did not arrive.
    final: true
    permanent: true
    outcome: undelivered
    smpp:
      stat: UNDELIV
      err: "009"
      network_error_code: 9
    with_status: DELIVERED
"""


@pytest.fixture(autouse=True)
def _inside_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages show paths relative to the working directory: run where the fixtures live.
    monkeypatch.chdir(tmp_path)


def write(directory: Path, text: str, name: str = "acme.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle` (so tests need no hand counting)."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def problems_of(tmp_path: Path, text: str) -> tuple[str, ...]:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as caught:
        load_catalog_file(path)
    return caught.value.problems


# --- good files and directory handling ---------------------------------------------------------


def test_good_fixture_loads_with_codes_as_text(tmp_path: Path) -> None:
    catalog = load_catalog_file(write(tmp_path, GOOD))
    assert catalog.provider == "acme"
    assert [entry.key for entry in catalog.entries] == ["QUEUED", "DELIVERED", "FAILED"]
    assert [entry.code for entry in catalog.entries] == ["1", "002", "9"]
    assert catalog.entries[2].smpp.network_error_code == 9


def test_load_catalogs_keys_by_provider_and_skips_schema_and_hidden_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, edit("provider: acme", "provider: beta"), "beta.yaml")
    write(tmp_path, "not: [valid", "schema.yaml")
    write(tmp_path, "not: [valid", ".acme.yaml")
    write(tmp_path, "not: [valid", "notes.txt")
    assert [p.name for p in catalog_files(tmp_path)] == ["acme.yaml", "beta.yaml"]
    assert sorted(load_catalogs(tmp_path)) == ["acme", "beta"]


def test_catalog_dir_comes_from_the_environment_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CATALOG_DIR_ENV, raising=False)
    assert default_catalog_dir() == REPO_CATALOGS
    monkeypatch.setenv(CATALOG_DIR_ENV, str(tmp_path))
    assert default_catalog_dir() == tmp_path
    write(tmp_path, GOOD)
    assert list(load_catalogs()) == ["acme"]


def test_missing_and_empty_directories_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CatalogError, match="no catalog files"):
        load_catalogs(tmp_path)
    monkeypatch.setenv(CATALOG_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(CatalogError, match=f"nowhere: catalog directory \\(from {CATALOG_DIR_ENV}"):
        load_catalogs()


def test_catalog_error_is_a_simulator_error_with_a_one_line_summary() -> None:
    error = CatalogError("first", "second", "third")
    assert isinstance(error, SimulatorError)
    assert str(error) == "first\nsecond\nthird"
    assert error.summary == "first (and 2 more problems)"
    assert CatalogError("only").summary == "only"


def test_problems_of_every_file_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, edit("stat: DELIVRD", "stat: DELIVERED"))
    write(tmp_path, edit("provider: acme", "provider: beta") + "  - [", "beta.yaml")
    with pytest.raises(CatalogError) as caught:
        load_catalogs(tmp_path)
    problems = caught.value.problems
    assert len(problems) == 2
    assert "acme.yaml:" in problems[0] and "'DELIVERED'" in problems[0]
    assert "beta.yaml:" in problems[1] and "YAML syntax error" in problems[1]


# --- YAML-level problems -------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    text = edit("    name: Delivered\n", "    name: [Delivered\n")
    (problem,) = problems_of(tmp_path, text)
    assert "acme.yaml:" in problem
    assert "YAML syntax error" in problem
    line = int(problem.split("acme.yaml:")[1].split(":")[0])
    # PyYAML notices the unclosed bracket on the line after it opens.
    assert line_of(text, "name: [Delivered") <= line <= line_of(text, "name: [Delivered") + 1


def test_duplicate_mapping_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    text = edit("    outcome: delivered\n", "    outcome: delivered\n    final: false\n")
    (problem,) = problems_of(tmp_path, text)
    first, second = line_of(text, "final:", 2), line_of(text, "final:", 3)
    assert problem.startswith(f"acme.yaml:{second}: entries[1] (DELIVERED).final: ")
    assert f"found 'final' again (first at line {first})" in problem


def test_leading_zero_number_is_refused_instead_of_read_as_octal(tmp_path: Path) -> None:
    text = edit('code: "002"', "code: 010")
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith(
        f"acme.yaml:{line_of(text, 'code: 010')}: entries[1] (DELIVERED).code:"
    )
    assert "YAML reads as the number 8" in problem and "'010'" in problem


@pytest.mark.parametrize(("text", "found"), [("", "an empty file"), ("- a\n- b\n", "a list")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith("acme.yaml:1: expected a mapping of catalog fields; found ")
    assert found in problem


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_bytes(GOOD.encode("utf-8") + b"\xff\xfe")
    with pytest.raises(CatalogError, match=r"acme\.yaml: not UTF-8 text"):
        load_catalog_file(path)


# --- field-level problems from the model ---------------------------------------------------------


def test_bad_enum_value_names_entry_field_line_expected_and_found(tmp_path: Path) -> None:
    text = edit("stat: DELIVRD", "stat: DELIVERED")
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'stat: DELIVERED')}: entries[1] (DELIVERED).smpp.stat: "
        "expected one of ENROUTE, DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, "
        "REJECTD; found 'DELIVERED'"
    )


def test_missing_field_points_at_the_entry(tmp_path: Path) -> None:
    text = edit("    outcome: delivered\n", "")
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'key: DELIVERED')}: entries[1] (DELIVERED).outcome: "
        "expected this required field; found it missing"
    )


def test_unknown_field_lists_the_allowed_ones(tmp_path: Path) -> None:
    text = edit("      network_error_code: 9\n", "      network_error_code: 9\n      colour: red\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith(
        f"acme.yaml:{line_of(text, 'colour')}: entries[2] (FAILED).smpp.colour:"
    )
    assert "expected one of the fields stat, err, network_error_code, network_type" in problem
    assert "found unknown field 'colour'" in problem


def test_pattern_mismatch_shows_the_pattern(tmp_path: Path) -> None:
    text = edit(
        "key: FAILED", "key: failed-hard", edit("next: [DELIVERED, FAILED]", "next: [DELIVERED]")
    )
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'key: failed-hard')}: entries[2] (failed-hard).key: "
        "expected text matching ^[A-Z0-9_]+$; found 'failed-hard'"
    )


def test_number_where_text_is_expected_suggests_quoting(tmp_path: Path) -> None:
    text = edit('err: "009"', "err: 9")
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith(f"acme.yaml:{line_of(text, 'err: 9')}: entries[2] (FAILED).smpp.err:")
    assert "expected text; found 9" in problem and "quote it" in problem


def test_union_member_errors_merge_into_one_problem(tmp_path: Path) -> None:
    text = edit("group: {id: 1,", "group: {id: 1.5,")
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'group:')}: entries[2] (FAILED).group.id: "
        "expected an integer or text; found 1.5"
    )


def test_several_problems_come_sorted_by_line(tmp_path: Path) -> None:
    text = edit("stat: DELIVRD", "stat: DELIVERED", edit("language: en", "language: [en]"))
    problems = problems_of(tmp_path, text)
    assert [p.split(":")[1] for p in problems] == [
        str(line_of(text, "language:")),
        str(line_of(text, "stat: DELIVERED")),
    ]


# --- rules the model checks on a whole entry or the whole catalog -----------------------------


def test_final_entry_rendered_as_enroute_points_at_the_stat(tmp_path: Path) -> None:
    text = edit("stat: DELIVRD", "stat: ENROUTE")
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith(
        f"acme.yaml:{line_of(text, 'stat: ENROUTE', 2)}: entries[1] (DELIVERED).smpp.stat: "
        "expected a final stat"
    )
    assert problem.endswith("because final is true; found 'ENROUTE'")


def test_non_final_entry_needs_pending_outcome_and_successors(tmp_path: Path) -> None:
    text = edit("    outcome: pending\n", "    outcome: delivered\n")
    text = edit("    next: [DELIVERED, FAILED]\n", "", text)
    problems = problems_of(tmp_path, text)
    assert problems == (
        f"acme.yaml:{line_of(text, 'key: QUEUED')}: entries[0] (QUEUED).next: "
        "expected at least one successor key because final is false; found none",
        f"acme.yaml:{line_of(text, 'outcome: delivered')}: entries[0] (QUEUED).outcome: "
        "expected 'pending' because final is false; found 'delivered'",
    )


def test_unknown_successor_points_at_the_list_item_and_suggests_a_key(tmp_path: Path) -> None:
    text = edit("next: [DELIVERED, FAILED]", "next: [DELIVERED, FAILD]")
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'FAILD')}: entries[0] (QUEUED).next[1]: "
        "expected the key of an entry (closest: FAILED); found 'FAILD'"
    )


def test_undeclared_section_lists_the_declared_ones(tmp_path: Path) -> None:
    text = edit("section: errors", "section: errorz")
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'errorz')}: entries[2] (FAILED).section: "
        "expected a declared section id (statuses, errors); found 'errorz'"
    )


def test_unknown_with_status_and_catalog_level_references(tmp_path: Path) -> None:
    text = edit("with_status: DELIVERED", "with_status: DONE")
    text = edit("initial_status: QUEUED", "initial_status: WAITING", text)
    problems = problems_of(tmp_path, text)
    assert problems == (
        f"acme.yaml:{line_of(text, 'initial_status')}: initial_status: "
        "expected the key of an entry; found 'WAITING'",
        f"acme.yaml:{line_of(text, 'with_status')}: entries[2] (FAILED).with_status: "
        "expected the key of an entry; found 'DONE'",
    )


def test_repeated_entry_key_points_at_the_second_one(tmp_path: Path) -> None:
    text = edit("key: FAILED", "key: DELIVERED")
    text = edit("next: [DELIVERED, FAILED]", "next: [DELIVERED]", text)
    (problem,) = problems_of(tmp_path, text)
    assert problem == (
        f"acme.yaml:{line_of(text, 'key: DELIVERED', 2)}: entries[2] (DELIVERED).key: "
        "expected a key not used by another entry; found 'DELIVERED', already the key of "
        "entries[1]"
    )


def test_provider_must_match_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, "other.yaml")
    with pytest.raises(CatalogError) as caught:
        load_catalog_file(path)
    assert caught.value.problems == (
        "other.yaml:1: provider: expected 'other' (the file name); found 'acme'",
    )


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)])
def test_pure_python_and_libyaml_loaders_report_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: type[yaml.SafeLoader]
) -> None:
    monkeypatch.setattr("simulator.catalog.loader._LOADER", loader)
    assert load_catalog_file(write(tmp_path, GOOD)).entries[1].code == "002"
    text = edit('code: "002"', "code: 010")
    text = edit("    outcome: delivered\n", "    outcome: delivered\n    final: false\n", text)
    problems = problems_of(tmp_path, text)
    assert [p.split(":")[1] for p in problems] == [
        str(line_of(text, "code: 010")),
        str(line_of(text, "final:", 3)),
    ]
