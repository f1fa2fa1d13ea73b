"""Checks catalogs/sinch.yaml against literals transcribed by hand from the seed.

Seed: shared/seeds/004_f70820173f41ac18.txt ("Códigos de Status de Envio", Sinch Brazil/LATAM,
ex-Wavy/Movile). The expected counts, codes, names and SMPP renderings below were read from that
page and from the published receipt mapping in shared/reference/providers.md section 5.3, not
from the YAML, so a drifting catalog fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simulator.catalog.model import Catalog, Entry
from tests.unit.catalog.flows import reaches_final

CATALOG_PATH = Path(__file__).resolve().parents[3] / "catalogs" / "sinch.yaml"

# Rows per seed table.
EXPECTED_COUNTS: dict[str, int] = {
    # "1. Primeiro status (sent_status - Status de envio = Callback)"
    "sent_status": 12,
    # "2. Segundo status (delivered_status - Delivery Report Callback)"
    "delivered_status": 4,
}

# (section, code) for every row of the two seed tables.
EXPECTED_SECTION_CODES: set[tuple[str, str]] = {
    ("sent_status", "2"),
    ("sent_status", "101"),
    ("sent_status", "102"),
    ("sent_status", "103"),
    ("sent_status", "202"),
    ("sent_status", "203"),
    ("sent_status", "204"),
    ("sent_status", "207"),
    ("sent_status", "213"),
    ("sent_status", "214"),
    ("sent_status", "215"),
    ("sent_status", "301"),
    ("delivered_status", "4"),
    ("delivered_status", "104"),
    ("delivered_status", "201"),
    ("delivered_status", "401"),
}

# The seed's "Mensagem" column for each code (201 and 104 share a name in the seed).
EXPECTED_NAMES: dict[str, str] = {
    "2": "SENT_SUCCESS",
    "101": "EXPIRED",
    "102": "CARRIER_COMMUNICATION_ERROR",
    "103": "REJECTED_BY_CARRIER",
    "202": "INVALID_DESTINATION_NUMBER",
    "203": "BLACKLISTED",
    "204": "DESTINATION_BLOCKED_BY_OPTOUT",
    "207": "INVALID_MESSAGE_TEXT",
    "213": "COUNTRY_NOT_ALLOWED_FOR_CUSTOMER",
    "214": "INVALID_CUSTOMER_CONFIGURATION",
    "215": "CUSTOMER_QUOTA_BLOCKED",
    "301": "INTERNAL_ERROR",
    "4": "DELIVERED_SUCCESS",
    "104": "NOT_DELIVERED",
    "201": "NOT_DELIVERED",
    "401": "MESSAGE_SPLIT",
}

# Receipt stat/err from Sinch's published SMPP mapping (providers.md 5.3).
PUBLISHED_SMPP: dict[str, tuple[str, str]] = {
    "2": ("ACCEPTD", "000"),
    "101": ("EXPIRED", "101"),
    "102": ("REJECTD", "102"),
    "103": ("REJECTD", "103"),
    "202": ("REJECTD", "202"),
    "203": ("REJECTD", "203"),
    "204": ("REJECTD", "204"),
    "207": ("REJECTD", "207"),
    "201": ("REJECTD", "201"),
    "301": ("UNKNOWN", "301"),
    "4": ("DELIVRD", "000"),
    "104": ("UNDELIV", "104"),
}

# Callback fields each table's codes appear in, with their JSON types (providers.md 5.1).
CALLBACK_FIELDS: dict[str, tuple[str, str]] = {
    "sent_status": ("sentStatusCode", "sentStatus"),
    "delivered_status": ("deliveredStatusCode", "deliveredStatus"),
}


def _raw() -> dict[str, Any]:
    with CATALOG_PATH.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict)
    return data


def _catalog() -> Catalog:
    return Catalog.model_validate(_raw())


def test_catalog_loads_with_the_model() -> None:
    catalog = _catalog()
    assert catalog.provider == "sinch"
    assert catalog.seed == "004_f70820173f41ac18.txt"
    assert catalog.language == "pt"
    assert {section.id for section in catalog.sections} == set(EXPECTED_COUNTS)


def test_entry_count_per_section_matches_seed_tables() -> None:
    counts: dict[str, int] = {}
    for entry in _catalog().entries:
        counts[entry.section] = counts.get(entry.section, 0) + 1
    assert counts == EXPECTED_COUNTS


def test_section_code_pairs_match_seed() -> None:
    entries = _catalog().entries
    pairs = [(entry.section, entry.code) for entry in entries]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == EXPECTED_SECTION_CODES


def test_names_match_seed_message_column() -> None:
    names = {entry.code: entry.name for entry in _catalog().entries}
    assert names == EXPECTED_NAMES


def test_draft_only_code_205_is_absent() -> None:
    # provider-codes.json carries 205 from the older English doc; the seed has no such row.
    assert all(entry.code != "205" for entry in _catalog().entries)


def test_keys_are_unique_in_the_file() -> None:
    raw_entries = _raw()["entries"]
    keys = [item["key"] for item in raw_entries]
    assert len(keys) == len(set(keys)) == 16


def test_callback_fields_have_provider_json_types() -> None:
    for entry in _catalog().entries:
        code_field, name_field = CALLBACK_FIELDS[entry.section]
        assert set(entry.callback) == {code_field, name_field}, entry.key
        code_value = entry.callback[code_field]
        assert type(code_value) is int, entry.key
        assert entry.code is not None
        assert code_value == int(entry.code), entry.key
        assert type(entry.callback[name_field]) is str, entry.key
        assert entry.callback[name_field] == entry.name, entry.key


def test_smpp_rendering_follows_published_mapping() -> None:
    for entry in _catalog().entries:
        assert entry.code is not None
        if entry.code in PUBLISHED_SMPP:
            assert (entry.smpp.stat, entry.smpp.err) == PUBLISHED_SMPP[entry.code], entry.key
        else:
            assert entry.smpp.err == entry.code.zfill(3), entry.key
        assert entry.smpp.network_error_code is None, entry.key


def test_status_levels_and_outcomes() -> None:
    catalog = _catalog()
    by_key = {entry.key: entry for entry in catalog.entries}
    assert by_key[catalog.initial_status].code == "2"
    assert by_key[catalog.delivered_status].code == "4"
    assert by_key[catalog.delivered_status].outcome == "delivered"
    non_final = {entry.code for entry in catalog.entries if not entry.final}
    assert non_final == {"2", "401"}
    for entry in catalog.entries:
        if entry.final and entry.outcome != "delivered":
            assert entry.permanent is not None, entry.key
        else:
            assert entry.permanent is None, entry.key


def test_every_non_final_entry_reaches_a_final_entry() -> None:
    by_key: dict[str, Entry] = {entry.key: entry for entry in _catalog().entries}
    for start in (entry for entry in by_key.values() if not entry.final):
        assert start.next, start.key
        assert reaches_final(by_key, start), start.key
