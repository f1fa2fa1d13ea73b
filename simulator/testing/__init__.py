"""dlrsim as a test fixture: the pytest plugin and controllers for other runners.

- pytest: installing dlrsim registers the plugin (`simulator.testing.plugin`); use the
  `dlrsim` fixture, see `docs/testing.md`.
- unittest, scripts: `with Controller() as sim: ...` runs a simulator on a background thread
  with the same helpers; `AsyncController` does the same on a running asyncio loop.
- `every_outcome("infobip")`: one `pytest.param` per documented SMS outcome, for
  `pytest.mark.parametrize`.
"""

from __future__ import annotations

from simulator.testing.aio import AsyncController
from simulator.testing.base import BaseController, ClockControl, SimulatorInternalError
from simulator.testing.controller import Controller
from simulator.testing.nearmiss import near_miss_report
from simulator.testing.options import DlrsimSettings, OutcomeCase, every_outcome, outcome_cases
from simulator.testing.records import Receipt, Submit, Webhook

__all__ = [
    "AsyncController",
    "BaseController",
    "ClockControl",
    "Controller",
    "DlrsimSettings",
    "OutcomeCase",
    "Receipt",
    "SimulatorInternalError",
    "Submit",
    "Webhook",
    "every_outcome",
    "near_miss_report",
    "outcome_cases",
]
