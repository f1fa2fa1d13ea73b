"""Request, query and response shapes of the control API, as pydantic models.

They are the contract twice over: handlers validate queries and bodies with them (so a bad
field comes back as one located error), and `openapi.py` builds the published document from
their JSON schemas, so the document cannot describe fields the code does not read. Requests
forbid unknown fields: a typo is an error, not a silently ignored option.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.core.errors import SimulatorError

SmppStat = Literal[
    "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"
]
MAX_LIMIT = 1000
MAX_WAIT = 60.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ---------------------------------------------------------------------------------


class Problem(_Strict):
    """One located problem (a scenario line, a body field)."""

    where: str | None = Field(description="dotted path of the field, when known")
    line: int | None = Field(default=None, description="line of the submitted text, when known")
    message: str


class ErrorDetail(_Strict):
    code: str = Field(description="stable machine-readable code, e.g. not_found, invalid_body")
    message: str = Field(description="what went wrong, for a human")
    where: str | None = Field(
        description="the field or parameter at fault: body.FIELD, query.NAME, path.NAME, "
        "header.NAME, or body for the whole body"
    )
    problems: list[Problem] | None = Field(default=None, description="all problems found")


class ErrorBody(_Strict):
    """The one error body every /api/v1 route answers with."""

    error: ErrorDetail


class ControlError(SimulatorError):
    """A refused control request: `status` (HTTP-like), `code`, `message`, `where`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        where: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.where = status, code, message, where
        self.problems = list(problems)

    def body(self) -> ErrorBody:
        problems = self.problems or None
        return ErrorBody(
            error=ErrorDetail(
                code=self.code, message=self.message, where=self.where, problems=problems
            )
        )


def bad(
    message: str, where: str | None, code: str = "invalid_body", problems: Sequence[Problem] = ()
) -> ControlError:
    return ControlError(400, code, message, where, problems)


def conflict(code: str, message: str, where: str | None = None) -> ControlError:
    return ControlError(409, code, message, where)


def missing(message: str, where: str) -> ControlError:
    return ControlError(404, "not_found", message, where)


_LOCATED = re.compile(r"^[^:\n]+:(?P<line>\d+): (?:(?P<path>[^\s:]+): )?(?P<text>.*)$", re.S)


def located_problems(lines: Sequence[str], prefix: str = "", root: str = "body") -> list[Problem]:
    """`name:LINE: path: text` lines as `Problem`s; `prefix` (e.g. `faults[0]`) is cut off
    the paths, and then the lines (of a document the caller made up) are left out."""
    problems = []
    for text in lines:
        match = _LOCATED.match(text)
        if match is None:
            problems.append(Problem(where=root, line=None, message=text))
            continue
        path = match["path"] or ""
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :].lstrip(".")
        where = f"{root}.{path}" if path else root
        line = None if prefix else int(match["line"])
        problems.append(Problem(where=where, line=line, message=match["text"]))
    return problems


# -- service ---------------------------------------------------------------------------------


class ListenerView(_Strict):
    name: str
    url: str


class Health(_Strict):
    status: Literal["ok"]
    listeners: list[ListenerView]


class Version(_Strict):
    name: Literal["dlrsim"]
    version: str
    api: Literal["v1"]
    providers: list[str] = Field(description="provider HTTP APIs served by this build")


# -- messages --------------------------------------------------------------------------------


class MessageQuery(_Strict):
    account: str | None = None
    provider: str | None = None
    transport: Literal["smpp", "http"] | None = None
    destination: str | None = Field(default=None, description="exact destination address")
    stat: SmppStat | None = Field(default=None, description="current receipt stat")
    final: bool | None = Field(default=None, description="only finished (or unfinished) ones")
    since: float | None = Field(default=None, description="submitted at or after (epoch s)")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT, description="at most this many")


class StepView(_Strict):
    delay: float = Field(description="seconds after acceptance (0 for a pushed status)")
    stat: str
    err: str
    final: bool
    network_error_code: int | None
    catalog_key: str | None
    provider: str | None


