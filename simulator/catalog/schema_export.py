"""Write `catalogs/schema.json`, the JSON Schema of a catalog file, from the pydantic model.

The model is the single source of truth; this file only serialises it deterministically (sorted
keys, two-space indent, trailing newline) so the committed copy diffs cleanly and a test can
compare it with a fresh rendering. `--check` exits 1 when the committed copy is stale.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from simulator.catalog.model import Catalog
from simulator.core.schema_file import schema_command

#: Where the committed schema lives (next to the catalogs it describes).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "catalogs" / "schema.json"


def render_schema() -> str:
    """The schema text exactly as it should be committed."""
    return json.dumps(Catalog.model_json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with `--check`, verify) the schema file; returns the exit code."""
    return schema_command(
        argv,
        module="simulator.catalog.schema_export",
        description="Export the JSON Schema of provider catalog files.",
        default_output=SCHEMA_PATH,
        render=render_schema,
    )


if __name__ == "__main__":
    raise SystemExit(main())
