"""An OTP sender over Infobip's SMS API (`POST /sms/3/messages`), with its report endpoint.

Standard library only: `urllib` sends, `http.server` receives the delivery reports Infobip
POSTs to the URL given with each message (`webhooks.delivery.url`). Pointing `base_url` at a
dlrsim `http_url` instead of `https://<your-subdomain>.api.infobip.com` is all a test changes.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

#: Infobip status group -> what the app tells its user.
_STATUS_BY_GROUP = {
    "PENDING": "pending",
    "DELIVERED": "delivered",
    "EXPIRED": "expired",
    "UNDELIVERABLE": "failed",
    "REJECTED": "failed",
}


class OtpRejected(Exception):
    """Infobip refused the message (HTTP error, or a REJECTED status in the response)."""

    def __init__(self, phone: str, reason: str) -> None:
        super().__init__(f"sending a code to {phone} was refused: {reason}")
        self.reason = reason


class InfobipOtpSender:
    def __init__(self, base_url: str, api_key: str, *, sender: str = "MyApp",
                 report_url: str | None = None, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sender = sender
        self.report_url = report_url
        self.timeout = timeout

    def send_code(self, phone: str, code: str | None = None) -> str:
        """Send a fresh code to `phone`; returns Infobip's message id."""
        code = code or f"{secrets.randbelow(1_000_000):06d}"
        message: dict[str, Any] = {
            "sender": self.sender,
            "destinations": [{"to": phone}],
            "content": {"text": f"Your code is {code}"},
        }
        if self.report_url is not None:
            message["webhooks"] = {"delivery": {"url": self.report_url}}
        request = urllib.request.Request(
            f"{self.base_url}/sms/3/messages",
            data=json.dumps({"messages": [message]}).encode(),
            headers={"Authorization": f"App {self.api_key}", "Content-Type": "application/json",
                     "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            raise OtpRejected(phone, f"HTTP {error.code} {body.get('errorCode', '')}") from None
        [line] = answer["messages"]
        if line["status"]["groupName"] == "REJECTED":
            raise OtpRejected(phone, line["status"]["name"])
        return str(line["messageId"])


class ReportReceiver:
    """The app's endpoint for Infobip delivery reports, on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.reports: dict[str, list[dict[str, Any]]] = {}
        self.fail_next = 0  # answer this many calls with HTTP 503 (to see Infobip retry)
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self.send_response(receiver._take(body))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )  # a short poll interval: shutdown() waits for the serving loop to look up

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/infobip/reports"

    def _take(self, body: dict[str, Any]) -> int:
        with self._changed:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            for result in body.get("results", []):
                self.reports.setdefault(str(result["messageId"]), []).append(result)
            self._changed.notify_all()
        return 200

    def status(self, message_id: str) -> str:
        """sent (no report yet), pending, delivered, expired or failed."""
        with self._changed:
            reports = self.reports.get(message_id)
            if not reports:
                return "sent"
            return _STATUS_BY_GROUP.get(reports[-1]["status"]["groupName"], "failed")

    def last(self, message_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The latest report for a message (waiting up to `timeout` for one)."""
        with self._changed:
            self._changed.wait_for(lambda: message_id in self.reports, timeout)
            return self.reports[message_id][-1]

    def __enter__(self) -> ReportReceiver:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
