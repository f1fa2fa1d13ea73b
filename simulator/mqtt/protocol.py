"""The command protocol of the MQTT bus, free of any MQTT client: a JSON payload in, a reply
object out. `bus.py` carries the bytes; `commands.py` says what each command does.

Replies are `{"ok": true, "command": NAME, ...fields}` or `{"ok": false, "command": NAME,
"error": {"code", "message", "where"[, "problems"]}}`, plus the request's `correlation_id`
when it had one. A handler refuses by raising `CommandError`; anything else it raises is a bug,
reported as `internal` (and logged) rather than taking the bus down.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from simulator.core.errors import SimulatorError

log = logging.getLogger("dlrsim.mqtt")

#: A command handler: the request's JSON object in, the reply's fields out (sync or async).
Handler = Callable[[dict[str, Any]], "Mapping[str, Any] | Awaitable[Mapping[str, Any]]"]


class CommandError(SimulatorError):
    """A refused command; the reply carries `{"code", "message", "where"[, "problems"]}`."""

    def __init__(
        self,
        code: str,
        message: str,
        where: str | None = None,
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.where, self.problems = code, message, where, problems

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "where": self.where}
        if self.problems:
            error["problems"] = self.problems
        return error


def decode_request(payload: Any) -> dict[str, Any]:
    """The JSON object of a command payload; an empty payload is `{}`."""
    raw = payload if isinstance(payload, bytes | bytearray) else str(payload or "").encode()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CommandError("bad_json", f"the payload is not JSON: {error}", "payload") from error
    if not isinstance(body, dict):
        raise CommandError("bad_json", "the payload must be a JSON object", "payload")
    return body


async def dispatch(
    commands: Mapping[str, Handler], name: str, payload: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run command `name` on `payload`; returns (the decoded request, the reply)."""
    body: dict[str, Any] = {}
    reply: dict[str, Any]
    try:
        body = decode_request(payload)
        handler = commands.get(name)
        if handler is None:
            known = ", ".join(sorted(commands)) or "none"
            raise CommandError("unknown_command", f"no command {name!r} (known: {known})", "topic")
        outcome = handler(body)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        reply = {"ok": True, "command": name, **outcome}
    except CommandError as error:
        reply = {"ok": False, "command": name, "error": error.as_dict()}
    except SimulatorError as error:
        reply = {"ok": False, "command": name, "error": _error("invalid", error)}
    except Exception as error:  # a bug must not take the bus down: report it instead
        log.exception("mqtt: command %s failed", name)
        reply = {"ok": False, "command": name, "error": _error("internal", error)}
    if "correlation_id" in body:
        reply["correlation_id"] = body["correlation_id"]
    return body, reply


def _error(code: str, error: Exception) -> dict[str, Any]:
    return {"code": code, "message": str(error) or type(error).__name__, "where": None}
