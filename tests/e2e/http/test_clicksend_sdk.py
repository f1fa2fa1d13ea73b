"""The official ClickSend SDK (PyPI `clicksend-client`, import `clicksend`) against the simulator.

The SDK's pydantic models are strict (StrictInt, StrictStr), so parsing every answer with them
checks field names and JSON types at once; receipts and inbound pushes are parsed with the
SDK's own `SmsReceipt` and `InboundSms` models. The SDK's resource paths already start with
`/v3`, so its host is the simulator's bare base URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import clicksend
import pytest

from simulator.core.accounts import Account

from .conftest import Call, HttpSim, Receiver
from .test_clicksend import (
    DELIVERED_TO,
    ENTRIES,
    INITIAL,
    KEY,
    START,
    USER,
    UUID_UPPER,
    cs_sim,
    drain,
    mo,
)

#: SmsReceipt's integer fields: a form push carries them as text, a client converts them.
RECEIPT_INTS = ("timestamp_send", "timestamp", "status_code", "error_code", "subaccount_id")


def sdk(sim: HttpSim, user: str = USER, key: str = KEY) -> clicksend.SmsApi:
    config = clicksend.Configuration(host=sim.url, username=user, password=key)
    return clicksend.SmsApi(clicksend.ApiClient(config))


def receipt_from_form(call: Call) -> clicksend.SmsReceipt:
    """What a ClickSend client does with a form push: text to the model's types, then parse."""
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields: dict[str, Any] = dict(call.form)
    for name in RECEIPT_INTS:
        fields[name] = int(fields[name]) if fields[name] else None
    for name in ("error_text", "custom_string"):
        fields[name] = fields[name] or None
    parsed = clicksend.SmsReceipt.from_dict(fields)
    assert parsed is not None
    return parsed


