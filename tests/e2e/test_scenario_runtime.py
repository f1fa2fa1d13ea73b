"""The scenario runtime end to end: simulated time, seeds, the CLI's time scale, hot reload.

- A 48-hour expiry runs on the VirtualClock in well under a second of real time.
- The same seed and the same traffic give the same message ids and outcomes, in one process
  (two simulators) and across processes (two CLI runs).
- `dlrsim serve --time-scale 3600` delivers a receipt planned for one hour within seconds.
- A changed scenario file is picked up without dropping a bound session; an invalid edit is
  refused, logged, and the old scenario stays.
"""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from simulator.core.accounts import Account
from simulator.core.errors import SimulatorError
from simulator.core.events import Event

from .conftest import (
    SCENARIOS,
    WAIT,
    Esme,
    Harness,
    SimHandle,
    receipt_fields,
    text_of,
    write_scenario,
)

REPO = Path(__file__).resolve().parents[2]
ESM_RECEIPT, ESM_INTERMEDIATE = 0x04, 0x20
HOURS = 3600.0

EXPIRY = """\
name: expiry
provider: infobip
default: {outcome: EXPIRED_EXPIRED, after: 48h}
"""


def _fields(pdu: Any) -> dict[str, str]:
    return receipt_fields(pdu.short_message)


def _expire_in_48_hours(sim: SimHandle, esme: Esme) -> float:
    """Submit, run 48 simulated hours, check the receipts; returns the real seconds taken."""
    started = time.monotonic()
    message_id = esme.submit_ok(b"will expire", registered_delivery=0x11)
    sim.advance(47 * HOURS)
    first = esme.expect(lambda p: p.command == "deliver_sm", "the intermediate receipt")
    assert first.esm_class == ESM_INTERMEDIATE
    assert _fields(first)["stat"] == "ENROUTE"  # Infobip's PENDING_ACCEPTED
    assert len(esme.delivered) == 1  # the expiry is still an hour away
    sim.advance(1 * HOURS)
    final = esme.receipt_for(message_id, "EXPIRED")
    assert final.esm_class == ESM_RECEIPT
    fields = _fields(final)
    submitted = datetime.strptime(fields["submit date"], "%y%m%d%H%M")
    done = datetime.strptime(fields["done date"], "%y%m%d%H%M")
    assert (done - submitted).total_seconds() == 48 * HOURS
    return time.monotonic() - started


def test_a_48_hour_expiry_completes_on_the_virtual_clock(
        harness: Harness, tmp_path: Path) -> None:
    # The message's validity outlasts the expiry step, so the receipt has time to go out.
    account = Account(system_id="tester", default_validity=72 * HOURS)
    sim = harness.sim(scenario=write_scenario(tmp_path, EXPIRY), accounts=[account])
    wall = _expire_in_48_hours(sim, harness.bound(sim))
    assert wall < 30, f"48 simulated hours took {wall:.1f} s of real time"


def test_an_expiry_at_the_end_of_the_default_validity_still_sends_its_receipt(
        harness: Harness, tmp_path: Path) -> None:
    sim = harness.sim(scenario=write_scenario(tmp_path, EXPIRY))
    _expire_in_48_hours(sim, harness.bound(sim))


# -- determinism -----------------------------------------------------------------------------


def _run_traffic(sim: SimHandle, esme: Esme, count: int = 60) -> list[tuple[str, str, str]]:
    """Submit `count` messages, run the clock out; (id, final stat, final err) in submit order."""
    ids = [esme.submit_ok(f"message {i}".encode(), destination=f"4917{i:08d}",
                          registered_delivery=1) for i in range(count)]
    sim.settle()
    esme.wait_deliveries(count)
    finals = {text_of(p.receipted_message_id): _fields(p) for p in esme.delivered}
    return [(message_id, finals[message_id]["stat"], finals[message_id]["err"])
            for message_id in ids]


def test_the_same_seed_gives_the_same_ids_and_outcomes(harness: Harness) -> None:
    runs = []
    # default.yaml sends 1% to EXPIRED after 48 h: a longer validity lets those receipts out.
    account = Account(system_id="tester", default_validity=72 * HOURS)
    for seed in (11, 11, 12):
        sim = harness.sim(scenario=SCENARIOS / "default.yaml", seed=seed, accounts=[account])
        runs.append(_run_traffic(sim, harness.bound(sim)))
    assert runs[0] == runs[1]
    assert [r[0] for r in runs[0]] != [r[0] for r in runs[2]], "another seed, the same ids"
    # default.yaml is a mix: the run must show more than one outcome to prove anything.
    assert len({(stat, err) for _, stat, err in runs[0]}) > 1


# -- the CLI ---------------------------------------------------------------------------------


