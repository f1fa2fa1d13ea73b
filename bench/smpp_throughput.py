"""SMPP load benchmark: how many submit_sm/s (and receipts/s) one dlrsim process sustains.

Strategy: the server runs in its own process (so its CPU time can be read from /proc and the
client never shares its event loop); the client is a lean `asyncio.Protocol` ESME in this file.
Each bind keeps `--window` submit_sm in flight, refills the window once per read and answers
every deliver_sm of a read in the same single write. Submit bodies are encoded once with our
codec and only the header (sequence number) is packed per message. One `perf_counter` stamp per
write and one per read give each message's submit -> submit_sm_resp latency. Receipts are
matched to the message ids the server returned, so a lost or duplicated receipt is an error.

    python bench/smpp_throughput.py                      # 1 transceiver, window 100, 100k
    python bench/smpp_throughput.py --receipts off --binds 2
    python bench/smpp_throughput.py --rate 10000         # latency at a fixed offered rate
    python bench/smpp_throughput.py --profile-server server.prof

The run always ends by itself: when every submit is answered and every receipt arrived, or
at `--time-limit`. It prints one line of name=value pairs and exits non-zero on any refused
submit, protocol error, missing receipt or timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

from simulator.smpp.codec import CommandId, Pdu, encode_message_id_resp, encode_pdu  # noqa: E402
from simulator.smpp.codec.constants import HEADER_SIZE  # noqa: E402

_HEADER = struct.Struct(">IIII")
_SUBMIT_SM = int(CommandId.SUBMIT_SM)
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_DELIVER_SM_RESP = int(CommandId.DELIVER_SM_RESP)
_BIND_TRX_RESP = int(CommandId.BIND_TRANSCEIVER_RESP)
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_ENQUIRE_LINK_RESP = int(CommandId.ENQUIRE_LINK_RESP)
_UNBIND = int(CommandId.UNBIND)
_UNBIND_RESP = int(CommandId.UNBIND_RESP)
_MAX_FRAME = 64 * 1024
_PACE_TICK = 0.001  # --rate sends in bursts at most this often (one timer per message is slower)
_LOOPBACK = frozenset({"127.0.0.1", "::1"})
_ADDRESS_RE = re.compile(rb"smpp://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")

# The server when no `--target` is given and the CLI is not there (or `--server inline`): the
# Simulator with receipts due at once, stopped cleanly on SIGINT/SIGTERM so a profile is saved.
_INLINE_SERVER = """
import asyncio, signal, sys
from simulator.app import Simulator
from simulator.config import Settings

async def serve() -> None:
    sim = Simulator(Settings(smpp_host=sys.argv[1], smpp_port=0, quiet=True,
                             enroute_after=0.0, delivered_after=0.0))
    await sim.start()
    print("dlrsim bench server listening on " + sim.listeners[0].url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop(0.5)

profiler = None
if sys.argv[2]:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
if sys.argv[3] == "uvloop":
    import uvloop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve())
else:
    asyncio.run(serve())
if profiler is not None:
    profiler.disable()
    profiler.dump_stats(sys.argv[2])
"""


class BenchError(Exception):
    """A setup problem reported as one line (bad target, server that never came up)."""


def parse_target(text: str) -> tuple[str, int]:
    """HOST:PORT or [::1]:PORT; only loopback hosts, so the bench never loads a real SMSC."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise BenchError(f"--target {text!r}: expected HOST:PORT, e.g. 127.0.0.1:2775")
    if host not in _LOOPBACK:
        raise BenchError(f"--target {text!r}: only 127.0.0.1 or ::1 may be benchmarked")
    return host, int(port)


def _cli_available() -> bool:
    return (importlib.util.find_spec("simulator.cli") is not None
            and importlib.util.find_spec("simulator.__main__") is not None)


