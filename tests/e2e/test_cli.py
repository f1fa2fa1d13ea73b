"""The `dlrsim` command end to end: real processes, real sockets, every wait bounded.

Servers run as child processes (`python -m simulator ...`, and the installed `dlrsim` console
script for the shared one); their stdout and stderr are read line by line on background
threads, so a test waits for a specific line with a deadline instead of sleeping. Client-side
subcommands (`send`, `readyz`, `version`, `--help`) run with `subprocess.run(timeout=...)`.

Every child gets an environment stripped of `DLRSIM_*` variables (but for DLRSIM_HTTP=off), so
the developer's shell cannot change what a test sees; the env-twin tests then set exactly the
variables they test.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from simulator import __version__
from simulator.smpp.codec import CommandId, Pdu

from .conftest import WAIT, Esme, RawEsme, S, receipt_fields

REPO = Path(__file__).resolve().parents[2]
#: Bound for a child process to start (imports, first-run bytecode compilation) or to finish.
PROCESS_WAIT = 20.0
PYTHON_M: tuple[str, ...] = (sys.executable, "-m", "simulator")
DESTINATION = "447700900123"
STOPPING = "dlrsim: stopping"


def dlrsim_script() -> tuple[str, ...]:
    """The installed `dlrsim` console script of the interpreter running the tests."""
    beside = Path(sys.executable).with_name("dlrsim")
    found = str(beside) if beside.exists() else shutil.which("dlrsim")
    assert found, "the `dlrsim` console script is not installed next to the test interpreter"
    return (found,)


def child_env(**variables: str) -> dict[str, str]:
    """The test's environment without DLRSIM_* variables, plus `variables`.

    DLRSIM_HTTP=off keeps servers that run side by side from all claiming the provider-API
    port 8775 the CLI opens by default (these tests are about SMPP and the command line).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("DLRSIM_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["DLRSIM_HTTP"] = "off"
    env.update(variables)
    return env


def run_cli(*args: str, command: Sequence[str] = PYTHON_M, env: Mapping[str, str] | None = None,
            timeout: float = PROCESS_WAIT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=REPO, timeout=timeout,
        env=dict(env) if env is not None else child_env(), check=False,
    )


def address_text(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


# -- a server child process -------------------------------------------------------------------

_LISTENER = re.compile(r"^\s+(\S+)\s+(\S+):(\d+)\s+\((smpps?)://(\S+):(\d+)\)$")


class ServerProcess:
    """`dlrsim serve` in a child process, its output collected line by line as it comes."""

    def __init__(self, args: Sequence[str], *, command: Sequence[str] = PYTHON_M,
                 env: Mapping[str, str] | None = None) -> None:
        self.args = [*command, *args]
        self.popen = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            cwd=REPO, env=dict(env) if env is not None else child_env(),
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._open_streams = 2
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self._readers = [
            threading.Thread(target=self._collect, args=(self.popen.stdout, self.stdout),
                             daemon=True),
            threading.Thread(target=self._collect, args=(self.popen.stderr, self.stderr),
                             daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.banner: list[str] = []

    def _collect(self, stream: IO[str], sink: list[str]) -> None:
        for line in stream:
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._open_streams -= 1
            self._changed.notify_all()

    def describe(self) -> str:
        return (f"{' '.join(self.args[1:])}\n--- stdout\n" + "\n".join(self.stdout)
                + "\n--- stderr\n" + "\n".join(self.stderr))

    def wait_line(self, lines: list[str], match: Callable[[str], bool], what: str,
                  timeout: float = WAIT) -> str:
        """The first line of `lines` (self.stdout or self.stderr) that matches, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in lines:
                    if match(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._open_streams == 0:
                    raise AssertionError(f"no line with {what}:\n{self.describe()}")
                self._changed.wait(min(remaining, 0.25))

    def wait_banner(self, timeout: float = PROCESS_WAIT) -> list[str]:
        self.wait_line(self.stdout, lambda line: "Ctrl-C stops" in line,
                       "the end of the banner", timeout)
        with self._changed:
            self.banner = list(self.stdout)
        return self.banner

    def listener(self, name: str = "smpp") -> tuple[str, int]:
        """The (host, port) of a listener as the banner prints it (host:port and the URL agree)."""
        for line in self.banner:
            found = _LISTENER.match(line)
            if found and found.group(1) == name:
                assert (found.group(2), found.group(3)) == (found.group(5), found.group(6)), line
                return found.group(2), int(found.group(3))
        raise AssertionError(f"no {name} listener in the banner:\n{self.describe()}")

    def err_snapshot(self) -> list[str]:
        with self._changed:
            return list(self.stderr)

    def send_signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def wait_exit(self, timeout: float = PROCESS_WAIT) -> int:
        code = self.popen.wait(timeout)
        for reader in self._readers:
            reader.join(WAIT)
        return code

    def stop(self) -> int:
        """SIGTERM and wait: how every test ends a server it has no other use for."""
        self.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(PROCESS_WAIT)
        for reader in self._readers:
            reader.join(WAIT)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def servers() -> Iterator[Callable[..., ServerProcess]]:
    """Start server processes; whatever a test leaves running is killed at teardown."""
    started: list[ServerProcess] = []

    def start(*args: str, command: Sequence[str] = PYTHON_M,
              env: Mapping[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(args, command=command, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[ServerProcess]:
    """One server for the read-only checks, started with the installed console script."""
    server = ServerProcess(
        ["serve", "--smpp", "127.0.0.1:0", "--scenario", "none", "--delivered-after", "0.05"],
        command=dlrsim_script(),
    )
    try:
        server.wait_banner()
        yield server
    finally:
        server.close()


# -- parsing what the client commands print ----------------------------------------------------

_SUBMITTED = re.compile(r"^submitted id=(\S+) to=(\S+) part=(\d+)/(\d+)$")


def submitted(stdout: str) -> list[tuple[str, int, int]]:
    """(message_id, part, parts) for each `submitted` line of `dlrsim send`."""
    found = []
    for line in stdout.splitlines():
        match = _SUBMITTED.match(line)
        if match:
            found.append((match.group(1), int(match.group(3)), int(match.group(4))))
    return found


def receipts(stdout: str) -> list[dict[str, str]]:
    return [receipt_fields(line[len("receipt "):]) for line in stdout.splitlines()
            if line.startswith("receipt ")]


def send(server: ServerProcess, *extra: str, system_id: str, text: str = "hi",
         env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("send", "--smpp", address_text(server.listener()), "--system-id", system_id,
                   "--to", DESTINATION, "--text", text, "--timeout", "5", *extra, env=env)


def only_id(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    ids = submitted(result.stdout)
    assert len(ids) == 1, result.stdout
    return ids[0][0]


def text_event(line: str) -> tuple[str, dict[str, str]] | None:
    """(event kind, key=value fields) of a text-format event log line, None for other lines."""
    match = re.match(r"^INFO\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (\w+)\s+(.*)$", line)
    if match is None:
        return None
    fields = dict(token.split("=", 1) for token in match.group(3).split() if "=" in token)
    return match.group(2), fields


def text_events(lines: Sequence[str], kind: str, **where: str) -> list[dict[str, str]]:
    found = []
    for line in lines:
        event = text_event(line)
        if event and event[0] == kind and all(event[1].get(k) == v for k, v in where.items()):
            found.append(event[1])
    return found


def has_text_event(kind: str, **where: str) -> Callable[[str], bool]:
    return lambda line: bool(text_events([line], kind, **where))


# -- serve, readyz, send ------------------------------------------------------------------------


def test_banner_prints_the_real_port_and_the_open_door(shared: ServerProcess) -> None:
    banner = shared.banner
    assert banner[0] == f"dlrsim {__version__} ready"
    host, port = shared.listener()
    assert host == "127.0.0.1"
    assert 0 < port <= 65535
    assert any("any system_id and password are accepted" in line for line in banner), banner
    assert any("DELIVRD after 0.05 s" in line for line in banner), banner
    assert banner[-1].strip().startswith("Ctrl-C stops")


def test_readyz_answers_ready_through_the_console_script(shared: ServerProcess) -> None:
    result = run_cli("readyz", "--smpp", address_text(shared.listener()),
                     command=dlrsim_script())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ready"), result.stdout


def test_send_prints_the_id_and_its_matching_receipt(shared: ServerProcess) -> None:
    result = send(shared, system_id="cli-send", text="hi")
    message_id = only_id(result)
    got = receipts(result.stdout)
    assert len(got) == 1, result.stdout
    assert got[0]["id"] == message_id
    assert got[0]["stat"] == "DELIVRD"
    assert got[0]["err"] == "000"
    assert got[0]["text"] == "hi"


def test_send_splits_a_long_text_and_waits_for_every_part(shared: ServerProcess) -> None:
    text = "0123456789" * 40  # 400 GSM characters: three parts of at most 153
    result = send(shared, system_id="cli-long", text=text)
    assert result.returncode == 0, result.stderr
    parts = submitted(result.stdout)
    assert [(part, total) for _, part, total in parts] == [(1, 3), (2, 3), (3, 3)]
    ids = [message_id for message_id, _, _ in parts]
    assert len(set(ids)) == 3, "each part has its own message id"
    got = receipts(result.stdout)
    assert sorted(receipt["id"] for receipt in got) == sorted(ids)
    assert {receipt["stat"] for receipt in got} == {"DELIVRD"}


def test_send_without_receipt_returns_at_once(shared: ServerProcess) -> None:
    # With --timeout 60, waiting for a receipt would outlast the 20 s process bound.
    result = send(shared, "--no-receipt", "--timeout", "60", system_id="cli-norcpt")
    message_id = only_id(result)
    assert receipts(result.stdout) == []
    line = shared.wait_line(shared.stderr, has_text_event("submit", message_id=message_id),
                            f"the submit of {message_id}")
    assert "registered_delivery=0" in line, "--no-receipt must not ask for a receipt"


# -- log lines -----------------------------------------------------------------------------------


def test_text_log_has_one_line_per_bind_submit_and_receipt(shared: ServerProcess) -> None:
    message_id = only_id(send(shared, system_id="cli-logtext"))
    shared.wait_line(shared.stderr, has_text_event("receipt", message_id=message_id),
                     f"the receipt line of {message_id}")
    lines = shared.err_snapshot()
    binds = text_events(lines, "bind", account="cli-logtext")
    assert len(binds) == 1, lines
    assert binds[0]["bind_type"] == "transceiver" and binds[0]["status"] == "OK"
    submits = text_events(lines, "submit", message_id=message_id)
    assert len(submits) == 1, lines
    assert submits[0]["account"] == "cli-logtext"
    assert submits[0]["destination"] == DESTINATION and submits[0]["status"] == "OK"
    receipt_lines = text_events(lines, "receipt", message_id=message_id)
    assert len(receipt_lines) == 1, lines
    assert receipt_lines[0]["stat"] == "DELIVRD"


def test_json_log_is_one_object_per_line(servers: Callable[..., ServerProcess]) -> None:
    server = servers("serve", "--smpp", "127.0.0.1:0", "--scenario", "none",
                     "--delivered-after", "0.05", "--log-format", "json")
    server.wait_banner()
    message_id = only_id(send(server, system_id="cli-json"))

    def is_receipt_line(line: str) -> bool:
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            return bool(record.get("event") == "receipt"
                        and record.get("message_id") == message_id)
        return False

    server.wait_line(server.stderr, is_receipt_line, "a JSON receipt line")
    records: list[dict[str, Any]] = []
    for line in server.err_snapshot():
        record = json.loads(line)  # every line so far, not only the ones we look for
        assert isinstance(record, dict), line
        assert {"event", "time"} <= record.keys(), line
        records.append(record)
    binds = [r for r in records if r["event"] == "bind" and r.get("account") == "cli-json"]
    assert len(binds) == 1 and binds[0]["status"] == "OK", records
    submits = [r for r in records if r["event"] == "submit" and r.get("message_id") == message_id]
    assert len(submits) == 1 and submits[0]["destination"] == DESTINATION, records
    receipt_records = [r for r in records
                       if r["event"] == "receipt" and r.get("message_id") == message_id]
    assert len(receipt_records) == 1 and receipt_records[0]["stat"] == "DELIVRD", records
    assert server.stop() == 0


# -- stopping ------------------------------------------------------------------------------------


def test_sigterm_unbinds_a_bound_client_and_exits_zero(
        servers: Callable[..., ServerProcess]) -> None:
    server = servers("serve", "--smpp", "127.0.0.1:0", "--scenario", "none", "--quiet")
    server.wait_banner()
    client = RawEsme(server.listener(), "raw:sigterm")
    try:
        assert client.bind("transceiver", "cli-term") == S.ESME_ROK
        server.send_signal(signal.SIGTERM)
        unbind = client.expect(lambda pdu: pdu.command_id == CommandId.UNBIND,
                               "an unbind from the stopping server")
        client.send(Pdu(CommandId.UNBIND_RESP, unbind.sequence_number))
        client.wait_closed()
    finally:
        client.close()
    assert server.wait_exit() == 0, server.describe()
    assert any(line.startswith(STOPPING) for line in server.stderr), server.describe()
    assert not any("Traceback" in line for line in server.stderr), server.describe()


def test_sigint_on_bare_python_m_unbinds_smpplib_and_exits_zero(
        servers: Callable[..., ServerProcess]) -> None:
    # No subcommand: leading flags mean `serve`, as with a bare `dlrsim`.
    server = servers("--smpp", "127.0.0.1:0", "--scenario", "none", "--quiet")
    server.wait_banner()
    client = Esme(server.listener(), "smpplib:sigint")
    try:
        assert client.bind("transceiver", "cli-int") == 0
        server.send_signal(signal.SIGINT)
        unbind = client.expect(lambda pdu: pdu.command == "unbind",
                               "an unbind from the stopping server")
        client.answer("unbind_resp", int(unbind.sequence))
        client.wait_closed()
    finally:
        client.close()
    assert server.wait_exit() == 0, server.describe()
    assert not any("Traceback" in line for line in server.stderr), server.describe()


# -- environment twins and the config file -------------------------------------------------------


def test_env_twins_are_honoured_and_flags_beat_them(
        servers: Callable[..., ServerProcess]) -> None:
    flags = servers("serve", "--smpp", "127.0.0.1:0", "--scenario", "none", "--seed", "4242",
                    "--quiet")
    from_env = servers("serve", "--scenario", "none", env=child_env(
        DLRSIM_SMPP="127.0.0.1:0", DLRSIM_SEED="4242", DLRSIM_QUIET="1"))
    overridden = servers("serve", "--smpp", "127.0.0.1:0", "--seed", "99", "--scenario", "none",
                         env=child_env(DLRSIM_SMPP="127.0.0.2:0", DLRSIM_SEED="4242",
                                       DLRSIM_QUIET="1"))
    for server in (flags, from_env, overridden):
        server.wait_banner()

    host, port = from_env.listener()
    assert host == "127.0.0.1" and port not in (0, 2775), "DLRSIM_SMPP picks the listener"
    assert "  seed      4242" in from_env.banner
    assert overridden.listener()[0] == "127.0.0.1", "--smpp beats DLRSIM_SMPP"
    assert "  seed      99" in overridden.banner, "--seed beats DLRSIM_SEED"

    # The seed drives message ids: the same seed from the env or a flag gives the same first id.
    first = {name: only_id(send(server, "--no-receipt", system_id="cli-env"))
             for name, server in (("flags", flags), ("env", from_env), ("over", overridden))}
    assert first["env"] == first["flags"]
    assert first["over"] != first["flags"]

    for server in (flags, from_env, overridden):
        assert server.stop() == 0, server.describe()
        # Quiet (by --quiet or DLRSIM_QUIET=1): no event lines, only the stop notice.
        assert [line for line in server.stderr if not line.startswith(STOPPING)] == [], \
            server.describe()


def test_config_file_accounts_are_enforced_and_flags_beat_the_file(
        servers: Callable[..., ServerProcess], tmp_path: Path) -> None:
    config = tmp_path / "dlrsim.yaml"
    config.write_text(
        "smpp_host: 127.0.0.9\n"
        "smpp_port: 1\n"
        "seed: 5\n"
        "delivered_after: 30\n"
        "accounts:\n"
        "  - system_id: shop\n"
        "    password: s3cret\n"
        "    bind_types: [transceiver]\n",
        encoding="utf-8",
    )
    server = servers("serve", "--config", str(config), "--smpp", "127.0.0.1:0",
                     "--delivered-after", "0.05", "--scenario", "none", "--quiet",
                     env=child_env(DLRSIM_SEED="6"))
    banner = server.wait_banner()
    host, port = server.listener()
    assert host == "127.0.0.1" and port != 1, "--smpp beats the file's address"
    assert "  seed      6" in banner, "DLRSIM_SEED beats the file's seed"
    assert any("DELIVRD after 0.05 s" in line for line in banner), "the flag beats the file"
    assert any("'shop'" in line and "'s3cret'" in line for line in banner), banner
    assert not any("any system_id" in line for line in banner), banner

    wrong = RawEsme((host, port), "raw:wrong-password")
    stranger = RawEsme((host, port), "raw:unknown")
    right = RawEsme((host, port), "raw:right")
    try:
        assert wrong.bind("transceiver", "shop", "nope") == S.ESME_RINVPASWD
        assert stranger.bind("transceiver", "nobody", "s3cret") == S.ESME_RINVSYSID
        assert right.bind("transceiver", "shop", "s3cret") == S.ESME_ROK
        assert right.bind("transceiver", "shop", "s3cret") == S.ESME_RALYBND
    finally:
        for client in (wrong, stranger, right):
            client.close()

    refused = send(server, "--password", "nope", system_id="shop")
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith("dlrsim:") and "ESME_RINVPASWD" in refused.stderr
    accepted = send(server, "--password", "s3cret", system_id="shop")
    message_id = only_id(accepted)
    assert [r["id"] for r in receipts(accepted.stdout)] == [message_id]
    assert server.stop() == 0


# -- one-shot commands, run side by side ---------------------------------------------------------
#
# Each of these is a short-lived process whose whole output is checked afterwards, so they all
# run once per module, a few at a time, and the tests below each assert on their own result.


@dataclass(frozen=True)
class Batch:
    directory: Path
    closed_port: tuple[str, int]
    results: dict[str, subprocess.CompletedProcess[str]]

    def __getitem__(self, name: str) -> subprocess.CompletedProcess[str]:
        return self.results[name]


HELP_TOPICS = ["", "serve", "send", "readyz", "version", "catalog", "scenario"]
SAME_BOTH_WAYS = {"version": ["version"], "send-help": ["send", "--help"],
                  "bad-smpp": ["serve", "--smpp", "bad"]}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    directory = tmp_path_factory.mktemp("cli")
    (directory / "typo.yaml").write_text("smpp_port: 0\nsmpp_prot: 2775\n", encoding="utf-8")
    (directory / "broken.yaml").write_text("accounts: [\n", encoding="utf-8")
    (directory / "broken-scenario.yaml").write_text(
        "name: broken\n"
        "rules:\n"
        "  - name: no-outcome\n"
        "    when: {destination: {prefix: '44'}}\n",
        encoding="utf-8",
    )
    script = dlrsim_script()
    # A port that refuses connections: bound (so nobody else takes it) but not listening.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        closed = ("127.0.0.1", int(sock.getsockname()[1]))
        cases: dict[str, tuple[Sequence[str], list[str], dict[str, str] | None]] = {
            "smpp-no-port": (PYTHON_M, ["serve", "--smpp", "localhost", "--scenario", "none"],
                             None),
            "smpp-port-too-big": (PYTHON_M, ["serve", "--smpp", "127.0.0.1:70000"], None),
            "smpp-port-name": (PYTHON_M, ["serve", "--smpp", "127.0.0.1:http"], None),
            "smpp-env": (PYTHON_M, ["serve", "--scenario", "none"],
                         child_env(DLRSIM_SMPP="nowhere")),
            "config-missing": (PYTHON_M, ["serve", "--smpp", "127.0.0.1:0", "--config",
                                          str(directory / "absent.yaml")], None),
            "config-unknown-key": (PYTHON_M, ["serve", "--config", str(directory / "typo.yaml"),
                                              "--scenario", "none"], None),
            "config-yaml-syntax": (PYTHON_M, ["serve", "--config",
                                              str(directory / "broken.yaml"),
                                              "--scenario", "none"], None),
            "scenario-invalid": (PYTHON_M, ["serve", "--smpp", "127.0.0.1:0", "--scenario",
                                            str(directory / "broken-scenario.yaml")], None),
            "scenario-missing": (PYTHON_M, ["serve", "--smpp", "127.0.0.1:0", "--scenario",
                                            str(directory / "absent-scenario.yaml")], None),
            "flag-bad-seed": (PYTHON_M, ["serve", "--seed", "forty-two", "--scenario", "none"],
                              None),
            "readyz-closed": (PYTHON_M, ["readyz", "--smpp", address_text(closed),
                                         "--timeout", "2"], None),
            "send-closed": (PYTHON_M, ["send", "--smpp", address_text(closed), "--to",
                                       DESTINATION, "--timeout", "2"], None),
            "version": (script, ["version"], None),
            "--version": (script, ["--version"], None),
        }
        for topic in HELP_TOPICS:
            cases[f"help:{topic}"] = (PYTHON_M, [topic, "--help"] if topic else ["--help"], None)
        for name, args in SAME_BOTH_WAYS.items():
            cases[f"module:{name}"] = (PYTHON_M, args, None)
            cases[f"script:{name}"] = (script, args, None)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futures = {name: pool.submit(run_cli, *args, command=command, env=env)
                       for name, (command, args, env) in cases.items()}
            results = {name: future.result() for name, future in futures.items()}
    yield Batch(directory, closed, results)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("dlrsim: "), lines[0]
    assert "ready" not in result.stdout, "nothing may be served"
    return lines[0]


@pytest.mark.parametrize(("case", "needle"), [
    ("smpp-no-port", "'localhost'"),
    ("smpp-port-too-big", "'127.0.0.1:70000'"),
    ("smpp-port-name", "'127.0.0.1:http'"),
])
def test_bad_smpp_address_is_one_line(batch: Batch, case: str, needle: str) -> None:
    line = one_error_line(batch[case])
    assert needle in line and "HOST:PORT" in line


def test_bad_smpp_address_in_the_environment_is_one_line(batch: Batch) -> None:
    line = one_error_line(batch["smpp-env"])
    assert "environment" in line and "'nowhere'" in line


def test_missing_config_file_is_one_line(batch: Batch) -> None:
    line = one_error_line(batch["config-missing"])
    assert str(batch.directory / "absent.yaml") in line and "cannot read" in line


def test_unknown_config_key_is_one_line(batch: Batch) -> None:
    line = one_error_line(batch["config-unknown-key"])
    assert str(batch.directory / "typo.yaml") in line and "smpp_prot" in line


def test_config_yaml_syntax_error_is_one_line(batch: Batch) -> None:
    line = one_error_line(batch["config-yaml-syntax"])
    assert str(batch.directory / "broken.yaml") in line


def test_invalid_scenario_file_names_file_and_line(batch: Batch) -> None:
    line = one_error_line(batch["scenario-invalid"])
    assert f"{batch.directory / 'broken-scenario.yaml'}:3:" in line, line
    assert "then" in line


def test_missing_scenario_file_is_one_line(batch: Batch) -> None:
    line = one_error_line(batch["scenario-missing"])
    assert str(batch.directory / "absent-scenario.yaml") in line


def test_bad_flag_value_is_one_line(batch: Batch) -> None:
    one_error_line(batch["flag-bad-seed"])


def test_readyz_against_a_closed_port_exits_1(batch: Batch) -> None:
    result = batch["readyz-closed"]
    line = one_error_line(result)
    assert result.returncode == 1
    assert "not ready" in line and address_text(batch.closed_port) in line


def test_send_to_a_closed_port_exits_1(batch: Batch) -> None:
    result = batch["send-closed"]
    line = one_error_line(result)
    assert result.returncode == 1
    assert "send failed" in line
    assert "submitted" not in result.stdout


# -- version and help ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["version", "--version"])
def test_version(batch: Batch, case: str) -> None:
    result = batch[case]
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"dlrsim {__version__}\n"


@pytest.mark.parametrize("topic", HELP_TOPICS)
def test_help_has_an_example(batch: Batch, topic: str) -> None:
    result = batch[f"help:{topic}"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: dlrsim"), result.stdout
    assert "example" in result.stdout, result.stdout
    after = result.stdout.split("example", 1)[1]
    assert f"dlrsim {topic}".strip() in after, "the example shows the command itself"


@pytest.mark.parametrize("case", list(SAME_BOTH_WAYS))
def test_python_m_simulator_behaves_like_dlrsim(batch: Batch, case: str) -> None:
    via_module, via_script = batch[f"module:{case}"], batch[f"script:{case}"]
    assert (via_module.returncode, via_module.stdout, via_module.stderr) == (
        via_script.returncode, via_script.stdout, via_script.stderr)
    assert via_module.stdout or via_module.stderr, "the comparison must compare something"
