"""The near-miss report of a timed-out wait, pinned by `tests/golden/near_miss_report.txt`.

`DLRSIM_UPDATE_GOLDEN=1` rewrites the golden file after a deliberate change (review the diff).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from esme_client import Esme
from plugin_helpers import QUIET

from simulator.testing import Controller, Receipt, near_miss_report

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "near_miss_report.txt"


def _receipt(number: int, stat: str) -> Receipt:
    return Receipt(
        seq=number, time=0.0, message_id=f"id-{number}", account="a", source="S",
        destination=f"4477009{number:05d}", stat=stat, err="000", outcome="delivered",
        status=0, attempts=1,
    )


def test_the_report_matches_the_golden_file() -> None:
    """Three messages with three fates; the wait asks for a receipt none of them gives."""
    with Controller(seed=11) as sim:
        sim.expect(to="447700900102", outcome="EC_ABSENT_SUBSCRIBER")
        sim.expect(to="447700900103", reject="ESME_RTHROTTLED")
        client = Esme(sim.smpp_address, "shop")
        try:
            for number in ("447700900101", "447700900102", "447700900103"):
                client.submit(number, "Your code is 123456")
            sim.wait_for_receipts(2)
            with pytest.raises(AssertionError) as failed:
                sim.wait_for_receipts(
                    1, timeout=0.2, destination="447700900102", stat="DELIVRD"
                )
            with pytest.raises(AssertionError) as failed_submit:
                sim.wait_for_submits(4, timeout=0.1, accepted=True)
        finally:
            client.close()
    report = f"{failed.value}\n---\n{failed_submit.value}\n"
    if os.environ.get("DLRSIM_UPDATE_GOLDEN") == "1":  # regenerate, then review the diff
        GOLDEN.write_text(report, encoding="utf-8")
    assert report == GOLDEN.read_text(encoding="utf-8")


def test_the_report_shows_in_pytest_output(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from esme import Esme

        def test_waits_for_the_wrong_number(dlrsim):
            client = Esme(dlrsim.smpp_address)
            try:
                client.submit("447700900111")
                dlrsim.wait_for_receipts(1, to="447700900999", timeout=0.3)
            finally:
                client.close()
        """
    )
    result = inner.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: dlrsim: waited 0.3 s for 1 receipt with "
            "destination='447700900999'; 0 matched.",
            "*1 receipt arrived:",
            "*1. message_id=* destination='447700900111' stat='DELIVRD' err='000'*",
            "*did not match: destination is '447700900111', wanted '447700900999'",
        ]
    )


def test_nothing_arrived_says_what_to_check() -> None:
    text = near_miss_report("receipt", 1, {}, [], 1.0)
    assert text.splitlines()[1].startswith("Nothing arrived: no receipt was answered")


def test_long_lists_are_cut() -> None:
    arrivals = [_receipt(n, "UNDELIV") for n in range(25)]
    text = near_miss_report("receipt", 1, {"stat": "DELIVRD"}, arrivals, 2.0)
    assert "20. message_id='id-19'" in text and "id-20" not in text
    assert text.endswith("... and 5 more")
    assert text.count("did not match: stat is 'UNDELIV', wanted 'DELIVRD'") == 20


def test_predicates_and_patterns_are_named_in_the_report() -> None:
    import re

    def long_enough(value: str) -> bool:
        return len(value) > 20

    text = near_miss_report(
        "receipt", 1, {"destination": long_enough, "message_id": re.compile("^x")},
        [_receipt(1, "DELIVRD")], 1.0,
    )
    assert "destination is '447700900001', wanted to satisfy long_enough" in text
    assert "message_id is 'id-1', wanted to match /^x/" in text