class ServerProcess:
    """dlrsim in a child process: started, asked for its address and CPU time, stopped."""

    def __init__(self, mode: str, profile: str, server_loop: str | None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="dlrsim-bench-")
        self._out = Path(self._dir.name) / "stdout"
        self._err = Path(self._dir.name) / "stderr"
        self.mode = mode
        if mode == "auto":
            plain = not profile and server_loop is None
            self.mode = "cli" if plain and _cli_available() else "inline"
        if self.mode == "cli":
            command = [sys.executable, "-m", "simulator", "serve", "--smpp", "127.0.0.1:0",
                       "--http", "off", "--quiet", "--scenario", "none",
                       "--enroute-after", "0", "--delivered-after", "0"]
        else:
            command = [sys.executable, "-c", _INLINE_SERVER, "127.0.0.1", profile,
                       server_loop or "asyncio"]
        path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO, env=env)
        self.pid = self.process.pid

    def wait_address(self, timeout: float = 20.0) -> tuple[str, int]:
        """Poll the banner for `smpp://HOST:PORT` (the real port: we asked for port 0)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _ADDRESS_RE.search(self._out.read_bytes())
            if match:
                return match.group(1).decode().strip("[]"), int(match.group(2))
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        tail = self._err.read_bytes()[-600:].decode(errors="replace").strip()
        self.stop()
        raise BenchError(f"the {self.mode} server printed no smpp:// address"
                         + (f"; its stderr ends: {tail}" if tail else ""))

    def cpu_seconds(self) -> float:
        """utime + stime of the server process so far (fields 14 and 15 of /proc/PID/stat)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        self._dir.cleanup()


class Totals:
    """What all binds of one run add up to; `done` resolves when nothing is left to wait for."""

    def __init__(self, messages: int, receipts: bool, loop: asyncio.AbstractEventLoop) -> None:
        self.messages = messages
        self.receipts_on = receipts
        self.done: asyncio.Future[None] = loop.create_future()
        self.answered = 0
        self.accepted = 0
        self.refused = 0
        self.errors = 0
        self.finals = 0
        self.intermediates = 0
        self.latencies = array("d")
        self.pending_ids: set[bytes] = set()
        self.early_ids: set[bytes] = set()  # receipts read before their submit_sm_resp
        self.first_submit = 0.0
        self.last_answer = 0.0
        self.last_receipt = 0.0

    def expect(self, message_id: bytes) -> None:
        """An accepted submit: its receipt may even have been read already (another bind)."""
        if message_id in self.early_ids:
            self.early_ids.discard(message_id)
        else:
            self.pending_ids.add(message_id)

    def receipt_for(self, message_id: bytes) -> None:
        if message_id in self.pending_ids:
            self.pending_ids.discard(message_id)
        else:
            self.early_ids.add(message_id)  # unknown until its submit_sm_resp turns up

    def check_done(self) -> None:
        if self.answered < self.messages or self.done.done():
            return
        if self.receipts_on and self.finals < self.accepted:
            return
        self.done.set_result(None)


