"""`dlrsim scenario validate|list|show`: output, exit codes and one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from simulator.cli_scenario import (
    SCENARIO_DIR_ENV,
    describe_delay,
    register,
    scenario_files,
    smpp_commands,
    smpp_statuses,
)
from simulator.scenario.model import Delay

GOOD = """\
name: absent-then-delivered
description: |
  Absent subscriber twice on one prefix, then delivered.
  More detail on a second line.
provider: infobip
seed: 7
rules:
  - name: absent
    when: {destination: {prefix: "4477009"}, attempt: {max: 2}}
    then:
      outcome: EC_ABSENT_SUBSCRIBER
      after: 5s
      steps: [{status: PENDING_ENROUTE, after: 1s}]
  - when: {sender: [ACME, BETA], text: {regex: "^code"}}
    then:
      mix:
        - {outcome: DELIVERED_TO_HANDSET, weight: 3, after: {uniform: [1s, 3s]}}
        - {outcome: EXPIRED_EXPIRED, weight: 1, after: 48h}
      set_state: done
  - when: {destination: {range: {from: 447700900000, to: 447700900999}}}
    then: {reject: {smpp: ESME_RTHROTTLED, reason: busy}}
default: {outcome: 201, provider: clicksend}
faults:
  - {kind: throttle, rate: 50, name: slow}
  - {kind: disconnect, after_pdus: 1000, scope: {account: shop}, probability: 0.25}
