"""The scenario language: what happens to each message, in the provider's own terms.

A scenario is one self-contained YAML file: the provider whose codes it speaks, optional
accounts, an ordered list of rules (first match wins), named states for stateful flows, and
faults. Durations are written `250ms`, `2s`, `5m`, `48h`, `2d` or as plain seconds; a delay is
a duration or a distribution (`uniform`, `normal`, `exponential`, `lognormal`). The models
here check shape only; names of catalog codes are resolved against the catalogs by
`scenario.compile`, which reports unknown names with the closest matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from simulator.core.accounts import Account

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """Seconds from `1.5`, `"250ms"`, `"2s"`, `"5m"`, `"48h"` or `"2d"`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 2s, 500ms, 48h; found a boolean")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"expected a duration of zero or more; found {value}")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    raise ValueError(f"expected a duration such as 2s, 500ms, 5m, 48h or 2d; found {value!r}")


def _also(*shorthands: JsonDict) -> Callable[[JsonDict], None]:
    """`json_schema_extra` that lets the published schema accept the YAML shorthand forms
    the validators turn into the full form (so editors do not flag `after: 2s`)."""

    def extend(schema: JsonDict) -> None:
        full: JsonDict = dict(schema)
        schema.clear()
        for key in ("title", "description"):
            if key in full:
                schema[key] = full.pop(key)
        schema["anyOf"] = [*shorthands, full]

    return extend