class BenchEsme(asyncio.Protocol):
    """One transceiver bind that keeps `window` submit_sm in flight until `quota` are sent."""

    def __init__(self, totals: Totals, quota: int, window: int, rate: float, body: bytes,
                 bind_frame: bytes) -> None:
        self.totals = totals
        self.quota = quota
        self.window = window
        self.rate = rate  # submits/s for this bind; 0 = as fast as the window allows
        self.body = body
        self.frame_length = HEADER_SIZE + len(body)
        self.bind_frame = bind_frame
        self.buffer = bytearray()
        self.sent = 0
        self.outstanding = 0
        self.send_times = [0.0] * (quota + 2)  # indexed by sequence number (1 is the bind)
        self.start = 0.0
        self.timer_armed = False
        self.transport: asyncio.Transport | None = None
        self.bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.unbound: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.bind_frame)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(BenchError(f"connection lost before the bind: {exc}"))
        if not self.unbound.done():
            self.unbound.set_result(None)

    def begin(self, start: float) -> None:
        self.start = start
        self._send(bytearray())

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        totals = self.totals
        buffer = self.buffer
        buffer += data
        send_times = self.send_times
        out = bytearray()
        offset, size = 0, len(buffer)
        while size - offset >= HEADER_SIZE:
            length, command_id, status, sequence = _HEADER.unpack_from(buffer, offset)
            if not HEADER_SIZE <= length <= _MAX_FRAME:
                totals.errors += 1
                assert self.transport is not None
                self.transport.close()
                return
            if size - offset < length:
                break
            if command_id == _SUBMIT_SM_RESP:
                sent_at = send_times[sequence] if 1 < sequence < len(send_times) else 0.0
                if not sent_at:  # a sequence we never sent, or a second answer to one
                    totals.errors += 1
                    offset += length
                    continue
                send_times[sequence] = 0.0
                self.outstanding -= 1
                totals.answered += 1
                totals.last_answer = now
                totals.latencies.append(now - sent_at)
                if status:
                    totals.refused += 1
                else:
                    totals.accepted += 1
                    if totals.receipts_on:
                        totals.expect(bytes(buffer[offset + HEADER_SIZE : offset + length - 1]))
            elif command_id == _DELIVER_SM:
                out += encode_message_id_resp(_DELIVER_SM_RESP, sequence, b"")
                self._on_deliver(buffer, offset + HEADER_SIZE, offset + length, now)
            elif command_id == _ENQUIRE_LINK:
                out += _HEADER.pack(HEADER_SIZE, _ENQUIRE_LINK_RESP, 0, sequence)
            elif command_id == _BIND_TRX_RESP:
                self.bound.set_result(status)
            elif command_id == _UNBIND_RESP:
                if not self.unbound.done():
                    self.unbound.set_result(None)
            elif command_id == _UNBIND:
                out += _HEADER.pack(HEADER_SIZE, _UNBIND_RESP, 0, sequence)
            else:  # generic_nack or anything we never asked for
                totals.errors += 1
            offset += length
        del buffer[:offset]
        self._send(out)
        totals.check_done()

    def _on_deliver(self, buffer: bytearray, start: int, end: int, now: float) -> None:
        """Classify a deliver_sm by esm_class and match a final receipt to its message id."""
        totals = self.totals
        try:
            pos = buffer.index(0, start, end) + 3  # service_type, source ton/npi
            pos = buffer.index(0, pos, end) + 3  # source_addr, dest ton/npi
            pos = buffer.index(0, pos, end) + 1  # destination_addr
            esm_class = buffer[pos]
            pos = buffer.index(0, pos + 3, end) + 1  # esm, protocol_id, priority, schedule
            pos = buffer.index(0, pos, end) + 5  # validity, 4 one-octet fields
            text = bytes(buffer[pos + 1 : pos + 1 + buffer[pos]])
        except (ValueError, IndexError):
            totals.errors += 1
            return
        kind = esm_class & 0x3C
        if kind == 0x20:
            totals.intermediates += 1
            return
        end_of_id = text.find(b" ")
        if kind != 0x04 or not text.startswith(b"id:") or end_of_id < 0:
            totals.errors += 1  # MO or a receipt without an id: not what this run sends
            return
        totals.finals += 1
        totals.last_receipt = now
        totals.receipt_for(text[3:end_of_id])

    def _send(self, out: bytearray) -> None:
        """Top the window up (within the pace of `--rate`) and write everything at once."""
        room = min(self.window - self.outstanding, self.quota - self.sent)
        if room > 0 and self.start:
            now = time.perf_counter()
            if self.rate:
                due = int((now - self.start) * self.rate) + 1 - self.sent
                if due < room:
                    self._arm_timer((self.sent + max(due, 0)) / self.rate + self.start - now)
                    room = max(due, 0)
            if room > 0:
                if not self.totals.first_submit:
                    self.totals.first_submit = now
                send_times, body, pack = self.send_times, self.body, _HEADER.pack
                length = self.frame_length
                sequence = self.sent + 1
                for sequence in range(self.sent + 2, self.sent + 2 + room):
                    send_times[sequence] = now
                    out += pack(length, _SUBMIT_SM, 0, sequence)
                    out += body
                self.sent = sequence - 1
                self.outstanding += room
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out)

    def _arm_timer(self, delay: float) -> None:
        if self.timer_armed:
            return
        self.timer_armed = True

        def fire() -> None:
            self.timer_armed = False
            self._send(bytearray())

        asyncio.get_running_loop().call_later(max(delay, _PACE_TICK), fire)

    async def unbind(self, timeout: float) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(_HEADER.pack(HEADER_SIZE, _UNBIND, 0, 0x7FFFFFFF))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.unbound), timeout)
        self.transport.close()


