"""Where shipped scenarios live: `$DLRSIM_SCENARIO_DIR`, else the repository's `scenarios/`."""

from __future__ import annotations

import os
from pathlib import Path

from simulator.catalog.loader import installed_data_dir

SCENARIO_DIR_ENV = "DLRSIM_SCENARIO_DIR"
DEFAULT_SCENARIO = "default.yaml"


def scenario_dir() -> Path:
    configured = os.environ.get(SCENARIO_DIR_ENV)
    if configured:
        return Path(configured)
    return installed_data_dir("scenarios")


def default_scenario_path() -> Path:
    """The scenario the bare `dlrsim` command serves."""
    return scenario_dir() / DEFAULT_SCENARIO
