"""Mobile-originated messages injected with `Smsc.send_mo` and read by a bound smpplib receiver.

Expected bytes are computed independently of the simulator: GSM text with smpplib's own
encoder, UCS-2 with Python's UTF-16-BE codec.
"""

from __future__ import annotations

from typing import Any

import smpplib.gsm  # type: ignore[import-untyped]

from simulator.core.accounts import Account

from .conftest import Harness, text_of

HANDSET = "4917000000001"
SHORT_CODE = "12345"
LONG_UCS2 = "Длинное сообщение с телефона, которое не помещается в одну часть. " * 3  # 198 chars


def _assert_addresses(pdu: Any) -> None:
    assert text_of(pdu.source_addr) == HANDSET
    assert text_of(pdu.destination_addr) == SHORT_CODE
    assert pdu.receipted_message_id is None  # an MO, not a receipt


def test_short_gsm_mo_reaches_the_receiver(harness: Harness) -> None:
    sim = harness.sim()
    receiver = harness.bound(sim, "receiver", "shop")
    text = "Hi @ shop: 5€ ok? [yes]"

    assert sim.send_mo("shop", HANDSET, SHORT_CODE, text) == 1
    (mo,) = receiver.wait_deliveries(1)

    _assert_addresses(mo)
    assert mo.esm_class == 0
    assert mo.data_coding == 0
    assert mo.short_message == smpplib.gsm.gsm_encode(text)
    sim.wait_until(lambda smsc: smsc.counters["mo_delivered"] == 1, "the MO to be acknowledged")


def test_long_ucs2_mo_arrives_as_udh_parts(harness: Harness) -> None:
    sim = harness.sim()
    receiver = harness.bound(sim, "receiver", "shop")
    assert len(LONG_UCS2) > 70

    count = sim.send_mo("shop", HANDSET, SHORT_CODE, LONG_UCS2)
    parts = receiver.wait_deliveries(count)

    assert count == 3  # 198 UCS-2 characters at 67 per part
    assert len(parts) == count
    references = set()
    body = b""
    for seq, part in enumerate(parts, 1):
        _assert_addresses(part)
        assert part.esm_class == 0x40
        assert part.data_coding == 8
        udh, chunk = part.short_message[:6], part.short_message[6:]
        assert udh[:3] == b"\x05\x00\x03"
        assert udh[4] == count and udh[5] == seq
        assert len(chunk) <= 134 and len(chunk) % 2 == 0
        references.add(udh[3])
        body += chunk
    assert len(references) == 1  # one concatenation reference for all parts
    assert body.decode("utf-16-be") == LONG_UCS2


def test_long_mo_with_payload_arrives_whole(harness: Harness) -> None:
    sim = harness.sim(accounts=[Account(system_id="shop", mo_use_payload=True)])
    receiver = harness.bound(sim, "receiver", "shop")

    assert sim.send_mo("shop", HANDSET, SHORT_CODE, LONG_UCS2) == 1
    (mo,) = receiver.wait_deliveries(1)

    _assert_addresses(mo)
    assert mo.esm_class == 0
    assert mo.data_coding == 8
    assert not mo.short_message
    assert mo.message_payload == LONG_UCS2.encode("utf-16-be")
