"""SMPP over TLS: the optional listener, with a throwaway self-signed certificate.

The certificate is made once per module with the `openssl` command (CN=localhost, valid two
days). Clients verify it for real: the raw client checks the chain and the host name against
that very certificate; smpplib (which wraps its socket without a server name) checks the chain.

Reading TLS sockets: `select()` only sees bytes still in the kernel, while OpenSSL may already
hold a whole decrypted record; the readers below look at `SSLSocket.pending()` first, so a
second PDU that arrived in the same read is never left waiting for a deadline.
"""

from __future__ import annotations

import select
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import smpplib.client  # type: ignore[import-untyped]

from simulator.app import Listener
from simulator.config import Settings
from simulator.core.errors import ConfigError
from simulator.smpp.codec import CodecError, CommandId, Pdu

from .conftest import WAIT, Harness, RawEsme, S, SimHandle, receipt_fields, text_of
from .test_cli import ServerProcess, run_cli

DESTINATION = "447700900123"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed, so no test certificate can be made")
    directory = tmp_path_factory.mktemp("tls")
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "cert.pem"],
        cwd=directory, capture_output=True, text=True, timeout=30, check=False,
    )
    assert made.returncode == 0, f"openssl could not make a test certificate:\n{made.stderr}"
    return TlsFiles(directory / "cert.pem", directory / "key.pem")


def verifying_context(files: TlsFiles, *, check_hostname: bool = True) -> ssl.SSLContext:
    """A client context that trusts exactly the test certificate (and nothing else)."""
    context = ssl.create_default_context(cafile=str(files.cert))
    context.check_hostname = check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    return context


class TlsRawEsme(RawEsme):
    """The conftest raw client on a TLS socket verified against the test certificate."""

    def __init__(self, address: tuple[str, int], name: str, context: ssl.SSLContext) -> None:
        super().__init__(address, name)
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")

    def read_available(self, timeout: float) -> bool:
        if self.eof:
            return False
        sock = self.sock
        buffered = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
        if not buffered:
            ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not ready:
                return False
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):
            data = b""
        if not data:
            self.eof = True
            return True
        for item in self.decoder.feed(data):
            if isinstance(item, CodecError):
                raise AssertionError(f"{self.name}: the server sent a malformed PDU: {item}")
            self.inbox.append(item)
            self._auto_answer(item)
        return True


@pytest.fixture
def clients(harness: Harness) -> Iterator[list[RawEsme]]:
    """Raw clients of one test, closed before the harness stops its simulators."""
    opened: list[RawEsme] = []
    yield opened
    for client in opened:
        client.close()


def tls_sim(harness: Harness, files: TlsFiles) -> SimHandle:
    return harness.sim(smpp_tls_port=0, tls_cert=files.cert, tls_key=files.key)


def tls_listener(handle: SimHandle) -> Listener:
    found = [listener for listener in handle.sim.listeners if listener.tls]
    assert len(found) == 1, handle.sim.listeners
    return found[0]


def receipt_of(client: RawEsme, message_id: str) -> Pdu:
    return client.expect(
        lambda pdu: pdu.command_id == CommandId.DELIVER_SM
        and receipt_fields(pdu.bytes_param("short_message")).get("id") == message_id,
        f"the receipt of {message_id}")


# -- the listener ----------------------------------------------------------------------------------


def test_tls_listener_is_listed_next_to_the_plain_one(harness: Harness,
                                                      tls_files: TlsFiles) -> None:
    handle = tls_sim(harness, tls_files)
    listeners = handle.sim.listeners
    assert [(listener.name, listener.tls) for listener in listeners] == [
        ("smpp", False), ("smpp-tls", True)]
    plain, secure = listeners
    assert secure.host == "127.0.0.1"
    assert secure.port not in (0, plain.port)
    assert secure.url == f"smpps://127.0.0.1:{secure.port}"
    assert plain.url.startswith("smpp://")