_DURATION_TEXT: JsonDict = {"type": "string", "pattern": _DURATION.pattern}
Duration = Annotated[float, Field(ge=0, json_schema_extra=_also(_DURATION_TEXT))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Uniform(_Model):
    uniform: tuple[Duration, Duration]

    @field_validator("uniform", mode="before")
    @classmethod
    def _pair(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) == 2:
            low, high = (parse_duration(item) for item in value)
            if low > high:
                raise ValueError(f"expected [low, high] with low <= high; found [{low}, {high}]")
            return (low, high)
        raise ValueError("expected a pair [low, high] of durations")


class NormalParams(_Model):
    mean: Duration
    stddev: Duration

    @field_validator("mean", "stddev", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float:
        return parse_duration(value)


class Normal(_Model):
    normal: NormalParams


class ExponentialParams(_Model):
    mean: Duration

    @field_validator("mean", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float:
        return parse_duration(value)


class Exponential(_Model):
    exponential: ExponentialParams


class LogNormalParams(_Model):
    median: Duration
    sigma: float = Field(ge=0, le=10)

    @field_validator("median", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float:
        return parse_duration(value)


class LogNormal(_Model):
    lognormal: LogNormalParams


Distribution = Uniform | Normal | Exponential | LogNormal


def _delay_schema(schema: JsonDict) -> None:
    """A delay may also be written as a number, a duration text or a bare distribution."""
    properties = schema.get("properties")
    field = properties.get("distribution") if isinstance(properties, dict) else None
    choices = field.get("anyOf") if isinstance(field, dict) else None
    distributions = [
        choice
        for choice in (choices if isinstance(choices, list) else [])
        if isinstance(choice, dict) and "$ref" in choice
    ]
    _also({"type": "number", "minimum": 0}, _DURATION_TEXT, *distributions)(schema)


class Delay(_Model):
    """A fixed duration or a distribution; negative samples are clipped to zero."""

    model_config = ConfigDict(json_schema_extra=_delay_schema)

    fixed: float | None = None
    distribution: Distribution | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: object) -> object:
        if isinstance(value, Delay):
            return value
        if isinstance(value, dict) and ("fixed" in value or "distribution" in value):
            return value
        if isinstance(value, dict):
            return {"distribution": value}
        return {"fixed": parse_duration(value)}


# -- matching --------------------------------------------------------------------------


class NumberRange(_Model):
    """Numbers compared as integers (leading `+` ignored): `{from: 447700900000, to: ...}`."""

    from_: int = Field(alias="from")
    to: int

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.from_ > self.to:
            raise ValueError(f"expected from <= to; found from {self.from_} > to {self.to}")
        return self


class AddressMatch(_Model):
    """One way of matching an address; a plain string in YAML means `exact` (or `glob` if it
    holds `*` or `?`)."""

    exact: str | None = None
    prefix: str | None = None
    glob: str | None = None
    regex: str | None = None
    any_of: list[str] | None = Field(default=None, alias="in")
    range: NumberRange | None = None

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra=_also(
            {"type": "string"},
            {"type": "integer"},
            {"type": "array", "items": {"type": ["string", "integer"]}},
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, str):
            return {"glob": value} if any(c in value for c in "*?[") else {"exact": value}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"exact": str(value)}
        if isinstance(value, list):
            return {"in": [str(item) for item in value]}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> AddressMatch:
        given = [
            name
            for name in ("exact", "prefix", "glob", "regex", "any_of", "range")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of exact, prefix, glob, regex, in, range; "
                f"found {', '.join(given) or 'none'}"
            )
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"expected a valid regular expression; {error}") from None
        return self


class TextMatch(_Model):
    model_config = ConfigDict(json_schema_extra=_also({"type": "string"}))

    contains: str | None = None
    regex: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        return {"contains": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one(self) -> TextMatch:
        if (self.contains is None) == (self.regex is None):
            raise ValueError("expected exactly one of contains, regex")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"expected a valid regular expression; {error}") from None
        return self


class CountMatch(_Model):
    """An integer condition: a number, or `{min: .., max: ..}` (inclusive)."""

    model_config = ConfigDict(json_schema_extra=_also({"type": "integer", "minimum": 0}))

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"min": value, "max": value}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CountMatch:
        if self.min is None and self.max is None:
            raise ValueError("expected a number or at least one of min, max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"expected min <= max; found min {self.min} > max {self.max}")
        return self


class When(_Model):
    """All given conditions must hold (an empty `when` matches everything)."""

    destination: AddressMatch | None = None
    sender: AddressMatch | None = None
    text: TextMatch | None = None
    account: str | list[str] | None = None
    provider: str | None = None
    transport: Literal["smpp", "http"] | None = None
    data_coding: int | list[int] | None = None
    parts: CountMatch | None = None
    registered_delivery: int | list[int] | None = None
    nth: CountMatch | None = Field(
        default=None, description="1-based count of messages that met this rule's other conditions"
    )
    attempt: CountMatch | None = Field(
        default=None, description="1-based count of messages to the same destination so far"
    )
    state: str | list[str] | None = Field(default=None, description="flow state(s) required")


# -- outcomes ----------------------------------------------------------------------------


class StepSpec(_Model):
    """An intermediate status, `after` a delay counted from the submit."""

    status: str | int
    after: Delay = Field(default_factory=lambda: Delay(fixed=0.0))


class Rejection(_Model):
    """Refuse at submit time: an SMPP command_status, and/or a provider error for HTTP."""

    smpp: str | int | None = Field(default=None, description="ESME_* name or number")
    http: str | None = Field(default=None, description="provider error name (HTTP APIs)")
    reason: str = ""

    @model_validator(mode="after")
    def _something(self) -> Rejection:
        if self.smpp is None and self.http is None:
            raise ValueError("expected at least one of smpp, http")
        return self


class Outcome(_Model):
    """One fate: a final catalog status/error (with optional steps before it), or a rejection."""

    outcome: str | int | None = Field(default=None, description="catalog key, name or code")
    provider: str | None = None
    after: Delay = Field(default_factory=lambda: Delay(fixed=2.0))
    steps: list[StepSpec] | None = None
    reject: Rejection | None = None
    lost: bool = Field(default=False, description="the final status happens but no receipt is sent")

    @model_validator(mode="after")
    def _one_fate(self) -> Outcome:
        if (self.outcome is None) == (self.reject is None):
            raise ValueError("expected exactly one of outcome, reject")
        return self


class WeightedOutcome(Outcome):
    weight: float = Field(gt=0)


class Then(Outcome):
    """A rule's fate: one outcome, or a weighted `mix`, plus an optional state change."""

    outcome: str | int | None = None
    mix: list[WeightedOutcome] | None = None
    set_state: str | None = None

    @model_validator(mode="after")
    def _one_fate(self) -> Then:
        given = [name for name in ("outcome", "reject", "mix") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"expected exactly one of outcome, reject, mix; found {', '.join(given) or 'none'}"
            )
        return self


class Rule(_Model):
    name: str | None = None
    when: When = Field(default_factory=When)
    then: Then


# -- faults ----------------------------------------------------------------------------

FaultKind = Literal[
    "disconnect",
    "no_response",
    "delay_response",
    "generic_nack",
    "reject_submit",
    "throttle",
    "window",
    "reject_bind",
    "drop_receipt",
    "duplicate_receipt",
    "delay_receipt",
    "reorder_receipts",
    "receipt_as_data_sm",
    "receipt_unknown_id",
]


class FaultScope(_Model):
    account: str | list[str] | None = None
    rule: str | list[str] | None = None
    session: str | None = Field(default=None, description="bind type: transmitter, receiver, ...")


class Fault(_Model):
    """A small misbehaviour applied with a probability within a scope."""

    kind: FaultKind
    name: str | None = None
    probability: float = Field(default=1.0, ge=0, le=1)
    scope: FaultScope = Field(default_factory=FaultScope)
    after_pdus: int | None = Field(default=None, ge=1, description="disconnect: after N PDUs")
    commands: list[str] | None = Field(default=None, description="commands affected (names)")
    delay: Delay | None = None
    status: str | int | None = None
    rate: float | None = Field(default=None, gt=0)
    size: int | None = Field(default=None, ge=1)
    copies: int = Field(default=2, ge=2, le=10)
    hold: int = Field(default=3, ge=2, le=1000, description="reorder: receipts held and shuffled")
    active: CountMatch | None = Field(
        default=None, description="only for submits numbered within this range (1-based)"
    )


class States(_Model):
    initial: str = "start"
    names: list[str] | None = Field(default=None, description="declared states, for validation")


class Scenario(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    provider: str | None = Field(default=None, description="provider whose codes rules name")
    seed: int | None = None
    accounts: list[Account] = Field(default_factory=list)
    states: States = Field(default_factory=States)
    outcome_numbers: bool = Field(
        default=True, description="the 999 test numbers of `dlrsim catalog numbers` apply"
    )
    text_directives: bool = Field(default=True, description="#dlrsim:outcome=NAME in text applies")
    rules: list[Rule] = Field(default_factory=list)
    default: Then | None = Field(default=None, description="fate when no rule matches")
    faults: list[Fault] = Field(default_factory=list)
