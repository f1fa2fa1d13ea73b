"""Small operational subcommands: `send` (a smoke-test ESME), `readyz`, `version`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from simulator import __version__
from simulator.config import DEFAULT_SMPP_PORT, parse_address


def register_tools(sub: Any) -> None:
    send = sub.add_parser(
        "send",
        help="bind, submit one message, wait for its receipt and print it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  dlrsim send --to 447700900123 --text 'hello' --timeout 10",
    )
    send.add_argument(
        "--smpp", metavar="HOST:PORT", help="SMSC address (default: DLRSIM_SMPP or 127.0.0.1:2775)"
    )
    send.add_argument("--system-id", default="dlrsim-send")
    send.add_argument("--password", default="secret")
    send.add_argument("--from", dest="source", default="DLRSIM", help="source address")
    send.add_argument("--to", dest="destination", required=True, help="destination number")
    send.add_argument("--text", default="Hello from dlrsim")
    send.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the final receipt"
    )
    send.add_argument(
        "--no-receipt", action="store_true", help="do not ask for or wait for a receipt"
    )
    send.set_defaults(handler=_cmd_send)

    readyz = sub.add_parser(
        "readyz",
        help="exit 0 when the SMPP listener answers (Docker health check)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  dlrsim readyz --smpp 127.0.0.1:2775 && echo up",
    )
    readyz.add_argument(
        "--smpp", metavar="HOST:PORT", help="SMSC address (default: DLRSIM_SMPP or 127.0.0.1:2775)"
    )
    readyz.add_argument("--timeout", type=float, default=2.0)
    readyz.set_defaults(handler=_cmd_readyz)

    version = sub.add_parser(
        "version", help="print the version", epilog="example:\n  dlrsim version"
    )
    version.set_defaults(handler=lambda _args: _print_version())


def _print_version() -> int:
    print(f"dlrsim {__version__}")
    return 0


def _target(text: str | None) -> tuple[str, int]:
    value = text or os.environ.get("DLRSIM_SMPP") or f"127.0.0.1:{DEFAULT_SMPP_PORT}"
    host, port = parse_address(value)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return host, port


def _cmd_readyz(args: argparse.Namespace) -> int:
    from simulator.smpp.client import EsmeError, MiniEsme

    host, port = _target(args.smpp)

    async def probe() -> None:
        esme = await MiniEsme.connect(host, port, args.timeout)
        try:
            await esme.enquire_link(args.timeout)
        finally:
            await esme.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError, EsmeError) as error:
        print(
            f"dlrsim: not ready: SMPP {host}:{port}: {error or type(error).__name__}",
            file=sys.stderr,
        )
        return 1
    print(f"ready: SMPP {host}:{port}")
    return 0


def _cmd_send(args: argparse.Namespace) -> int:
    from simulator.smpp.client import EsmeError, MiniEsme, receipted_id
    from simulator.smpp.codec.text import choose_coding, split_message

    host, port = _target(args.smpp)
    coding = choose_coding(args.text)
    bodies = split_message(args.text, coding, reference=os.getpid() & 0xFF)

    async def run() -> int:
        esme = await MiniEsme.connect(host, port)
        try:
            await esme.bind(args.system_id, args.password)
            ids = []
            for body in bodies:
                message_id = await esme.submit(
                    {
                        "source_addr": args.source,
                        "source_addr_ton": 5 if not args.source.isdigit() else 1,
                        "source_addr_npi": 0 if not args.source.isdigit() else 1,
                        "destination_addr": args.destination,
                        "dest_addr_ton": 1,
                        "dest_addr_npi": 1,
                        "esm_class": 0x40 if len(bodies) > 1 else 0,
                        "data_coding": coding,
                        "registered_delivery": 0 if args.no_receipt else 1,
                        "short_message": body,
                    }
                )
                ids.append(message_id)
                print(
                    f"submitted id={message_id} to={args.destination} part={len(ids)}/{len(bodies)}"
                )
            if args.no_receipt:
                return 0
            waiting = set(ids)
            async for receipt in esme.receipts(args.timeout):
                print(f"receipt {receipt.bytes_param('short_message').decode('ascii', 'replace')}")
                waiting.discard(receipted_id(receipt) or "")
                if not waiting:
                    return 0
            return 1
        finally:
            await esme.unbind()
            await esme.close()

    try:
        return asyncio.run(run())
    except TimeoutError:
        print(f"dlrsim: no final receipt within {args.timeout:g} s", file=sys.stderr)
        return 1
    except (OSError, EsmeError) as error:
        print(f"dlrsim: send failed: {error}", file=sys.stderr)
        return 1
