"""The web inbox in a real browser: Debian's Chromium, headless, driven over the DevTools protocol.

The simulator (the shipped default scenario, sped up) runs on a background loop; smpplib
submits over SMPP and an Infobip-shaped call submits over HTTP with a callback URL. The test
talks CDP to Chromium over a websocket with aiohttp (no selenium or playwright): it loads the
page, sees the rows appear and change state without a reload, opens a message with the mouse
and another with the keyboard, pushes a status and sends an MO through the page's forms, and
saves screenshots under test-artifacts/. Every wait has a deadline; Chromium is killed at the
end. The test is skipped only when scripts/chromium.sh cannot provide a browser.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulator.app import Simulator
from simulator.config import Settings
from tests.e2e.conftest import Esme
from tests.e2e.http.conftest import LoopThread, Receiver, loop_thread, receiver

__all__ = ["loop_thread", "receiver"]
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1400,900", "--hide-scrollbars"]
WAIT = 15.0
FINAL = ("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN")


def chromium_binary() -> str:
    """The browser scripts/chromium.sh finds or installs; skip (saying why) if it cannot."""
    try:
        done = subprocess.run(["bash", str(REPO / "scripts" / "chromium.sh")],
                              capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("scripts/chromium.sh did not finish installing Chromium within 15 minutes")
    if done.returncode != 0 or not done.stdout.strip():
        lines = done.stderr.strip().splitlines() or ["scripts/chromium.sh failed"]
        pytest.skip(f"Chromium is not available and cannot be installed: {lines[-1]}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[str]:
    """A headless Chromium; yields its DevTools address (host:port). Killed afterwards."""
    binary = chromium_binary()
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    log_path = tmp_path / "chromium.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise AssertionError(f"Chromium exited with {process.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise AssertionError("Chromium did not open its DevTools port within 30 s")
            time.sleep(0.05)
        yield f"127.0.0.1:{int(port_file.read_text().splitlines()[0])}"
    finally:
        # Its own session: the signal reaches the browser's helper processes too, nothing else.
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture
def inbox_sim(loop_thread: LoopThread) -> Iterator[Simulator]:
    settings = Settings(smpp_port=0, http_port=0, scenario=REPO / "scenarios" / "default.yaml",
                        seed=11, time_scale=40.0, quiet=True)
    sim = Simulator(settings)
    loop_thread.run(sim.start())
    yield sim
    loop_thread.run(sim.stop(0.5))


class PageError(AssertionError):
    pass


class Cdp:
    """A minimal DevTools client for one page: commands, and the page's errors on the side."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.next_id = 0
        self.errors: list[str] = []

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = WAIT) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        await self.socket.send_json({"id": wanted, "method": method, "params": params or {}})
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer to {method} within {timeout} s")
            message = await self.socket.receive(timeout=remaining)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise PageError(f"DevTools connection ended while waiting for {method}")
            data = json.loads(message.data)
            if data.get("id") == wanted:
                if "error" in data:
                    raise PageError(f"{method}: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
            self._note(data)

    def _note(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(str(details.get("exception", {}).get("description") or details))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                        for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", {"expression": expression,
                                                      "returnByValue": True,
                                                      "awaitPromise": True})
        if "exceptionDetails" in result:
            raise PageError(f"{expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str, timeout: float = WAIT) -> Any:
        """Poll `expression` in the page until it is truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (scrolled into view first)."""
        box = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                         "button": "left", "clickCount": 1})

    async def key(self, key: str, code: int, text: str | None = None) -> None:
        down: dict[str, Any] = {"type": "keyDown", "key": key, "code": key,
                                "windowsVirtualKeyCode": code}
        if text is not None:
            down["text"] = text
        await self.call("Input.dispatchKeyEvent", down)
        await self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": key,
                                                   "windowsVirtualKeyCode": code})

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", {"format": "png"}, timeout=30)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def page_socket_url(devtools: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        with urllib.request.urlopen(f"http://{devtools}/json/list", timeout=5) as response:
            targets = json.loads(response.read())
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return str(pages[0]["webSocketDebuggerUrl"])
        if time.monotonic() > deadline:
            raise AssertionError(f"Chromium shows no page target: {targets}")
        time.sleep(0.1)


