"""The `dlrsim` command: serve (the default), send, readyz, version, catalog.

Bad input exits non-zero with one line on stderr that starts with `dlrsim:`; `--help` on each
subcommand shows an example.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, cast

from simulator import __version__
from simulator.core.errors import SimulatorError

Handler = Callable[[argparse.Namespace], int]


def _serve_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the simulator (the default command)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  dlrsim serve --smpp 127.0.0.1:2775 --seed 42\n"
        "  DLRSIM_SMPP=0.0.0.0:2775 dlrsim   # every flag has a DLRSIM_* twin",
    )
    add_serve_flags(parser)
    parser.set_defaults(handler=_cmd_serve)


def add_serve_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smpp",
        metavar="HOST:PORT",
        help="SMPP listener (default 127.0.0.1:2775; port 0 picks a free port) [DLRSIM_SMPP]",
    )
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="HTTP listener for the provider APIs (default 127.0.0.1:8775; 'off' for none) "
        "[DLRSIM_HTTP]",
    )
    parser.add_argument(
        "--https",
        metavar="HOST:PORT",
        help="extra HTTPS listener (uses --tls-cert/--tls-key) [DLRSIM_HTTPS]",
    )
    parser.add_argument(
        "--callback-url",
        metavar="PROVIDER=URL",
        action="append",
        help="delivery callback URL for a provider that sets it in its portal (Clickatell, "
        "Sinch, ClickSend); repeatable [DLRSIM_<PROVIDER>_CALLBACK_URL]",
    )
    parser.add_argument(
        "--smpp-tls", metavar="HOST:PORT", help="extra SMPP-over-TLS listener [DLRSIM_SMPP_TLS]"
    )
    parser.add_argument(
        "--tls-cert", metavar="FILE", help="PEM certificate for --smpp-tls [DLRSIM_TLS_CERT]"
    )
    parser.add_argument(
        "--tls-key", metavar="FILE", help="PEM private key for --smpp-tls [DLRSIM_TLS_KEY]"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="YAML file with accounts and settings [DLRSIM_CONFIG]"
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario file (default: the embedded scenarios/default.yaml; 'none' for the "
        "plain ENROUTE/DELIVRD timeline) [DLRSIM_SCENARIO]",
    )
    parser.add_argument(
        "--watch",
        action="store_const",
        const=True,
        help="reload the scenario file when it changes; an invalid edit keeps the old one "
        "[DLRSIM_WATCH]",
    )
    parser.add_argument("--seed", type=int, help="seed for ids and random choices [DLRSIM_SEED]")
    parser.add_argument(
        "--journal-size",
        type=int,
        metavar="N",
        help="events kept in memory for the API, UI and MQTT (default 100000; 0 turns the "
        "journal off, for pure load tests) [DLRSIM_JOURNAL_SIZE]",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        metavar="X",
        help="simulated seconds per real second [DLRSIM_TIME_SCALE]",
    )
    parser.add_argument(
        "--enroute-after",
        type=float,
        metavar="SECONDS",
        help="ENROUTE step delay (default 0.5) [DLRSIM_ENROUTE_AFTER]",
    )
    parser.add_argument(
        "--delivered-after",
        type=float,
        metavar="SECONDS",
        help="DELIVRD step delay (default 2) [DLRSIM_DELIVERED_AFTER]",
    )
    parser.add_argument(
        "--accept-any",
        action="store_const",
        const=True,
        help="accept any credentials even with configured accounts [DLRSIM_ACCEPT_ANY]",
    )
    parser.add_argument(
        "--quiet", action="store_const", const=True, help="no per-message log lines [DLRSIM_QUIET]"
    )
    parser.add_argument(
        "--log-format", choices=("text", "json"), help="log line format [DLRSIM_LOG_FORMAT]"
    )
    parser.add_argument(
        "--api-token",
        metavar="TOKEN",
        help="require 'Authorization: Bearer TOKEN' on the control API /api/v1 (health "
        "excepted); without one the API answers loopback peers only [DLRSIM_API_TOKEN]",
    )
    parser.add_argument(
        "--allow-remote-api",
        action="store_const",
        const=True,
        help="without --api-token, let non-loopback peers use the control API too "
        "[DLRSIM_ALLOW_REMOTE_API]",
    )
    parser.add_argument(
        "--mqtt",
        metavar="mqtt://HOST:PORT",
        help="publish every event to this MQTT broker and take commands from it (needs the "
        "mqtt extra) [DLRSIM_MQTT]",
    )
    parser.add_argument(
        "--store",
        metavar="memory|sqlite:PATH",
        help="keep the journal, messages and pending receipts in an SQLite file across "
        "restarts (default memory) [DLRSIM_STORE]",
    )
    parser.add_argument(
        "--instance",
        metavar="NAME",
        help="name in the MQTT topics dlrsim/NAME/... (default 'local', or 'local-PORT' off "
        "the default SMPP port) [DLRSIM_INSTANCE]",
    )


class _Parser(argparse.ArgumentParser):
    """Bad arguments give one `dlrsim:` line (and exit status 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"dlrsim: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dlrsim",
        description="SMPP/DLR simulator for integration testing: a fake SMSC with "
        "scripted receipts.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  dlrsim                 # serve SMPP on 127.0.0.1:2775\n"
        "  dlrsim send --to 447700900123 --text hello\n  dlrsim catalog list",
    )
    parser.add_argument("--version", action="version", version=f"dlrsim {__version__}")
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    _serve_parser(sub)
    from simulator.cli_tools import register_tools

    register_tools(sub)
    from simulator.cli_catalog import register as register_catalog
    from simulator.cli_scenario import register as register_scenario

    register_catalog(sub)
    register_scenario(sub)
    return parser


