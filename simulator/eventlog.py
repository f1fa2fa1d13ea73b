"""One readable log line per bind, submit, receipt and MO (or one JSON object per line)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from simulator.core.events import Event
from simulator.smpp.codec.constants import status_name

log = logging.getLogger("dlrsim.events")


class EventLogger:
    def __init__(self, fmt: str = "text") -> None:
        self.fmt = fmt

    def __call__(self, event: Event) -> None:
        stamp = datetime.fromtimestamp(event.time, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = dict(event.data)
        status = data.get("status")
        if isinstance(status, int):
            data["status"] = "OK" if status == 0 else status_name(status)
        if self.fmt == "json":
            log.info(
                json.dumps(
                    {"time": stamp, "event": event.kind, "account": event.account, **data},
                    default=str,
                    sort_keys=True,
                )
            )
            return
        fields = " ".join(
            f"{key}={value}" for key, value in data.items() if value not in (None, "")
        )
        account = f" account={event.account}" if event.account else ""
        log.info("%s %-7s%s %s", stamp, event.kind, account, fields)
