"""Loading scenario files: good ones load; every kind of mistake is reported at once with the
file, the line, the dotted path, what was expected and what was found. The golden cases under
tests/golden/scenario_errors pin the exact text of one mistake each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.catalog import CatalogRegistry, load_registry
from simulator.core.errors import SimulatorError
from simulator.scenario.loader import ScenarioError, load_scenario, load_scenario_text
from simulator.scenario.model import Scenario
from simulator.smpp.codec.constants import CommandId, CommandStatus

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "scenario_errors"
STATUSES = {status.name: int(status) for status in CommandStatus}
COMMANDS = {c.name.lower() for c in CommandId if not c.name.endswith("_RESP")}

GOOD = """\
name: absent-until-third
description: Absent subscriber twice, then delivered.
provider: infobip
seed: 42
states: {initial: start, names: [start, done]}
rules:
  - name: absent
    when: {destination: {prefix: "4477009"}, attempt: {max: 2}, state: [start]}
    then:
      outcome: EC_ABSENT_SUBSCRIBER
      after: 5s
      steps: [{status: PENDING_ENROUTE, after: 1s}]
  - name: mixed
    when: {destination: "4478*", text: hello}
    then:
      mix:
        - {outcome: DELIVERED_TO_HANDSET, weight: 9, after: {uniform: [1s, 3s]}}
        - {outcome: QUEUED, provider: clickatell, weight: 1}
      set_state: done
  - when: {sender: [ACME, 4477]}
    then: {reject: {smpp: ESME_RTHROTTLED}}
default: {outcome: 201, provider: clicksend}
faults:
  - {kind: throttle, rate: 50}
  - {kind: disconnect, after_pdus: 1000, scope: {session: receiver}}
  - {kind: drop_receipt, probability: 0.1, scope: {rule: [absent, mixed]}}
  - {kind: no_response, commands: [enquire_link], probability: 0.5}
  - {kind: reject_bind, status: 13}
  - {kind: delay_receipt, delay: {exponential: {mean: 1m}}}
  - {kind: window, size: 1}