@dataclass
class Result:
    messages: int
    binds: int
    window: int
    receipts_on: bool
    submit_rate: float
    receipt_rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    missing: int
    timed_out: bool
    elapsed: float
    client_cpu: float
    server_cpu: float | None
    other_cores: float | None
    server_kind: str

    def line(self) -> str:
        per_msg = self.messages or 1
        server = "n/a" if self.server_cpu is None else f"{self.server_cpu * 1e6 / per_msg:.1f}"
        receipts = f"{self.receipt_rate:.0f}" if self.receipts_on else "n/a"
        other = "n/a" if self.other_cores is None else f"{self.other_cores:.2f}"
        return (f"submit_sm/s={self.submit_rate:.0f} receipts/s={receipts} "
                f"p50_ms={self.p50_ms:.2f} p99_ms={self.p99_ms:.2f} "
                f"server_cpu_us_per_msg={server} messages={self.messages} binds={self.binds} "
                f"window={self.window} errors={self.errors} missing_receipts={self.missing} "
                f"timed_out={int(self.timed_out)} elapsed_s={self.elapsed:.2f} "
                f"client_cpu_us_per_msg={self.client_cpu * 1e6 / per_msg:.1f} "
                f"other_cores={other} server={self.server_kind}")

    @property
    def ok(self) -> bool:
        return not (self.errors or self.missing or self.timed_out)


@dataclass
class _CpuSnapshot:
    """CPU seconds so far: the whole machine (busy), this client, the server process."""

    machine: float
    client: float
    server: float

    @classmethod
    def take(cls, server: ServerProcess | None) -> _CpuSnapshot:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:8]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(busy, usage.ru_utime + usage.ru_stime,
                   0.0 if server is None else server.cpu_seconds())


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _frames(args: argparse.Namespace) -> tuple[bytes, bytes]:
    """The bind_transceiver frame and the submit_sm body, built once with our codec."""
    bind = encode_pdu(Pdu(CommandId.BIND_TRANSCEIVER, 1, params={
        "system_id": args.system_id, "password": args.password, "system_type": "bench",
        "interface_version": 0x34, "addr_ton": 0, "addr_npi": 0, "address_range": ""}))
    submit = encode_pdu(Pdu(CommandId.SUBMIT_SM, 0, params={
        "service_type": "", "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "DLRSIM",
        "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "447700900123",
        "esm_class": 0, "registered_delivery": 1 if args.receipts == "on" else 0,
        "data_coding": 0, "short_message": b"dlrsim throughput bench message"}))
    return bind, submit[HEADER_SIZE:]


