"""The registry: lookups by key, name and code with kind and channel filters, grouping by
outcome, and the final states reachable from an intermediate one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.catalog import (
    OUTCOME_CLASSES,
    Catalog,
    CatalogError,
    CatalogRegistry,
    load_registry,
)


def entry(
    key: str,
    code: str | None,
    *,
    kind: str = "status",
    outcome: str = "undelivered",
    final: bool = True,
    nxt: tuple[str, ...] = (),
    channel: str = "sms",
    name: str | None = None,
) -> dict[str, Any]:
    stat = {
        "pending": "ENROUTE",
        "delivered": "DELIVRD",
        "undelivered": "UNDELIV",
        "expired": "EXPIRED",
        "rejected": "REJECTD",
    }[outcome]
    return {
        "key": key,
        "code": code,
        "name": name or key.replace("_", " ").title(),
        "kind": kind,
        "section": "main",
        "channel": channel,
        "description": f"fixture entry {key}",
        "final": final,
        "permanent": None if outcome in ("pending", "delivered") else True,
        "outcome": outcome,
        "smpp": {"stat": stat, "err": "000"},
        "next": list(nxt),
    }


def catalog_data(provider: str = "acme") -> dict[str, Any]:
    return {
        "provider": provider,
        "display_name": provider.title(),
        "seed": "000_fixture.txt",
        "language": "en",
        "message_id": {"format": "hex"},
        "callback": {"method": "GET", "content_type": None},
        "initial_status": "ACCEPTED",
        "delivered_status": "DELIVERED",
        "uses_network_error_code": False,
        "sections": [{"id": "main", "title": "Everything"}],
        "entries": [
            entry("ACCEPTED", "1", outcome="pending", final=False, nxt=("SENT", "SPAM")),
            # SENT -> RETRYING -> SENT is a cycle the successor search must survive.
            entry("SENT", "2", outcome="pending", final=False, nxt=("RETRYING", "DELIVERED")),
            entry("RETRYING", "4", outcome="pending", final=False, nxt=("SENT", "ABSENT")),
            entry("DELIVERED", "3", outcome="delivered"),
            entry("ABSENT", "9", kind="error", name="Absent subscriber"),
            entry("MEMORY_FULL", "9", kind="error", name="Memory capacity exceeded"),
            entry("SPAM", "12", kind="error", outcome="rejected", name="Spam rejected"),
            entry("ROUTING", "2", kind="error", name="Routing error"),
            entry("WA_READ", "3", outcome="delivered", channel="whatsapp", name="Read"),
            entry("TIMED_OUT", "007", kind="error", outcome="expired", channel="all"),
            entry("NO_CODE", None, kind="error", name="Cancelled after review"),
        ],
    }


@pytest.fixture
def registry() -> CatalogRegistry:
    return CatalogRegistry(
        [Catalog.model_validate(catalog_data("acme")), Catalog.model_validate(catalog_data("beta"))]
    )


def test_providers_and_get(registry: CatalogRegistry) -> None:
    assert registry.providers() == ["acme", "beta"]
    assert registry.get("beta").provider == "beta"
    assert "acme" in registry and "gamma" not in registry
    with pytest.raises(CatalogError, match="unknown provider 'gamma'; known providers: acme, beta"):
        registry.get("gamma")


def test_lookup_by_key_name_and_code(registry: CatalogRegistry) -> None:
    assert registry.lookup("acme", "ABSENT").key == "ABSENT"
    assert registry.lookup("acme", "absent").key == "ABSENT"  # keys in any case
    assert registry.lookup("acme", "ABSENT SUBSCRIBER").key == "ABSENT"  # names in any case
    assert registry.lookup("acme", "12").key == "SPAM"
    assert registry.lookup("acme", 12).key == "SPAM"  # an int code is read as text
    assert registry.lookup("acme", " spam rejected ").key == "SPAM"


def test_key_wins_over_name_and_name_over_code(registry: CatalogRegistry) -> None:
    data = catalog_data()
    # An entry named like another entry's key, and one whose name is another entry's code.
    data["entries"].append(entry("DECOY", "77", kind="error", name="SPAM"))
    data["entries"].append(entry("BY_NAME", "78", kind="error", name="12"))
    registry = CatalogRegistry([Catalog.model_validate(data)])
    assert registry.lookup("acme", "SPAM").key == "SPAM"
    assert registry.lookup("acme", "12").key == "BY_NAME"


def test_shared_code_is_an_error_listing_the_candidates(registry: CatalogRegistry) -> None:
    with pytest.raises(CatalogError) as caught:
        registry.lookup("acme", "9")
    assert str(caught.value) == (
        "acme code '9' matches 2 sms entries: ABSENT, MEMORY_FULL; look it up by key instead"
    )


def test_kind_filter_separates_statuses_from_errors(registry: CatalogRegistry) -> None:
    with pytest.raises(CatalogError, match="code '2' matches 2 sms entries: SENT, ROUTING"):
        registry.lookup("acme", "2")
    assert registry.lookup("acme", "2", kind="status").key == "SENT"
    assert registry.lookup("acme", "2", kind="error").key == "ROUTING"
    with pytest.raises(CatalogError, match=r"ABSENT \(sms error\) is outside this lookup"):
        registry.lookup("acme", "ABSENT", kind="status")


def test_channel_filter(registry: CatalogRegistry) -> None:
    assert registry.lookup("acme", "3").key == "DELIVERED"
    assert registry.lookup("acme", "3", channel="whatsapp").key == "WA_READ"
    with pytest.raises(CatalogError, match="code '3' matches 2 statuses: DELIVERED, WA_READ"):
        registry.lookup("acme", "3", kind="status", channel=None)
    with pytest.raises(CatalogError, match=r"WA_READ \(whatsapp status\) is outside"):
        registry.lookup("acme", "WA_READ")


def test_channel_all_entries_match_every_channel(registry: CatalogRegistry) -> None:
    assert registry.lookup("acme", "TIMED_OUT").key == "TIMED_OUT"
    assert registry.lookup("acme", "TIMED_OUT", channel="whatsapp").key == "TIMED_OUT"
    assert "TIMED_OUT" in [e.key for e in registry.entries("acme", channel="whatsapp")]


def test_numeric_codes_match_without_leading_zeros(registry: CatalogRegistry) -> None:
    assert registry.lookup("acme", "7").key == "TIMED_OUT"
    assert registry.lookup("acme", "007").key == "TIMED_OUT"
    assert registry.lookup("acme", "0012").key == "SPAM"


def test_unknown_query_suggests_close_names(registry: CatalogRegistry) -> None:
    with pytest.raises(CatalogError) as caught:
        registry.lookup("acme", "absent subscribr")
    assert str(caught.value) == (
        "acme has no sms entry with key, name or code 'absent subscribr'; "
        "closest: ABSENT (Absent subscriber)"
    )
    with pytest.raises(CatalogError) as caught:
        registry.lookup("acme", "zzz", kind="error")
    assert str(caught.value) == "acme has no sms error with key, name or code 'zzz'"


def test_unknown_under_filter_says_where_it_exists(registry: CatalogRegistry) -> None:
    with pytest.raises(CatalogError, match=r"exists outside this filter: WA_READ \(whatsapp"):
        registry.lookup("acme", "read")


def test_entries_keep_catalog_order_and_filter_by_channel(registry: CatalogRegistry) -> None:
    sms = [e.key for e in registry.entries("acme")]
    assert sms == [
        "ACCEPTED",
        "SENT",
        "RETRYING",
        "DELIVERED",
        "ABSENT",
        "MEMORY_FULL",
        "SPAM",
        "ROUTING",
        "TIMED_OUT",
        "NO_CODE",
    ]
    assert [e.key for e in registry.entries("acme", channel="whatsapp")] == ["WA_READ", "TIMED_OUT"]
    assert len(registry.entries("acme", channel=None)) == 11
    registry.entries("acme").clear()  # callers get a copy
    assert len(registry.entries("acme")) == 10


def test_by_outcome_has_every_class(registry: CatalogRegistry) -> None:
    grouped = registry.by_outcome("acme")
    assert tuple(grouped) == OUTCOME_CLASSES
    keys = {outcome: [e.key for e in entries] for outcome, entries in grouped.items()}
    assert keys == {
        "pending": ["ACCEPTED", "SENT", "RETRYING"],
        "delivered": ["DELIVERED"],
        "undelivered": ["ABSENT", "MEMORY_FULL", "ROUTING", "NO_CODE"],
        "expired": ["TIMED_OUT"],
        "rejected": ["SPAM"],
        "unknown": [],
    }
    assert [e.key for e in registry.by_outcome("acme", channel="whatsapp")["delivered"]] == [
        "WA_READ"
    ]


def test_final_successors_follow_next_through_cycles(registry: CatalogRegistry) -> None:
    assert registry.final_successors("acme", "ACCEPTED") == {"DELIVERED", "ABSENT", "SPAM"}
    assert registry.final_successors("acme", "SENT") == {"DELIVERED", "ABSENT"}
    assert registry.final_successors("acme", "RETRYING") == {"DELIVERED", "ABSENT"}
    assert registry.final_successors("acme", "DELIVERED") == frozenset()
    with pytest.raises(CatalogError, match="acme has no entry with key 'SEND'; closest: SENT"):
        registry.final_successors("acme", "SEND")


def test_repeated_lookups_give_the_same_answer(registry: CatalogRegistry) -> None:
    first = registry.lookup("acme", "12")
    assert registry.lookup("acme", "12") is first
    assert registry.lookup("beta", "12") is not first
    assert registry.lookup("beta", "12") == first  # same data, separate catalog


def test_a_provider_may_not_be_registered_twice() -> None:
    catalog = Catalog.model_validate(catalog_data())
    with pytest.raises(CatalogError, match="provider 'acme' is defined twice"):
        CatalogRegistry([catalog, catalog])


def test_load_registry_reads_a_directory(tmp_path: Path) -> None:
    for provider in ("beta", "acme"):
        text = yaml.safe_dump(catalog_data(provider), sort_keys=False)
        (tmp_path / f"{provider}.yaml").write_text(text, encoding="utf-8")
    registry = load_registry(tmp_path)
    assert registry.providers() == ["acme", "beta"]
    assert registry.lookup("beta", "Memory capacity exceeded").code == "9"
