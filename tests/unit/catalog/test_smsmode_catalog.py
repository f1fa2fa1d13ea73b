"""Checks catalogs/smsmode.yaml against the smsmode seed (001_748884122503a4ca.txt).

The literals below were transcribed from the seed's four tables (names) and from the legacy
HTTP API 1.6 `statut` values that providers.md section 2.5 matches to those names; they are
kept independent of the YAML so that a dropped, added or renumbered entry fails here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from simulator.catalog.model import FINAL_STATS, Catalog, Entry
from tests.unit.catalog.flows import reaches_final

CATALOG_PATH = Path(__file__).resolve().parents[3] / "catalogs" / "smsmode.yaml"

# Rows per table of the seed 001_748884122503a4ca.txt: "GENERAL STATUTES", "TEMPORARY ERRORS",
# "PERMANENT ERRORS", "OTHER ERRORS" (the row "Routing error / Not routable error" is one row).
EXPECTED_COUNTS = {
    "general_statutes": 7,
    "temporary_errors": 4,
    "permanent_errors": 3,
    "other_errors": 5,
}

# (section, seed name) for every row of the seed, in seed order.
EXPECTED_NAMES = {
    ("general_statutes", "Sent"),
    ("general_statutes", "In Progress"),
    ("general_statutes", "Received"),
    ("general_statutes", "Delivered to operator"),
    ("general_statutes", "Partially received"),
    ("general_statutes", "Not sent - Insufficient credit"),
    ("general_statutes", "Undefined"),
    ("temporary_errors", "Temporary error operator"),
    ("temporary_errors", "Temporary error Absence"),
    ("temporary_errors", "Temporary error Phone"),
    ("temporary_errors", "Temporary error portability"),
    ("permanent_errors", "Permanent error absence"),
    ("permanent_errors", "Permanent error phone"),
    ("permanent_errors", "Permanent error portability"),
    ("other_errors", "Internal error"),
    ("other_errors", "Routing error"),
    ("other_errors", "Reception error"),
    ("other_errors", "Error other"),
    ("other_errors", "Black-listed number"),
}

# (section, statut code) for the same rows, same order.
EXPECTED_CODES = {
    ("general_statutes", "0"),
    ("general_statutes", "1"),
    ("general_statutes", "11"),
    ("general_statutes", "13"),
    ("general_statutes", "15"),
    ("general_statutes", "33"),
    ("general_statutes", "999"),
    ("temporary_errors", "3501"),
    ("temporary_errors", "3502"),
    ("temporary_errors", "3503"),
    ("temporary_errors", "3504"),
    ("permanent_errors", "3522"),
    ("permanent_errors", "3523"),
    ("permanent_errors", "3526"),
    ("other_errors", "2"),
    ("other_errors", "34"),
    ("other_errors", "35"),
    ("other_errors", "3599"),
    ("other_errors", "3999"),
}

# Statuses the seed describes as temporary / not yet a result.
EXPECTED_NON_FINAL_CODES = {"0", "1", "13"}


def _raw() -> dict[str, Any]:
    with CATALOG_PATH.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict)
    return data


def _catalog() -> Catalog:
    return Catalog.model_validate(_raw())


def _by_key(catalog: Catalog) -> dict[str, Entry]:
    return {entry.key: entry for entry in catalog.entries}


def test_catalog_loads_and_names_the_seed() -> None:
    catalog = _catalog()
    assert catalog.provider == "smsmode"
    assert catalog.seed == "001_748884122503a4ca.txt"
    assert [section.id for section in catalog.sections] == list(EXPECTED_COUNTS)


def test_entry_count_per_section_matches_seed_tables() -> None:
    counts = Counter(entry.section for entry in _catalog().entries)
    assert dict(counts) == EXPECTED_COUNTS
    assert sum(counts.values()) == 19


def test_section_name_pairs_match_seed() -> None:
    assert {(entry.section, entry.name) for entry in _catalog().entries} == EXPECTED_NAMES


def test_section_code_pairs_match_seed() -> None:
    assert {(entry.section, entry.code) for entry in _catalog().entries} == EXPECTED_CODES


def test_draft_only_code_3560_is_absent() -> None:
    # The draft split the seed's "Routing error / Not routable error" row into 34 and 3560.
    codes = [entry.code for entry in _catalog().entries]
    assert "3560" not in codes
    assert codes.count("34") == 1


def test_keys_and_codes_are_unique_in_the_raw_yaml() -> None:
    entries = _raw()["entries"]
    keys = [entry["key"] for entry in entries]
    codes = [str(entry["code"]) for entry in entries]
    assert len(keys) == len(set(keys))
    assert len(codes) == len(set(codes))


def test_callback_fills_statut_as_a_json_integer() -> None:
    for entry in _raw()["entries"]:
        callback = entry["callback"]
        assert set(callback) == {"statut"}, entry["key"]
        statut = callback["statut"]
        assert type(statut) is int, entry["key"]  # not a string, not a bool
        assert str(statut) == str(entry["code"]), entry["key"]


def test_callback_format_is_a_get_query_string() -> None:
    catalog = _catalog()
    assert catalog.callback.method == "GET"
    assert catalog.callback.content_type is None
    assert catalog.message_id.format == "alnum"
    assert catalog.message_id.example == "S7EpYZ5kmS87"


def test_final_flags_follow_the_seed() -> None:
    non_final = {entry.code for entry in _catalog().entries if not entry.final}
    assert non_final == EXPECTED_NON_FINAL_CODES


def test_outcome_permanent_and_stat_are_consistent() -> None:
    for entry in _catalog().entries:
        assert (entry.outcome == "pending") == (not entry.final), entry.key
        if entry.final:
            assert entry.smpp.stat in FINAL_STATS, entry.key
        else:
            assert entry.smpp.stat == "ENROUTE", entry.key
        failed = entry.outcome in {"undelivered", "expired", "rejected"}
        assert (entry.permanent is not None) == failed, entry.key


def test_err_follows_the_stated_rule_and_is_distinct() -> None:
    entries = _catalog().entries
    for entry in entries:
        assert entry.code is not None
        number = int(entry.code)
        expected = f"{number:03d}" if number < 1000 else f"{number:03X}"
        assert entry.smpp.err == expected, entry.key
    errs = [entry.smpp.err for entry in entries]
    assert len(errs) == len(set(errs))


def test_initial_and_delivered_statuses() -> None:
    catalog = _catalog()
    entries = _by_key(catalog)
    initial = entries[catalog.initial_status]
    delivered = entries[catalog.delivered_status]
    assert (initial.code, initial.final) == ("0", False)
    assert (delivered.code, delivered.final, delivered.outcome) == ("11", True, "delivered")
    assert delivered.smpp.stat == "DELIVRD"


def test_errors_have_no_companion_status() -> None:
    for entry in _catalog().entries:
        assert entry.with_status is None, entry.key
        expected_kind = "status" if entry.section == "general_statutes" else "error"
        assert entry.kind == expected_kind, entry.key


def test_every_non_final_entry_reaches_a_final_entry() -> None:
    entries = _by_key(_catalog())
    for start in (entry for entry in entries.values() if not entry.final):
        assert reaches_final(entries, start), start.key


def test_final_entries_list_no_successors() -> None:
    for entry in _catalog().entries:
        if entry.final:
            assert entry.next == [], entry.key