"""


@pytest.fixture(scope="module")
def registry() -> CatalogRegistry:
    return load_registry()


def problems_of(registry: CatalogRegistry, text: str, *, named: bool = True) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as caught:
        if named:
            load_scenario_text(text, "s.yaml", registry, known_smpp_statuses=STATUSES,
                               known_commands=COMMANDS)
        else:
            load_scenario_text(text, "s.yaml", registry)
    return caught.value.problems


def scenario(body: str, provider: str | None = "infobip") -> str:
    head = "name: t\n" + (f"provider: {provider}\n" if provider else "")
    return head + body


# --- good files ----------------------------------------------------------------------------------


def test_good_scenario_loads_into_the_model(registry: CatalogRegistry) -> None:
    loaded = load_scenario_text(GOOD, "good.yaml", registry, known_smpp_statuses=STATUSES,
                                known_commands=COMMANDS)
    assert isinstance(loaded, Scenario)
    assert loaded.provider == "infobip" and loaded.seed == 42
    assert [rule.name for rule in loaded.rules] == ["absent", "mixed", None]
    assert loaded.rules[0].then.after.fixed == 5.0
    assert loaded.rules[2].when.sender is not None
    assert loaded.rules[2].when.sender.any_of == ["ACME", "4477"]
    assert [fault.kind for fault in loaded.faults][:2] == ["throttle", "disconnect"]


def test_load_scenario_reads_a_file_and_names_it(
    registry: CatalogRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    assert load_scenario(Path("good.yaml"), registry).name == "absent-until-third"
    (tmp_path / "bad.yaml").write_text(GOOD.replace("seed: 42", "seed: many"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "bad.yaml", registry)
    assert caught.value.problems == ("bad.yaml:4: seed: expected an integer; found 'many'",)


def test_missing_file_is_a_scenario_error(registry: CatalogRegistry, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"gone\.yaml: cannot be read") as caught:
        load_scenario(tmp_path / "gone.yaml", registry)
    assert isinstance(caught.value, SimulatorError)


@pytest.mark.parametrize(("text", "shown"), [("", "an empty file"), ("- a\n", "a list of 1 item")])
def test_top_level_must_be_a_mapping(registry: CatalogRegistry, text: str, shown: str) -> None:
    assert problems_of(registry, text) == (
        f"s.yaml:1: expected a mapping of scenario fields; found {shown}",
    )


# --- every problem at once -----------------------------------------------------------------------


def test_shape_and_catalog_problems_are_reported_together_in_line_order(
    registry: CatalogRegistry,
) -> None:
    text = scenario(
        "seed: x\n"
        "rules:\n"
        "  - then: {outcome: NOPE_NOT_A_CODE}\n"
        "  - when: {destination: {regex: '(x'}}\n"
        "    then: {outcome: DELIVERED_TO_HANDSET, steps: [{status: DELIVERED_TO_HANDSET}]}\n"
        "faults:\n  - {kind: window}\n"
    )
    problems = problems_of(registry, text)
    assert [p.split(":")[1] for p in problems] == ["3", "5", "6", "7", "9"]
    assert problems[1] == (
        "s.yaml:5: rules[0].then.outcome: expected an infobip SMS status or error; "
        "found 'NOPE_NOT_A_CODE'"
    )
    assert problems[4] == (
        "s.yaml:9: faults[0].size: expected this field for a window fault; found it missing"
    )


def test_a_broken_field_does_not_hide_the_other_problems_of_its_rule(
    registry: CatalogRegistry,
) -> None:
    text = scenario("rules:\n  - then: {outcome: NOPE, after: soon, steps: [{status: DELIVRD}]}\n")
    problems = problems_of(registry, text)
    assert len(problems) == 3
    assert "then.after: expected a duration" in problems[0]
    assert "then.outcome: expected an infobip SMS status or error; found 'NOPE'" in problems[1]
    assert "then.steps[0].status: expected an infobip SMS status" in problems[2]


def test_a_broken_when_or_fault_field_hides_nothing_else(registry: CatalogRegistry) -> None:
    text = scenario(
        "states: {names: [start]}\n"
        "rules:\n  - when: {destination: {regex: '('}, state: begin}\n"
        "    then: {outcome: DELIVERED_TO_HANDSET}\n"
        "faults:\n  - {kind: throttle, probability: 2}\n"
    )
    problems = problems_of(registry, text)
    assert [p.split(": ")[1] for p in problems] == [
        "rules[0].when.destination.regex",
        "rules[0].when.state",
        "faults[0].probability",
        "faults[0].rate",
    ]


# --- providers and catalog names -----------------------------------------------------------------


def test_outcome_provider_wins_over_the_scenario_provider(registry: CatalogRegistry) -> None:
    ok = scenario("rules:\n  - then: {outcome: QUEUED, provider: clickatell}\n")
    assert load_scenario_text(ok, "s.yaml", registry).rules[0].then.provider == "clickatell"
    bad = scenario("rules:\n  - then: {outcome: EC_ABSENT_SUBSCRIBER, provider: clickatell}\n")
    (problem,) = problems_of(registry, bad)
    assert problem.startswith("s.yaml:4: rules[0].then.outcome: expected a clickatell SMS ")


def test_an_outcome_needs_some_provider(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - then: {outcome: DELIVERED}\n  - then: {reject: {smpp: 8}}\n",
                    provider=None)
    assert problems_of(registry, text) == (
        "s.yaml:3: rules[0].then.outcome: expected a provider whose catalog names this outcome "
        "(set `provider:` on the scenario or on the outcome); found none",
    )


def test_unknown_provider_is_reported_once_where_it_is_written(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - when: {provider: sinc}\n    then: {outcome: X}\n",
                    provider="infobipp")
    assert problems_of(registry, text) == (
        "s.yaml:2: provider: expected a catalog provider (clickatell, clicksend, infobip, sinch, "
        "smsmode) (closest: infobip); found 'infobipp'",
        "s.yaml:4: rules[0].when.provider: expected a catalog provider (clickatell, clicksend, "
        "infobip, sinch, smsmode) (closest: sinch); found 'sinc'",
    )


def test_names_and_codes_resolve_like_the_registry(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - then: {outcome: ec_absent_subscriber}\n"
                    "  - then: {outcome: 15}\n")
    assert len(load_scenario_text(text, "s.yaml", registry).rules) == 2


def test_a_code_shared_by_several_entries_asks_for_a_key(registry: CatalogRegistry) -> None:
    shared = [e for e in registry.entries("infobip") if e.code == "5"]
    assert len(shared) > 1
    (problem,) = problems_of(registry, scenario("rules:\n  - then: {outcome: 5}\n"))
    keys = ", ".join(entry.key for entry in shared)
    assert problem == (
        "s.yaml:4: rules[0].then.outcome: expected an infobip SMS status or error that one name "
        f"or code identifies; found 5, shared by {keys} (write one of these keys)"
    )


def test_an_entry_of_another_channel_is_named(registry: CatalogRegistry) -> None:
    voice = next(e for e in registry.entries("infobip", None) if e.channel == "voice")
    (problem,) = problems_of(registry, scenario(f"rules:\n  - then: {{outcome: {voice.key}}}\n"))
    assert problem.endswith(f"found '{voice.key}', which is {voice.key}, a voice {voice.kind}")


def test_steps_must_be_pending_statuses_no_later_than_the_outcome(
    registry: CatalogRegistry,
) -> None:
    text = scenario(
        "rules:\n  - then:\n      outcome: DELIVERED_TO_HANDSET\n      after: 10s\n"
        "      steps:\n        - {status: EC_ABSENT_SUBSCRIBER}\n"
        "        - {status: PENDING_ENROUTE, after: 1m}\n"
        "        - {status: PENDING_ACCEPTED, after: 10s}\n"
    )
    problems = problems_of(registry, text)
    assert problems[0].startswith(
        "s.yaml:8: rules[0].then.steps[0].status: expected an infobip status that is not final ("
    )
    assert problems[0].endswith("found 'EC_ABSENT_SUBSCRIBER', an error")
    assert problems[1:] == (
        "s.yaml:9: rules[0].then.steps[1].after: expected a step no later than the outcome "
        "(after 10s); found after 60s",
    )


def test_steps_next_to_a_rejection_are_refused(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - then: {reject: {smpp: 8}, steps: [{status: PENDING_ENROUTE}]}\n")
    assert problems_of(registry, text) == (
        "s.yaml:4: rules[0].then.steps: expected no steps next to reject (a refused message has "
        "no later states); found a list of 1 item",
    )


def test_an_empty_mix_is_refused(registry: CatalogRegistry) -> None:
    (problem,) = problems_of(registry, scenario("rules:\n  - then: {mix: []}\n"))
    assert problem == (
        "s.yaml:4: rules[0].then.mix: expected at least one weighted outcome; found none"
    )


# --- SMPP names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["ESME_RTHROTTLED", 88, 0x45])
def test_known_rejections_pass(registry: CatalogRegistry, value: object) -> None:
    text = scenario(f"rules:\n  - then: {{reject: {{smpp: {value}}}}}\n")
    load_scenario_text(text, "s.yaml", registry, known_smpp_statuses=STATUSES)


@pytest.mark.parametrize(("value", "tail"), [
    (
        "ESME_RTHROTLED",
        "(closest: ESME_RTHROTTLED, ESME_RPROHIBITED, ESME_ROPTPARNOTALLWD); "
        "found 'ESME_RTHROTLED'",
    ),
    ("ESME_ROK", "; found 'ESME_ROK'"),
    ("0", "; found 0"),
    ("4294967296", "; found 4294967296"),
])
def test_bad_rejections_name_the_allowed_forms(
    registry: CatalogRegistry, value: str, tail: str
) -> None:
    text = scenario(f"rules:\n  - then: {{reject: {{smpp: {value}}}}}\n")
    (problem,) = problems_of(registry, text)
    assert problem.startswith(
        "s.yaml:4: rules[0].then.reject.smpp: expected an SMPP error status (an ESME_* name "
        "other than ESME_ROK, or a number from 1 to 4294967295)"
    )
    assert problem.endswith(tail)


def test_without_known_names_only_the_shape_of_smpp_names_is_checked(
    registry: CatalogRegistry,
) -> None:
    ok = scenario("rules:\n  - then: {reject: {smpp: ESME_RMADEUP}}\n"
                  "faults:\n  - {kind: no_response, commands: [made_up]}\n")
    load_scenario_text(ok, "s.yaml", registry)
    bad = scenario("rules:\n  - then: {reject: {smpp: throttled}}\n"
                   "faults:\n  - {kind: no_response, commands: [Submit-SM]}\n")
    problems = problems_of(registry, bad, named=False)
    assert [p.split(": ")[1] for p in problems] == [
        "rules[0].then.reject.smpp",
        "faults[0].commands[0]",
    ]


# --- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "field"), [
    ("delay_response", "delay"), ("delay_receipt", "delay"), ("reject_submit", "status"),
    ("reject_bind", "status"), ("throttle", "rate"), ("window", "size"),
])
def test_each_fault_kind_needs_its_parameter(
    registry: CatalogRegistry, kind: str, field: str
) -> None:
    assert problems_of(registry, scenario(f"faults:\n  - kind: {kind}\n")) == (
        f"s.yaml:4: faults[0].{field}: expected this field for a {kind} fault; found it missing",
    )


def test_disconnect_needs_a_trigger(registry: CatalogRegistry) -> None:
    text = scenario("faults:\n  - kind: disconnect\n  - {kind: disconnect, probability: 0.01}\n")
    assert problems_of(registry, text) == (
        "s.yaml:4: faults[0]: expected after_pdus or a probability below 1 for a disconnect fault "
        "(else the link drops at once); found neither",
    )


def test_fault_names_commands_rules_and_sessions(registry: CatalogRegistry) -> None:
    text = scenario(
        "rules:\n  - {name: slow, then: {outcome: DELIVERED_TO_HANDSET}}\n"
        "faults:\n  - kind: reject_submit\n    status: ESME_RSYSERROR\n"
        "    commands: [submit_sm, sumbit_sm]\n    scope: {session: tx}\n"
        "  - {kind: drop_receipt, scope: {rule: [slow, fast], session: receiver}}\n"
    )
    problems = problems_of(registry, text)
    assert problems == (
        "s.yaml:7: faults[0].status: expected an SMPP error status (an ESME_* name other than "
        "ESME_ROK, or a number from 1 to 4294967295) (closest: ESME_RSYSERR, ESME_RINVSYSID, "
        "ESME_RINVSYSTYP); found 'ESME_RSYSERROR'",
        "s.yaml:8: faults[0].commands[1]: expected an SMPP command name such as submit_sm "
        "(closest: submit_sm, submit_multi); found 'sumbit_sm'",
        "s.yaml:9: faults[0].scope.session: expected a bind type (transmitter, receiver, "
        "transceiver); found 'tx'",
        "s.yaml:10: faults[1].scope.session: expected no session scope for a drop_receipt fault "
        "(receipts are faulted before a session is chosen); found 'receiver'",
        "s.yaml:10: faults[1].scope.rule[1]: expected the name of a rule (slow, test number, "
        "text directive); found 'fast'",
    )


def test_rule_scopes_are_for_receipt_faults_only(registry: CatalogRegistry) -> None:
    text = scenario(
        "rules:\n  - {name: slow, then: {outcome: DELIVERED_TO_HANDSET}}\n"
        "faults:\n  - {kind: generic_nack, scope: {rule: slow}}\n"
        "  - {kind: throttle, rate: 5, probability: 0.5}\n"
    )
    assert problems_of(registry, text) == (
        "s.yaml:6: faults[0].scope.rule: expected no rule scope for a generic_nack fault (a "
        "request is faulted before any rule decides it; rule scopes apply to receipt faults); "
        "found 'slow'",
        "s.yaml:7: faults[1].probability: expected no probability for a throttle fault (it "
        "limits every submit in its scope); found 0.5",
    )


def test_fault_scopes_may_name_unnamed_rules_as_the_engine_does(
    registry: CatalogRegistry,
) -> None:
    text = scenario(
        "rules:\n  - then: {outcome: DELIVERED_TO_HANDSET}\n"
        "  - {name: late, then: {outcome: EXPIRED_EXPIRED}}\n"
        "faults:\n  - {kind: drop_receipt, scope: {rule: [rule 1, late, test number]}}\n"
        "  - {kind: drop_receipt, scope: {rule: rule 2}}\n"
    )
    (problem,) = problems_of(registry, text)
    assert problem == (
        "s.yaml:8: faults[1].scope.rule: expected the name of a rule (rule 1, late, test number, "
        "text directive) (closest: rule 1); found 'rule 2'"
    )


# --- states, names, shorthand wording ------------------------------------------------------------


def test_declared_states_cover_initial_conditions_and_changes(registry: CatalogRegistry) -> None:
    text = scenario(
        "states: {initial: begin, names: [start, done]}\n"
        "rules:\n  - when: {state: [start, dnoe]}\n    then: {outcome: 201, provider: clicksend, "
        "set_state: finished}\n"
    )
    assert problems_of(registry, text) == (
        "s.yaml:3: states.initial: expected a state declared in states.names (start, done); "
        "found 'begin'",
        "s.yaml:5: rules[0].when.state[1]: expected a state declared in states.names (start, "
        "done) (closest: done); found 'dnoe'",
        "s.yaml:6: rules[0].then.set_state: expected a state declared in states.names (start, "
        "done); found 'finished'",
    )


def test_without_declared_states_any_state_name_is_allowed(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - when: {state: anything}\n    then: {outcome: 201, "
                    "provider: clicksend, set_state: other}\n")
    assert load_scenario_text(text, "s.yaml", registry).rules[0].then.set_state == "other"


def test_shorthand_models_say_which_short_forms_they_take(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - when: {destination: 1.5, parts: yes}\n"
                    "    then: {outcome: DELIVERED_TO_HANDSET}\n")
    assert problems_of(registry, text) == (
        "s.yaml:4: rules[0].when.destination: expected an address (text, a number or a list) or "
        "a mapping with one of exact, prefix, glob, regex, in, range; found 1.5",
        "s.yaml:4: rules[0].when.parts: expected a number or a mapping with min and/or max; "
        "found True",
    )


def test_a_distribution_with_bad_parameters_reports_only_that_distribution(
    registry: CatalogRegistry,
) -> None:
    text = scenario("rules:\n  - then: {outcome: DELIVERED_TO_HANDSET, "
                    "after: {normal: {mean: 2s}}}\n")
    assert problems_of(registry, text) == (
        "s.yaml:4: rules[0].then.after.normal.stddev: expected this required field; "
        "found it missing",
    )


def test_problems_are_never_repeated(registry: CatalogRegistry) -> None:
    text = scenario("rules:\n  - then: {outcome: X, after: {a: 1, b: 2}}\n")
    problems = problems_of(registry, text)
    assert len(problems) == len(set(problems)) == 2
    assert "found a mapping with a, b" in problems[0]


# --- golden messages, one kind of mistake per file -----------------------------------------------


GOLDEN_CASES = sorted(path.stem for path in GOLDEN.glob("*.yaml"))


def test_there_are_golden_cases_for_at_least_twelve_kinds_of_mistake() -> None:
    assert len(GOLDEN_CASES) >= 12
    assert all((GOLDEN / f"{case}.txt").is_file() for case in GOLDEN_CASES)


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_validation_messages(registry: CatalogRegistry, case: str) -> None:
    source = GOLDEN / f"{case}.yaml"
    expected_file = GOLDEN / f"{case}.txt"
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(source.read_text(encoding="utf-8"), f"scenarios/{case}.yaml", registry,
                           known_smpp_statuses=STATUSES, known_commands=COMMANDS)
    actual = "\n".join(caught.value.problems) + "\n"
    if os.environ.get("DLRSIM_UPDATE_GOLDEN") == "1":  # regenerate, then review the diff
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")
