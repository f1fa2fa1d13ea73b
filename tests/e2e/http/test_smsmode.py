"""smsmode legacy HTTP API 1.6 over real HTTP: sendSMS.do, smsStatus.do, compteRendu.do and the
GET delivery reports, driven by a plain aiohttp client that follows smsmode's documented shapes
(there is no official Python SDK). Timelines run on the virtual clock; callbacks reach a real
receiver. Golden payloads: tests/golden/providers/smsmode/ (DLRSIM_UPDATE_GOLDEN=1 rewrites).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from simulator.catalog.model import Entry
from simulator.catalog.registry import load_registry
from simulator.core.accounts import Account
from simulator.engine.numbers import OutcomeNumber, OutcomeNumbers
from simulator.http.webhooks import DEFAULT_RETRY
from simulator.providers.smsmode import Adapter
from simulator.providers.smsmode_form import MAX_PARTS

from .conftest import WAIT, Call, HttpSim, Receiver

SEND = "/http/1.6/sendSMS.do"
STATUS = "/http/1.6/smsStatus.do"
REPORT = "/http/1.6/compteRendu.do"
TOKEN = "tok-smsmode-1"
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "providers" / "smsmode"
SMS_ID = re.compile(r"^[A-Za-z0-9]{12}$")
REPORT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
REGISTRY = load_registry()
CATALOG = REGISTRY.get("smsmode")
NUMBERS = OutcomeNumbers(REGISTRY).numbers(CATALOG)
BY_KEY = {n.entry.key: n.number for n in NUMBERS}
ADAPTER_FIELDS = {"numero", "date_reception", "smsID", "refClient", "cost", "mcc_mnc"}


@pytest.fixture(autouse=True)
def _catalogs_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogs are read-only data: parse them once for the module, not once per simulator."""
    monkeypatch.setattr("simulator.app.load_registry", lambda *args, **kwargs: REGISTRY)


# -- a plain client following smsmode's documented request and answer shapes ---------------------
def parse_answer(body: bytes) -> tuple[int, str, str | None]:
    """`code | description | smsID` as smsmode client libraries read it (split on '|', trim;
    the smsID only with code 0 and three fields)."""
    parts = [part.strip() for part in body.decode("utf-8").strip().split("|")]
    assert len(parts) >= 2, body
    sms_id = parts[2] if parts[0] == "0" and len(parts) == 3 else None
    return int(parts[0]), parts[1], sms_id