"""
BAD = "name: broken\nprovider: infobip\nrules:\n  - then: {outcome: EC_ABSENT_SUBSCRIBR}\n"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="dlrsim")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "scenarios"
    directory.mkdir()
    (directory / "absent.yaml").write_text(GOOD, encoding="utf-8")
    (directory / "broken.yaml").write_text(BAD, encoding="utf-8")
    (directory / "garbled.yaml").write_text("name: [x\n", encoding="utf-8")
    (directory / "schema.yaml").write_text("not: a scenario\n", encoding="utf-8")
    (directory / ".hidden.yaml").write_text("name: hidden\n", encoding="utf-8")
    (directory / "schema.json").write_text("{}\n", encoding="utf-8")
    monkeypatch.setenv(SCENARIO_DIR_ENV, str(directory))
    monkeypatch.chdir(tmp_path)
    return directory


# --- validate ------------------------------------------------------------------------------------


def test_validate_prints_ok_with_counts(shipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("scenario", "validate", "scenarios/absent.yaml") == 0
    assert capsys.readouterr().out == "ok: scenarios/absent.yaml (3 rules, 2 faults)\n"


def test_validate_prints_every_problem_and_exits_1(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "validate", "scenarios/absent.yaml", "scenarios/broken.yaml",
               "scenarios/missing.yaml") == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "ok: scenarios/absent.yaml (3 rules, 2 faults)"
    assert lines[1].startswith("scenarios/broken.yaml:4: rules[0].then.outcome: expected an "
                               "infobip SMS status or error (closest: EC_ABSENT_SUBSCRIBER")
    assert lines[2].startswith("scenarios/missing.yaml: cannot be read")
    assert captured.err == "dlrsim: 2 of 3 files are invalid\n"


def test_validate_uses_the_smpp_names_of_the_codec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "names.yaml"
    path.write_text("name: n\nfaults:\n  - {kind: reject_submit, status: ESME_RMADEUP}\n"
                    "  - {kind: no_response, commands: [submit_sm, enquire_lnk]}\n",
                    encoding="utf-8")
    assert run("scenario", "validate", str(path)) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[1] for line in out] == ["faults[0].status", "faults[1].commands[1]"]
    assert "(closest: enquire_link)" in out[1]


def test_broken_catalogs_are_one_line_and_exit_2(
    shipped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "--catalog-dir", str(tmp_path / "nowhere"), "validate",
               "scenarios/absent.yaml") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dlrsim: ") and captured.err.count("\n") == 1
    assert "catalog directory" in captured.err


# --- list ----------------------------------------------------------------------------------------


def test_list_shows_name_file_and_first_description_line(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "FILE", "DESCRIPTION"]
    rows = [line.split(None, 2) for line in lines[1:]]
    assert rows == [
        ["absent-then-delivered", "scenarios/absent.yaml",
         "Absent subscriber twice on one prefix, then delivered."],
        ["broken", "scenarios/broken.yaml"],
        ["garbled", "scenarios/garbled.yaml",
         "(cannot be parsed: run dlrsim scenario validate on it)"],
    ]


def test_list_of_a_missing_directory_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "--scenario-dir", str(tmp_path / "none"), "list") == 2
    err = capsys.readouterr().err
    assert err.startswith("dlrsim: ") and err.endswith("scenario directory does not exist\n")


def test_scenario_files_skip_schema_hidden_and_other_files(shipped: Path) -> None:
    assert [p.name for p in scenario_files(shipped)] == ["absent.yaml", "broken.yaml",
                                                        "garbled.yaml"]


# --- show ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["absent", "absent-then-delivered", "scenarios/absent.yaml"])
def test_show_finds_by_stem_name_or_file(
    shipped: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run("scenario", "show", name) == 0
    out = capsys.readouterr().out
    assert out.startswith("scenario  absent-then-delivered  (scenarios/absent.yaml)\n")


def test_show_summarises_provider_rules_fates_and_faults(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "show", "absent") == 0
    lines = capsys.readouterr().out.splitlines()
    assert "provider  infobip" in lines
    assert "seed      7" in lines
    assert "rules     3 (first match wins)" in lines
    text = "\n".join(lines)
    assert "1. absent: when destination prefix 4477009 and attempt <= 2" in text
    assert ("then infobip:PENDING_ENROUTE (ENROUTE err 000) after 1s then "
            "infobip:EC_ABSENT_SUBSCRIBER (UNDELIV err ") in text
    assert "2. when sender one of 2 (ACME, BETA) and text matches /^code/" in text
    mix = lines.index("     then mix of 2:")
    assert lines[mix + 1].split() == ["75%", "infobip:DELIVERED_TO_HANDSET", "(DELIVRD", "err",
                                      "000)", "after", "uniform", "1s..3s"]
    assert lines[mix + 2].split()[:2] == ["25%", "infobip:EXPIRED_EXPIRED"]
    assert lines[mix + 2].endswith("after 2d")
    assert lines[mix + 3] == "          state -> done"
    assert "3. when destination in range 447700900000..447700900999" in text
    assert "then reject at submit: SMPP ESME_RTHROTTLED (busy)" in text
    assert "default   clicksend:DELIVERED (DELIVRD err " in text
    assert "faults    2" in lines
    assert "  1. throttle (slow): 50/s" in lines
    assert "  2. disconnect: after 1000 PDUs, 25% of the time, account shop" in lines


def test_show_of_an_invalid_scenario_prints_its_problems_and_exits_1(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "show", "broken") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("scenarios/broken.yaml:4: rules[0].then.outcome: ")


def test_show_of_an_unknown_name_is_one_line_and_exit_2(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("scenario", "show", "nothing-like-it") == 2
    err = capsys.readouterr().err
    assert err == ("dlrsim: no scenario file or shipped scenario named 'nothing-like-it'; "
                   "known: absent-then-delivered, broken, garbled\n")


# --- help and helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "list", "show"])
def test_each_subcommand_help_has_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run("scenario", command, "--help")
    assert exited.value.code == 0
    assert f"dlrsim scenario {command}" in capsys.readouterr().out.split("example")[-1]


def test_smpp_vocabulary_comes_from_the_codec() -> None:
    statuses = smpp_statuses()
    assert statuses["ESME_ROK"] == 0 and statuses["ESME_RTHROTTLED"] == 0x58
    commands = smpp_commands()
    assert {"submit_sm", "enquire_link", "bind_transceiver", "data_sm"} <= commands
    assert not any(name.endswith("_resp") for name in commands)
    assert "generic_nack" not in commands


@pytest.mark.parametrize(
    ("delay", "text"),
    [
        ({"fixed": 0.25}, "250ms"),
        ({"fixed": 90}, "90s"),
        ({"fixed": 120}, "2m"),
        ({"fixed": 7200}, "2h"),
        ({"fixed": 172800}, "2d"),
        ({"distribution": {"normal": {"mean": 2, "stddev": 0.5}}}, "normal mean 2s sd 500ms"),
        ({"distribution": {"exponential": {"mean": 60}}}, "exponential mean 1m"),
        ({"distribution": {"lognormal": {"median": 3, "sigma": 0.4}}},
         "lognormal median 3s sigma 0.4"),
    ],
)
def test_delays_read_as_short_durations(delay: dict[str, object], text: str) -> None:
    assert describe_delay(Delay.model_validate(delay)) == text
