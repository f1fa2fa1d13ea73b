"""How many SMS parts a text costs, as the providers count and bill it."""

from __future__ import annotations

from simulator.smpp.codec.gsm import gsm_septet_count, is_gsm


def sms_parts(text: str) -> int:
    """GSM 7-bit: 160 septets in one part, 153 per part beyond; else UCS-2: 70, then 67."""
    if is_gsm(text):
        septets = gsm_septet_count(text)
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-be")) // 2
    return 1 if units <= 70 else -(-units // 67)