class Served:
    """`dlrsim serve ...` as a subprocess; the SMPP address is read from its banner."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "simulator", "serve", "--smpp", "127.0.0.1:0",
                   "--quiet", *args]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})})
        self.banner: list[str] = []
        self.address = self._read_address(timeout=20)

    def _read_address(self, timeout: float) -> tuple[str, int]:
        """Read the banner from the raw pipe (no buffered reader that select cannot see)."""
        stdout = self.process.stdout
        assert stdout is not None
        pending = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stdout], [], [], 0.25)
            if not ready:
                continue
            chunk = os.read(stdout.fileno(), 4096)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                self.banner.append(line)
                words = line.split()
                if words[:1] == ["smpp"] and ":" in words[1]:
                    host, _, port = words[1].rpartition(":")
                    return host, int(port)
        self.stop()
        raise AssertionError(f"no SMPP address in the banner {self.banner}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def _esme(address: tuple[str, int], clients: list[Esme]) -> Esme:
    esme = Esme(address, "cli client")
    clients.append(esme)
    assert esme.bind("transceiver", "tester") == 0
    return esme


def test_cli_time_scale_3600_delivers_a_one_hour_receipt_within_seconds(
        tmp_path: Path, served: list[Served]) -> None:
    scenario = write_scenario(tmp_path, """\
        name: one-hour
        provider: infobip
        default: {outcome: DELIVERED_TO_HANDSET, after: 1h}
        """)
    server = Served("--scenario", str(scenario), "--time-scale", "3600", "--seed", "3")
    served.append(server)
    clients: list[Esme] = []
    try:
        esme = _esme(server.address, clients)
        message_id = esme.submit_ok(b"an hour later", registered_delivery=1)
        receipt = esme.receipt_for(message_id, "DELIVRD", timeout=15)
        fields = _fields(receipt)
        submitted = datetime.strptime(fields["submit date"], "%y%m%d%H%M")
        done = datetime.strptime(fields["done date"], "%y%m%d%H%M")
        assert 59 * 60 <= (done - submitted).total_seconds() <= 61 * 60
    finally:
        for client in clients:
            client.close()


def _first_id(server: Served) -> str:
    clients: list[Esme] = []
    try:
        return _esme(server.address, clients).submit_ok(b"same seed")
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_the_same_seed_gives_the_same_ids_across_processes(served: list[Served]) -> None:
    ids = []
    for hash_seed in ("1", "2"):
        server = Served("--scenario", str(SCENARIOS / "default.yaml"), "--seed", "42",
                        env={"PYTHONHASHSEED": hash_seed})
        served.append(server)
        ids.append(_first_id(server))
    assert ids[0] == ids[1]


# -- hot reload ------------------------------------------------------------------------------

RELOADABLE = """\
name: reload-{version}
provider: infobip
default: {{outcome: {outcome}, after: 5s}}
"""
FIRST = RELOADABLE.format(version=1, outcome="DELIVERED_TO_HANDSET")
SECOND = RELOADABLE.format(version=2, outcome="EC_ABSENT_SUBSCRIBER")
INVALID = """\
name: reload-broken
provider: infobip
default: {outcome: NO_SUCH_OUTCOME, after: 5s}
"""


def _rewrite(path: Path, text: str, bump: float) -> None:
    """Replace the file and move its mtime on, so a poll sees a change whatever the clock."""
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + bump
    os.utime(path, (stamp, stamp))


def _final_receipt(sim: SimHandle, esme: Esme, text: bytes) -> dict[str, str]:
    message_id = esme.submit_ok(text, registered_delivery=1)
    sim.settle()
    receipt = esme.expect(
        lambda p: p.command == "deliver_sm" and text_of(p.receipted_message_id) == message_id,
        f"the receipt for {message_id}")
    return _fields(receipt)


def _scenario_name(sim: SimHandle) -> str:
    def read() -> str:
        runtime = sim.sim.scenario
        assert runtime is not None
        return runtime.scenario.name

    return sim.call(read)


def _wait_for(probe: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_replacing_the_scenario_keeps_the_session_and_applies_the_new_rules(
        harness: Harness, tmp_path: Path) -> None:
    """What a reload does, driven directly: load the file, switch, keep every bind."""
    path = write_scenario(tmp_path, FIRST)
    sim = harness.sim(scenario=path)
    esme = harness.bound(sim)
    assert _final_receipt(sim, esme, b"before")["stat"] == "DELIVRD"
    _rewrite(path, SECOND, 2)
    sim.call(lambda: sim.sim.replace_scenario(sim.sim.load_scenario_file(path)))
    after = _final_receipt(sim, esme, b"after")  # the same session, still bound
    assert (after["stat"], after["err"]) == ("UNDELIV", "027")
    _rewrite(path, INVALID, 4)
    with pytest.raises(SimulatorError, match="NO_SUCH_OUTCOME"):
        sim.call(lambda: sim.sim.replace_scenario(sim.sim.load_scenario_file(path)))
    assert _scenario_name(sim) == "reload-2"
    kept = _final_receipt(sim, esme, b"kept")
    assert (kept["stat"], kept["err"]) == ("UNDELIV", "027")


def test_watch_reloads_a_valid_edit_and_refuses_an_invalid_one(
        harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="dlrsim")
    path = write_scenario(tmp_path, FIRST)
    sim = harness.sim(scenario=path, watch=True)
    events: list[Event] = []
    sim.call(lambda: sim.sim.events.subscribe(
        lambda event: events.append(event) if event.kind == "scenario" else None))
    esme = harness.bound(sim)
    assert _final_receipt(sim, esme, b"before")["stat"] == "DELIVRD"

    _rewrite(path, SECOND, 2)
    _wait_for(lambda: _scenario_name(sim) == "reload-2", "the reload", timeout=10)
    after = _final_receipt(sim, esme, b"after")  # the same session, never dropped
    assert (after["stat"], after["err"]) == ("UNDELIV", "027")

    _rewrite(path, INVALID, 4)
    _wait_for(lambda: any(e.data.get("reload") == "refused" for e in list(events)),
              "the refused reload", timeout=10)
    assert any("NO_SUCH_OUTCOME" in record.getMessage() for record in caplog.records)
    assert _scenario_name(sim) == "reload-2"
    kept = _final_receipt(sim, esme, b"kept")
    assert (kept["stat"], kept["err"]) == ("UNDELIV", "027")