async def run(args: argparse.Namespace, host: str, port: int,
              server: ServerProcess | None) -> Result:
    loop = asyncio.get_running_loop()
    totals = Totals(args.messages, args.receipts == "on", loop)
    bind_frame, body = _frames(args)
    share, extra = divmod(args.messages, args.binds)
    quotas = [share + (i < extra) for i in range(args.binds)]
    rate = (args.rate or 0.0) / args.binds
    clients: list[BenchEsme] = []
    for quota in quotas:
        def factory(quota: int = quota) -> BenchEsme:
            return BenchEsme(totals, quota, args.window, rate, body, bind_frame)
        _, client = await loop.create_connection(factory, host, port)
        clients.append(client)
    for client in clients:
        try:
            status = await asyncio.wait_for(client.bound, 10.0)
        except TimeoutError as error:
            raise BenchError(f"no bind_transceiver_resp from {host}:{port} in 10 s") from error
        if status:
            raise BenchError(f"bind_transceiver refused with command_status 0x{status:08X}")
    before = _CpuSnapshot.take(server)
    start = time.perf_counter()
    for client in clients:
        client.begin(start)
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(totals.done), args.time_limit)
    except TimeoutError:
        timed_out = True
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(client.unbind(2.0) for client in clients))
    after = _CpuSnapshot.take(server)
    wall = time.perf_counter() - start
    ordered = sorted(totals.latencies)
    first = totals.first_submit or start
    expected = totals.accepted if totals.receipts_on else 0
    return Result(
        messages=args.messages, binds=args.binds, window=args.window,
        receipts_on=totals.receipts_on,
        submit_rate=totals.answered / max(totals.last_answer - first, 1e-9),
        receipt_rate=totals.finals / max(totals.last_receipt - first, 1e-9),
        p50_ms=_percentile(ordered, 0.50) * 1e3, p99_ms=_percentile(ordered, 0.99) * 1e3,
        errors=totals.refused + totals.errors + totals.intermediates
        + (len(totals.early_ids) if totals.receipts_on else totals.finals),
        missing=max(expected - totals.finals, 0) + (totals.messages - totals.answered),
        timed_out=timed_out, elapsed=elapsed,
        client_cpu=after.client - before.client,
        server_cpu=None if server is None else after.server - before.server,
        server_kind="target" if server is None else server.mode,
        other_cores=None if server is None else
        max(0.0, (after.machine - before.machine) - (after.client - before.client)
            - (after.server - before.server)) / wall,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="SMPP load benchmark for dlrsim: submit_sm/s, receipts/s, latency, CPU.",
        epilog="example: python bench/smpp_throughput.py --binds 1 --window 100 --messages 100000")
    parser.add_argument("--target", help="HOST:PORT of a running dlrsim (loopback only); "
                        "default: start one in a child process")
    parser.add_argument("--binds", type=_positive, default=1, help="transceiver binds (default 1)")
    parser.add_argument("--window", type=_positive, default=100,
                        help="submit_sm in flight per bind (default 100)")
    parser.add_argument("--messages", type=_positive, default=100_000,
                        help="submit_sm in total (default 100000)")
    parser.add_argument("--receipts", choices=("on", "off"), default="on",
                        help="registered_delivery=1 and wait for every final receipt (default on)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="pace submits to R/s in total (default: as fast as the window allows)")
    parser.add_argument("--time-limit", type=float, default=120.0,
                        help="stop after this many seconds whatever is left (default 120)")
    parser.add_argument("--system-id", default="bench", help="bind system_id (default bench)")
    parser.add_argument("--password", default="bench", help="bind password (default bench)")
    parser.add_argument("--server", choices=("auto", "cli", "inline"), default="auto",
                        help="how to start the server without --target: the dlrsim CLI, the "
                        "Simulator from a -c snippet, or auto (CLI when it exists)")
    parser.add_argument("--server-loop", choices=("asyncio", "uvloop"),
                        help="run the inline server on this event loop (default asyncio; the "
                        "CLI picks uvloop itself when it is installed)")
    parser.add_argument("--profile-server", metavar="FILE", default="",
                        help="run the inline server under cProfile and save the stats to FILE")
    parser.add_argument("--client-loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="event loop of this client (default: uvloop when installed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the `finally` below still stops the child server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.rate < 0:
        print("smpp_throughput: --rate must be positive", file=sys.stderr)
        return 2
    server: ServerProcess | None = None
    try:
        if args.target:
            if args.profile_server:
                raise BenchError("--profile-server needs the bench to start the server itself")
            host, port = parse_target(args.target)
        else:
            mode = "inline" if args.profile_server else args.server
            profile = str(Path(args.profile_server).resolve()) if args.profile_server else ""
            server = ServerProcess(mode, profile, args.server_loop)
            host, port = server.wait_address()
        use_uvloop = args.client_loop == "uvloop" or (
            args.client_loop == "auto" and importlib.util.find_spec("uvloop") is not None)
        if use_uvloop:
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                result = runner.run(run(args, host, port, server))
        else:
            result = asyncio.run(run(args, host, port, server))
    except (BenchError, OSError) as error:
        print(f"smpp_throughput: {error}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
    print(result.line(), flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
