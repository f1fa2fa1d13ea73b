"""Test numbers that name their own outcome: `999 BB V NNNN`.

Country code 999 is a spare code in ITU-T E.164: no real subscriber has such a number, so a
message sent to one by mistake cannot reach a person. `BB` is the provider's `number_block`
from its catalog, `NNNN` the 1-based position of the entry in the catalog file (positions stay
put when entries are appended), and `V` the variant: 0 plays the outcome as receipts (every
outcome, rejections included, ends in a receipt with the entry's stat and err), 1 refuses a
`rejected` outcome at submit time instead. `dlrsim catalog numbers PROVIDER` prints them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.catalog.model import Catalog, Entry
from simulator.catalog.registry import CatalogRegistry

COUNTRY_CODE = "999"
RECEIPT_VARIANT = 0
SUBMIT_REJECT_VARIANT = 1
_NUMBER = re.compile(r"^(?:\+|00)?999(\d{2})([01])(\d{4})$")


@dataclass(frozen=True, slots=True)
class OutcomeNumber:
    number: str
    provider: str
    entry: Entry
    variant: int


def number_for(catalog: Catalog, position: int, variant: int = RECEIPT_VARIANT) -> str:
    if catalog.number_block is None:
        raise ValueError(f"catalog {catalog.provider} has no number_block")
    return f"{COUNTRY_CODE}{catalog.number_block:02d}{variant}{position:04d}"


class OutcomeNumbers:
    """Maps test numbers to catalog entries and back, for every catalog with a number block."""

    def __init__(self, registry: CatalogRegistry) -> None:
        self._by_block: dict[int, Catalog] = {}
        for catalog in registry.catalogs():
            block = catalog.number_block
            if block is None:
                continue
            other = self._by_block.get(block)
            if other is not None:
                raise ValueError(
                    f"number_block {block} is used by both {other.provider} and {catalog.provider}"
                )
            self._by_block[block] = catalog

    def resolve(self, destination: str) -> OutcomeNumber | None:
        match = _NUMBER.match(destination)
        if match is None:
            return None
        catalog = self._by_block.get(int(match.group(1)))
        position = int(match.group(3))
        if catalog is None or not 1 <= position <= len(catalog.entries):
            return None
        entry = catalog.entries[position - 1]
        if entry.channel != "sms":
            return None
        return OutcomeNumber(destination, catalog.provider, entry, int(match.group(2)))

    def numbers(self, catalog: Catalog) -> list[OutcomeNumber]:
        """One number per SMS entry, in catalog order (the receipt variant)."""
        if catalog.number_block is None:
            return []
        return [
            OutcomeNumber(number_for(catalog, position), catalog.provider, entry, RECEIPT_VARIANT)
            for position, entry in enumerate(catalog.entries, 1)
            if entry.channel == "sms"
        ]

    def reject_numbers(self, catalog: Catalog) -> list[OutcomeNumber]:
        """The submit-time variant, for entries whose outcome class is `rejected`."""
        if catalog.number_block is None:
            return []
        return [
            OutcomeNumber(
                number_for(catalog, position, SUBMIT_REJECT_VARIANT),
                catalog.provider,
                entry,
                SUBMIT_REJECT_VARIANT,
            )
            for position, entry in enumerate(catalog.entries, 1)
            if entry.channel == "sms" and entry.outcome == "rejected"
        ]
