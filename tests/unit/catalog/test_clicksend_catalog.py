"""Checks the ClickSend catalog against its seed (shared/seeds/000_93e61fd5360f8c7b.txt).

The literals below were transcribed from the seed's single table (columns N° / Statut / Code
d'état / Description / Que faire, rows 1-21), not from the YAML, so a dropped, merged or
re-coded row makes these tests fail.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import yaml

from simulator.catalog.model import Catalog, Entry
from tests.unit.catalog.flows import reaches_final

CATALOG_PATH = Path(__file__).resolve().parents[3] / "catalogs" / "clicksend.yaml"
SECTION = "sms_error_statuses"

# Rows per section, counted in the seed. The seed has one table ("Statuts d'erreur SMS",
# N° 1 to 21); it maps to the section `sms_error_statuses`.
EXPECTED_SECTION_COUNTS: dict[str, int] = {"sms_error_statuses": 21}

# (Statut, Code d'état) of each seed row, in row order N° 1..21. Row 6 has a dash, no code.
SEED_ROWS: list[tuple[str, str | None]] = [
    ("Envoyé", "200"),  # 1
    ("Envoyé", "201"),  # 2
    ("En file d'attente", "200"),  # 3
    ("Planifié", "200"),  # 4
    ("WaitApproval", "200"),  # 5
    ("CancelledAfterReview", None),  # 6
    ("Annulé", "301"),  # 7
    ("Échoué", "301"),  # 8
    ("Échoué", "301"),  # 9
    ("Échoué", "301"),  # 10
    ("Échoué", "301"),  # 11
    ("Échoué", "301"),  # 12
    ("Échoué", "301"),  # 13
    ("Échoué", "301"),  # 14
    ("Échoué", "301"),  # 15
    ("Échoué", "301"),  # 16
    ("Échoué", "300"),  # 17
    ("Échoué", "301"),  # 18
    ("Échoué", "301"),  # 19
    ("Échoué", "301"),  # 20
    ("Échoué", "301"),  # 21
]

# Distinct (section, code) pairs of the seed table.
EXPECTED_SECTION_CODES: set[tuple[str, str | None]] = {
    ("sms_error_statuses", "200"),
    ("sms_error_statuses", "201"),
    ("sms_error_statuses", "300"),
    ("sms_error_statuses", "301"),
    ("sms_error_statuses", None),
}

# How often each code occurs in the seed table.
EXPECTED_CODE_COUNTS: dict[str | None, int] = {"200": 4, "201": 1, "300": 1, "301": 14, None: 1}

# Fields each entry fills in the push receipt, with their allowed JSON types.
CALLBACK_FIELDS = {"status", "status_code", "status_text", "error_code", "error_text"}


@cache
def load_catalog() -> Catalog:
    with CATALOG_PATH.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))


def by_key() -> dict[str, Entry]:
    return {entry.key: entry for entry in load_catalog().entries}


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def test_catalog_identity() -> None:
    catalog = load_catalog()
    assert catalog.provider == "clicksend"
    assert catalog.seed == "000_93e61fd5360f8c7b.txt"
    assert catalog.language == "fr"
    assert catalog.message_id.format == "uuid_upper"
    assert catalog.callback.method == "POST"
    assert catalog.uses_network_error_code is False


def test_entry_count_per_section() -> None:
    catalog = load_catalog()
    counts = Counter(entry.section for entry in catalog.entries)
    assert dict(counts) == EXPECTED_SECTION_COUNTS
    assert {section.id for section in catalog.sections} == set(EXPECTED_SECTION_COUNTS)


def test_section_code_pairs_match_seed() -> None:
    pairs = {(entry.section, entry.code) for entry in load_catalog().entries}
    assert pairs == EXPECTED_SECTION_CODES


def test_code_multiplicity_matches_seed() -> None:
    counts = Counter(entry.code for entry in load_catalog().entries)
    assert dict(counts) == EXPECTED_CODE_COUNTS


def test_rows_follow_seed_order_with_statut_as_group() -> None:
    rows = [
        (entry.group.name if entry.group else None, entry.code) for entry in load_catalog().entries
    ]
    assert rows == SEED_ROWS


def test_labels_start_with_the_seed_statut() -> None:
    for entry, (statut, _code) in zip(load_catalog().entries, SEED_ROWS, strict=True):
        assert entry.label is not None
        assert entry.label.split(" : ")[0] == statut, entry.key


def test_keys_are_unique() -> None:
    keys = [entry.key for entry in load_catalog().entries]
    assert len(keys) == len(set(keys))


def test_initial_and_delivered_statuses() -> None:
    catalog = load_catalog()
    entries = by_key()
    initial = entries[catalog.initial_status]
    delivered = entries[catalog.delivered_status]
    assert initial.final is False
    assert initial.code == "200"
    assert delivered.code == "201"
    assert delivered.final is True
    assert delivered.outcome == "delivered"
    assert delivered.smpp.stat == "DELIVRD"


def test_callback_fields_and_json_types() -> None:
    for entry in load_catalog().entries:
        callback = entry.callback
        assert set(callback) == CALLBACK_FIELDS, entry.key
        assert callback["status"] in {"Delivered", "Undelivered"}, entry.key
        assert (callback["status"] == "Delivered") == (entry.code == "201"), entry.key
        assert isinstance(callback["status_text"], str), entry.key
        if entry.code is None:
            assert callback["status_code"] is None, entry.key
        else:
            assert is_int(callback["status_code"]), entry.key
            assert callback["status_code"] == int(entry.code), entry.key
        error_code = callback["error_code"]
        error_text = callback["error_text"]
        assert error_code is None or is_int(error_code), entry.key
        assert (error_code is None) == (error_text is None), entry.key
        if error_text is not None:
            assert isinstance(error_text, str), entry.key
        # Only failures carry an error; pending and delivered entries leave it null.
        is_failure = entry.permanent is not None
        assert (error_code is not None) == is_failure, entry.key


def test_smpp_err_values_identify_entries() -> None:
    entries = load_catalog().entries
    errs = [entry.smpp.err for entry in entries]
    assert len(errs) == len(set(errs))
    for row, entry in enumerate(entries, start=1):
        expected = "000" if entry.smpp.stat == "DELIVRD" else f"{row:03d}"
        assert entry.smpp.err == expected, entry.key
        if entry.callback["error_code"] is not None:
            assert entry.callback["error_code"] == row, entry.key


def test_pending_entries_render_enroute_and_finals_do_not() -> None:
    for entry in load_catalog().entries:
        assert (entry.smpp.stat == "ENROUTE") == (not entry.final), entry.key
        assert (entry.outcome == "pending") == (not entry.final), entry.key
        if entry.final:
            assert entry.next == [], entry.key
            assert (entry.permanent is None) == (entry.outcome == "delivered"), entry.key


def test_every_non_final_entry_reaches_a_final_one() -> None:
    entries = by_key()
    for start in (entry for entry in entries.values() if not entry.final):
        assert reaches_final(entries, start), start.key


def test_draft_corrections_follow_the_seed() -> None:
    entries = by_key()
    # Row 5 is not final, so it cannot render as the final SMPP state ACCEPTD.
    assert entries["WAIT_APPROVAL"].smpp.stat == "ENROUTE"
    # Row 7: the seed advises sending again, so the cancellation is not permanent.
    assert entries["CANCELLED"].permanent is False
    # Row 17 (code 300): ClickSend retries by itself, so more receipts follow.
    assert entries["FAILED_TEMPORARY_NETWORK_ERROR"].code == "300"
    assert entries["FAILED_TEMPORARY_NETWORK_ERROR"].final is False
    # Row 6 has no code in the seed.
    assert entries["CANCELLED_AFTER_REVIEW"].code is None