def test_verified_tls_client_binds_submits_and_gets_its_receipt_beside_a_plain_one(
        harness: Harness, tls_files: TlsFiles, clients: list[RawEsme]) -> None:
    handle = tls_sim(harness, tls_files)
    secure = TlsRawEsme(("127.0.0.1", tls_listener(handle).port), "raw tls",
                        verifying_context(tls_files))
    clients.append(secure)
    assert isinstance(secure.sock, ssl.SSLSocket)
    assert secure.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert secure.sock.getpeercert(), "the server certificate was verified and is known"
    plain = RawEsme(handle.address, "raw plain")
    clients.append(plain)

    # Both listeners serve at the same time: both bound before either submits.
    assert secure.bind("transceiver", "tls-user") == S.ESME_ROK
    assert plain.bind("transceiver", "plain-user") == S.ESME_ROK
    secure_id = secure.submit_ok(b"over tls", destination=DESTINATION, registered_delivery=1)
    plain_id = plain.submit_ok(b"in clear", destination=DESTINATION, registered_delivery=1)
    assert secure_id != plain_id
    handle.settle()

    for client, message_id, text in ((secure, secure_id, "over tls"),
                                     (plain, plain_id, "in clear")):
        receipt = receipt_of(client, message_id)
        fields = receipt_fields(receipt.bytes_param("short_message"))
        assert fields["stat"] == "DELIVRD" and fields["text"] == text
        assert receipt.int_param("esm_class") & 0x04
    assert len(secure.deliveries()) == 1 and len(plain.deliveries()) == 1, \
        "each account's receipt goes to its own bind only"
    enquire = secure.request(Pdu(CommandId.ENQUIRE_LINK))
    assert enquire.command_id == CommandId.ENQUIRE_LINK_RESP


def test_a_client_that_does_not_trust_the_certificate_is_refused(
        harness: Harness, tls_files: TlsFiles) -> None:
    handle = tls_sim(harness, tls_files)
    stranger = ssl.create_default_context()  # the system CAs only
    sock = socket.create_connection(("127.0.0.1", tls_listener(handle).port), timeout=WAIT)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            stranger.wrap_socket(sock, server_hostname="localhost")
    finally:
        sock.close()


