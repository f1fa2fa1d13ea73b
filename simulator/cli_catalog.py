"""`dlrsim catalog list|show|export`: read the provider catalogs from the command line.

Strategy: `register` adds the parsers to the main CLI; each handler loads the registry (from
`--catalog-dir`, else `$DLRSIM_CATALOG_DIR`, else the bundled `catalogs/`), writes plain text,
JSON or CSV to stdout and returns an exit code. Any `SimulatorError` becomes exactly one line on
stderr, prefixed `dlrsim: `, with exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from simulator.catalog import (
    MESSAGE_STATE_BY_STAT,
    OUTCOME_CLASSES,
    Catalog,
    CatalogError,
    CatalogRegistry,
    Entry,
    EntryKind,
    load_registry,
)
from simulator.core.errors import SimulatorError

Handler = Callable[[argparse.Namespace], int]

ERROR_EXIT = 2
KINDS: tuple[EntryKind, ...] = ("status", "error")
CSV_COLUMNS = (
    "key",
    "code",
    "name",
    "kind",
    "section",
    "channel",
    "group_id",
    "group_name",
    "final",
    "permanent",
    "outcome",
    "smpp_stat",
    "smpp_err",
    "smpp_network_error_code",
    "smpp_network_type",
    "message_state",
    "with_status",
    "next",
    "description",
    "label",
    "callback",
    "notes",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `catalog` command and its subcommands to the main parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    catalog = subparsers.add_parser(
        "catalog",
        help="inspect the provider catalogs (status and error codes)",
        description="Inspect the provider catalogs: every documented status and error code, "
        "with the SMPP receipt and HTTP callback each one renders as.",
        epilog="examples:\n  dlrsim catalog list\n  dlrsim catalog show smsmode 3502",
        formatter_class=formatter,
    )
    catalog.add_argument(
        "--catalog-dir",
        type=Path,
        metavar="DIR",
        help="directory of catalog files (env DLRSIM_CATALOG_DIR; default: the bundled catalogs)",
    )
    commands = catalog.add_subparsers(dest="catalog_command", metavar="COMMAND", required=True)

    listing = commands.add_parser(
        "list",
        help="one line per provider with entry counts",
        description="List the providers with their entry counts by kind and by outcome class.",
        epilog="example:\n  dlrsim catalog list",
        formatter_class=formatter,
    )
    listing.set_defaults(handler=run_list)

    show = commands.add_parser(
        "show",
        help="the entries of one provider, or every field of one entry",
        description="Without CODE, print a table of the provider's entries. With CODE (a key, "
        "a name in any case, or the provider's code), print every field of that entry.",
        epilog="examples:\n  dlrsim catalog show clicksend\n"
        "  dlrsim catalog show smsmode 3502\n"
        "  dlrsim catalog show clicksend failed_absent_subscriber --channel sms",
        formatter_class=formatter,
    )
    show.add_argument("provider", metavar="PROVIDER", help="provider id, e.g. infobip")
    show.add_argument("code", metavar="CODE", nargs="?", help="entry key, name or code")
    show.add_argument("--kind", choices=KINDS, help="only look among statuses or errors")
    show.add_argument("--channel", help="only look among entries of this channel (e.g. sms)")
    show.set_defaults(handler=run_show)

    export = commands.add_parser(
        "export",
        help="every entry of one provider as JSON or CSV on stdout",
        description="Write all entries of a provider to stdout: JSON is a list of entry objects, "
        "CSV has one row per entry with flat columns (callback as compact JSON).",
        epilog="examples:\n  dlrsim catalog export infobip --format json > infobip.json\n"
        "  dlrsim catalog export clicksend --format csv",
        formatter_class=formatter,
    )
    export.add_argument("provider", metavar="PROVIDER", help="provider id, e.g. sinch")
    export.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt")
    export.set_defaults(handler=run_export)

    numbers = commands.add_parser(
        "numbers",
        help="one test number per SMS outcome: submitting to it produces that outcome",
        description="Print one destination number per SMS entry of the provider's catalog, "
        "tab-separated: number, kind, code, name, stat, err. Numbers are 999 BB V NNNN: 999 is "
        "a spare E.164 country code (no real subscriber), BB the provider's block, V the "
        "variant (0: the outcome arrives as receipts; 1, with --submit-reject: a rejected "
        "outcome is refused at submit time), NNNN the entry's position in its catalog.",
        epilog="examples:\n  dlrsim catalog numbers infobip\n"
        "  dlrsim catalog numbers sinch --submit-reject",
        formatter_class=formatter,
    )
    numbers.add_argument("provider", metavar="PROVIDER", help="provider id, e.g. infobip")
    numbers.add_argument(
        "--submit-reject",
        action="store_true",
        help="the submit-time variant of the rejected outcomes",
    )
    numbers.set_defaults(handler=run_numbers)


# --- handlers ----------------------------------------------------------------------------------


def _guarded(action: Callable[[argparse.Namespace], None]) -> Handler:
    """Run `action`; our own errors become one `dlrsim: ...` line on stderr and exit code 2."""

    def handler(args: argparse.Namespace) -> int:
        try:
            action(args)
        except CatalogError as error:
            print(f"dlrsim: {error.summary}", file=sys.stderr)
            return ERROR_EXIT
        except SimulatorError as error:
            print(f"dlrsim: {str(error).splitlines()[0]}", file=sys.stderr)
            return ERROR_EXIT
        except BrokenPipeError:
            # The reader went away (`dlrsim catalog export x | head`): stop quietly, and point
            # stdout at /dev/null so the interpreter's final flush does not complain again.
            _silence_stdout()
        return 0

    handler.__name__ = action.__name__
    handler.__doc__ = action.__doc__
    return handler


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured in tests)
        pass


def _registry(args: argparse.Namespace) -> CatalogRegistry:
    directory: Path | None = getattr(args, "catalog_dir", None)
    return load_registry(directory)


def _list(args: argparse.Namespace) -> None:
    """Print one aligned row per provider: entries by kind and by outcome class."""
    registry = _registry(args)
    header = ["PROVIDER", "NAME", "ENTRIES", *(k.upper() for k in KINDS)]
    header += [outcome.upper() for outcome in OUTCOME_CLASSES]
    rows = []
    for catalog in registry.catalogs():
        kinds = Counter(entry.kind for entry in catalog.entries)
        outcomes = Counter(entry.outcome for entry in catalog.entries)
        rows.append(
            [
                catalog.provider,
                catalog.display_name,
                str(len(catalog.entries)),
                *(str(kinds[kind]) for kind in KINDS),
                *(str(outcomes[outcome]) for outcome in OUTCOME_CLASSES),
            ]
        )
    _print_table(header, rows, numeric_from=2)


def _show(args: argparse.Namespace) -> None:
    """Print the entry table of a provider, or every field of the entry CODE names."""
    registry = _registry(args)
    catalog = registry.get(args.provider)
    if args.code is None:
        entries = registry.entries(catalog.provider, channel=args.channel)
        if args.kind is not None:
            entries = [entry for entry in entries if entry.kind == args.kind]
        header = ["KEY", "CODE", "KIND", "CHANNEL", "OUTCOME", "FINAL", "STAT", "ERR"]
        rows = [
            [
                entry.key,
                _text(entry.code),
                entry.kind,
                entry.channel,
                entry.outcome,
                _text(entry.final),
                entry.smpp.stat,
                entry.smpp.err,
            ]
            for entry in entries
        ]
        print(f"{catalog.display_name} ({catalog.provider}): {len(rows)} entries")
        _print_table(header, rows)
        return
    entry = registry.lookup(catalog.provider, args.code, kind=args.kind, channel=args.channel)
    for label, value in _entry_fields(registry, catalog, entry):
        print(f"{label + ':' if label else '':<{_LABEL_WIDTH}} {value}")


def _export(args: argparse.Namespace) -> None:
    """Write every entry of a provider to stdout as JSON or CSV."""
    catalog = _registry(args).get(args.provider)
    if args.fmt == "json":
        rows = [entry.model_dump(mode="json") for entry in catalog.entries]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in catalog.entries:
        writer.writerow(_csv_row(entry))


run_list = _guarded(_list)
run_show = _guarded(_show)
run_export = _guarded(_export)


def _numbers(args: argparse.Namespace) -> None:
    from simulator.engine.numbers import OutcomeNumbers

    registry = _registry(args)
    catalog = registry.get(args.provider)
    numbers = OutcomeNumbers(registry)
    listed = numbers.reject_numbers(catalog) if args.submit_reject else numbers.numbers(catalog)
    for item in listed:
        entry = item.entry
        fields = (
            item.number,
            entry.kind,
            entry.code or "-",
            entry.name,
            entry.smpp.stat,
            entry.smpp.err,
        )
        print("\t".join(fields))


run_numbers = _guarded(_numbers)


# --- formatting --------------------------------------------------------------------------------

_LABEL_WIDTH = 24


def _text(value: Any) -> str:
    """Table and CSV text: yes/no for booleans, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _entry_fields(
    registry: CatalogRegistry, catalog: Catalog, entry: Entry
) -> list[tuple[str, str]]:
    group = entry.group
    fields: list[tuple[str, str]] = [
        ("provider", f"{catalog.provider} ({catalog.display_name})"),
        ("key", entry.key),
        ("code", _text(entry.code) or "-"),
        ("name", entry.name),
        ("kind", entry.kind),
        ("section", entry.section),
        ("group", "-" if group is None else f"{_text(group.id) or '-'} {group.name}"),
        ("channel", entry.channel),
        ("description", entry.description),
        ("label", entry.label or "-"),
        ("final", _text(entry.final)),
        ("permanent", "-" if entry.permanent is None else _text(entry.permanent)),
        ("outcome", entry.outcome),
        ("smpp.stat", entry.smpp.stat),
        ("smpp.err", entry.smpp.err),
        ("smpp.network_error_code", _text(entry.smpp.network_error_code) or "-"),
        ("smpp.network_type", str(entry.smpp.network_type)),
        ("message_state", str(MESSAGE_STATE_BY_STAT[entry.smpp.stat])),
        ("callback", _compact_json(entry.callback) if entry.callback else "-"),
        ("with_status", entry.with_status or "-"),
        ("next", ", ".join(entry.next) or "-"),
    ]
    if not entry.final:
        finals = sorted(registry.final_successors(catalog.provider, entry.key))
        fields.append(("final successors", ", ".join(finals) or "-"))
    if entry.notes:
        fields.extend(("notes" if i == 0 else "", note) for i, note in enumerate(entry.notes))
    else:
        fields.append(("notes", "-"))
    return fields


def _csv_row(entry: Entry) -> dict[str, str]:
    group = entry.group
    return {
        "key": entry.key,
        "code": _text(entry.code),
        "name": entry.name,
        "kind": entry.kind,
        "section": entry.section,
        "channel": entry.channel,
        "group_id": "" if group is None else _text(group.id),
        "group_name": "" if group is None else group.name,
        "final": _bool_text(entry.final),
        "permanent": "" if entry.permanent is None else _bool_text(entry.permanent),
        "outcome": entry.outcome,
        "smpp_stat": entry.smpp.stat,
        "smpp_err": entry.smpp.err,
        "smpp_network_error_code": _text(entry.smpp.network_error_code),
        "smpp_network_type": str(entry.smpp.network_type),
        "message_state": str(MESSAGE_STATE_BY_STAT[entry.smpp.stat]),
        "with_status": _text(entry.with_status),
        "next": " ".join(entry.next),
        "description": entry.description,
        "label": _text(entry.label),
        "callback": _compact_json(entry.callback) if entry.callback else "",
        "notes": " | ".join(entry.notes),
    }


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _print_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = -1
) -> None:
    """Print columns padded to their widest cell; columns from `numeric_from` align right."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = [
            cell.rjust(width) if 0 <= numeric_from <= i else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
