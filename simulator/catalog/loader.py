"""Find, read and validate the provider catalogs (`catalogs/*.yaml`).

Strategy: `core.yamldoc` parses each file keeping the line of every key and list item and hands
plain data to the pydantic `Catalog` model. Each pydantic error location is mapped back onto the
data to name the file, the line, the entry (index and key) and the dotted field path, and is
reworded as "expected ...; found ...". Cross-reference errors, which pydantic reports for the
whole catalog, are pinned down again here so that they too point at the exact entry and field.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.catalog.model import FINAL_STATS, Catalog
from simulator.core.yamldoc import (
    Loc,
    ProblemsError,
    YamlDocument,
    YamlError,
    YamlLoader,
    closest,
    explain_errors,
    format_located,
    get_path,
    parse_yaml,
    read_text,
)
from simulator.core.yamldoc import display_path as _display
from simulator.core.yamldoc import found as _found

#: Environment variable naming the catalog directory (overrides the bundled `catalogs/`).
CATALOG_DIR_ENV = "DLRSIM_CATALOG_DIR"

# libyaml's loader, where PyYAML was built with it, composes about five times faster (the
# Infobip catalog: 0.1 s against 0.57 s) and keeps the same node marks. Looked up at each call,
# so tests can swap it.
_LOADER: YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ProblemsError):
    """A catalog could not be found, read or validated, or a lookup in it failed.

    `problems` holds one self-contained line per problem; `str()` joins them with newlines.
    """


def default_catalog_dir() -> Path:
    """`$DLRSIM_CATALOG_DIR` when set, else the checkout's `catalogs/`, else the copy a
    non-editable install put in `<prefix>/share/dlrsim/catalogs`."""
    configured = os.environ.get(CATALOG_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    return installed_data_dir("catalogs")


def installed_data_dir(name: str) -> Path:
    """A data folder of the project: from the checkout, or as installed under sys.prefix."""
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "dlrsim" / name


def catalog_files(directory: Path) -> list[Path]:
    """The catalog files of a directory, sorted; schema files and hidden files are skipped."""
    return sorted(
        path
        for path in directory.glob("*.yaml")
        if path.is_file()
        and not path.name.startswith(".")
        and path.stem != "schema"
        and not path.stem.endswith(".schema")
    )


def load_catalogs(directory: Path | None = None) -> dict[str, Catalog]:
    """Load and validate every catalog of `directory`, keyed by provider.

    All files are checked before anything is raised, so one run reports every broken catalog.
    """
    root = default_catalog_dir() if directory is None else directory
    if not root.is_dir():
        from_env = directory is None and bool(os.environ.get(CATALOG_DIR_ENV, "").strip())
        origin = f" (from {CATALOG_DIR_ENV})" if from_env else ""
        raise CatalogError(f"{_display(root)}: catalog directory{origin} does not exist")
    files = catalog_files(root)
    if not files:
        raise CatalogError(f"{_display(root)}: no catalog files (*.yaml) found")
    catalogs: dict[str, Catalog] = {}
    problems: list[str] = []
    for path in files:
        try:
            catalog = load_catalog_file(path)
        except CatalogError as error:
            problems.extend(error.problems)
            continue
        catalogs[catalog.provider] = catalog
    if problems:
        raise CatalogError(*problems)
    return catalogs


def load_catalog_file(path: Path) -> Catalog:
    """Read one catalog file; the provider must match the file name (`infobip.yaml`)."""
    name = _display(path)
    try:
        document = parse_yaml(read_text(path, name), name, loader=_LOADER)
    except YamlError as error:
        raise CatalogError(*error.problems) from None
    catalog = validate_catalog(document, name)
    if catalog.provider != path.stem:
        line = document.line_of(("provider",))
        raise CatalogError(
            f"{name}:{line}: provider: expected {path.stem!r} (the file name); "
            f"found {catalog.provider!r}"
        )
    return catalog


def validate_catalog(document: YamlDocument, name: str) -> Catalog:
    """Validate parsed data against `Catalog`; every problem becomes one located line."""
    if not isinstance(document.data, dict):
        found = "an empty file" if document.data is None else _found(document.data)
        raise CatalogError(f"{name}:1: expected a mapping of catalog fields; found {found}")
    try:
        return Catalog.model_validate(document.data)
    except ValidationError as error:
        located = explain_errors(
            error.errors(include_url=False), document, Catalog, pin=_pin, label_keys=("key", "id")
        )
        raise CatalogError(*format_located(name, located)) from None


# --- catalog-wide and per-entry rules, pinned onto the fields that break them -----------------


def _pin(path: Loc, tags: Loc, detail: Mapping[str, Any], data: Any) -> list[tuple[Loc, str]]:
    """Relocate the model-level rules of `Catalog` and `Entry` onto the offending fields."""
    if detail["type"] != "value_error" or tags:
        return []
    if not path:
        return list(_reference_problems(data))
    if len(path) == 2 and path[0] == "entries" and isinstance(path[1], int):
        return list(_entry_rule_problems(path, get_path(data, path)))
    return []


def _reference_problems(data: Any) -> Iterator[tuple[Loc, str]]:
    """Locate the catalog-wide rules of `Catalog` (unique keys, references that must resolve)."""
    entries = [item if isinstance(item, dict) else {} for item in data.get("entries") or []]
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        key = entry.get("key")
        if not isinstance(key, str):
            continue
        if key in first_index:
            yield (
                ("entries", index, "key"),
                f"expected a key not used by another entry; found {key!r}, already the key "
                f"of entries[{first_index[key]}]",
            )
        else:
            first_index[key] = index
    keys = sorted(first_index)
    for field_name in ("initial_status", "delivered_status"):
        value = data.get(field_name)
        if value not in first_index:
            yield (field_name,), f"expected the key of an entry; found {_found(value)}"
    sections = [s.get("id") for s in data.get("sections") or [] if isinstance(s, dict)]
    for index, entry in enumerate(entries):
        if entry.get("section") not in sections:
            yield (
                ("entries", index, "section"),
                f"expected a declared section id ({', '.join(map(str, sections))}); "
                f"found {_found(entry.get('section'))}",
            )
        for position, successor in enumerate(entry.get("next") or []):
            if successor not in first_index:
                yield (
                    ("entries", index, "next", position),
                    f"expected the key of an entry{closest(successor, keys)}; "
                    f"found {_found(successor)}",
                )
        status = entry.get("with_status")
        if status is not None and status not in first_index:
            yield (
                ("entries", index, "with_status"),
                f"expected the key of an entry{closest(status, keys)}; found {_found(status)}",
            )


def _entry_rule_problems(path: Loc, entry: Any) -> Iterator[tuple[Loc, str]]:
    """Locate the per-entry consistency rules of `Entry` on the field that breaks them."""
    if not isinstance(entry, dict):
        return
    raw_smpp = entry.get("smpp")
    smpp: dict[str, Any] = raw_smpp if isinstance(raw_smpp, dict) else {}
    final = entry.get("final")
    if final is True and smpp.get("stat") == "ENROUTE":
        yield (
            (*path, "smpp", "stat"),
            f"expected a final stat ({', '.join(sorted(FINAL_STATS))}) because final is true; "
            "found 'ENROUTE'",
        )
    if final is False and entry.get("outcome") != "pending":
        yield (
            (*path, "outcome"),
            f"expected 'pending' because final is false; found {_found(entry.get('outcome'))}",
        )
    if final is False and not entry.get("next"):
        yield (
            (*path, "next"),
            "expected at least one successor key because final is false; found none",
        )