def test_sdk_registers_a_rule_sends_and_reads_receipts(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    sim = cs_sim(make_http_sim)
    api = sdk(sim)
    rule = api.create_sms_delivery_receipt_rule(
        create_sms_delivery_receipt_rule_request=clicksend.CreateSmsDeliveryReceiptRuleRequest(
            rule_name="dlrsim", match_type=0, action="URL",
            action_address=receiver.url + "/clicksend/receipts", enabled=1,
        )
    )  # fmt: skip
    assert isinstance(rule, clicksend.CreateSmsDeliveryReceiptRule)
    assert rule.http_code == 200 and rule.response_code == "SUCCESS"
    assert rule.data is not None and rule.data.receipt_rule_id == 1
    assert rule.data.action_address == receiver.url + "/clicksend/receipts"
    rules = api.view_sms_delivery_receipt_rules()
    assert rules.data is not None and rules.data.total == 1
    assert rules.data.data is not None and rules.data.data[0].rule_name == "dlrsim"
    one = api.view_sms_delivery_receipt_rule("1")
    assert one.data is not None and one.data.enabled == 1

    sent = api.send_sms(
        send_sms_request=clicksend.SendSmsRequest(
            messages=[
                clicksend.SendSmsRequestMessagesInner(
                    body="Your order shipped", to=DELIVERED_TO, var_from="MyBiz",
                    custom_string="order-42",
                ),
                clicksend.SendSmsRequestMessagesInner(body="No number here", to="12-ab"),
            ]
        )
    )  # fmt: skip
    assert isinstance(sent, clicksend.SendSms)
    assert (sent.http_code, sent.response_code) == (200, "SUCCESS")
    assert sent.response_msg == "Messages queued for delivery."
    data = sent.data
    assert data is not None and data.messages is not None and data.currency is not None
    assert (data.total_count, data.queued_count, data.blocked_count) == (2, 1, 0)
    assert data.currency.currency_name_short == "AUD"
    queued, invalid = data.messages
    assert queued.status == "SUCCESS" and queued.custom_string == "order-42"
    assert queued.var_from == "MyBiz" and queued.var_date == START
    assert queued.message_id is not None and UUID_UPPER.match(queued.message_id)
    assert invalid.status == "INVALID_RECIPIENT" and invalid.message_id is None
    assert sim.stored() == 1

    drain(sim)
    receipts = [receipt_from_form(call) for call in receiver.calls]
    assert [r.status_code for r in receipts] == [200, 201]
    queued_receipt, delivered = receipts
    assert queued_receipt.status_text == INITIAL.callback["status_text"]
    assert delivered.status_text == ENTRIES["DELIVERED"].callback["status_text"]
    for parsed in receipts:
        assert parsed.message_id == queued.message_id
        assert parsed.custom_string == "order-42" and parsed.message_type == "sms"
        assert parsed.error_code is None and parsed.timestamp_send == START

    pulled = api.view_sms_receipts()
    assert isinstance(pulled, clicksend.ViewSmsReceipts)
    assert pulled.data is not None and pulled.data.total == 1 and pulled.data.per_page == 15
    assert pulled.data.data is not None and pulled.data.data[0].status_code == 201
    single = api.view_specific_sms_receipt(queued.message_id)
    assert single.data is not None and single.data.message_id == queued.message_id
    assert single.data.status_text == delivered.status_text

    deleted = api.delete_sms_delivery_receipt_rule("1")
    assert isinstance(deleted, clicksend.DeleteSmsDeliveryReceiptRule) and deleted.data == []
    assert api.view_sms_delivery_receipt_rules().data.total == 0  # type: ignore[union-attr]


def test_sdk_sees_clicksend_errors_and_parses_json_pushes(
    make_http_sim: Callable[..., HttpSim], receiver: Receiver
) -> None:
    account = Account(system_id="acme", api_key="secret", provider="clicksend")
    sim = cs_sim(make_http_sim, accounts=[account])
    request = clicksend.SendSmsRequest(
        messages=[clicksend.SendSmsRequestMessagesInner(body="Hi", to=DELIVERED_TO)]
    )
    with pytest.raises(clicksend.ApiException) as refused:
        sdk(sim, "acme", "wrong").send_sms(send_sms_request=request)
    assert refused.value.status == 401
    assert refused.value.body is not None
    assert json.loads(refused.value.body)["response_code"] == "UNAUTHORIZED"
    with pytest.raises(clicksend.ApiException) as missing:
        sdk(sim, "acme", "secret").view_specific_sms_receipt("NO-SUCH-ID")
    assert missing.value.status == 404
    assert sim.stored() == 0

    api = sdk(sim, "acme", "secret")
    api.create_sms_delivery_receipt_rule(
        create_sms_delivery_receipt_rule_request=clicksend.CreateSmsDeliveryReceiptRuleRequest(
            rule_name="json", action="URL", action_address=receiver.url + "/json#json"
        )
    )
    sent = api.send_sms(send_sms_request=request)
    assert sent.data is not None and sent.data.messages is not None
    message_id = sent.data.messages[0].message_id
    drain(sim)
    receipts = []
    for call in receiver.calls:
        assert call.path == "/json" and call.headers["Content-Type"] == "application/json"
        parsed = clicksend.SmsReceipt.from_json(call.body.decode())
        assert parsed is not None
        receipts.append(parsed)
    assert [(r.message_id, r.status_code) for r in receipts] == [
        (message_id, 200), (message_id, 201),
    ]  # fmt: skip

    receiver.calls.clear()
    mo(sim, receiver.url + "/inbound#json", DELIVERED_TO, "Thanks!")
    inbound = clicksend.InboundSms.from_json(receiver.wait_for(1)[0].body.decode())
    assert inbound is not None
    assert inbound.var_from == DELIVERED_TO and inbound.body == "Thanks!"
    assert inbound.original_message_id == message_id and inbound.original_body == "Hi"
    assert inbound.keyword == "thanks"
    assert inbound.timestamp == START + 5  # the clock stopped at the delivered step