def _pump_smpplib(client: Any, done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"smpplib over TLS: timed out waiting for {what}"
        sock = client._socket
        if not sock.pending():
            ready, _, _ = select.select([sock], [], [], min(remaining, 0.25))
            if not ready:
                continue
        client.read_once(auto_send_enquire_link=False)


def test_smpplib_over_tls_gets_a_receipt_matching_its_submit(
        harness: Harness, tls_files: TlsFiles) -> None:
    handle = tls_sim(harness, tls_files)
    client = smpplib.client.Client(
        "127.0.0.1", tls_listener(handle).port, timeout=WAIT, allow_unknown_opt_params=True,
        ssl_context=verifying_context(tls_files, check_hostname=False))
    responses: list[Any] = []
    delivered: list[Any] = []

    def on_sent(pdu: Any) -> None:
        responses.append(pdu)

    client.set_message_sent_handler(on_sent)

    def on_deliver(pdu: Any) -> int:
        delivered.append(pdu)
        return 0

    client.set_message_received_handler(on_deliver)
    client.connect()
    try:
        client.bind_transceiver(system_id="tls-smpplib", password="secret")
        client.send_message(source_addr_ton=1, source_addr_npi=1, source_addr="4930123456",
                            dest_addr_ton=1, dest_addr_npi=1, destination_addr=DESTINATION,
                            short_message=b"smpplib tls", registered_delivery=True)
        _pump_smpplib(client, lambda: bool(responses), "the submit_sm_resp")
        assert responses[0].status == 0
        message_id = text_of(responses[0].message_id)
        handle.settle()
        _pump_smpplib(client, lambda: bool(delivered), "the receipt")
        assert text_of(delivered[0].receipted_message_id) == message_id
        assert receipt_fields(delivered[0].short_message)["stat"] == "DELIVRD"
    finally:
        client.disconnect()


# -- configuration errors --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_expecting_config_error(settings: Settings) -> tuple[SimHandle, ConfigError]:
    """Start a simulator that must refuse its settings; the caller closes the handle."""
    handle = SimHandle(settings, virtual=True, planner=None)
    try:
        handle.start()
    except ConfigError as error:
        return handle, error
    handle.close()
    raise AssertionError("the simulator started despite a broken TLS configuration")


def _close_failed(handle: SimHandle) -> None:
    """Stop whatever a failed start left behind, then the loop thread."""
    handle.run(handle.sim.stop(1.0))
    handle.mark_stopped()
    handle.close()


@pytest.mark.parametrize("broken", ["missing key", "missing cert", "no key given"])
def test_a_broken_tls_setup_is_a_config_error(tls_files: TlsFiles, tmp_path: Path,
                                              broken: str) -> None:
    settings = Settings(smpp_port=0, smpp_tls_port=0, quiet=True,
                        tls_cert=tmp_path / "absent-cert.pem" if broken == "missing cert"
                        else tls_files.cert,
                        tls_key=None if broken == "no key given"
                        else tmp_path / "absent-key.pem" if broken == "missing key"
                        else tls_files.key)
    handle, error = _start_expecting_config_error(settings)
    try:
        message = str(error)
        if broken == "no key given":
            assert "--tls-key" in message, message
        else:
            missing = "absent-cert.pem" if broken == "missing cert" else "absent-key.pem"
            assert missing in message and "does not exist" in message, message
    finally:
        _close_failed(handle)


def test_a_missing_key_file_error_names_the_key_file(tls_files: TlsFiles,
                                                     tmp_path: Path) -> None:
    missing = tmp_path / "absent-key.pem"
    handle, error = _start_expecting_config_error(Settings(
        smpp_port=0, smpp_tls_port=0, tls_cert=tls_files.cert, tls_key=missing, quiet=True))
    try:
        assert str(missing) in str(error), str(error)
    finally:
        _close_failed(handle)


def test_nothing_listens_when_the_tls_key_is_missing(tls_files: TlsFiles,
                                                     tmp_path: Path) -> None:
    port = _free_port()
    handle, _ = _start_expecting_config_error(Settings(
        smpp_port=port, smpp_tls_port=0, tls_cert=tls_files.cert,
        tls_key=tmp_path / "absent-key.pem", quiet=True))
    try:
        assert handle.sim.listeners == []
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
    finally:
        _close_failed(handle)


# -- the command line ----------------------------------------------------------------------------


def test_cli_banner_shows_the_smpps_listener_and_it_speaks_tls(tls_files: TlsFiles) -> None:
    server = ServerProcess(["serve", "--smpp", "127.0.0.1:0", "--smpp-tls", "127.0.0.1:0",
                            "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key),
                            "--scenario", "none", "--quiet"])
    try:
        server.wait_banner()
        host, port = server.listener("smpp-tls")
        assert host == "127.0.0.1" and port not in (0, server.listener("smpp")[1])
        assert any(f"(smpps://127.0.0.1:{port})" in line for line in server.banner)
        client = TlsRawEsme((host, port), "raw tls cli", verifying_context(tls_files))
        try:
            assert client.bind("transmitter", "tls-cli") == S.ESME_ROK
            assert client.submit_ok(b"hello over tls")
        finally:
            client.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait_exit() == 0, server.describe()
    finally:
        server.close()


def test_cli_missing_tls_key_is_one_line(tls_files: TlsFiles, tmp_path: Path) -> None:
    result = run_cli("serve", "--smpp", "127.0.0.1:0", "--smpp-tls", "127.0.0.1:0",
                     "--tls-cert", str(tls_files.cert), "--tls-key",
                     str(tmp_path / "absent-key.pem"), "--scenario", "none")
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlrsim: "), result.stderr
    assert "TLS" in lines[0]
    assert "ready" not in result.stdout
