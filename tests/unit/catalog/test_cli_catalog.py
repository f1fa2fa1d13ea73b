"""`dlrsim catalog list|show|export`, driven through a small parser built with `register`."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.catalog import OUTCOME_CLASSES, CatalogRegistry, load_registry
from simulator.cli_catalog import CSV_COLUMNS, register

REPO_CATALOGS = Path(__file__).resolve().parents[3] / "catalogs"
PROVIDERS = ("clickatell", "clicksend", "infobip", "sinch", "smsmode")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlrsim")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    args = build_parser().parse_args(argv)
    code = args.handler(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fixture_entry(key: str, code: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": key,
        "code": code,
        "name": key.title(),
        "kind": "status",
        "section": "main",
        "description": f"fixture {key}",
        "final": True,
        "permanent": None,
        "outcome": "delivered",
        "smpp": {"stat": "DELIVRD", "err": "000"},
    }
    data.update(extra)
    return data


@pytest.fixture
def fixture_dir(tmp_path: Path) -> Path:
    catalog = {
        "provider": "acme",
        "display_name": "Acme Messaging",
        "seed": "000_fixture.txt",
        "language": "en",
        "message_id": {"format": "uuid"},
        "callback": {"method": "POST", "content_type": "application/json"},
        "initial_status": "QUEUED",
        "delivered_status": "DELIVERED",
        "uses_network_error_code": True,
        "sections": [{"id": "main", "title": "All codes"}],
        "entries": [
            fixture_entry(
                "QUEUED",
                "1",
                final=False,
                outcome="pending",
                smpp={"stat": "ENROUTE", "err": "001"},
                next=["DELIVERED", "ABSENT"],
            ),
            fixture_entry("DELIVERED", "2", callback={"status": "DELIVERED", "code": 2}),
            fixture_entry(
                "ABSENT",
                "9",
                kind="error",
                name="Absent subscriber",
                outcome="undelivered",
                permanent=False,
                group={"id": 1, "name": "Undeliverable"},
                smpp={"stat": "UNDELIV", "err": "009", "network_error_code": 27},
                with_status="DELIVERED",
                notes=["first note", "second note, with a comma"],
            ),
            fixture_entry(
                "MEMORY_FULL",
                "9",
                kind="error",
                outcome="undelivered",
                permanent=False,
                smpp={"stat": "UNDELIV", "err": "009"},
            ),
        ],
    }
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    return tmp_path


# --- against a small fixture catalog ------------------------------------------------------------


def test_list_prints_an_aligned_table(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["catalog", "--catalog-dir", str(fixture_dir), "list"], capsys)
    assert (code, err) == (0, "")
    header, row = out.splitlines()
    assert header.split() == [
        "PROVIDER",
        "NAME",
        "ENTRIES",
        "STATUS",
        "ERROR",
        *(outcome.upper() for outcome in OUTCOME_CLASSES),
    ]
    assert row.split() == ["acme", "Acme", "Messaging", "4", "2", "2", "1", "1", "2", "0", "0", "0"]
    assert len(header) == len(row)  # numbers are right-aligned under their headings


def test_show_without_code_lists_entries(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["catalog", "--catalog-dir", str(fixture_dir), "show", "acme"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Acme Messaging (acme): 4 entries"
    assert lines[1].split() == ["KEY", "CODE", "KIND", "CHANNEL", "OUTCOME", "FINAL", "STAT", "ERR"]
    assert lines[2].split() == ["QUEUED", "1", "status", "sms", "pending", "no", "ENROUTE", "001"]
    assert lines[4].split() == [
        "ABSENT",
        "9",
        "error",
        "sms",
        "undelivered",
        "yes",
        "UNDELIV",
        "009",
    ]


def test_show_with_code_prints_every_field(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["catalog", "--catalog-dir", str(fixture_dir), "show", "acme", "absent subscriber"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    labelled = (re.match(r"^(\S[^:]*):\s+(.*)$", line) for line in out.splitlines())
    fields = {match[1]: match[2] for match in labelled if match}
    assert fields["key"] == "ABSENT"
    assert fields["group"] == "1 Undeliverable"
    assert fields["permanent"] == "no"
    assert fields["smpp.network_error_code"] == "27"
    assert fields["message_state"] == "5"
    assert fields["with_status"] == "DELIVERED"
    assert fields["notes"] == "first note"
    assert out.splitlines()[-1] == " " * 25 + "second note, with a comma"
    for label in ("code", "name", "kind", "section", "channel", "description", "label", "final"):
        assert label in fields


def test_show_intermediate_entry_lists_its_final_successors(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["catalog", "--catalog-dir", str(fixture_dir), "show", "acme", "1"], capsys)
    assert code == 0
    assert "final successors:        ABSENT, DELIVERED" in out.splitlines()


def test_export_json_is_a_list_of_entries(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["catalog", "--catalog-dir", str(fixture_dir), "export", "acme", "--format", "json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    rows = json.loads(out)
    expected = load_registry(fixture_dir).get("acme").entries
    assert rows == [entry.model_dump(mode="json") for entry in expected]


def test_export_csv_has_flat_columns(fixture_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["catalog", "--catalog-dir", str(fixture_dir), "export", "acme", "--format", "csv"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = {row["key"]: row for row in reader}
    assert list(rows) == ["QUEUED", "DELIVERED", "ABSENT", "MEMORY_FULL"]
    absent = rows["ABSENT"]
    assert (absent["group_id"], absent["group_name"]) == ("1", "Undeliverable")
    assert (absent["smpp_stat"], absent["smpp_err"]) == ("UNDELIV", "009")
    assert absent["smpp_network_error_code"] == "27"
    assert absent["permanent"] == "false" and absent["final"] == "true"
    assert absent["notes"] == "first note | second note, with a comma"
    assert json.loads(rows["DELIVERED"]["callback"]) == {"status": "DELIVERED", "code": 2}
    assert rows["DELIVERED"]["callback"] == '{"code":2,"status":"DELIVERED"}'
    assert rows["QUEUED"]["next"] == "DELIVERED ABSENT"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "nope"], "dlrsim: unknown provider 'nope'; known providers: acme"),
        (["export", "nope"], "dlrsim: unknown provider 'nope'; known providers: acme"),
        (
            ["show", "acme", "9"],
            "dlrsim: acme code '9' matches 2 entries: ABSENT, MEMORY_FULL; "
            "look it up by key instead",
        ),
        (
            ["show", "acme", "absent subscr"],
            "dlrsim: acme has no entry with key, name or code 'absent subscr'; "
            "closest: ABSENT (Absent subscriber)",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(["catalog", "--catalog-dir", str(fixture_dir), *argv], capsys)
    assert (code, out, err) == (2, "", message + "\n")


def test_broken_catalog_directory_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "acme.yaml").write_text("provider: acme\n", encoding="utf-8")
    (tmp_path / "beta.yaml").write_text("provider: [beta\n", encoding="utf-8")
    code, out, err = run(["catalog", "--catalog-dir", str(tmp_path), "list"], capsys)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith("dlrsim: ") and "acme.yaml:1: display_name: expected" in err
    assert "more problems)" in err


def test_catalog_dir_comes_from_the_environment(
    fixture_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLRSIM_CATALOG_DIR", str(fixture_dir))
    code, out, _ = run(["catalog", "list"], capsys)
    assert code == 0
    assert out.splitlines()[1].startswith("acme ")


@pytest.mark.parametrize("command", ["list", "show", "export"])
def test_every_subcommand_help_has_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["catalog", command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out
    assert f"dlrsim catalog {command}" in out.split("example", 1)[1]


def test_catalog_without_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["catalog"])
    assert exited.value.code == 2


# --- against the shipped catalogs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> CatalogRegistry:
    return load_registry(REPO_CATALOGS)


def test_list_shows_the_five_providers_with_their_counts(
    shipped: CatalogRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["catalog", "--catalog-dir", str(REPO_CATALOGS), "list"], capsys)
    assert code == 0
    rows = out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == list(PROVIDERS)
    for row in rows:
        catalog = shipped.get(row.split()[0])
        kinds = Counter(entry.kind for entry in catalog.entries)
        outcomes = Counter(entry.outcome for entry in catalog.entries)
        expected = [len(catalog.entries), kinds["status"], kinds["error"]]
        expected += [outcomes[outcome] for outcome in OUTCOME_CLASSES]
        assert [int(cell) for cell in row.split()[-len(expected) :]] == expected, row
        assert catalog.display_name in row


@pytest.mark.parametrize("provider", PROVIDERS)
def test_shipped_catalogs_export_and_show(
    shipped: CatalogRegistry, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["catalog", "--catalog-dir", str(REPO_CATALOGS)]
    count = len(shipped.get(provider).entries)
    code, out, _ = run([*base, "export", provider, "--format", "json"], capsys)
    assert code == 0 and len(json.loads(out)) == count
    code, out, _ = run([*base, "export", provider, "--format", "csv"], capsys)
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == count
    code, out, _ = run([*base, "show", provider], capsys)
    assert code == 0 and len(out.splitlines()) == count + 2
    first = shipped.get(provider).entries[0]
    code, out, _ = run([*base, "show", provider, first.key], capsys)
    assert code == 0 and f"key:                     {first.key}" in out.splitlines()
