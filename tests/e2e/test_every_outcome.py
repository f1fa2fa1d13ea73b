"""Every documented outcome of every provider, through real sockets, checked receipt by receipt.

For each provider the test asks the real CLI for its test numbers (`dlrsim catalog numbers
PROVIDER`, one tab-separated line per SMS outcome: number, kind, code, name, stat, err),
starts a simulator with that provider's every-outcome scenario on a VirtualClock, submits one
message to every number with an smpplib transceiver (registered_delivery 0x11: final and
intermediate receipts), runs the clock until nothing is left to fire and checks each message's
receipts against the printed line: the last receipt carries exactly that stat and err, ids
match the submit_sm_resp, and an intermediate receipt before a final one carries the catalog's
starting status. The same runs under the default scenario, whose mix the test numbers
override, and the submit-time variant (`--submit-reject`) is refused with ESME_RSUBMITFAIL.
Wall time of each matrix is printed (run with -s to see it), never asserted.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.catalog.model import MESSAGE_STATE_BY_STAT, Catalog, Entry
from simulator.catalog.registry import CatalogRegistry, load_registry

from .conftest import SCENARIOS, Esme, Harness, receipt_fields, text_of

PROVIDERS = ("clicksend", "smsmode", "clickatell", "infobip", "sinch")
ESM_RECEIPT = 0x04
ESM_INTERMEDIATE = 0x20
ESME_RSUBMITFAIL = 0x45
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class NumberLine:
    """One line of `dlrsim catalog numbers`."""

    number: str
    kind: str
    code: str
    name: str
    stat: str
    err: str


@functools.cache
def catalog_numbers(provider: str, submit_reject: bool = False) -> tuple[NumberLine, ...]:
    """The test numbers as the real CLI prints them (run once per provider and variant)."""
    command = [sys.executable, "-m", "simulator", "catalog", "numbers", provider]
    if submit_reject:
        command.append("--submit-reject")
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr}"
    lines = []
    for raw in done.stdout.splitlines():
        fields = raw.split("\t")
        assert len(fields) == 6, f"expected 6 tab-separated fields; found {raw!r}"
        lines.append(NumberLine(*fields))
    assert lines, f"{provider}: the CLI printed no test numbers"
    return tuple(lines)


@pytest.fixture(scope="module")
def registry() -> CatalogRegistry:
    return load_registry()


def _entry_at(catalog: Catalog, line: NumberLine) -> Entry:
    """The catalog entry a test number stands for (NNNN is its 1-based position)."""
    entry = catalog.entries[int(line.number[-4:]) - 1]
    assert (entry.name, entry.smpp.stat, entry.smpp.err) == (line.name, line.stat, line.err), (
        f"{line.number}: the CLI line does not describe catalog entry {entry.key}"
    )
    return entry


def _network_error_code(catalog: Catalog, entry: Entry) -> bytes | None:
    code = entry.smpp.network_error_code if catalog.uses_network_error_code else None
    if code is None:
        return None
    return bytes((entry.smpp.network_type, code >> 8 & 0xFF, code & 0xFF))


def _check_receipt(pdu: Any, message_id: str, stat: str, err: str, esm_class: int,
                   where: str) -> None:
    fields = receipt_fields(pdu.short_message)
    assert pdu.command == "deliver_sm", f"{where}: {pdu.command}"
    assert text_of(pdu.receipted_message_id) == message_id, f"{where}: receipted_message_id"
    assert fields.get("id") == message_id, f"{where}: id in the receipt text"
    assert (fields.get("stat"), fields.get("err")) == (stat, err), (
        f"{where}: expected stat:{stat} err:{err}; found {fields}"
    )
    assert pdu.esm_class == esm_class, f"{where}: esm_class 0x{pdu.esm_class:02X}"
    assert pdu.message_state == MESSAGE_STATE_BY_STAT[stat], f"{where}: message_state"


def run_matrix(harness: Harness, registry: CatalogRegistry, provider: str,
               scenario: Path) -> tuple[int, int, float]:
    """Submit to every test number of `provider` under `scenario` and check every receipt.

    Returns (numbers, receipts, wall seconds)."""
    lines = catalog_numbers(provider)
    catalog = registry.get(provider)
    initial = next(e for e in catalog.entries if e.key == catalog.initial_status)
    started = time.monotonic()
    sim = harness.sim(scenario=scenario)
    esme: Esme = harness.bound(sim, name=f"{provider} matrix")
    message_ids: dict[str, str] = {}
    for line in lines:
        message_ids[line.number] = esme.submit_ok(
            b"every outcome", destination=line.number, registered_delivery=0x11)
    assert len(set(message_ids.values())) == len(lines), "message ids must be unique"
    entries = {line.number: _entry_at(catalog, line) for line in lines}
    # The initial status comes first only where the catalog's flow leads from it to the
    # outcome; a refusal that happens before it (Sinch's carrier rejections) comes alone.
    reachable = registry.final_successors(provider, initial.key)

    def has_intermediate(entry: Any) -> bool:
        follows = entry.key in reachable or entry.with_status in reachable
        return bool(entry.final and entry.key != initial.key and follows)

    expected = sum(2 if has_intermediate(entry) else 1 for entry in entries.values())
    sim.settle()
    esme.wait_deliveries(expected, timeout=30)

    by_id: dict[str, list[Any]] = {}
    for pdu in esme.delivered:
        by_id.setdefault(text_of(pdu.receipted_message_id), []).append(pdu)
    for line in lines:
        entry = entries[line.number]
        message_id = message_ids[line.number]
        where = f"{provider} {line.number} ({entry.key})"
        receipts = by_id.pop(message_id, [])
        if has_intermediate(entry):
            assert len(receipts) == 2, f"{where}: expected 2 receipts; found {len(receipts)}"
            _check_receipt(receipts[0], message_id, initial.smpp.stat, initial.smpp.err,
                           ESM_INTERMEDIATE, f"{where} intermediate")
            assert receipts[0].network_error_code == _network_error_code(catalog, initial)
            _check_receipt(receipts[1], message_id, line.stat, line.err, ESM_RECEIPT,
                           f"{where} final")
        else:
            esm_class = ESM_RECEIPT if entry.final else ESM_INTERMEDIATE
            assert len(receipts) == 1, f"{where}: expected 1 receipt; found {len(receipts)}"
            _check_receipt(receipts[0], message_id, line.stat, line.err, esm_class, where)
        assert receipts[-1].network_error_code == _network_error_code(catalog, entry), (
            f"{where}: network_error_code {receipts[-1].network_error_code!r}")
    assert not by_id, f"receipts for ids nobody submitted: {sorted(by_id)}"
    return len(lines), expected, time.monotonic() - started


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_number_gives_its_outcome_under_the_providers_scenario(
        harness: Harness, registry: CatalogRegistry, provider: str) -> None:
    scenario = SCENARIOS / f"{provider}-every-outcome.yaml"
    numbers, receipts, wall = run_matrix(harness, registry, provider, scenario)
    print(f"\nevery-outcome matrix {provider}: {numbers} numbers, {receipts} receipts, "
          f"{wall:.2f} s wall")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_number_gives_its_outcome_under_the_default_scenario(
        harness: Harness, registry: CatalogRegistry, provider: str) -> None:
    """The default scenario's weighted mix never applies to a test number."""
    numbers, receipts, wall = run_matrix(harness, registry, provider, SCENARIOS / "default.yaml")
    print(f"\ndefault-scenario matrix {provider}: {numbers} numbers, {receipts} receipts, "
          f"{wall:.2f} s wall")


