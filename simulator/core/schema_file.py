"""Write or check a committed JSON Schema file: one command line for every exported schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def schema_command(
    argv: Sequence[str] | None,
    *,
    module: str,
    description: str,
    default_output: Path,
    render: Callable[[], str],
) -> int:
    """Write (or with `--check`, verify) a schema file; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=description,
        epilog=f"example: python -m {module} --check",
    )
    parser.add_argument("--output", type=Path, default=default_output, help="file to write")
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when the file is out of date"
    )
    args = parser.parse_args(argv)
    output: Path = args.output
    text = render()
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            print(
                f"dlrsim: {output} is out of date; regenerate it with python -m {module}",
                file=sys.stderr,
            )
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return 0
