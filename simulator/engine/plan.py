"""The seam between transports and the decision of what happens to a message.

A transport turns what it received into a neutral `Submission`; a `Planner` answers with a
`Plan`: accept or reject now, and a timeline of later states. The engine speaks no SMPP bytes
and no HTTP: states are receipt `stat` names and error texts taken from the catalogs, which the
transports render in their own formats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

TextDecoder = Callable[[bytes, int], "str | None"]


@dataclass(slots=True)
class Submission:
    """One message part as the engine sees it, whatever transport carried it.

    The text is decoded only when a rule or directive needs it (`get_text`), through the
    decoder the transport supplies, so the engine never learns about SMPP data codings.
    """

    account: str
    source: str
    destination: str
    data_coding: int = 0
    body: bytes = b""
    registered_delivery: int = 0
    part_count: int = 1
    part_index: int = 1
    transport: str = "smpp"
    provider: str | None = None
    text: str | None = None
    decoder: TextDecoder | None = None

    def get_text(self) -> str | None:
        if self.text is None and self.decoder is not None:
            self.text = self.decoder(self.body, self.data_coding)
            self.decoder = None
        return self.text


@dataclass(frozen=True, slots=True)
class Step:
    """One future state of a message, `delay` seconds after it was accepted."""

    delay: float
    stat: str
    err: str = "000"
    final: bool = True
    network_error_code: int | None = None
    catalog_key: str | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """Verdict now (`reject_status` set means refused at submit time) and the timeline."""

    steps: tuple[Step, ...] = ()
    reject_status: int | None = None
    reject_http: str | None = None
    reason: str = ""
    rule: str | None = None
    lost: bool = False  # the timeline runs, but no receipt or callback is sent for it
    notes: tuple[str, ...] = field(default=())

    @property
    def accepted(self) -> bool:
        return self.reject_status is None


class Planner(Protocol):
    def plan(self, submission: Submission) -> Plan: ...


class FixedDeliveryPlanner:
    """Every message goes ENROUTE, then DELIVRD: the baseline until a scenario says otherwise."""

    def __init__(self, enroute_after: float = 0.5, delivered_after: float = 2.0) -> None:
        if not 0 <= enroute_after <= delivered_after:
            raise ValueError("delays must satisfy 0 <= enroute_after <= delivered_after")
        self._plan = Plan(
            steps=(
                Step(enroute_after, "ENROUTE", "000", final=False),
                Step(delivered_after, "DELIVRD", "000", final=True),
            )
        )

    def plan(self, submission: Submission) -> Plan:
        return self._plan
