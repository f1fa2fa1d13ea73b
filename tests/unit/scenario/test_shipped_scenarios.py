"""The scenarios shipped in `scenarios/`: each one loads, and each one does what its header and
the README promise, checked on the engine (planner and fault decisions) without sockets.

The end-to-end proofs (real SMPP clients, every test number) live in tests/e2e.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel

from simulator.catalog.registry import CatalogRegistry, load_registry
from simulator.cli_scenario import register
from simulator.engine.plan import Plan, Submission
from simulator.engine.runtime import ScenarioRuntime
from simulator.scenario.loader import load_scenario
from simulator.scenario.model import Scenario
from simulator.smpp.codec.constants import CommandId, CommandStatus

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = REPO / "scenarios"
README = SCENARIOS / "README.md"
STATUSES = {status.name: int(status) for status in CommandStatus}
COMMANDS = frozenset(c.name.lower() for c in CommandId if not c.name.endswith("_RESP"))
PROVIDERS = ("clicksend", "smsmode", "clickatell", "infobip", "sinch")
CHAOS = ("throttling", "flaky-link", "lost-receipts", "late-receipts",
         "duplicate-reordered-receipts", "operator-outage", "slow-smsc")
SHIPPED = (
    "default.yaml",
    *(f"{provider}-every-outcome.yaml" for provider in PROVIDERS),
    *(f"chaos-{name}.yaml" for name in CHAOS),
)
N = 10_000


@pytest.fixture(scope="module")
def registry() -> CatalogRegistry:
    return load_registry()


def load(registry: CatalogRegistry, file: str) -> Scenario:
    return load_scenario(SCENARIOS / file, registry, known_smpp_statuses=STATUSES,
                         known_commands=COMMANDS)


def runtime(registry: CatalogRegistry, file: str, seed: int = 1) -> ScenarioRuntime:
    return ScenarioRuntime(registry, STATUSES, load(registry, file), seed=seed)


def submission(destination: str = "4917012345678", text: str = "hello",
               parts: int = 1) -> Submission:
    return Submission(account="tester", source="ACME", destination=destination, text=text,
                      registered_delivery=1, part_count=parts)


def final_key(plan: Plan) -> str | None:
    assert plan.accepted and plan.steps, plan
    return plan.steps[-1].catalog_key


# -- every file loads ----------------------------------------------------------------------


def test_the_shipped_set_is_complete() -> None:
    on_disk = sorted(path.name for path in SCENARIOS.glob("*.yaml"))
    assert on_disk == sorted(SHIPPED)


@pytest.mark.parametrize("file", SHIPPED)
def test_each_shipped_scenario_loads(registry: CatalogRegistry, file: str) -> None:
    scenario = load(registry, file)
    assert scenario.name == file.removesuffix(".yaml")
    assert scenario.description.strip(), f"{file} needs a description for `scenario list`"
    assert scenario.outcome_numbers, "test numbers must keep working in every shipped scenario"
    assert scenario.accounts == [], "a shipped scenario must not restrict who may bind"


@pytest.mark.parametrize("file", SHIPPED)
def test_each_shipped_scenario_is_described_in_the_readme(file: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert f"`{file}`" in text, f"scenarios/README.md has no paragraph on {file}"
    if file != "default.yaml":
        assert f"--scenario scenarios/{file}" in (SCENARIOS / file).read_text(encoding="utf-8")


def test_validate_through_the_scenario_command() -> None:
    parser = argparse.ArgumentParser(prog="dlrsim")
    register(parser.add_subparsers(dest="command"))
    files = [str(SCENARIOS / file) for file in SHIPPED]
    args = parser.parse_args(["scenario", "validate", *files])
    assert args.handler(args) == 0


def test_dlrsim_scenario_validate_exits_0_on_every_shipped_file() -> None:
    files = [str(SCENARIOS / file) for file in SHIPPED]
    done = subprocess.run([sys.executable, "-m", "simulator", "scenario", "validate", *files],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    if "invalid choice: 'scenario'" in done.stderr:
        pytest.skip("the dlrsim CLI does not offer `scenario` yet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok: ") == len(SHIPPED), done.stdout


# -- every-outcome scenarios ---------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_outcome_header_explains_the_test_numbers(
        registry: CatalogRegistry, provider: str) -> None:
    file = f"{provider}-every-outcome.yaml"
    text = (SCENARIOS / file).read_text(encoding="utf-8")
    assert f"dlrsim catalog numbers {provider}" in text
    assert f"dlrsim catalog numbers {provider} --submit-reject" in text
    block = registry.get(provider).number_block
    assert block is not None and f"999 {block:02d} 0 NNNN" in text
    assert load(registry, file).provider == provider


#: For each every-outcome scenario: the stat sequence of its default (an ordinary number).
DEFAULT_FLOWS = {
    "clicksend": ["QUEUED", "SENT", "DELIVERED"],
    "smsmode": ["SENT", "DELIVERED_TO_OPERATOR", "RECEIVED"],
    "clickatell": ["QUEUED", "SENT_TO_SUPPLIER", "DEVICE_ACK"],
    "infobip": ["PENDING_ENROUTE", "DELIVERED_TO_HANDSET"],
    "sinch": ["SENT_SUCCESS", "DELIVERED_SUCCESS"],
}
#: (provider, text, parts) -> catalog keys of the steps the rule produces.
KEYWORD_FLOWS = {
    ("clicksend", "[review-ok]", 1): ["WAIT_APPROVAL", "QUEUED", "SENT", "DELIVERED"],
    ("clicksend", "[review-no]", 1): ["WAIT_APPROVAL", "CANCELLED_AFTER_REVIEW"],
    ("clicksend", "[retry-fail]", 1): ["SENT", "FAILED_TEMPORARY_NETWORK_ERROR",
                                       "FAILED_NETWORK_TIMEOUT"],
    ("smsmode", "[absent]", 1): ["SENT", "IN_PROGRESS", "TEMPORARY_ERROR_ABSENCE"],
    ("smsmode", "[partial]", 2): ["SENT", "DELIVERED_TO_OPERATOR", "PARTIALLY_RECEIVED"],
    ("clickatell", "[scheduled]", 1): ["SCHEDULED", "QUEUED", "SENT_TO_SUPPLIER", "DEVICE_ACK"],
    ("clickatell", "[read]", 1): ["QUEUED", "SENT_TO_SUPPLIER", "READ"],
    ("clickatell", "[no-recipient]", 1): ["QUEUED", "SENT_TO_SUPPLIER",
                                          "RECIPIENT_DOES_NOT_EXIST"],
    ("infobip", "[absent]", 1): ["PENDING_ENROUTE", "EC_ABSENT_SUBSCRIBER"],
    ("infobip", "[expire]", 1): ["PENDING_ENROUTE", "DELIVERED_TO_OPERATOR", "EXPIRED_EXPIRED"],
    ("infobip", "[reject]", 1): ["PENDING_ACCEPTED", "REJECTED_NETWORK"],
    ("sinch", "long", 3): ["SENT_SUCCESS", "MESSAGE_SPLIT", "DELIVERED_SUCCESS"],
    ("sinch", "[undelivered]", 1): ["SENT_SUCCESS", "NOT_DELIVERED"],
    ("sinch", "[expire]", 1): ["SENT_SUCCESS", "EXPIRED"],
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_outcome_default_is_the_providers_delivered_flow(
        registry: CatalogRegistry, provider: str) -> None:
    run = runtime(registry, f"{provider}-every-outcome.yaml")
    for _ in range(50):
        plan = run.plan(submission())
        assert [step.catalog_key for step in plan.steps] == DEFAULT_FLOWS[provider]
        assert [step.final for step in plan.steps] == [False] * (len(plan.steps) - 1) + [True]
        delays = [step.delay for step in plan.steps]
        assert delays == sorted(delays), "steps must come in order"
    assert final_key(plan) == registry.get(provider).delivered_status


@pytest.mark.parametrize(("provider", "text", "parts"), list(KEYWORD_FLOWS))
def test_every_outcome_keyword_rules(
        registry: CatalogRegistry, provider: str, text: str, parts: int) -> None:
    run = runtime(registry, f"{provider}-every-outcome.yaml")
    plan = run.plan(submission(text=f"please {text} thanks", parts=parts))
    assert [step.catalog_key for step in plan.steps] == KEYWORD_FLOWS[(provider, text, parts)]
    assert plan.rule is not None and plan.rule != "test number"


def test_test_numbers_override_every_shipped_scenario(registry: CatalogRegistry) -> None:
    """Whatever a scenario's rules and faults, a 999 number plays its catalog entry."""
    for file in SHIPPED:
        run = runtime(registry, file)
        plan = run.plan(submission(destination="9990300069"))  # infobip EC_CALL_BARRED
        assert plan.rule == "test number" and final_key(plan) == "EC_CALL_BARRED", file


