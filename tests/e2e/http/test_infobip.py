"""Infobip over real HTTP: the official SDK against the simulator, v2/v1 with a plain client,
bad requests, per-message rejections, report pull, logs, MO and golden payloads.

The helpers at the top are shared by `test_infobip_matrix.py` and `test_infobip_retry.py`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from infobip_api_client import ApiClient, Configuration
from infobip_api_client.api.sms_api import SmsApi
from infobip_api_client.exceptions import BadRequestException, UnauthorizedException
from infobip_api_client.models.api_error import ApiError
from infobip_api_client.models.api_exception import ApiException
from infobip_api_client.models.message_error_group import MessageErrorGroup
from infobip_api_client.models.message_general_status import MessageGeneralStatus
from infobip_api_client.models.sms_delivery_result import SmsDeliveryResult
from infobip_api_client.models.sms_destination import SmsDestination
from infobip_api_client.models.sms_inbound_message_result import SmsInboundMessageResult
from infobip_api_client.models.sms_logs_response import SmsLogsResponse
from infobip_api_client.models.sms_message import SmsMessage
from infobip_api_client.models.sms_message_content import SmsMessageContent
from infobip_api_client.models.sms_message_delivery_reporting import (
    SmsMessageDeliveryReporting,
)
from infobip_api_client.models.sms_request import SmsRequest
from infobip_api_client.models.sms_response import SmsResponse
from infobip_api_client.models.sms_text_content import SmsTextContent
from infobip_api_client.models.sms_webhooks import SmsWebhooks

from simulator.catalog.model import Catalog, Entry
from simulator.catalog.registry import load_registry
from simulator.core.accounts import Account
from simulator.engine.numbers import OutcomeNumber, OutcomeNumbers
from simulator.providers.infobip import Adapter

from .conftest import WAIT, Call, HttpSim, Receiver

KEY = "infobip-test-key"
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "providers" / "infobip"
#: Fields that change from run to run; golden files hold them normalised.
VOLATILE = frozenset({"messageId", "bulkId", "sentAt", "doneAt", "receivedAt"})
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+0000")

_REGISTRY = load_registry()
CATALOG: Catalog = _REGISTRY.get("infobip")
ENTRIES: dict[str, Entry] = {entry.key: entry for entry in CATALOG.entries}
NUMBERS: list[OutcomeNumber] = OutcomeNumbers(_REGISTRY).numbers(CATALOG)
REJECT_NUMBERS: list[OutcomeNumber] = OutcomeNumbers(_REGISTRY).reject_numbers(CATALOG)
NO_ERROR: dict[str, Any] = ENTRIES["NO_ERROR"].callback["error"]


def number(key: str) -> str:
    return next(n.number for n in NUMBERS if n.entry.key == key)


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"App {key}"}


def post(
    sim: HttpSim, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    status, _, raw = sim.post(path, json=body, headers=auth() if headers is None else headers)
    return status, json.loads(raw)


def expected_objects(entry: Entry) -> tuple[dict[str, Any], dict[str, Any]]:
    """The status and error objects a report of `entry` must carry, from the catalog."""
    if entry.kind == "error":
        assert entry.with_status is not None
        return ENTRIES[entry.with_status].callback["status"], entry.callback["error"]
    return entry.callback["status"], NO_ERROR


def reports(calls: list[Call]) -> list[dict[str, Any]]:
    """Every delivery report of the received callbacks, in arrival order."""
    found: list[dict[str, Any]] = []
    for call in calls:
        assert call.method == "POST"
        assert call.headers["Content-Type"] == "application/json"
        found.extend(call.json["results"])
    return found


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def sms_api(sim: HttpSim, key: str = KEY) -> SmsApi:
    return SmsApi(ApiClient(Configuration(host=sim.url, api_key=key)))


def normalise(payload: Any, volatile: frozenset[str] = VOLATILE) -> Any:
    """Volatile ids and times replaced by `<field>` (times checked for Infobip's format first),
    and the receiver's port by `<port>`."""
    if isinstance(payload, dict):
        shown = {}
        for key, value in payload.items():
            if key in volatile and value is not None:
                if key.endswith("At"):
                    assert TIMESTAMP.fullmatch(value), (key, value)
                shown[key] = f"<{key}>"
            else:
                shown[key] = normalise(value, volatile)
        return shown
    if isinstance(payload, list):
        return [normalise(item, volatile) for item in payload]
    if isinstance(payload, str):
        return re.sub(r"//127\.0\.0\.1:[0-9]+/", "//127.0.0.1:<port>/", payload)
    return payload


def check_golden(name: str, payload: Any, volatile: frozenset[str] = VOLATILE) -> None:
    """Compare with tests/golden/providers/infobip/NAME.json (DLRSIM_UPDATE_GOLDEN=1 rewrites)."""
    path = GOLDEN / f"{name}.json"
    shown = json.dumps(normalise(payload, volatile), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("DLRSIM_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shown, encoding="utf-8")
    assert path.exists(), f"golden file {path} is missing"
    assert shown == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def v3_message(to: str, url: str | None, **extra: Any) -> dict[str, Any]:
    destination: dict[str, Any] = {"to": to}
    if "messageId" in extra:
        destination["messageId"] = extra.pop("messageId")
    message: dict[str, Any] = {
        "sender": "InfoSMS",
        "destinations": [destination],
        "content": {"text": extra.pop("text", "Your code is 1234")},
    }
    webhooks: dict[str, Any] = {}
    if url is not None:
        webhooks["delivery"] = {"url": url, "intermediateReport": extra.pop("intermediate", False)}
    if "callbackData" in extra:
        webhooks["callbackData"] = extra.pop("callbackData")
    if webhooks:
        message["webhooks"] = webhooks
    assert not extra, extra
    return message


@pytest.fixture
def keyed_sim(make_http_sim: Callable[..., HttpSim]) -> HttpSim:
    """A simulator with one configured Infobip account (so wrong keys are refused)."""
    account = Account(system_id="shop", api_key=KEY, provider="infobip")
    return make_http_sim("default.yaml", accounts=[account])


# -- the official SDK ---------------------------------------------------------------------


def test_sdk_send_and_callbacks_parse_with_sdk_models(
    http_sim: HttpSim, receiver: Receiver
) -> None:
    api = sms_api(http_sim)
    request = SmsRequest(
        messages=[
            SmsMessage(
                sender="InfoSMS",
                destinations=[
                    SmsDestination(to=number("DELIVERED_TO_HANDSET"), message_id="client-1"),
                    SmsDestination(to=number("EC_ABSENT_SUBSCRIBER")),
                ],
                content=SmsMessageContent(SmsTextContent(text="Hello from the SDK")),
                webhooks=SmsWebhooks(
                    delivery=SmsMessageDeliveryReporting(
                        url=receiver.url + "/dlr", intermediate_report=True
                    ),
                    callback_data="order-42",
                ),
            )
        ]
    )
    response = api.send_sms_messages(request)
    assert isinstance(response, SmsResponse)
    assert isinstance(response.bulk_id, str) and response.bulk_id
    first, second = response.messages
    assert first.message_id == "client-1"
    assert isinstance(second.message_id, str) and len(second.message_id) == 36
    for line, to in zip(response.messages, request.messages[0].destinations, strict=True):
        assert line.destination == to.to
        assert line.status is not None and line.details is not None
        assert line.status.group_name == MessageGeneralStatus.PENDING
        assert (line.status.id, line.status.name) == (26, "PENDING_ACCEPTED")
        assert line.details.message_count == 1
    assert http_sim.stored() == 2

    http_sim.run_until_idle()
    calls = receiver.wait_for(1)
    wait_until(lambda: len(reports(receiver.calls)) >= 4, "four delivery reports")
    parsed = [SmsDeliveryResult.from_json(call.body.decode()) for call in receiver.settle(0.2)]
    got = [report for result in parsed if result and result.results for report in result.results]
    assert len(got) == 4 and calls[0].path == "/dlr"
    by_id: dict[str, list[Any]] = {}
    for report in got:
        assert report.bulk_id == response.bulk_id
        assert report.callback_data == "order-42" and report.sender == "InfoSMS"
        assert report.message_count == 1 and report.sent_at is not None
        assert report.done_at is not None and report.done_at >= report.sent_at
        assert report.price is not None and report.price.currency == "EUR"
        by_id.setdefault(str(report.message_id), []).append(report)
    pending, delivered = by_id["client-1"]
    assert pending.status.name == "PENDING_ACCEPTED" and pending.error.name == "NO_ERROR"
    assert delivered.status.group_name == MessageGeneralStatus.DELIVERED
    assert (delivered.status.id, delivered.error.group_name) == (5, MessageErrorGroup.OK)
    absent = by_id[str(second.message_id)][-1]
    assert absent.status.name == "UNDELIVERABLE_NOT_DELIVERED"
    assert absent.error.name == "EC_ABSENT_SUBSCRIBER" and absent.error.id == 27
    assert absent.error.group_name == MessageErrorGroup.HANDSET_ERRORS
    assert absent.error.permanent is False


def test_sdk_errors_parse_as_api_error(keyed_sim: HttpSim) -> None:
    text_only = SmsRequest(
        messages=[
            SmsMessage(
                destinations=[SmsDestination(to=number("DELIVERED_TO_HANDSET"))],
                content=SmsMessageContent(SmsTextContent(text="Hi")),
            )
        ]
    )
    with pytest.raises(UnauthorizedException) as refused:
        sms_api(keyed_sim, "not-the-key").send_sms_messages(text_only)
    assert isinstance(refused.value.data, ApiError) and refused.value.data.error_code == "E401"

    blank = SmsRequest(
        messages=[
            SmsMessage(
                destinations=[SmsDestination(to=number("DELIVERED_TO_HANDSET"))],
                content=SmsMessageContent(SmsTextContent(text="  ")),
            )
        ]
    )
    with pytest.raises(BadRequestException) as bad:
        sms_api(keyed_sim).send_sms_messages(blank)
    error = bad.value.data
    assert isinstance(error, ApiError) and error.error_code == "E400"
    assert [(v.var_property, v.violation) for v in error.violations] == [
        ("messages[0].content.text", "must not be blank")
    ]
    assert keyed_sim.stored() == 0
    assert sms_api(keyed_sim).send_sms_messages(text_only).messages[0].message_id
    assert keyed_sim.stored() == 1


def test_sdk_pulls_reports_once_and_reads_logs(http_sim: HttpSim) -> None:
    api = sms_api(http_sim)
    status, sent = post(
        http_sim,
        "/sms/3/messages",
        {
            "messages": [
                v3_message(number("DELIVERED_TO_HANDSET"), None, callbackData="a"),
                v3_message(number("EC_CALL_BARRED"), None, callbackData="b"),
                v3_message(number("PENDING_ENROUTE"), None),
            ]
        },
    )
    assert status == 200
    ids = [line["messageId"] for line in sent["messages"]]
    logs = api.get_outbound_sms_message_logs(bulk_id=[sent["bulkId"]])
    assert isinstance(logs, SmsLogsResponse) and logs.results is not None
    assert {log.status.name for log in logs.results if log.status} == {"PENDING_ACCEPTED"}
    assert api.get_outbound_sms_message_delivery_reports().results == []

    http_sim.run_until_idle()
    pulled = api.get_outbound_sms_message_delivery_reports(limit=10)
    assert isinstance(pulled, SmsDeliveryResult) and pulled.results is not None
    got: dict[str | None, Any] = {report.message_id: report for report in pulled.results}
    assert set(got) == set(ids[:2])  # the pending one has no final report yet
    assert got[ids[0]].status.name == "DELIVERED_TO_HANDSET" and got[ids[0]].callback_data == "a"
    assert got[ids[1]].error.name == "EC_CALL_BARRED" and got[ids[1]].bulk_id == sent["bulkId"]
    assert api.get_outbound_sms_message_delivery_reports().results == []  # handed out once

    logs = api.get_outbound_sms_message_logs(message_id=[ids[1], ids[2]])
    assert logs.results is not None
    by_id: dict[str | None, Any] = {log.message_id: log for log in logs.results}
    assert set(by_id) == {ids[1], ids[2]}
    assert by_id[ids[1]].error.name == "EC_CALL_BARRED" and by_id[ids[1]].done_at is not None
    assert by_id[ids[2]].status.name == "PENDING_ENROUTE" and by_id[ids[2]].done_at is None
    content = by_id[ids[2]].content
    assert content is not None and isinstance(content.actual_instance, SmsTextContent)
    assert content.actual_instance.text == "Your code is 1234"
    delivered = api.get_outbound_sms_message_logs(general_status=MessageGeneralStatus.DELIVERED)
    assert [log.message_id for log in delivered.results or []] == [ids[0]]

    status, _, raw_logs = http_sim.get(
        "/sms/3/logs", params={"bulkId": sent["bulkId"]}, headers=auth()
    )
    assert status == 200
    check_golden("logs_response", json.loads(raw_logs))


# -- v2 and v1 with a plain client -------------------------------------------------------


def test_v2_advanced_uses_v2_names_and_honours_report_flags(
    http_sim: HttpSim, receiver: Receiver
) -> None:
    body = {
        "messages": [
            {
                "from": "ShopCo",
                "destinations": [{"to": number("DELIVERED_TO_HANDSET"), "messageId": "v2-one"}],
                "text": "Parcel on its way",
                "notifyUrl": receiver.url + "/v2",
                "notifyContentType": "application/json",
                "callbackData": "parcel-7",
            },
            {
                "from": "ShopCo",
                "destinations": [{"to": number("EC_UNKNOWN_SUBSCRIBER")}],
                "text": "Silent",
                "notifyUrl": receiver.url + "/v2",
                "notify": False,
            },
        ]
    }
    status, sent = post(http_sim, "/sms/2/text/advanced", body)
    assert status == 200
    assert isinstance(sent["bulkId"], str)  # two destinations: a bulk id
    first = sent["messages"][0]
    assert first["messageId"] == "v2-one" and first["to"] == number("DELIVERED_TO_HANDSET")
    assert (
        first["smsCount"] == 1 and first["status"] == ENTRIES["PENDING_ACCEPTED"].callback["status"]
    )
    check_golden("send_v2_request", body)
    check_golden("send_v2_response", sent)

    http_sim.run_until_idle()
    receiver.wait_for(1)
    got = reports(receiver.settle(0.2))
    assert [r["messageId"] for r in got] == ["v2-one"]  # notify=false: none for the other
    report = got[0]
    assert report["from"] == "ShopCo" and report["smsCount"] == 1
    assert "sender" not in report and "messageCount" not in report
    assert report["callbackData"] == "parcel-7" and report["bulkId"] == sent["bulkId"]
    assert (report["status"], report["error"]) == expected_objects(ENTRIES["DELIVERED_TO_HANDSET"])
    check_golden("callback_v2_delivered", receiver.calls[0].json)

    status, single = post(
        http_sim,
        "/sms/2/text/advanced",
        {"messages": [{"destinations": [{"to": number("DELIVERED_TO_HANDSET")}], "text": "x"}]},
    )
    assert status == 200 and "bulkId" not in single  # v2 names a bulk only for several


def test_v1_single_reports_to_the_configured_url(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = make_http_sim("default.yaml", callback_urls={"infobip": receiver.url + "/subscription"})
    body = {"from": "InfoSMS", "to": number("EC_SM_DF_MEMORYCAPACITYEXCEEDED"), "text": "Hi"}
    status, sent = post(sim, "/sms/1/text/single", body)
    assert status == 200 and "bulkId" not in sent
    (line,) = sent["messages"]
    assert line["to"] == body["to"] and line["smsCount"] == 1
    assert line["status"]["name"] == "PENDING_ACCEPTED"
    check_golden("send_v1_request", body)
    check_golden("send_v1_response", sent)

    status, several = post(sim, "/sms/1/text/single", {**body, "to": [body["to"], body["to"]]})
    assert status == 200 and isinstance(several["bulkId"], str) and len(several["messages"]) == 2

    sim.run_until_idle()
    wait_until(lambda: len(reports(receiver.calls)) >= 3, "three delivery reports")
    got = reports(receiver.settle(0.2))
    assert {r["messageId"] for r in got} == {line["messageId"]} | {
        m["messageId"] for m in several["messages"]
    }
    assert all(call.path == "/subscription" for call in receiver.calls)
    error = ENTRIES["EC_SM_DF_MEMORYCAPACITYEXCEEDED"]
    assert all((r["status"], r["error"]) == expected_objects(error) for r in got)


@pytest.mark.parametrize("scheme", ["Bearer", "App"])
def test_token_schemes_and_basic_auth(keyed_sim: HttpSim, scheme: str) -> None:
    body = {"messages": [v3_message(number("DELIVERED_TO_HANDSET"), None)]}
    assert post(keyed_sim, "/sms/3/messages", body, {"Authorization": f"{scheme} {KEY}"})[0] == 200
    basic = base64.b64encode(f"shop:{KEY}".encode()).decode()
    assert post(keyed_sim, "/sms/3/messages", body, {"Authorization": f"Basic {basic}"})[0] == 200
    wrong_user = base64.b64encode(f"other:{KEY}".encode()).decode()
    status, error = post(
        keyed_sim, "/sms/3/messages", body, {"Authorization": f"Basic {wrong_user}"}
    )
    assert status == 401 and error["errorCode"] == "E401"
    assert keyed_sim.stored() == 2


# -- bad requests: the API's own error bodies, nothing stored ------------------------------

V3_OK = {"messages": [v3_message("41793026727", None)]}
V2_OK = {"messages": [{"destinations": [{"to": "41793026727"}], "text": "Hi"}]}
V1_OK = {"to": "41793026727", "text": "Hi"}

BAD_BODIES: list[tuple[str, str, Any, list[tuple[str, str]]]] = [
    ("/sms/3/messages", "json", b'{"messages": [', []),
    ("/sms/3/messages", "fields", [], [("body", "must be an object")]),
    ("/sms/3/messages", "fields", {"messages": []}, [("messages", "must not be empty")]),
    (
        "/sms/3/messages",
        "fields",
        {"messages": [{"content": {"text": "Hi"}}]},
        [("messages[0].destinations", "must not be null")],
    ),
    (
        "/sms/3/messages",
        "fields",
        {"messages": [{"destinations": [{"messageId": "x"}], "content": {"text": "Hi"}}]},
        [("messages[0].destinations[0].to", "must not be null")],
    ),
    (
        "/sms/3/messages",
        "fields",
        {"messages": [{"destinations": [{"to": "41793026727"}], "content": {}}]},
        [("messages[0].content.text", "must not be null")],
    ),
    (
        "/sms/3/messages",
        "fields",
        {"messages": [{**v3_message("41793026727", None), "webhooks": {"delivery": {"url": 5}}}]},
        [("messages[0].webhooks.delivery.url", "must be a string")],
    ),
    ("/sms/2/text/advanced", "json", b"not json", []),
    (
        "/sms/2/text/advanced",
        "fields",
        {"messages": [{"text": "Hi"}]},
        [("messages[0].destinations", "must not be null")],
    ),
    (
        "/sms/2/text/advanced",
        "fields",
        {"messages": [{"destinations": [{"to": "41793026727"}]}]},
        [("messages[0].text", "must not be null")],
    ),
    ("/sms/1/text/single", "json", b"", []),
    ("/sms/1/text/single", "fields", {"text": "Hi"}, [("to", "must not be null")]),
    ("/sms/1/text/single", "fields", {"to": "41793026727"}, [("text", "must not be null")]),
]


@pytest.mark.parametrize(("path", "kind", "body", "violations"), BAD_BODIES)
def test_bad_bodies_get_400_and_store_nothing(
    http_sim: HttpSim, path: str, kind: str, body: Any, violations: list[tuple[str, str]]
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**auth(), "Content-Type": "application/json"}
    status, _, answer = http_sim.post(path, data=raw, headers=headers)
    assert status == 400
    error = json.loads(answer)
    if path.startswith("/sms/3/"):
        parsed = ApiError.from_dict(error)
        assert parsed is not None and parsed.error_code == "E400"
        assert [(v.var_property, v.violation) for v in parsed.violations] == violations
    else:
        parsed_v2 = ApiException.from_dict(error)
        assert parsed_v2 is not None and parsed_v2.request_error is not None
        detail = parsed_v2.request_error.service_exception
        assert detail is not None and detail.message_id == "BAD_REQUEST"
        expected = {p: [v] for p, v in violations} or None
        assert detail.validation_errors == expected
    assert http_sim.stored() == 0 and http_sim.journal("submit") == []


@pytest.mark.parametrize(
    ("path", "body"),
    [("/sms/3/messages", V3_OK), ("/sms/2/text/advanced", V2_OK), ("/sms/1/text/single", V1_OK)],
)
def test_missing_and_wrong_credentials_get_401(keyed_sim: HttpSim, path: str, body: Any) -> None:
    for headers in ({}, auth("wrong-key"), {"Authorization": KEY}, {"Authorization": "App "}):
        status, error = post(keyed_sim, path, body, headers)
        assert status == 401
        if path.startswith("/sms/3/"):
            assert error["errorCode"] == "E401" and error["violations"] == []
            assert ApiError.from_dict(error) is not None
        else:
            assert error == {
                "requestError": {
                    "serviceException": {
                        "messageId": "UNAUTHORIZED",
                        "text": "Invalid login details",
                    }
                }
            }
    for path_get in ("/sms/3/reports", "/sms/3/logs"):
        status, _, raw = keyed_sim.get(path_get, headers=auth("wrong-key"))
        assert status == 401 and json.loads(raw)["errorCode"] == "E401"
    assert keyed_sim.stored() == 0 and keyed_sim.journal("submit") == []


def test_error_goldens(keyed_sim: HttpSim) -> None:
    fixed = frozenset[str]()
    check_golden("error_v3_401", post(keyed_sim, "/sms/3/messages", V3_OK, auth("nope"))[1], fixed)
    check_golden(
        "error_v2_401", post(keyed_sim, "/sms/2/text/advanced", V2_OK, auth("nope"))[1], fixed
    )
    bad_json = {**auth(), "Content-Type": "application/json"}
    for path, name in (
        ("/sms/3/messages", "error_v3_400_json"),
        ("/sms/2/text/advanced", "error_v2_400_json"),
    ):
        status, _, raw = keyed_sim.post(path, data=b"{", headers=bad_json)
        assert status == 400
        check_golden(name, json.loads(raw), fixed)
    status, body = post(keyed_sim, "/sms/3/messages", {"messages": [{"content": {"text": ""}}]})
    assert status == 400
    check_golden("error_v3_400_fields", body, fixed)
    status, body = post(keyed_sim, "/sms/2/text/advanced", {"messages": [{"destinations": [{}]}]})
    assert status == 400
    check_golden("error_v2_400_fields", body, fixed)
    status, _, raw = keyed_sim.get("/sms/3/reports", params={"limit": "1001"}, headers=auth())
    assert status == 400 and json.loads(raw)["violations"][0]["property"] == "limit"


# -- refused per message (200, REJECTED status), nothing stored ----------------------------


def test_platform_refusals_come_back_per_message(http_sim: HttpSim, receiver: Receiver) -> None:
    ok = number("DELIVERED_TO_HANDSET")
    cases = [
        ("", "a", None, "MISSING_TO"),
        ("not-a-number", "a", None, "REJECTED_DESTINATION"),
        ("+12", "a", None, "REJECTED_DESTINATION"),
        (ok, "a" * 3826, None, "REJECTED_MESSAGE_TOO_LONG"),  # 26 GSM parts
        (ok, "я" * 1676, None, "REJECTED_MESSAGE_TOO_LONG"),  # 26 UCS-2 parts
        (ok, "é" * 2001, None, "REJECTED_MESSAGE_TOO_LONG"),  # 14 parts, 4002 bytes
        (ok, "a", "dup-1", "PENDING_ACCEPTED"),
        (ok, "a", "dup-1", "REJECTED_DUPLICATE_MESSAGE_ID"),
        (ok, "a" * 3825, None, "PENDING_ACCEPTED"),  # 25 parts: still taken
        ("+" + ok, "я" * 1675, None, "PENDING_ACCEPTED"),
    ]
    messages = []
    for to, text, client_id, _ in cases:
        message = v3_message(to, receiver.url + "/dlr", text=text)
        if client_id:
            message["destinations"][0]["messageId"] = client_id
        messages.append(message)
    status, sent = post(http_sim, "/sms/3/messages", {"messages": messages})
    assert status == 200
    names = [line["status"]["name"] for line in sent["messages"]]
    assert names == [case[3] for case in cases]
    for line, case in zip(sent["messages"], cases, strict=True):
        assert line["status"] == ENTRIES[case[3]].callback["status"]
        assert line["destination"] == case[0] and isinstance(line["messageId"], str)
    assert sent["messages"][6]["messageId"] == sent["messages"][7]["messageId"] == "dup-1"
    assert sent["messages"][8]["details"] == {"messageCount": 25}
    assert http_sim.stored() == 3 and len(http_sim.journal("submit")) == 3
    check_golden("send_v3_rejected_response", {"messages": sent["messages"][:4]})

    status, again = post(
        http_sim, "/sms/3/messages", {"messages": [v3_message(ok, None, messageId="dup-1")]}
    )
    assert again["messages"][0]["status"]["name"] == "REJECTED_DUPLICATE_MESSAGE_ID"
    http_sim.run_until_idle()
    receiver.wait_for(1)
    assert len(reports(receiver.settle(0.2))) == 3  # only the accepted ones report
    assert http_sim.stored() == 3


def test_scenario_refusals_report_their_catalog_status(http_sim: HttpSim) -> None:
    messages = [v3_message(n.number, None) for n in REJECT_NUMBERS]
    status, sent = post(http_sim, "/sms/3/messages", {"messages": messages})
    assert status == 200 and len(sent["messages"]) == len(REJECT_NUMBERS) > 0
    for line, found in zip(sent["messages"], REJECT_NUMBERS, strict=True):
        assert line["destination"] == found.number
        assert line["status"] == expected_objects(found.entry)[0]
        assert line["status"]["groupName"] in ("REJECTED", "UNDELIVERABLE", "EXPIRED")
    assert http_sim.stored() == 0
    refusals = http_sim.journal("submit")
    assert len(refusals) == len(REJECT_NUMBERS)
    assert all(entry.message_id is None for entry in refusals)


# -- payload goldens and MO ---------------------------------------------------------------


def test_send_and_callback_goldens(http_sim: HttpSim, receiver: Receiver) -> None:
    body = {
        "messages": [
            {
                **v3_message(
                    number("DELIVERED_TO_HANDSET"),
                    receiver.url + "/dlr",
                    intermediate=True,
                    callbackData="order-42",
                    messageId="golden-1",
                ),
                "options": {"platform": {"entityId": "shop", "applicationId": "web"}},
            }
        ],
        "options": {"schedule": {"bulkId": "golden-bulk"}},
    }
    status, sent = post(http_sim, "/sms/3/messages", body)
    assert status == 200 and sent["bulkId"] == "golden-bulk"
    check_golden("send_v3_request", body)
    check_golden("send_v3_response", sent)
    http_sim.run_until_idle()
    receiver.wait_for(1)
    got = reports(receiver.settle(0.2))
    assert [r["status"]["name"] for r in got] == ["PENDING_ACCEPTED", "DELIVERED_TO_HANDSET"]
    assert got[1]["platform"] == {"entityId": "shop", "applicationId": "web"}
    assert got[1]["bulkId"] == "golden-bulk" and got[1]["messageId"] == "golden-1"
    check_golden("callback_v3_delivery", {"results": got})

    status, sent = post(
        http_sim,
        "/sms/3/messages",
        {"messages": [v3_message(number("EC_BLOCKED_BY_DLT"), receiver.url + "/dlr")]},
    )
    http_sim.run_until_idle()
    wait_until(lambda: len(reports(receiver.calls)) == 3, "the DLT error report")
    dlt = reports(receiver.calls)[-1]
    assert "groupId" not in dlt["error"] and dlt["error"]["id"] == 4106
    check_golden("callback_v3_error_without_group", {"results": [dlt]})
    status, _, raw = http_sim.get(
        "/sms/3/reports", params={"messageId": "golden-1"}, headers=auth()
    )
    assert status == 200
    check_golden("reports_response", json.loads(raw))


def test_mo_callback_parses_with_the_sdk(http_sim: HttpSim, receiver: Receiver) -> None:
    adapter = http_sim.sim.providers["infobip"]
    assert isinstance(adapter, Adapter)

    def inject() -> None:
        request = adapter.mo_callback(
            url=receiver.url + "/mo",
            source="41793026727",
            destination="447860099299",
            text="STOP please",
            account=None,
        )
        assert http_sim.sim.webhooks is not None
        http_sim.sim.webhooks.send(request)

    http_sim.loop.call(inject)
    (call,) = receiver.wait_for(1)
    parsed = SmsInboundMessageResult.from_json(call.body.decode())
    assert parsed is not None and parsed.results is not None
    assert (parsed.message_count, parsed.pending_message_count) == (1, 0)
    (inbound,) = parsed.results
    assert (inbound.var_from, inbound.to, inbound.text) == (
        "41793026727",
        "447860099299",
        "STOP please",
    )
    assert inbound.sms_count == 1 and inbound.received_at is not None
    check_golden("mo_callback", call.json)
    (entry,) = http_sim.journal("webhook")
    assert entry.data["kind"] == "mo" and entry.data["outcome"] == "delivered"


def test_every_golden_file_is_checked() -> None:
    """Each golden file on disk is one a test writes; a stray one would go unchecked."""
    source = Path(__file__).read_text(encoding="utf-8")
    on_disk = sorted(path.stem for path in GOLDEN.glob("*.json"))
    assert on_disk, "no golden files"
    assert [name for name in on_disk if f'"{name}"' not in source] == []
