"""Write `scenarios/schema.json`, the JSON Schema of a scenario file, from the pydantic model.

The model is the single source of truth (its `json_schema_extra` hooks add the YAML shorthand
forms, such as `after: 2s` or `destination: "4477*"`, that its validators accept); this module
only serialises it deterministically (sorted keys, two-space indent, trailing newline) so the
committed copy diffs cleanly and a test can compare it with a fresh rendering. `--check` exits 1
when the committed copy is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

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
    parser = argparse.ArgumentParser(
        prog="python -m simulator.scenario.schema_export",
        description="Export the JSON Schema of scenario files.",
        epilog="example: python -m simulator.scenario.schema_export --check",
    )
    parser.add_argument("--output", type=Path, default=SCHEMA_PATH, help="file to write")
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when the file is out of date"
    )
    args = parser.parse_args(argv)
    output: Path = args.output
    text = render_schema()
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            print(
                f"dlrsim: {output} is out of date; regenerate it with "
                "python -m simulator.scenario.schema_export",
                file=sys.stderr,
            )
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