# -- the default scenario ------------------------------------------------------------------


def test_default_mix_shares_match_the_weights(registry: CatalogRegistry) -> None:
    scenario = load(registry, "default.yaml")
    assert scenario.default is not None and scenario.default.mix is not None
    total = sum(item.weight for item in scenario.default.mix)
    expected = {str(item.outcome): item.weight / total for item in scenario.default.mix}
    run = runtime(registry, "default.yaml")
    seen = Counter(final_key(run.plan(submission(destination=f"4917{i:08d}")))
                   for i in range(N))
    assert set(seen) == set(expected)
    for key, share in expected.items():
        assert abs(seen[key] / N - share) <= 0.02, (key, seen[key] / N, share)


# -- chaos scenarios -----------------------------------------------------------------------


def test_operator_outage_refuses_the_prefix_from_message_101_to_200(
        registry: CatalogRegistry) -> None:
    run = runtime(registry, "chaos-operator-outage.yaml")
    refused, others_refused = [], 0
    for n in range(1, 301):
        plan = run.plan(submission(destination=f"447700900{n % 1000:03d}"))
        if not plan.accepted:
            assert plan.reject_status == CommandStatus.ESME_RSUBMITFAIL
            refused.append(n)
        elif n > 1:
            assert final_key(plan) == "DELIVERED_TO_HANDSET"
        # Traffic elsewhere in between neither counts nor suffers.
        others_refused += not run.plan(submission(destination=f"4917{n:08d}")).accepted
    assert refused == list(range(101, 201))
    assert others_refused == 0
    assert run.state == "restored"