class HistoryItem(_Strict):
    at: float = Field(description="simulated clock seconds (Clock.now) of the change")
    stat: str
    err: str


class MessageView(_Strict):
    message_id: str
    account: str
    transport: str
    provider: str | None
    source: str
    destination: str
    text: str | None = Field(description="decoded text, when the coding is a text coding")
    body_hex: str
    data_coding: int
    registered_delivery: int
    part_index: int
    part_count: int
    submitted_at: float = Field(description="simulated epoch seconds")
    state: int = Field(description="SMPP message_state value")
    stat: str
    err: str
    final: bool
    done_at: float | None
    catalog_key: str | None
    rule: str | None
    lost: bool
    plan: list[StepView]
    history: list[HistoryItem]
    extra: dict[str, Any]


class MessageList(_Strict):
    messages: list[MessageView]
    count: int
    total: int = Field(description="matches before the limit")


class JournalEntryView(_Strict):
    seq: int
    time: float = Field(description="simulated epoch seconds")
    kind: str
    account: str | None
    provider: str | None
    message_id: str | None
    data: dict[str, Any]


class MessageDetail(_Strict):
    message: MessageView
    timeline: list[JournalEntryView] = Field(description="journal entries of this message")


class PushStatusRequest(_Strict):
    """A catalog entry of the message's provider (`status`), or a raw receipt `stat`/`err`."""

    status: str | int | None = Field(default=None, description="catalog key, name or code")
    provider: str | None = Field(
        default=None, description="catalog of `status` (default: the message's, else scenario's)"
    )
    stat: SmppStat | None = Field(default=None, description="raw receipt stat")
    err: str = Field(default="000", pattern=r"^[0-9A-Za-z]{1,3}$", description="raw receipt err")
    final: bool | None = Field(default=None, description="raw only: every stat but ENROUTE is")
    network_error_code: int | None = Field(default=None, ge=0, le=0xFFFF)


class PushStatusResponse(_Strict):
    message: MessageView
    step: StepView
    sink: Literal["smpp_receipt", "webhook"]
    receipt: bool | None = Field(description="SMPP: registered_delivery asked for a receipt")


# -- journal views ---------------------------------------------------------------------------


class ReceiptQuery(_Strict):
    message_id: str | None = None
    account: str | None = None
    outcome: Literal["delivered", "refused", "expired", "gave_up"] | None = None
    stat: SmppStat | None = None
    since: int = Field(default=0, ge=0, description="only journal entries after this seq")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class ReceiptView(_Strict):
    seq: int
    time: float
    message_id: str | None
    account: str | None
    stat: str | None
    err: str | None
    outcome: str | None = Field(description="delivered, refused, expired or gave_up")
    status: int | None = Field(description="deliver_sm_resp command_status, when answered")
    attempts: int | None


class ReceiptList(_Strict):
    receipts: list[ReceiptView]
    count: int
    last_seq: int


class WebhookQuery(_Strict):
    message_id: str | None = None
    account: str | None = None
    provider: str | None = None
    kind: Literal["delivery", "sent", "mo"] | None = None
    outcome: Literal["delivered", "refused", "retry", "gave_up"] | None = None
    status_code: int | None = Field(default=None, ge=100, le=599)
    since: int = Field(default=0, ge=0, description="only journal entries after this seq")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class WebhookView(_Strict):
    seq: int
    time: float
    message_id: str | None
    account: str | None
    provider: str | None
    kind: str | None
    url: str | None
    method: str | None
    attempt: int | None
    status_code: int | None = Field(description="HTTP status the receiver answered; null: none")
    latency_ms: float | None
    outcome: str | None = Field(description="delivered, refused, retry or gave_up")
    error: str | None
    body: str | None


class WebhookList(_Strict):
    webhooks: list[WebhookView]
    count: int
    last_seq: int


