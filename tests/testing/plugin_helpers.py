"""Shared by the plugin's tests: options for inner runs and the inner suites' SMPP client."""

from __future__ import annotations

from pathlib import Path

#: Options for inner runs: no cache files, and no hypothesis plugin (which would re-import
#: all of hypothesis for every in-process run, some seconds each).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

#: The client module each inner suite gets as `esme.py`.
ESME_SOURCE = (Path(__file__).parent / "esme_client.py").read_text(encoding="utf-8")
