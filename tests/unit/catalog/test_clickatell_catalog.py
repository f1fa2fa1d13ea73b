"""Checks the Clickatell catalog against literals transcribed by hand from the seed.

The seed is shared/seeds/002_314086d9b9444ccf.txt ("One API: Message status codes and
descriptions"). Every literal below was copied from that document, not from the YAML, so a row
dropped, renumbered or renamed in the catalog makes these tests fail.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from simulator.catalog.model import Catalog, Entry
from tests.unit.catalog.flows import reaches_final

CATALOG_PATH = Path(__file__).resolve().parents[3] / "catalogs" / "clickatell.yaml"

# Rows per heading of the seed's single "Status Code | Status | Status Detail" table.
SEED_ROW_COUNTS: dict[str, int] = {
    "statuses": 6,  # untitled first block: 1-6
    "generic_errors": 10,  # "Generic errors (shared by all channels)": 20-29
    "encryption": 2,  # "Encryption Related": 60, 61
    "media": 5,  # "Media Related": 80, 81, 82, (no number), 84
    "sms": 1,  # "SMS Related": 100
    "whatsapp": 5,  # "WhatsApp Related": 130-134
}

# (section, code, name) for every seed row; None where the seed row has no number.
SEED_ROWS: set[tuple[str, str | None, str]] = {
    ("statuses", "1", "UNKNOWN"),
    ("statuses", "2", "QUEUED"),
    ("statuses", "3", "SCHEDULED"),
    ("statuses", "4", "SENT_TO_SUPPLIER"),
    ("statuses", "5", "DEVICE_ACK"),
    ("statuses", "6", "READ"),
    ("generic_errors", "20", "EXPIRED"),
    ("generic_errors", "21", "STOPPED_BY_USER"),
    ("generic_errors", "22", "STOPPED_BY_ADMIN"),
    ("generic_errors", "23", "DELIVERY_FAILURE"),
    ("generic_errors", "24", "EMULATED"),
    ("generic_errors", "25", "INSUFFICIENT_ACCOUNT_BALANCE"),
    ("generic_errors", "26", "VOLUME_LIMIT"),
    ("generic_errors", "27", "VOLUME_LIMIT_DAILY"),
    ("generic_errors", "28", "VOLUME_LIMIT_MONTHLY"),
    ("generic_errors", "29", "RECIPIENT_DOES_NOT_EXIST"),
    ("encryption", "60", "ENCRYPTION_ACCESS_DENIED"),
    ("encryption", "61", "ENCRYPTION_CONTENT_ERROR"),
    ("media", "80", "MEDIA_NOT_FOUND"),
    ("media", "81", "MEDIA_SIZE_ERROR"),
    ("media", "82", "MEDIA_CHECKSUM_FAILURE"),
    ("media", None, "MEDIA_REJECTED_BY_SUPPLIER"),
    ("media", "84", "MEDIA_METADATA_ERROR"),
    ("sms", "100", "ROUTING_ERROR"),
    ("whatsapp", "130", "WHATSAPP_ACCOUNT_PAYMENT_ISSUE"),
    ("whatsapp", "131", "WHATSAPP_RE_ENGAGEMENT_REQUIRED"),
    ("whatsapp", "132", "WHATSAPP_SPAM_RATE_LIMIT_REACHED"),
    ("whatsapp", "133", "WHATSAPP_SERVER_RATE_LIMIT"),
    ("whatsapp", "134", "WHATSAPP_HSM_NOT_AVAILABLE"),
}

# The seed's (section, code) pairs, written out on their own.
SEED_SECTION_CODES: set[tuple[str, str | None]] = {
    ("statuses", "1"),
    ("statuses", "2"),
    ("statuses", "3"),
    ("statuses", "4"),
    ("statuses", "5"),
    ("statuses", "6"),
    ("generic_errors", "20"),
    ("generic_errors", "21"),
    ("generic_errors", "22"),
    ("generic_errors", "23"),
    ("generic_errors", "24"),
    ("generic_errors", "25"),
    ("generic_errors", "26"),
    ("generic_errors", "27"),
    ("generic_errors", "28"),
    ("generic_errors", "29"),
    ("encryption", "60"),
    ("encryption", "61"),
    ("media", "80"),
    ("media", "81"),
    ("media", "82"),
    ("media", None),
    ("media", "84"),
    ("sms", "100"),
    ("whatsapp", "130"),
    ("whatsapp", "131"),
    ("whatsapp", "132"),
    ("whatsapp", "133"),
    ("whatsapp", "134"),
}

# Status Detail column of the seed, keyed by Status name (what statusDescription carries).
SEED_DETAILS: dict[str, str] = {
    "UNKNOWN": "Unknown status",
    "QUEUED": "Queued",
    "SCHEDULED": "Scheduled for later delivery",
    "SENT_TO_SUPPLIER": "Sent to supplier",
    "DEVICE_ACK": "Device acknowledged delivery",
    "READ": "Read Receipt",
    "EXPIRED": "The message has expired",
    "STOPPED_BY_USER": "Message stopped by user",
    "STOPPED_BY_ADMIN": "Message stopped by admin",
    "DELIVERY_FAILURE": "Error delivering message",
    "EMULATED": "Emulated",
    "INSUFFICIENT_ACCOUNT_BALANCE": "Insufficient account balance",
    "VOLUME_LIMIT": "Volume limit exceeded",
    "VOLUME_LIMIT_DAILY": "Daily volume limit exceeded",
    "VOLUME_LIMIT_MONTHLY": "Monthly volume limit exceeded",
    "RECIPIENT_DOES_NOT_EXIST": "Recipient does not exist on channel",
    "ENCRYPTION_ACCESS_DENIED": "Security access denied",
    "ENCRYPTION_CONTENT_ERROR": "Content decryption failed",
    "MEDIA_NOT_FOUND": "Media not found",
    "MEDIA_SIZE_ERROR": "Media size error",
    "MEDIA_CHECKSUM_FAILURE": "Media checksum failure",
    "MEDIA_REJECTED_BY_SUPPLIER": "Channel supplier rejected media file",
    "MEDIA_METADATA_ERROR": (
        "Metadata for the media file was not found or does not match the message request"
    ),
    "ROUTING_ERROR": "Routing error",
    "WHATSAPP_ACCOUNT_PAYMENT_ISSUE": "Whatsapp account payment issue",
    "WHATSAPP_RE_ENGAGEMENT_REQUIRED": "Re-engagement required",
    "WHATSAPP_SPAM_RATE_LIMIT_REACHED": "Spam rate limit reached",
    "WHATSAPP_SERVER_RATE_LIMIT": "Whatsapp server rate limit",
    "WHATSAPP_HSM_NOT_AVAILABLE": "Whatsapp HSM request structure not available",
}

# Legacy Clickatell SMPP network_error_code values (providers.md 3.3) the catalog may use.
LEGACY_NETWORK_ERROR_CODES = frozenset({*range(1, 23), 999})


def _load() -> Catalog:
    with CATALOG_PATH.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return _load()


def _by_key(catalog: Catalog) -> dict[str, Entry]:
    return {entry.key: entry for entry in catalog.entries}


def test_header(catalog: Catalog) -> None:
    assert catalog.provider == "clickatell"
    assert catalog.seed == "002_314086d9b9444ccf.txt"
    assert catalog.language == "en"
    assert catalog.message_id.format == "hex"
    assert catalog.message_id.length == 32
    assert catalog.callback.method == "POST"
    assert catalog.callback.content_type == "application/json"
    assert catalog.initial_status == "QUEUED"
    assert catalog.delivered_status == "DEVICE_ACK"


def test_message_id_example_has_the_declared_shape(catalog: Catalog) -> None:
    example = catalog.message_id.example
    assert example is not None
    assert len(example) == 32
    assert all(char in "0123456789abcdef" for char in example)


def test_entry_count_per_section_matches_seed(catalog: Catalog) -> None:
    assert {section.id for section in catalog.sections} == set(SEED_ROW_COUNTS)
    counts = Counter(entry.section for entry in catalog.entries)
    assert dict(counts) == SEED_ROW_COUNTS
    assert len(catalog.entries) == 29


def test_section_code_pairs_match_seed(catalog: Catalog) -> None:
    pairs = [(entry.section, entry.code) for entry in catalog.entries]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == SEED_SECTION_CODES


def test_section_code_name_rows_match_seed(catalog: Catalog) -> None:
    rows = {(entry.section, entry.code, entry.name) for entry in catalog.entries}
    assert rows == SEED_ROWS


def test_keys_are_unique(catalog: Catalog) -> None:
    keys = [entry.key for entry in catalog.entries]
    assert len(keys) == len(set(keys))


def test_labels_are_the_seed_detail_text(catalog: Catalog) -> None:
    assert {entry.name: entry.label for entry in catalog.entries} == SEED_DETAILS


def test_code_without_number_is_explained(catalog: Catalog) -> None:
    missing = [entry for entry in catalog.entries if entry.code is None]
    assert [entry.key for entry in missing] == ["MEDIA_REJECTED_BY_SUPPLIER"]
    assert any("83" in note for note in missing[0].notes)


def test_callback_fields_and_json_types(catalog: Catalog) -> None:
    for entry in catalog.entries:
        callback = entry.callback
        assert set(callback) == {"statusCode", "status", "statusDescription"}, entry.key
        assert type(callback["status"]) is str, entry.key
        assert callback["status"] == entry.name, entry.key
        assert type(callback["statusDescription"]) is str, entry.key
        assert callback["statusDescription"] == SEED_DETAILS[entry.name], entry.key
        if entry.code is None:
            assert callback["statusCode"] is None, entry.key
        else:
            # bool is a subclass of int, so check the exact type.
            assert type(callback["statusCode"]) is int, entry.key
            assert callback["statusCode"] == int(entry.code), entry.key


def test_every_non_final_entry_reaches_a_final_one(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    for start in (entry for entry in catalog.entries if not entry.final):
        assert reaches_final(entries, start), start.key


def test_non_final_entries_are_the_seed_in_flight_statuses(catalog: Catalog) -> None:
    pending = {entry.key for entry in catalog.entries if not entry.final}
    assert pending == {"QUEUED", "SCHEDULED", "SENT_TO_SUPPLIER"}
    for key in pending:
        assert _by_key(catalog)[key].smpp.stat == "ENROUTE"


def test_sms_successor_lists_stay_on_sms(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    for entry in catalog.entries:
        for key in entry.next:
            assert entries[key].channel == "sms", (entry.key, key)


def test_kind_follows_seed_block(catalog: Catalog) -> None:
    for entry in catalog.entries:
        expected = "status" if entry.section == "statuses" else "error"
        assert entry.kind == expected, entry.key


def test_smpp_err_values(catalog: Catalog) -> None:
    for entry in catalog.entries:
        if entry.code is not None:
            assert entry.smpp.err == entry.code.zfill(3), entry.key
    sms_errs = [entry.smpp.err for entry in catalog.entries if entry.channel == "sms"]
    assert len(sms_errs) == len(set(sms_errs))


def test_network_error_code_only_on_failures(catalog: Catalog) -> None:
    assert catalog.uses_network_error_code
    for entry in catalog.entries:
        tlv = entry.smpp.network_error_code
        failed = entry.final and entry.smpp.stat not in {"DELIVRD", "ACCEPTD"}
        if failed:
            assert tlv in LEGACY_NETWORK_ERROR_CODES, entry.key
        else:
            assert tlv is None, entry.key


def test_permanent_is_null_exactly_when_not_a_failure(catalog: Catalog) -> None:
    for entry in catalog.entries:
        is_failure = entry.outcome in {"undelivered", "expired", "rejected"}
        assert (entry.permanent is not None) == is_failure, entry.key


def test_errors_report_no_separate_status(catalog: Catalog) -> None:
    assert all(entry.with_status is None for entry in catalog.entries)


def test_channels(catalog: Catalog) -> None:
    channel_by_section = {section.id: section.channel for section in catalog.sections}
    assert channel_by_section == {
        "statuses": "sms",
        "generic_errors": "sms",
        "encryption": "sms",
        "media": "media",
        "sms": "sms",
        "whatsapp": "whatsapp",
    }
    for entry in catalog.entries:
        assert entry.channel == channel_by_section[entry.section], entry.key


def test_known_outcomes(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    assert entries["DEVICE_ACK"].outcome == "delivered"
    assert entries["DEVICE_ACK"].smpp.stat == "DELIVRD"
    assert entries["EXPIRED"].smpp.stat == "EXPIRED"
    assert entries["EXPIRED"].outcome == "expired"
    assert entries["RECIPIENT_DOES_NOT_EXIST"].permanent is True
    assert entries["ROUTING_ERROR"].smpp.stat == "UNDELIV"
