"""The every-outcome matrix over HTTP: every Infobip SMS test number, sent through the send
API, reports exactly its catalog entry's callback fields, with the right ids and echoed refs.
"""

from __future__ import annotations

from typing import Any

import pytest
from infobip_api_client.models.sms_delivery_result import SmsDeliveryResult

from .conftest import HttpSim, Receiver
from .test_infobip import (
    ENTRIES,
    NUMBERS,
    expected_objects,
    post,
    reports,
    wait_until,
)

PENDING = ENTRIES["PENDING_ACCEPTED"].callback["status"]


def _v3(url: str, intermediate: bool) -> tuple[str, dict[str, Any]]:
    messages = [
        {
            "sender": "Matrix",
            "destinations": [{"to": found.number, "messageId": f"m3-{found.entry.key}"}],
            "content": {"text": f"outcome {found.entry.key}"},
            "webhooks": {
                # Pending outcomes only ever report as intermediate reports.
                "delivery": {
                    "url": url,
                    "intermediateReport": intermediate or not found.entry.final,
                },
                "callbackData": found.entry.key,
            },
        }
        for found in NUMBERS
    ]
    return "/sms/3/messages", {"messages": messages}


def _v2(url: str, intermediate: bool) -> tuple[str, dict[str, Any]]:
    messages = [
        {
            "from": "Matrix",
            "destinations": [{"to": found.number, "messageId": f"m2-{found.entry.key}"}],
            "text": f"outcome {found.entry.key}",
            "notifyUrl": url,
            "intermediateReport": intermediate or not found.entry.final,
            "callbackData": found.entry.key,
        }
        for found in NUMBERS
    ]
    return "/sms/2/text/advanced", {"messages": messages}


@pytest.mark.parametrize(
    ("version", "intermediate"), [("v3", False), ("v3", True), ("v2", True), ("v2", False)]
)
def test_every_sms_outcome_reports_its_catalog_fields(
    http_sim: HttpSim, receiver: Receiver, version: str, intermediate: bool
) -> None:
    assert len(NUMBERS) == 223  # every SMS entry of the catalog has a test number
    path, body = (_v3 if version == "v3" else _v2)(receiver.url + "/dlr", intermediate)
    status, sent = post(http_sim, path, body)
    assert status == 200 and len(sent["messages"]) == len(NUMBERS)
    prefix = "m3-" if version == "v3" else "m2-"
    for line, found in zip(sent["messages"], NUMBERS, strict=True):
        assert line["messageId"] == prefix + found.entry.key
        assert line["status"] == PENDING
    assert http_sim.stored() == len(NUMBERS)

    # With intermediate reports every final outcome also reports PENDING_ACCEPTED first.
    expected_count = sum(2 if intermediate and found.entry.final else 1 for found in NUMBERS)
    http_sim.run_until_idle()
    wait_until(lambda: len(reports(receiver.calls)) >= expected_count, "every report")
    calls = receiver.settle(0.2)
    assert all(len(call.json["results"]) <= 100 for call in calls)  # Infobip's bucket size
    for call in calls:  # the official SDK's model takes every body
        parsed = SmsDeliveryResult.from_json(call.body.decode())
        assert parsed is not None and parsed.results
    got = reports(calls)
    assert len(got) == expected_count

    by_id: dict[str, list[dict[str, Any]]] = {}
    for report in got:
        by_id.setdefault(report["messageId"], []).append(report)
    sender, count = ("sender", "messageCount") if version == "v3" else ("from", "smsCount")
    for found in NUMBERS:
        entry = found.entry
        chain = by_id.pop(prefix + entry.key)
        if intermediate and entry.final:
            first, last = chain
            assert (first["status"], first["error"]) == expected_objects(
                ENTRIES["PENDING_ACCEPTED"]
            )
        else:
            (last,) = chain
        status_object, error_object = expected_objects(entry)
        assert last["status"] == status_object, entry.key
        assert last["error"] == error_object, entry.key
        for report in chain:
            assert report["to"] == found.number and report["callbackData"] == entry.key
            assert report[sender] == "Matrix" and report[count] == 1
            assert report["bulkId"] == sent["bulkId"]
    assert by_id == {}
