"""MQTT commands: the JSON requests on `dlrsim/<instance>/commands/<name>`, mapped onto the
same operations the REST API runs (`simulator.control.actions`), so both answer alike.

Strategy: each handler validates the payload with the REST API's request model (unknown
fields are refused, as over HTTP), calls the shared action, and returns the same fields the
REST response carries. Refusals become `CommandError`s with the REST error's code, message and
`where`. This module is the MQTT face of the control plane (it sits with `control/` in the
layers); the transport (`bus.py`) knows nothing of it beyond the `Handler` signature, and
neither module here imports the other.

Commands:
- `mo`: inject a mobile-originated message (`MoRequest`: source, destination, text, account...)
- `status`: push a status now (`message_id` plus `PushStatusRequest`: status or stat/err)
- `state`: switch the scenario's flow state (`{"state": NAME}`)
- `reset`: back to a clean slate (journal, messages, timelines, API faults, scenario counters)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simulator.control import ControlError, ControlTarget, actions
from simulator.control.models import (
    MoRequest,
    MoResponse,
    PushStatusRequest,
    ResetResponse,
    StateRequest,
    StateResponse,
)
from simulator.mqtt.protocol import CommandError, Handler

#: Fields of a command payload that address the reply, not the operation.
ENVELOPE = ("reply_to", "correlation_id")

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], body: Mapping[str, Any], *, keep: tuple[str, ...] = ()) -> M:
    fields = {k: v for k, v in body.items() if k not in ENVELOPE and k not in keep}
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        problems = [
            {
                "where": ".".join(["body", *(str(part) for part in item["loc"])]),
                "message": item["msg"],
            }
            for item in error.errors()
        ]
        first = problems[0]
        raise CommandError("invalid_body", first["message"], first["where"], problems) from None


def _refused(error: ControlError) -> CommandError:
    problems = [problem.model_dump() for problem in error.problems] or None
    return CommandError(error.code, error.message, error.where, problems)


def _guarded(run: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    def handler(body: dict[str, Any]) -> dict[str, Any]:
        try:
            return run(body)
        except ControlError as error:
            raise _refused(error) from None

    return handler


def build_commands(sim: ControlTarget) -> dict[str, Handler]:
    """The command table for one simulator (names are the last topic level)."""

    def mo(body: dict[str, Any]) -> dict[str, Any]:
        result = actions.inject_mo(sim, _parse(MoRequest, body))
        return MoResponse(
            transport="http" if result.transport == "http" else "smpp",
            account=result.account,
            parts=result.parts,
            message_id=result.message_id,
            url=result.url,
        ).model_dump(mode="json")

    def status(body: dict[str, Any]) -> dict[str, Any]:
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise CommandError(
                "invalid_body", "message_id (the message to move) is required", "body.message_id"
            )
        request = _parse(PushStatusRequest, body, keep=("message_id",))
        pushed = actions.push_status(sim, message_id, request)
        record, step = pushed.record, pushed.step
        return {
            "message_id": record.message_id,
            "stat": record.stat,
            "err": record.err,
            "final": record.final,
            "catalog_key": record.catalog_key,
            "step": {
                "stat": step.stat,
                "err": step.err,
                "final": step.final,
                "network_error_code": step.network_error_code,
                "catalog_key": step.catalog_key,
                "provider": step.provider,
            },
            "sink": pushed.sink,
            "receipt": pushed.receipt,
        }

    def state(body: dict[str, Any]) -> dict[str, Any]:
        request = _parse(StateRequest, body)
        previous = actions.set_scenario_state(sim, request.state)
        return StateResponse(state=request.state, previous=previous).model_dump(mode="json")

    def reset(body: dict[str, Any]) -> dict[str, Any]:
        extra = sorted(k for k in body if k not in ENVELOPE)
        if extra:
            raise CommandError("invalid_body", "reset takes no fields", f"body.{extra[0]}")
        return ResetResponse(cleared=actions.reset(sim)).model_dump(mode="json")

    return {
        "mo": _guarded(mo),
        "status": _guarded(status),
        "state": _guarded(state),
        "reset": _guarded(reset),
    }
