"""Typed shape of a provider catalog (`catalogs/<provider>.yaml`).

A catalog is reviewed data: every status and error code a provider documents, with how the
simulator renders it on SMPP receipts and in the provider's HTTP callbacks. The pydantic model
is the single source of the schema; `catalogs/schema.json` is exported from it (and a test
checks the two agree), so editors and code read the same contract.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SmppStat = Literal[
    "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"
]
OutcomeClass = Literal["pending", "delivered", "undelivered", "expired", "rejected", "unknown"]
EntryKind = Literal["status", "error"]

#: SMPP `message_state` TLV value for each receipt `stat:` text (SMPP 3.4 section 5.2.28).
MESSAGE_STATE_BY_STAT: dict[str, int] = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}
FINAL_STATS = frozenset(MESSAGE_STATE_BY_STAT) - {"ENROUTE"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Strict):
    """A provider's grouping of codes (Infobip's groupId/groupName, a seed section heading)."""

    id: int | str | None = None
    name: str


class SmppRendering(_Strict):
    """How an entry appears in an SMPP delivery receipt."""

    stat: SmppStat
    err: str = Field(pattern=r"^[0-9A-Za-z]{1,3}$", description="receipt `err:` field text")
    network_error_code: int | None = Field(
        default=None,
        ge=0,
        le=0xFFFF,
        description="error code for the network_error_code TLV, where the provider uses one",
    )
    network_type: int = Field(default=3, ge=1, le=8, description="TLV byte 1; 3 = GSM")


class Entry(_Strict):
    """One documented status or error code."""

    key: str = Field(
        pattern=r"^[A-Z0-9_]+$",
        description="unique within the catalog; what scenarios name (usually the provider's name)",
    )
    code: str | None = Field(
        description="the provider's code as text (null where the seed omits it: see notes)",
        # `_code_as_text` also takes a YAML integer; say so, or editors flag `code: 200`.
        json_schema_extra={"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
    )
    name: str = Field(description="the provider's own name or label for the code")
    kind: EntryKind
    section: str = Field(description="id of the seed section this entry comes from")
    group: Group | None = None
    channel: str = Field(default="sms", pattern=r"^[a-z_]+$")
    description: str = Field(min_length=3, description="short English description, own words")
    label: str | None = Field(default=None, description="original-language label from the seed")
    final: bool = Field(description="no later status follows this one")
    permanent: bool | None = Field(
        description="retrying the same message cannot succeed; null when not a failure"
    )
    outcome: OutcomeClass
    smpp: SmppRendering
    callback: dict[str, Any] = Field(
        default_factory=dict,
        description="fields this entry fills in the provider's HTTP delivery callback",
    )
    with_status: str | None = Field(
        default=None,
        description="for errors: key of the status entry reported together with this error",
    )
    next: list[str] = Field(
        default_factory=list,
        description="keys of statuses that can follow this one (required when final is false)",
    )
    notes: list[str] = Field(default_factory=list, description="seed quirks and choices made")

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> object:
        # YAML reads `code: 200` as an int; codes are identifiers, so keep them as text.
        if isinstance(value, bool):
            raise ValueError("a code must be a number or text, not a boolean")
        if isinstance(value, int):
            return str(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Entry:
        if self.final and self.smpp.stat == "ENROUTE":
            raise ValueError("a final entry cannot render as the intermediate stat ENROUTE")
        if not self.final and self.outcome != "pending":
            raise ValueError("a non-final entry must have outcome 'pending'")
        if not self.final and not self.next:
            raise ValueError("a non-final entry must list its possible successors in 'next'")
        return self


class Section(_Strict):
    """A table or heading of the seed document; tests pin the entry count of each."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    channel: str = Field(default="sms", pattern=r"^[a-z_]+$")


class MessageIdShape(_Strict):
    """Shape of the ids the provider hands out, so simulated ids look real."""

    format: Literal["uuid", "uuid_upper", "hex", "decimal", "alnum"]
    length: int | None = Field(default=None, ge=1, le=64)
    example: str | None = None


class CallbackFormat(_Strict):
    """Transport facts of the provider's delivery callback."""

    method: Literal["GET", "POST"]
    content_type: str | None = Field(description="request content type; null for GET query strings")
    batching: str | None = Field(default=None, description="how several reports share a call")
    notes: list[str] = Field(default_factory=list)


class Catalog(_Strict):
    """One provider's whole catalog."""

    provider: str = Field(pattern=r"^[a-z]+$")
    display_name: str
    seed: str = Field(description="file name of the source document in shared/seeds")
    language: str = Field(description="language of the seed document (ISO 639-1)")
    message_id: MessageIdShape
    callback: CallbackFormat
    initial_status: str = Field(description="key of the status an accepted message starts in")
    delivered_status: str = Field(description="key of the plain successful final status")
    number_block: int | None = Field(
        default=None,
        ge=1,
        le=99,
        description="two-digit block of this provider's test numbers (999 BB V NNNN); "
        "unique across catalogs; null gives the provider no test numbers",
    )
    uses_network_error_code: bool = Field(
        description="receipts carry the network_error_code TLV for failures"
    )
    sections: list[Section]
    entries: list[Entry]
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        keys = [entry.key for entry in self.entries]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"entry keys must be unique; repeated: {', '.join(duplicates)}")
        known = set(keys)
        sections = {section.id for section in self.sections}
        for field_name in ("initial_status", "delivered_status"):
            if getattr(self, field_name) not in known:
                raise ValueError(f"{field_name} names unknown entry {getattr(self, field_name)!r}")
        for entry in self.entries:
            if entry.section not in sections:
                raise ValueError(f"entry {entry.key}: section {entry.section!r} is not declared")
            for successor in entry.next:
                if successor not in known:
                    raise ValueError(f"entry {entry.key}: next names unknown entry {successor!r}")
            if entry.with_status is not None and entry.with_status not in known:
                raise ValueError(
                    f"entry {entry.key}: with_status names unknown entry {entry.with_status!r}"
                )
        return self