def test_the_matrix_covers_every_sms_entry_of_each_catalog(registry: CatalogRegistry) -> None:
    """`catalog numbers` leaves no SMS outcome out, so the matrices above check them all."""
    for provider in PROVIDERS:
        catalog = registry.get(provider)
        printed = [_entry_at(catalog, line).key for line in catalog_numbers(provider)]
        assert printed == [e.key for e in catalog.entries if e.channel == "sms"], provider
        assert all(line.number.startswith("999") for line in catalog_numbers(provider))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_submit_reject_numbers_are_refused_at_submit_time(
        harness: Harness, registry: CatalogRegistry, provider: str) -> None:
    lines = catalog_numbers(provider, submit_reject=True)
    catalog = registry.get(provider)
    rejected = [e.key for e in catalog.entries if e.channel == "sms" and e.outcome == "rejected"]
    assert [_entry_at(catalog, line).key for line in lines] == rejected
    started = time.monotonic()
    sim = harness.sim(scenario=SCENARIOS / f"{provider}-every-outcome.yaml")
    esme = harness.bound(sim, name=f"{provider} submit-reject")
    for line in lines:
        response = esme.response(esme.submit(
            b"refuse me", destination=line.number, registered_delivery=0x11))
        assert response.command == "submit_sm_resp", line.number
        assert response.status == ESME_RSUBMITFAIL, (
            f"{line.number}: expected ESME_RSUBMITFAIL; found 0x{response.status:X}")
    # A refused message has no receipt: a marker's receipts come in, and nothing else does.
    delivered = next(line for line in catalog_numbers(provider)
                     if _entry_at(catalog, line).key == catalog.delivered_status)
    marker = esme.submit_ok(b"marker", destination=delivered.number, registered_delivery=0x01)
    sim.settle()
    esme.receipt_for(marker, delivered.stat)
    assert [text_of(pdu.receipted_message_id) for pdu in esme.delivered] == [marker]
    print(f"\nsubmit-reject {provider}: {len(lines)} numbers, "
          f"{time.monotonic() - started:.2f} s wall")
