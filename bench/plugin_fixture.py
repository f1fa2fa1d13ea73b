"""pytest plugin benchmark: fixture start, reset, and the Infobip every-outcome matrix.

Strategy. Three figures, each measured the way a test suite pays it:
- start: `Controller(...).start()` on a fresh VirtualClock, listening on free ports. The
  first start in a process also reads the provider catalogs (`cold`); later starts share them
  (the plugin's session factory does), so the median of those is `start`;
- reset: `Controller.reset()` after each of many one-message tests (a submit and its receipt
  through smpplib), median and 99th percentile: what the function-scoped `dlrsim` fixture
  costs before every test;
- matrix: `pytest examples/otp_smpp -k every_infobip` run in this process, timed from the
  first test's setup to the last teardown (collection and interpreter start excluded, and
  reported apart), with the first setup (the session simulator's start) and the median setup
  of the other tests taken from pytest's own reports.

    .venv/bin/python bench/plugin_fixture.py             # defaults: 30 starts, 200 resets
    .venv/bin/python bench/plugin_fixture.py --starts 10 --resets 50

Prints one line of name=value pairs; exits non-zero when a matrix test fails. Targets (issue
6): start under 150 ms, reset under 5 ms, the matrix under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "examples"))

from otp_smpp.app import OtpSender  # noqa: E402

from simulator.testing import Controller  # noqa: E402
from simulator.testing.options import shared_registry  # noqa: E402


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def measure_start(starts: int) -> tuple[float, float]:
    """(cold start incl. catalog loading, median warm start), in seconds."""
    began = time.perf_counter()
    registry = shared_registry()
    first = Controller(registry=registry).start()
    cold = time.perf_counter() - began
    first.stop()
    warm = []
    for _ in range(starts):
        began = time.perf_counter()
        controller = Controller(registry=registry).start()
        warm.append(time.perf_counter() - began)
        controller.stop()
    return cold, statistics.median(warm)


def measure_reset(resets: int) -> tuple[float, float]:
    """(median, p99) of reset() after a one-message test, in seconds."""
    took = []
    with Controller() as sim:
        for index in range(resets):
            with OtpSender(*sim.smpp_address) as app:
                message_id = app.send_code(f"4477009{index:05d}")
                sim.wait_for_receipts(1, message_id=message_id)
            began = time.perf_counter()
            sim.reset()
            took.append(time.perf_counter() - began)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.99))]


class MatrixTimer:
    """A pytest plugin object noting when the run starts and ends and each setup's time."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.collected_at: float | None = None
        self.finished: float | None = None
        self.setups: list[float] = []
        self.passed = 0
        self.failed = 0

    def pytest_sessionstart(self, session: Any) -> None:
        self.started = time.perf_counter()

    def pytest_collection_finish(self, session: Any) -> None:
        self.collected_at = time.perf_counter()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "setup":
            self.setups.append(report.duration)
        if report.when == "call":
            self.passed += report.passed
            self.failed += report.failed

    def pytest_sessionfinish(self, session: Any) -> None:
        self.finished = time.perf_counter()


def measure_matrix() -> MatrixTimer:
    timer = MatrixTimer()
    pytest.main(
        [str(REPO / "examples" / "otp_smpp"), "-q", "-p", "no:cacheprovider",
         "-k", "test_every_infobip_outcome_reaches_the_app", "--no-header", "--no-summary"],
        plugins=[timer],
    )
    return timer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=30, help="warm starts to time")
    parser.add_argument("--resets", type=int, default=200, help="one-message tests to reset")
    args = parser.parse_args()
    cold, warm = measure_start(args.starts)
    reset_median, reset_p99 = measure_reset(args.resets)
    timer = measure_matrix()
    assert timer.started and timer.collected_at and timer.finished
    fields = {
        "start_cold_ms": _ms(cold),
        "start_ms": _ms(warm),
        "reset_ms": _ms(reset_median),
        "reset_p99_ms": _ms(reset_p99),
        "matrix_tests": timer.passed + timer.failed,
        "matrix_failed": timer.failed,
        "matrix_s": round(timer.finished - timer.collected_at, 2),
        "matrix_collect_s": round(timer.collected_at - timer.started, 2),
        "matrix_first_setup_ms": _ms(timer.setups[0]) if timer.setups else None,
        "matrix_setup_ms": _ms(statistics.median(timer.setups[1:])) if timer.setups[1:] else None,
    }
    print(" ".join(f"{name}={value}" for name, value in fields.items()))
    return 1 if timer.failed or not timer.passed else 0


if __name__ == "__main__":
    sys.exit(main())