def post_json(address: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    sent = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(address, data=json.dumps(body).encode(), method="POST",
                                     headers=sent)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def infobip_send(base: str, to: str, text: str, notify_url: str) -> str:
    body = {"messages": [{"from": "ShopCo", "destinations": [{"to": to}], "text": text,
                          "notifyUrl": notify_url}]}
    answer = post_json(f"{base}/sms/2/text/advanced", body, {"Authorization": "App key-1"})
    message_id: str = answer["messages"][0]["messageId"]
    return message_id


def row(message_id: str, part: str = "") -> str:
    """The CSS selector of a message's table row (or of `part` inside it)."""
    return f'#messages tr[data-key="{message_id}"] {part}'.strip()


def q(selector: str) -> str:
    """JavaScript for the element `selector` matches."""
    return f"document.querySelector({json.dumps(selector)})"


async def drive(cdp: Cdp, sim: Simulator, receiver: Receiver) -> None:
    base = sim.http_url
    assert base is not None
    await cdp.call("Runtime.enable")
    await cdp.call("Log.enable")
    await cdp.call("Page.enable")
    await cdp.call("Emulation.setDeviceMetricsOverride",
                   {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    await cdp.call("Page.navigate", {"url": base + "/"})
    await cdp.wait_for("document.querySelector('#live')?.dataset.state === 'live'",
                       "the page to load and its live feed to connect")
    assert await cdp.evaluate("document.querySelector('#empty').hidden") is False

    esme = Esme(sim.smpp_address, "browser-test")
    try:
        assert await asyncio.to_thread(esme.bind, "transceiver", "shop") == 0
        texts = [("4915112345678", "Your order 1042 has shipped"),
                 ("447700900123", "Reminder: dentist tomorrow 09:30"),
                 ("33612345678", "Code de connexion : 739 204")]
        smpp_ids = [await asyncio.to_thread(esme.submit_ok, text.encode(), destination=to,
                                            registered_delivery=1) for to, text in texts]
        pending = await asyncio.to_thread(
            esme.submit_ok, b"Delivery slot confirmed #dlrsim:after=2h",
            destination="4917612345678", registered_delivery=1)
        http_id = await asyncio.to_thread(infobip_send, base, "4915199999999",
                                          "Your table for 4 is booked", receiver.url + "/dlr")

        # Rows appear without a reload, then move to a final state live.
        await cdp.wait_for(f"!!{q(row(smpp_ids[0]))}", "the SMPP row")
        await cdp.wait_for(f"!!{q(row(http_id))}", "the HTTP row")
        await asyncio.to_thread(esme.wait_deliveries, 3, WAIT)  # answer the receipts
        await cdp.wait_for(
            f"{json.dumps(FINAL)}.includes({q(row(smpp_ids[0], '.stat'))}"
            "?.textContent)", "the first message to reach a final state live")
        cells_of = json.dumps(row(smpp_ids[0], "td"))
        cells = await cdp.evaluate(
            f"[...document.querySelectorAll({cells_of})].map(c => c.textContent)")
        assert cells[2:8] == ["shop", "4930123456", "4915112345678", texts[0][1], "1", "SMPP"]
        assert cells[1][:7] in FINAL and len(cells[1]) == 10, cells  # the stat, then its err
        order = await cdp.evaluate(
            "[...document.querySelectorAll('#messages tbody tr')].map(r => r.dataset.key)")
        assert order.index(http_id) < order.index(smpp_ids[0]), "newest first"
        await cdp.wait_for(f"{q(row(http_id, 'td:last-child'))}"
                           "?.textContent === 'HTTP'", "the HTTP row's transport")

        # A mouse click opens the detail with the whole timeline.
        await cdp.click(row(smpp_ids[0], "td.text"))
        await cdp.wait_for(
            f"document.querySelector('#detail-title').textContent.includes('{smpp_ids[0]}')",
            "the clicked message's detail")
        assert await cdp.evaluate("location.hash") == f"#/m/{smpp_ids[0]}"
        kinds = await cdp.wait_for(
            "(() => { const k = [...document.querySelectorAll('#detail .timeline .kind')]"
            ".map(e => e.textContent); return k.includes('receipt') && k; })()",
            "submit, status and receipt in the timeline")
        assert kinds[0] == "submit" and "status" in kinds, kinds
        body = await cdp.evaluate("document.querySelector('#detail-body').textContent")
        assert texts[0][1] in body and "submit_sm fields" in body and "deliver_sm_resp" in body
        assert "0000  59 6f 75 72" in body  # the short_message bytes as a hex dump
        assert await cdp.evaluate("document.querySelector('#push-form').hidden") is True
        await cdp.screenshot(ARTIFACTS / "ui-inbox.png")

        # The keyboard: Escape closes the detail; Enter on a row's link opens another.
        await cdp.key("Escape", 27)
        await cdp.wait_for("document.querySelector('#detail').hidden", "Escape to close")
        await cdp.evaluate(f"{q(row(http_id, 'a'))}.focus()")
        await cdp.key("Enter", 13, "\r")
        webhook = await cdp.wait_for(
            "[...document.querySelectorAll('#detail .kind-webhook .what')]"
            ".map(e => e.textContent).find(t => t.includes(' 200 '))",
            "a webhook attempt answered 200 in the HTTP message's timeline")
        assert f"POST {receiver.url}/dlr → 200 in" in webhook and "delivered" in webhook
        assert await cdp.evaluate("document.querySelector('#detail .kind-webhook pre.body')"
                                  ".textContent.includes('\"messageId\"')")
        await cdp.screenshot(ARTIFACTS / "ui-inbox-webhook.png")

        # The push panel: a message still under way gets a status now.
        await cdp.evaluate(f"location.hash = '#/m/{pending}'")
        await cdp.wait_for("document.querySelector('#detail-title').textContent"
                           f".includes('{pending}') && !document.querySelector('#push-form')"
                           ".hidden", "the push form of a message under way")
        await cdp.evaluate("document.querySelector('#push-form [name=stat]').value = 'UNDELIV'")
        await cdp.evaluate("document.querySelector('#push-form [name=err]').value = '001'")
        await cdp.click("#push-form button")
        await cdp.wait_for("document.querySelector('#push-form .result').textContent"
                           ".startsWith('Now UNDELIV err 001')", "the pushed status")
        await cdp.wait_for(f"{q(row(pending, '.stat'))}?.textContent"
                           " === 'UNDELIV'", "the pushed status in the table")
        await asyncio.to_thread(esme.wait_deliveries, 4, WAIT)  # its receipt goes out

        # The MO panel and the scenario view.
        await cdp.evaluate("location.hash = '#/mo'")
        await cdp.wait_for("!document.querySelector('#view-mo').hidden", "the MO view")
        await cdp.evaluate("document.querySelector('#mo-form [name=account]').value = 'shop'")
        await cdp.click("#mo-form > button")
        await cdp.wait_for("document.querySelector('#mo-form .result').textContent"
                           ".startsWith('Queued 1 deliver_sm')", "the MO to be queued")
        await asyncio.to_thread(esme.wait_deliveries, 5, WAIT)
        assert esme.delivered[-1].short_message == b"STOP"
        await cdp.wait_for("document.querySelector('#mo-log').textContent"
                           ".includes('4915112345678 → 12345')", "the MO in the page's log")
        await cdp.screenshot(ARTIFACTS / "ui-mo.png")
        await cdp.evaluate("location.hash = '#/scenario'")
        await cdp.wait_for("document.querySelector('#scenario').textContent.includes('default')",
                           "the active scenario")
        faults = await cdp.evaluate("document.querySelector('#faults').textContent")
        assert faults == "No faults armed.", faults  # default.yaml arms none
        fault = {"kind": "duplicate_receipt", "name": "echo-echo", "probability": 0.25}
        await asyncio.to_thread(post_json, f"{base}/api/v1/faults", fault)
        armed = await cdp.wait_for(
            "[...document.querySelectorAll('#faults tbody td')].map(c => c.textContent)",
            "the fault armed over the API to show up live")
        assert armed[1:5] == ["duplicate_receipt", "echo-echo", "api", "0"], armed
        await cdp.screenshot(ARTIFACTS / "ui-scenario.png")
    finally:
        await asyncio.to_thread(esme.close)
    assert cdp.errors == [], cdp.errors


def test_inbox_in_headless_chromium(chromium: str, inbox_sim: Simulator,
                                    receiver: Receiver) -> None:
    async def run() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(
            page_socket_url(chromium), max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=5)
        ) as socket:
            await asyncio.wait_for(drive(Cdp(socket), inbox_sim, receiver), 120)

    asyncio.run(run())
    assert (ARTIFACTS / "ui-inbox.png").stat().st_size > 10_000
