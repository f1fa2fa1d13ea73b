"""Delivery receipt text (SMPP 3.4 Appendix B): rendering and tolerant parsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.smpp.codec.constants import CommandStatus, MessageState
from simulator.smpp.codec.errors import CodecError
from simulator.smpp.codec.receipt import ReceiptParseError, ReceiptText, parse_receipt

SUBMITTED = datetime(2024, 1, 2, 15, 30, 45)
DONE = datetime(2024, 1, 2, 15, 31, 5)


def _receipt(**changes: object) -> ReceiptText:
    fields: dict[str, object] = {
        "id": "0123456789", "sub": 1, "dlvrd": 1, "submit_date": SUBMITTED,
        "done_date": DONE, "stat": "DELIVRD", "err": "000", "text": "Hello",
    }
    fields.update(changes)
    return ReceiptText(**fields)  # type: ignore[arg-type]


# --- render -----------------------------------------------------------------------------------


def test_render_standard_layout() -> None:
    assert _receipt(text="Your code is 482913, valid 5 min").render() == (
        "id:0123456789 sub:001 dlvrd:001 submit date:2401021530 done date:2401021531 "
        "stat:DELIVRD err:000 text:Your code is 482913,"
    )


def test_render_with_seconds_and_capital_label() -> None:
    assert _receipt().render(text_label="Text", date_seconds=True) == (
        "id:0123456789 sub:001 dlvrd:001 submit date:240102153045 done date:240102153105 "
        "stat:DELIVRD err:000 Text:Hello"
    )


def test_render_converts_aware_dates_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    receipt = _receipt(submit_date=datetime(2024, 1, 2, 17, 30, tzinfo=plus_two),
                       done_date=datetime(2024, 1, 1, 0, 15, tzinfo=plus_two))
    assert "submit date:2401021530 done date:2312312215 " in receipt.render()


def test_render_leaves_out_absent_fields_and_zeroes_absent_dates() -> None:
    receipt = _receipt(sub=None, dlvrd=None, submit_date=None, done_date=None, err=None,
                       text=None, stat="UNDELIV")
    assert receipt.render() == (
        "id:0123456789 submit date:0000000000 done date:0000000000 stat:UNDELIV"
    )
    assert "submit date:000000000000 " in receipt.render(date_seconds=True)


def test_render_pads_counts_and_keeps_empty_text() -> None:
    assert " sub:007 dlvrd:000 " in _receipt(sub=7, dlvrd=0).render()
    assert _receipt(text="").render().endswith(" err:000 text:")


# --- parse: the variants seen in the wild -----------------------------------------------------


def test_parse_standard() -> None:
    parsed = parse_receipt(
        "id:0123456789 sub:001 dlvrd:001 submit date:2401021530 done date:2401021531 "
        "stat:DELIVRD err:000 text:Hello"
    )
    assert parsed == _receipt(submit_date=datetime(2024, 1, 2, 15, 30),
                              done_date=datetime(2024, 1, 2, 15, 31))
    assert parsed.state == MessageState.DELIVERED


def test_parse_capital_text_label_and_text_with_labels_inside() -> None:
    parsed = parse_receipt("id:7 sub:001 dlvrd:000 submit date:2401021530 done date:2401021531 "
                           "stat:UNDELIV err:001 Text:ask id:5 stat:ok")
    assert parsed.id == "7"
    assert parsed.stat == "UNDELIV"
    assert parsed.text == "ask id:5 stat:ok"


def test_parse_without_sub_dlvrd_and_text() -> None:
    parsed = parse_receipt("id:4f1a submit date:2401021530 done date:2401021531 "
                           "stat:DELIVRD err:000")
    assert (parsed.sub, parsed.dlvrd, parsed.text) == (None, None, None)
    assert parsed.err == "000"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2401021530", datetime(2024, 1, 2, 15, 30)),
        ("240102153045", datetime(2024, 1, 2, 15, 30, 45)),
        ("20240102153045", datetime(2024, 1, 2, 15, 30, 45)),
        ("0000000000", None),
        ("000000000000", None),
        ("2413021530", None),  # month 13
        ("240102", None),  # too short
        ("24-01-0215", None),
    ],
)
def test_parse_dates(stamp: str, expected: datetime | None) -> None:
    parsed = parse_receipt(f"id:1 submit date:{stamp} done date:{stamp} stat:DELIVRD")
    assert parsed.submit_date == expected
    assert parsed.done_date == expected


def test_parse_keeps_non_standard_stat_and_err() -> None:
    parsed = parse_receipt("id:99 sub:001 dlvrd:000 submit date:2401021530 "
                           "done date:0000000000 stat:FAILED err:X7 text:")
    assert parsed.stat == "FAILED"
    assert parsed.state is None
    assert parsed.err == "X7"
    assert parsed.done_date is None
    assert parsed.text == ""


@pytest.mark.parametrize(
    "message_id",
    ["59018505-8565-4c2b-9d7e-0a1b2c3d4e5f", "1EEDF843", "0000004711",
     "SAR-2347039245475-1EEDF843-2-1"],
)
def test_parse_id_shapes(message_id: str) -> None:
    assert parse_receipt(f"id:{message_id} stat:DELIVRD err:000 text:x").id == message_id


def test_parse_reordered_fields_extra_whitespace_and_unknown_fields() -> None:
    parsed = parse_receipt(
        "  stat:EXPIRED   err:027\tnetwork:GSM  id:A1B2  dlvrd:000 sub:001 "
        "done  date:2401021531   submit date:2401021530   Text:hi there "
    )
    assert parsed == ReceiptText("A1B2", 1, 0, datetime(2024, 1, 2, 15, 30),
                                 datetime(2024, 1, 2, 15, 31), "EXPIRED", "027", "hi there ")


def test_parse_text_that_is_not_the_last_field() -> None:
    parsed = parse_receipt("text:short note id:12 stat:DELIVRD err:000")
    assert (parsed.text, parsed.id, parsed.stat, parsed.err) == ("short note", "12",
                                                                 "DELIVRD", "000")


def test_parse_space_after_colon() -> None:
    parsed = parse_receipt("id: 42 sub: dlvrd:001 stat: DELIVRD")
    assert (parsed.id, parsed.sub, parsed.dlvrd, parsed.stat) == ("42", None, 1, "DELIVRD")


def test_first_occurrence_wins_and_labels_inside_words_do_not_count() -> None:
    parsed = parse_receipt("msgid:zz id:1 stat:ENROUTE stat:DELIVRD")
    assert (parsed.id, parsed.stat) == ("1", "ENROUTE")
    assert parsed.state == MessageState.ENROUTE


@pytest.mark.parametrize(
    "receipt",
    ["", "sub:001 dlvrd:001 stat:DELIVRD err:000 text:x", "id:5 err:000 text:stat:DELIVRD",
     "id: stat:DELIVRD", "id:5 stat:", "hello world"],
)
def test_missing_id_or_stat_is_an_error(receipt: str) -> None:
    with pytest.raises(ReceiptParseError) as caught:
        parse_receipt(receipt)
    assert caught.value.status == CommandStatus.ESME_RX_P_APPN
    assert isinstance(caught.value, CodecError)


# --- properties -------------------------------------------------------------------------------

_MINUTES = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
_SECONDS = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=0)
)
_TOKEN = st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)


@st.composite
def receipts(draw: st.DrawFn, dates: st.SearchStrategy[datetime]) -> ReceiptText:
    return ReceiptText(
        id=draw(_TOKEN),
        sub=draw(st.none() | st.integers(0, 999)),
        dlvrd=draw(st.none() | st.integers(0, 999)),
        submit_date=draw(st.none() | dates),
        done_date=draw(st.none() | dates),
        stat=draw(st.sampled_from(["DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "FAILED"])
                  | st.from_regex(r"[A-Z]{1,8}", fullmatch=True)),
        err=draw(st.none() | st.from_regex(r"[A-Za-z0-9]{0,4}", fullmatch=True)),
        text=draw(st.none() | st.text(max_size=20)),
    )


@given(receipts(_MINUTES), st.sampled_from(["text", "Text"]))
def test_render_parse_round_trip(receipt: ReceiptText, label: str) -> None:
    assert parse_receipt(receipt.render(text_label=label)) == receipt


@given(receipts(_SECONDS))
def test_render_parse_round_trip_with_seconds(receipt: ReceiptText) -> None:
    assert parse_receipt(receipt.render(date_seconds=True)) == receipt


@given(receipts(_MINUTES), st.text(min_size=21, max_size=60))
def test_rendered_text_keeps_twenty_characters(receipt: ReceiptText, text: str) -> None:
    rendered = ReceiptText(receipt.id, receipt.sub, receipt.dlvrd, receipt.submit_date,
                           receipt.done_date, receipt.stat, receipt.err, text).render()
    assert parse_receipt(rendered).text == text[:20]


@given(st.text())
def test_parse_either_succeeds_or_raises_its_own_error(receipt: str) -> None:
    try:
        parsed = parse_receipt(receipt)
    except ReceiptParseError:
        return
    assert parsed.id
    assert parsed.stat
