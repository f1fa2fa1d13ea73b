"""The shipped catalogs (`catalogs/`): all five load, every entry renders to a valid SMPP
receipt, every intermediate state can end, and `schema.json` matches the model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from simulator.catalog import MESSAGE_STATE_BY_STAT, CatalogRegistry, load_registry
from simulator.catalog.schema_export import SCHEMA_PATH, render_schema

CATALOG_DIR = Path(__file__).resolve().parents[3] / "catalogs"
PROVIDERS = ("clickatell", "clicksend", "infobip", "sinch", "smsmode")
ERR_TEXT = re.compile(r"^[0-9A-Za-z]{1,3}$")


@pytest.fixture(scope="module")
def registry() -> CatalogRegistry:
    return load_registry(CATALOG_DIR)


def test_every_provider_loads(registry: CatalogRegistry) -> None:
    assert registry.providers() == list(PROVIDERS)
    for provider in PROVIDERS:
        assert registry.get(provider).entries, provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_entry_renders_to_a_valid_receipt(registry: CatalogRegistry, provider: str) -> None:
    for entry in registry.get(provider).entries:
        assert entry.smpp.stat in MESSAGE_STATE_BY_STAT, entry.key
        assert ERR_TEXT.match(entry.smpp.err), (entry.key, entry.smpp.err)
        assert 1 <= MESSAGE_STATE_BY_STAT[entry.smpp.stat] <= 8, entry.key


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_intermediate_entry_can_reach_a_final_one(
    registry: CatalogRegistry, provider: str
) -> None:
    stuck = [
        entry.key
        for entry in registry.get(provider).entries
        if not entry.final and not registry.final_successors(provider, entry.key)
    ]
    assert stuck == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_new_message_can_end_delivered(registry: CatalogRegistry, provider: str) -> None:
    catalog = registry.get(provider)
    delivered = registry.lookup(provider, catalog.delivered_status, channel=None)
    assert delivered.final and delivered.outcome == "delivered"
    assert delivered.smpp.stat == "DELIVRD"
    initial = registry.lookup(provider, catalog.initial_status, channel=None)
    assert not initial.final
    assert catalog.delivered_status in registry.final_successors(provider, initial.key)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_entry_is_found_by_its_key(registry: CatalogRegistry, provider: str) -> None:
    for entry in registry.get(provider).entries:
        assert registry.lookup(provider, entry.key, channel=None) is entry


def test_schema_json_is_current() -> None:
    assert SCHEMA_PATH == CATALOG_DIR / "schema.json"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "catalogs/schema.json is stale: run python -m simulator.catalog.schema_export"
    )


def test_schema_accepts_the_code_types_the_catalogs_use() -> None:
    # The loader turns YAML integers into text; the published schema must allow them too, or
    # editors flag every unquoted `code: 200`.
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    allowed = {option["type"] for option in schema["$defs"]["Entry"]["properties"]["code"]["anyOf"]}
    json_type = {str: "string", int: "integer", type(None): "null"}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        used = {json_type.get(type(entry.get("code")), "other") for entry in raw["entries"]}
        assert used <= allowed, (path.name, used - allowed)