def _configure_logging(quiet: bool, fmt: str) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(message)s" if fmt == "json" else "%(levelname)-7s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("dlrsim.events").setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger("dlrsim.smpp").setLevel(logging.WARNING)


def _cmd_serve(args: argparse.Namespace) -> int:
    from simulator.app import Simulator
    from simulator.config import DEFAULT_HTTP_PORT, build_settings
    from simulator.eventlog import EventLogger
    from simulator.scenario.files import default_scenario_path

    flags = {
        "smpp": args.smpp,
        "smpp_tls": args.smpp_tls,
        "http": args.http,
        "https": args.https,
        "callback_url": args.callback_url,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "config": args.config,
        "seed": args.seed,
        "time_scale": args.time_scale,
        "enroute_after": args.enroute_after,
        "delivered_after": args.delivered_after,
        "accept_any": args.accept_any,
        "quiet": args.quiet,
        "scenario": args.scenario,
        "journal_size": args.journal_size,
        "watch": args.watch,
        "log_format": args.log_format,
        "api_token": args.api_token,
        "allow_remote_api": args.allow_remote_api,
        "mqtt": args.mqtt,
        "instance": args.instance,
        "store": args.store,
    }
    settings = build_settings(flags)
    if "http_port" not in settings.model_fields_set:
        settings = settings.model_copy(update={"http_port": DEFAULT_HTTP_PORT})
    if settings.scenario is None:
        settings = settings.model_copy(update={"scenario": default_scenario_path()})
    elif str(settings.scenario) == "none":
        settings = settings.model_copy(update={"scenario": None})
    _configure_logging(settings.quiet, settings.log_format)

    async def run() -> None:
        simulator = Simulator(settings)
        if not settings.quiet:
            simulator.events.subscribe(EventLogger(settings.log_format))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await simulator.start()
        # A long-running server makes many small, long-lived objects (message records, queued
        # receipts); the default thresholds run full collections often enough to cost a fifth
        # of the CPU and 100+ ms pauses. Freeze start-up objects and collect less eagerly.
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)
        print(banner(simulator), flush=True)
        await stop.wait()
        print("dlrsim: stopping (unbinding sessions)", file=sys.stderr, flush=True)
        await simulator.stop()

    _run_loop(run())
    return 0


def _run_loop(coro: Any) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


def banner(simulator: Any) -> str:
    settings = simulator.settings
    lines = [f"dlrsim {__version__} ready"]
    for listener in simulator.listeners:
        lines.append(f"  {listener.name:<9} {listener.host}:{listener.port}   ({listener.url})")
    mqtt = getattr(simulator, "mqtt", None)
    if mqtt is not None:
        state = "connected" if mqtt.connected else "not reachable yet, buffering"
        lines.append(f"  mqtt      {mqtt.address}   (topics {mqtt.prefix}/...; {state})")
    persistence = getattr(simulator, "persistence", None)
    if persistence is not None:
        lines.append(f"  store     {persistence.describe()}")
    runtime = getattr(simulator, "scenario", None)
    if runtime is not None:
        scenario = runtime.scenario
        watching = " (watching for changes)" if settings.watch else ""
        lines.append(f"  scenario  {scenario.name} from {settings.scenario}{watching}")
        if scenario.provider:
            lines.append(
                f"  provider  {scenario.provider} (test numbers: dlrsim catalog numbers "
                f"{scenario.provider})"
            )
    if settings.accepts_any:
        lines.append("  accounts  any system_id and password are accepted (embedded default)")
    for account in settings.accounts:
        password = "any password" if account.password is None else f"password {account.password!r}"
        binds = ", ".join(account.bind_types)
        lines.append(f"  account   {account.system_id!r} with {password}, binds: {binds}")
    if runtime is None:
        enroute = min(settings.enroute_after, settings.delivered_after)
        lines.append(
            f"  receipts  ENROUTE after {enroute:g} s, DELIVRD after {settings.delivered_after:g} s"
            f" (simulated; time scale {settings.time_scale:g})"
        )
    elif settings.time_scale != 1:
        lines.append(f"  time      {settings.time_scale:g} simulated seconds per real second")
    if settings.seed is not None:
        lines.append(f"  seed      {settings.seed}")
    lines.append("  Ctrl-C stops (sessions are unbound cleanly)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not arguments or (
        arguments[0].startswith("-") and arguments[0] not in ("-h", "--help", "--version")
    ):
        arguments = ["serve", *arguments]
    args = parser.parse_args(arguments)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except SimulatorError as error:
        print(f"dlrsim: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"dlrsim: {error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