def post_form(sim: HttpSim, path: str, fields: dict[str, str], charset: str = "iso-8859-15"
              ) -> tuple[int, bytes]:
    """POST form-encoded fields, text encoded as smsmode's examples do (ISO-8859-15)."""
    body = urlencode(fields, encoding=charset)
    status, _, data = sim.post(
        path, data=body.encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return status, data


def send(sim: HttpSim, numero: str, message: str = "Hello from dlrsim", *, url: str | None = None,
         ref: str | None = None, get: bool = False, **more: str) -> tuple[int, str, str | None]:
    fields = {"accessToken": TOKEN, "message": message, "numero": numero, **more}
    if url is not None:
        fields["notification_url"] = url
    if ref is not None:
        fields["refClient"] = ref
    if get:
        status, _, data = sim.get(SEND, params=fields)
    else:
        status, data = post_form(sim, SEND, fields)
    assert status == 200  # smsmode answers every call with HTTP 200, errors included
    return parse_answer(data)


def lookup(sim: HttpSim, path: str, sms_id: str, token: str | None = TOKEN) -> str:
    params = {"smsID": sms_id} if token is None else {"accessToken": token, "smsID": sms_id}
    status, _, data = sim.get(path, params=params)
    assert status == 200
    return data.decode("utf-8").strip()


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def all_sent(sim: HttpSim, receiver: Receiver, expected: int) -> list[Call]:
    """Every callback the timelines produced has arrived and nothing else is in flight."""
    planned = sum(e.data["callbacks"] for e in sim.journal("status"))
    assert planned == expected, f"{planned} callbacks planned, expected {expected}"
    calls = receiver.wait_for(expected)
    emitter = sim.sim.webhooks
    assert emitter is not None
    wait_until(lambda: sim.loop.call(lambda: emitter.in_flight) == 0, "webhooks in flight")
    assert len(receiver.calls) == expected
    return calls


def statut(entry: Entry) -> str:
    return str(entry.callback["statut"])


# -- golden payloads ---------------------------------------------------------------------------
def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DLRSIM_UPDATE_GOLDEN") == "1":  # regenerate, then review the diff
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def normalised_call(call: Call, **volatile: str) -> str:
    """Method, path and query of a callback, one `name=value` a line, volatile values named."""
    lines = [f"{call.method} {call.path}"]
    for name, value in call.query.items():
        lines.append(f"{name}={'{' + name + '}' if name in volatile else value}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def sim(http_sim: HttpSim) -> HttpSim:
    return http_sim


# -- 1. sending, reports, status endpoints --------------------------------------------------
def test_post_in_iso_8859_15_is_accepted_and_reported(sim: HttpSim, receiver: Receiver) -> None:
    golden_fields = dict(
        line.split("=", 1)
        for line in (GOLDEN / "send_request.txt").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    )
    fields = {k: v.replace("{receiver}", receiver.url) for k, v in golden_fields.items()}
    status, data = post_form(sim, SEND, fields)
    assert status == 200
    code, text, sms_id = parse_answer(data)
    assert (code, text) == (0, "Accepted") and sms_id and SMS_ID.match(sms_id)
    golden("send_response.txt", data.decode().replace(sms_id, "{smsID}") + "\n")
    record = sim.loop.call(lambda: sim.sim.store.get(sms_id))
    assert record is not None and record.body.decode("utf-8") == fields["message"]
    assert record.source_addr == fields["emetteur"] and record.part_count == 1

    sim.run_until_idle()
    [call] = all_sent(sim, receiver, 1)
    assert call.method == "GET" and call.path == "/dlr" and call.body == b""
    assert call.query["smsID"] == sms_id and call.query["refClient"] == fields["refClient"]
    assert call.query["statut"] == "11" and REPORT_TIME.match(call.query["date_reception"])
    assert call.query["numero"] == fields["numero"] and call.query["cost"] == "1"
    golden("callback_delivery.txt", normalised_call(call, smsID="", date_reception=""))

    answer = lookup(sim, STATUS, sms_id)
    assert answer == "11 | Received"
    golden("status_response.txt", answer + "\n")
    report = lookup(sim, REPORT, sms_id)
    assert report == f"{fields['numero']} 11"
    golden("report_response.txt", report + "\n")


def test_get_in_utf8_with_a_national_number(sim: HttpSim, receiver: Receiver) -> None:
    text = "Rendez-vous confirmé à 9h, 5€"
    code, _, sms_id = send(sim, "06 12 34 56 78", text, get=True, url=receiver.url + "/g")
    assert code == 0 and sms_id is not None
    record = sim.loop.call(lambda: sim.sim.store.get(sms_id))
    assert record is not None and record.body.decode("utf-8") == text
    assert record.destination_addr == "33612345678"
    assert lookup(sim, REPORT, sms_id).startswith("33612345678 ")
    form = aiohttp.FormData({"accessToken": TOKEN, "numero": "+33612345678", "message": text},
                            default_to_multipart=True)
    status, _, data = sim.post(SEND, data=form)
    code, _, multipart_id = parse_answer(data)
    assert (status, code) == (200, 0) and multipart_id is not None
    record = sim.loop.call(lambda: sim.sim.store.get(multipart_id))
    assert record is not None and record.body.decode("utf-8") == text


def test_several_recipients_share_one_sms_id(sim: HttpSim, receiver: Receiver) -> None:
    received, failed, pending = (BY_KEY[k] for k in
                                 ("RECEIVED", "PERMANENT_ERROR_PHONE", "DELIVERED_TO_OPERATOR"))
    code, _, sms_id = send(sim, f"{received},+{failed},{pending},{received}",
                           url=receiver.url + "/multi", ref="batch-7")
    assert code == 0 and sms_id is not None
    assert sim.stored() == 3  # the repeated number is sent once
    assert lookup(sim, STATUS, sms_id) == "0 | Sent"
    assert lookup(sim, REPORT, sms_id) == f"{received} 0 | {failed} 0 | {pending} 0"

    sim.run_until_idle()
    calls = all_sent(sim, receiver, 3)
    assert {c.query["smsID"] for c in calls} == {sms_id}
    assert {c.query["refClient"] for c in calls} == {"batch-7"}
    assert {(c.query["numero"], c.query["statut"]) for c in calls} == {
        (received, "11"), (failed, "3523"), (pending, "13")}
    assert lookup(sim, REPORT, sms_id) == f"{received} 11 | {failed} 3523 | {pending} 13"
    assert lookup(sim, STATUS, sms_id) == "1 | In Progress"  # one recipient is not final yet

    code, _, done_id = send(sim, f"{received},{failed}")
    assert code == 0 and done_id is not None
    sim.run_until_idle()
    assert lookup(sim, STATUS, done_id) == "15 | Partially received"


def test_notification_url_keeps_its_own_query_and_config_url_is_the_fallback(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = make_http_sim("default.yaml", callback_urls={"smsmode": receiver.url + "/configured"})
    send(sim, BY_KEY["RECEIVED"], url=receiver.url + "/hook?secret=s3")
    send(sim, BY_KEY["RECEIVED"])
    sim.run_until_idle()
    calls = sorted(all_sent(sim, receiver, 2), key=lambda c: c.path)
    assert [c.path for c in calls] == ["/configured", "/hook"]
    assert calls[1].query["secret"] == "s3" and calls[1].query["statut"] == "11"
    assert "refClient" not in calls[0].query  # only echoed when the sender gave one


# -- 2. the every-outcome matrix ----------------------------------------------------------------
def test_every_outcome_number_reports_its_catalog_fields(
    sim: HttpSim, receiver: Receiver
) -> None:
    sent: dict[str, tuple[OutcomeNumber, str]] = {}
    for position, number in enumerate(NUMBERS, 1):
        code, _, sms_id = send(sim, number.number, url=receiver.url + "/dlr", ref=f"ref-{position}")
        assert code == 0 and sms_id is not None, number.entry.key
        sent[sms_id] = (number, f"ref-{position}")
    sim.run_until_idle()
    initial = CATALOG.initial_status
    reporting = [n for n, _ in sent.values() if n.entry.key != initial]
    calls = all_sent(sim, receiver, len(reporting))
    by_id = {c.query["smsID"]: c for c in calls}
    for sms_id, (number, ref) in sent.items():
        entry = number.entry
        if entry.key == initial:  # "Sent" is what sendSMS.do already said: no report for it
            assert sms_id not in by_id
        else:
            query = by_id[sms_id].query
            assert set(query) == ADAPTER_FIELDS | set(entry.callback), entry.key
            assert {k: query[k] for k in entry.callback} == {
                k: str(v) for k, v in entry.callback.items()}, entry.key
            assert query["refClient"] == ref and query["numero"] == number.number
        assert lookup(sim, STATUS, sms_id) == f"{statut(entry)} | {entry.name}"


def test_submit_time_refusals_come_back_as_error_lines(sim: HttpSim) -> None:
    numbers = OutcomeNumbers(REGISTRY).reject_numbers(CATALOG)
    assert {n.entry.key for n in numbers} == {
        "NOT_SENT_INSUFFICIENT_CREDIT", "ROUTING_ERROR", "BLACK_LISTED_NUMBER"}
    for number in numbers:
        code, text, sms_id = send(sim, number.number)
        assert sms_id is None and str(code) == statut(number.entry)
        if number.entry.key == "NOT_SENT_INSUFFICIENT_CREDIT":
            assert text == "Insufficient credit"
            golden("error_insufficient_credit.txt", f"{code} | {text}\n")
        else:
            assert text == number.entry.name
    assert sim.stored() == 0
    assert all(e.message_id is None for e in sim.journal("submit"))
    # In a send to several numbers the refused one is listed, the others go ahead.
    refused = next(n for n in numbers if n.entry.key == "ROUTING_ERROR").number
    code, _, sms_id = send(sim, f"{BY_KEY['RECEIVED']},{refused}")
    assert code == 0 and sms_id is not None and sim.stored() == 1
    sim.run_until_idle()
    assert lookup(sim, REPORT, sms_id) == f"{BY_KEY['RECEIVED']} 11 | {refused} 34"
    assert lookup(sim, STATUS, sms_id) == "15 | Partially received"


def test_scenario_refusals_without_an_entry(
    make_http_sim: Callable[..., HttpSim], tmp_path: Path
) -> None:
    scenario = tmp_path / "smsmode-refusals.yaml"
    scenario.write_text(
        "name: smsmode-refusals\nprovider: smsmode\nrules:\n"
        "  - when: {text: {contains: '[busy]'}}\n    then: {reject: {smpp: ESME_RTHROTTLED}}\n"
        "  - when: {text: {contains: '[broken]'}}\n    then: {reject: {smpp: ESME_RSYSERR}}\n"
        "  - when: {text: {contains: '[quota]'}}\n    then: {reject: {http: '50'}}\n"
        "default: {outcome: RECEIVED, after: 2s}\n",
        encoding="utf-8",
    )
    sim = make_http_sim(scenario)
    busy = send(sim, "33611112222", "[busy] please")
    assert busy == (50, "Temporarily unavailable", None)
    golden("error_temporarily_unavailable.txt", f"{busy[0]} | {busy[1]}\n")
    broken = send(sim, "33611112222", "[broken] please")
    assert broken == (31, "Internal error", None)
    golden("error_internal.txt", f"{broken[0]} | {broken[1]}\n")
    assert send(sim, "33611112222", "[quota] please") == (50, "Temporarily unavailable", None)
    assert sim.stored() == 0


# -- 3. bad requests ----------------------------------------------------------------------------
BAD_REQUESTS: dict[str, tuple[dict[str, str], str]] = {
    "no_auth": ({"message": "hi", "numero": "33611112222"}, "32 | Authentication error"),
    "missing_numero": ({"accessToken": TOKEN, "message": "hi"}, "35 | Missing parameter: numero"),
    "missing_message": ({"accessToken": TOKEN, "numero": "33611112222"},
                        "35 | Missing parameter: message"),
    "invalid_numero": ({"accessToken": TOKEN, "message": "hi", "numero": "33611112222,call-me"},
                       "35 | Invalid parameter: numero (call-me)"),
    "oversize": ({"accessToken": TOKEN, "numero": "33611112222", "message": "x" * 153 * MAX_PARTS
                  + "x"}, f"35 | Invalid parameter: message (longer than {MAX_PARTS} SMS)"),
    "oversize_for_nbr_msg": ({"accessToken": TOKEN, "numero": "33611112222", "nbr_msg": "1",
                              "message": "é" * 161}, "35 | Invalid parameter: message (longer "
                                                     "than 1 SMS)"),
    "long_ref": ({"accessToken": TOKEN, "numero": "33611112222", "message": "hi",
                  "refClient": "r" * 41}, "35 | Invalid parameter: refClient (over 40 characters)"),
    "bad_url": ({"accessToken": TOKEN, "numero": "33611112222", "message": "hi",
                 "notification_url": "ftp://x"}, "35 | Invalid parameter: notification_url"),
}


def test_bad_requests_get_error_lines_and_store_nothing(sim: HttpSim) -> None:
    for case, (fields, expected) in BAD_REQUESTS.items():
        for get in (False, True):
            if get:
                status, _, data = sim.get(SEND, params=fields)
            else:
                status, data = post_form(sim, SEND, fields)
            assert status == 200 and data.decode("utf-8") == expected, (case, get)
        if case in ("no_auth", "missing_numero", "oversize", "invalid_numero"):
            golden(f"error_{case}.txt", expected + "\n")
    # A body that is not a form (JSON here) carries no parameters.
    status, _, data = sim.post(f"{SEND}?accessToken={TOKEN}",
                               json={"numero": "33611112222", "message": "hi"})
    assert (status, data) == (200, b"35 | Missing parameter: numero")
    status, _, data = sim.post(SEND, data=b"\xff\xfe{not a form", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert (status, data) == (200, b"32 | Authentication error")
    assert sim.stored() == 0 and sim.journal("submit") == []
    # The status calls need an smsID, and one they know.
    assert lookup(sim, STATUS, "") == "35 | Missing parameter: smsID"
    assert lookup(sim, REPORT, "NoSuchId0000") == "35 | Invalid parameter: smsID (NoSuchId0000)"


def test_configured_account_checks_the_token(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = make_http_sim("default.yaml", accounts=[
        Account(system_id="shop", api_key="right-token", provider="smsmode")])
    fields = {"message": "hi", "numero": "33611112222"}
    for token in ("wrong-token", ""):
        status, data = post_form(sim, SEND, {"accessToken": token, **fields})
        assert data == b"32 | Authentication error"
    for path in (STATUS, REPORT):
        assert lookup(sim, path, "S7EpYZ5kmS87", token="wrong-token") == "32 | Authentication error"
        assert lookup(sim, path, "S7EpYZ5kmS87", token=None) == "32 | Authentication error"
    assert sim.stored() == 0 and sim.journal("submit") == []
    status, data = post_form(sim, SEND, {"accessToken": "right-token", **fields})
    assert status == 200 and parse_answer(data)[0] == 0
    assert [e.account for e in sim.journal("submit")] == ["shop"]


# -- 4. retries and MO ----------------------------------------------------------------------
def test_failing_receiver_gets_three_attempts_on_the_virtual_clock(
    sim: HttpSim, receiver: Receiver
) -> None:
    receiver.respond(500, 500)
    code, _, sms_id = send(sim, BY_KEY["RECEIVED"], url=receiver.url + "/dlr")
    assert code == 0
    sim.run_until_idle()
    attempts: list[Any] = []
    for n in (1, 2, 3):
        receiver.wait_for(n)

        def journaled(n: int = n) -> bool:
            return len(sim.journal("webhook")) == n

        wait_until(journaled, f"attempt {n} journaled")
        attempts = sim.journal("webhook")
        if n < 3:
            sim.advance(DEFAULT_RETRY.delays(n) or 0)
    assert [a.data["status_code"] for a in attempts] == [500, 500, 200]
    assert [a.data["outcome"] for a in attempts] == ["retry", "retry", "delivered"]
    gaps = [round(b.time - a.time) for a, b in itertools.pairwise(attempts)]
    assert gaps == [DEFAULT_RETRY.delays(1), DEFAULT_RETRY.delays(2)]
    assert {c.query["smsID"] for c in receiver.calls} == {sms_id}


def test_mo_callback_shape(sim: HttpSim, receiver: Receiver) -> None:
    adapter = sim.sim.providers["smsmode"]
    assert isinstance(adapter, Adapter)

    def inject() -> None:
        request = adapter.mo_callback(url=receiver.url + "/mo", source="33698765432",
                                      destination="36180", text="STOP merci", account="shop")
        assert sim.sim.webhooks is not None
        sim.sim.webhooks.send(request)

    sim.loop.call(inject)
    [call] = receiver.wait_for(1)
    assert call.method == "GET" and call.path == "/mo"
    assert call.query["numero"] == "36180" and call.query["emetteur"] == "33698765432"
    assert call.query["message"] == "STOP merci"
    assert re.fullmatch(r"\d{8}-\d{6}", call.query["date_reception"])
    assert SMS_ID.match(call.query["responseID"])
    golden("callback_mo.txt", normalised_call(call, date_reception="", responseID=""))

