"""Write `scenarios/schema.json`, the JSON Schema of a scenario file, from the pydantic model.

The model is the single source of truth (its `json_schema_extra` hooks add the YAML shorthand
forms, such as `after: 2s` or `destination: "4477*"`, that its validators accept); this module
only serialises it deterministically (sorted keys, two-space indent, trailing newline) so the
committed copy diffs cleanly and a test can compare it with a fresh rendering. `--check` exits 1
when the committed copy is stale.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from simulator.core.schema_file import schema_command
from simulator.scenario.model import Scenario

#: Where the committed schema lives (next to the shipped scenarios it describes).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "scenarios" / "schema.json"


def render_schema() -> str:
    """The schema text exactly as it should be committed."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dlrsim scenario"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with `--check`, verify) the schema file; returns the exit code."""
    return schema_command(
        argv,
        module="simulator.scenario.schema_export",
        description="Export the JSON Schema of scenario files.",
        default_output=SCHEMA_PATH,
        render=render_schema,
    )


if __name__ == "__main__":
    raise SystemExit(main())