def _share(hits: int) -> float:
    return hits / N


def test_throttling_limits_and_spurious_refusals(registry: CatalogRegistry) -> None:
    faults = runtime(registry, "chaos-throttling.yaml").faults
    rate = faults.submit_rate("tester", "transceiver")
    assert rate is not None and rate[1] == 50
    assert faults.window("tester", "transceiver") == 10
    verdicts = [faults.on_pdu("tester", "transceiver", "submit_sm", 2) for _ in range(N)]
    throttled = [v for v in verdicts if v is not None]
    assert {(v.action, v.status) for v in throttled} == {
        ("reject", CommandStatus.ESME_RTHROTTLED)}
    assert abs(_share(len(throttled)) - 0.01) <= 0.005
    assert faults.on_pdu("tester", "transceiver", "enquire_link", 2) is None


def test_flaky_link_drops_at_1000_pdus_and_misbehaves_rarely(registry: CatalogRegistry) -> None:
    faults = runtime(registry, "chaos-flaky-link.yaml").faults
    actions = Counter(
        verdict.action if verdict else "answered"
        for verdict in (faults.on_pdu("tester", "transceiver", "submit_sm", 10)
                        for _ in range(N)))
    assert abs(_share(actions["no_response"]) - 0.01) <= 0.004
    assert abs(_share(actions["generic_nack"]) - 0.005) <= 0.003
    assert _share(actions["disconnect"]) <= 0.004
    at_limit = faults.on_pdu("tester", "transceiver", "enquire_link", 1000)
    assert at_limit is not None and at_limit.action == "disconnect"


def test_lost_receipts_shares(registry: CatalogRegistry) -> None:
    run = runtime(registry, "chaos-lost-receipts.yaml")
    lost = sum(run.plan(submission(destination=f"4917{i:08d}")).lost for i in range(N))
    assert abs(_share(lost) - 0.05) <= 0.01
    dropped = sum(run.faults.on_receipt("tester", None).drop for _ in range(N))
    assert abs(_share(dropped) - 0.10) <= 0.015


def test_late_receipts_are_always_late_and_sometimes_very_late(
        registry: CatalogRegistry) -> None:
    faults = runtime(registry, "chaos-late-receipts.yaml").faults
    delays = [faults.on_receipt("tester", None).extra_delay for _ in range(N)]
    assert min(delays) > 0
    # Over 5 minutes comes (almost) only from the 20% log-normal around 10 minutes: P = 0.15.
    assert abs(_share(sum(d > 300 for d in delays)) - 0.2 * 0.755) <= 0.02


def test_duplicated_and_reordered_receipts_shares(registry: CatalogRegistry) -> None:
    faults = runtime(registry, "chaos-duplicate-reordered-receipts.yaml").faults
    effects = [faults.on_receipt("tester", None) for _ in range(N)]
    assert {e.copies for e in effects} == {1, 2}
    assert abs(_share(sum(e.copies == 2 for e in effects)) - 0.10) <= 0.015
    assert {e.reorder_hold for e in effects} == {0, 5}
    assert abs(_share(sum(e.reorder_hold == 5 for e in effects)) - 0.5) <= 0.02


def test_slow_smsc_delays_submit_and_keepalive_responses(registry: CatalogRegistry) -> None:
    faults = runtime(registry, "chaos-slow-smsc.yaml").faults
    submit = [faults.on_pdu("tester", "transceiver", "submit_sm", 2) for _ in range(2001)]
    assert all(v is not None and v.action == "delay" for v in submit)
    median = sorted(v.delay for v in submit if v is not None)[1000]
    assert 0.3 <= median <= 0.5
    keepalive = faults.on_pdu("tester", "transceiver", "enquire_link", 2)
    assert keepalive is not None and 0.2 <= keepalive.delay <= 2.0
    assert faults.on_pdu(None, None, "bind_transceiver", 1) is None


def test_readme_documents_every_fault_kind_and_field() -> None:
    """The README is the language reference: every fault kind and model field appears."""
    from typing import get_args

    from simulator.scenario.model import (
        Fault,
        FaultKind,
        FaultScope,
        Outcome,
        Rejection,
        States,
        StepSpec,
        Then,
        WeightedOutcome,
        When,
    )

    text = README.read_text(encoding="utf-8")
    for kind in get_args(FaultKind):
        assert re.search(rf"^#+ .*`{kind}`", text, re.MULTILINE), f"no heading for {kind}"
    models: list[type[BaseModel]] = [Scenario, When, Outcome, Then, WeightedOutcome, StepSpec,
                                  Rejection, Fault, FaultScope, States]
    for model in models:
        for name, field in model.model_fields.items():
            shown = field.alias or name
            assert f"`{shown}`" in text, f"{model.__name__}.{shown} is not documented"