class EventQuery(_Strict):
    since: int = Field(default=0, ge=0, description="only entries after this seq")
    kind: str | None = Field(default=None, description="comma-separated journal kinds")
    wait: float = Field(default=0.0, ge=0, le=MAX_WAIT, description="seconds to wait for news")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class EventList(_Strict):
    entries: list[JournalEntryView]
    last_seq: int = Field(description="the journal's newest seq")
    next_since: int = Field(description="pass as `since` to continue after these entries")
    dropped: int = Field(description="entries the bounded journal has let go since its start")


# -- sessions and accounts -------------------------------------------------------------------


class SessionView(_Strict):
    session_id: str
    peer: str
    system_id: str
    bind_type: str | None
    state: str
    bound: bool
    outstanding: int
    counters: dict[str, int]


class SessionList(_Strict):
    sessions: list[SessionView]


class DisconnectQuery(_Strict):
    mode: Literal["unbind", "close"] = Field(default="unbind", description="close: drop at once")


class DisconnectResponse(_Strict):
    session: SessionView
    action: Literal["unbind", "close"]


class AccountView(_Strict):
    system_id: str
    provider: str | None
    password_set: bool
    api_key_set: bool
    bind_types: list[str]
    max_binds: int
    window: int
    max_submit_rate: float | None
    message_id_format: str
    binds: int = Field(description="sessions bound as this account now")
    pending_deliveries: int = Field(description="receipts and MO waiting for a receiver")


class AccountList(_Strict):
    accounts: list[AccountView]
    accept_any: bool


# -- scenario and faults ---------------------------------------------------------------------


class ScenarioView(_Strict):
    active: bool
    name: str | None
    description: str | None
    provider: str | None
    state: str | None
    rules: int
    faults: int
    source: str | None = Field(description="the file it was loaded from, or api")
    scenario: dict[str, Any] | None = Field(description="the scenario as JSON (PUT-able back)")


class ScenarioValidation(_Strict):
    valid: Literal[True]
    name: str
    rules: int
    faults: int


class StateRequest(_Strict):
    state: str = Field(min_length=1)


class StateResponse(_Strict):
    state: str
    previous: str


class FaultView(_Strict):
    id: str
    source: Literal["scenario", "api"]
    removable: bool
    applied: int = Field(description="times it acted since it was armed")
    fault: dict[str, Any]


class FaultList(_Strict):
    faults: list[FaultView]


# -- clock, MO, reset ------------------------------------------------------------------------


class ClockView(_Strict):
    kind: Literal["virtual", "real"]
    now: float = Field(description="simulated seconds since start")
    time: float = Field(description="simulated epoch seconds")
    scale: float | None = Field(description="real clock: simulated seconds per real second")
    pending: int | None = Field(description="virtual clock: timers waiting")


class AdvanceRequest(_Strict):
    seconds: float = Field(ge=0, le=10 * 366 * 86400.0)


class AdvanceResponse(_Strict):
    fired: int
    clock: ClockView


class TimeScaleRequest(_Strict):
    scale: float = Field(gt=0, le=1e9)


class MoRequest(_Strict):
    transport: Literal["smpp", "http"] = "smpp"
    source: str = Field(min_length=1, max_length=64, description="the handset")
    destination: str = Field(min_length=1, max_length=64, description="the short code or LVN")
    text: str = Field(max_length=10_000)
    account: str | None = Field(default=None, description="SMPP: default the only bound one")
    data_coding: int | None = Field(default=None, ge=0, le=255, description="SMPP only")
    use_payload: bool | None = Field(default=None, description="SMPP only: whole in payload")
    provider: str | None = Field(default=None, description="HTTP: whose inbound format")
    url: str | None = Field(default=None, description="HTTP: where to send the inbound push")


class MoResponse(_Strict):
    transport: Literal["smpp", "http"]
    account: str | None
    parts: int | None = Field(description="SMPP: deliver_sm parts queued")
    message_id: str | None = Field(description="HTTP: id of the inbound message")
    url: str | None


class ResetResponse(_Strict):
    cleared: dict[str, int] = Field(description="what was dropped, by kind")
