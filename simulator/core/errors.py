"""The one exception tree of dlrsim.

Every error the simulator raises on purpose derives from `SimulatorError`, so callers (the CLI,
the control API, the pytest plugin) can tell our own, explained failures from bugs.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error dlrsim raises on purpose."""


class ConfigError(SimulatorError):
    """Invalid settings, flags or configuration file; the message says where and what."""
