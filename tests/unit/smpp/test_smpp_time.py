"""SMPP time strings (YYMMDDhhmmsstnnp): absolute with quarter-hour offsets, relative, empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.smpp.codec import CodecError, CommandStatus
from simulator.smpp.codec.smpp_time import format_relative, parse_smpp_time

S = CommandStatus
NOW = datetime(2024, 1, 1, 0, 0, tzinfo=UTC).timestamp()


def _zone(quarters: int) -> timezone:
    return timezone(timedelta(minutes=15 * quarters))


# --- absolute ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("240102153045000+", datetime(2024, 1, 2, 15, 30, 45, tzinfo=UTC)),
        ("240102153045000-", datetime(2024, 1, 2, 15, 30, 45, tzinfo=UTC)),
        # +04 quarters: local time one hour ahead of UTC; tenths of a second count too
        ("240102153045104+", datetime(2024, 1, 2, 15, 30, 45, 100000, tzinfo=_zone(4))),
        # -22 quarters = UTC-05:30
        ("240102153045022-", datetime(2024, 1, 2, 15, 30, 45, tzinfo=_zone(-22))),
        # +48 quarters (the largest offset) moves the UTC instant to the previous day
        ("240102010000048+", datetime(2024, 1, 2, 1, 0, tzinfo=_zone(48))),
        ("240102010000048-", datetime(2024, 1, 2, 1, 0, tzinfo=_zone(-48))),
        # one quarter behind UTC, on New Year's Eve
        ("241231234500901-", datetime(2024, 12, 31, 23, 45, 0, 900000, tzinfo=_zone(-1))),
        ("240229120000003+", datetime(2024, 2, 29, 12, 0, tzinfo=_zone(3))),  # leap day
        ("991231235959000+", datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_absolute_time(value: str, moment: datetime) -> None:
    seconds = parse_smpp_time(value, NOW)
    assert seconds == pytest.approx(moment.timestamp() - NOW, abs=1e-6)


def test_absolute_time_in_the_past_is_negative() -> None:
    seconds = parse_smpp_time("231231230000000+", NOW)
    assert seconds == pytest.approx(-3600.0)


def test_offset_sign_matters() -> None:
    ahead = parse_smpp_time("240102120000008+", NOW)
    behind = parse_smpp_time("240102120000008-", NOW)
    assert ahead is not None and behind is not None
    assert behind - ahead == pytest.approx(4 * 3600.0)  # two hours each side of UTC


# --- relative ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("000000000030000R", 30.0),
        ("000000010000000R", 3600.0),
        ("000001020304000R", 86400 + 2 * 3600 + 3 * 60 + 4.0),
        ("000000000000500R", 0.5),
        # a month counts as 30 days and a year as 365
        ("000100000000000R", 30 * 86400.0),
        ("010203040506000R", (365 + 2 * 30 + 3) * 86400 + 4 * 3600 + 5 * 60 + 6.0),
        ("000000000000000R", 0.0),
    ],
)
def test_relative_time(value: str, seconds: float) -> None:
    assert parse_smpp_time(value, NOW) == pytest.approx(seconds)
    assert parse_smpp_time(value, NOW + 12345.0) == pytest.approx(seconds)  # independent of now


def test_empty_means_smsc_default() -> None:
    assert parse_smpp_time("", NOW) is None
    assert parse_smpp_time("", NOW, status=S.ESME_RINVSCHED) is None


# --- malformed --------------------------------------------------------------------------------

BAD = [
    "2401021530450",  # too short
    "240102153045000+0",  # too long
    "240102153045000",  # no kind letter
    "240102153045000X",  # unknown kind
    "240102153045000r",  # lower-case R
    "24010215304500a+",
    " 40102153045000+",
    "24-102153045000+",
    "241302153045000+",  # month 13
    "240002153045000+",  # month 0
    "240100153045000+",  # day 0
    "240132153045000+",  # day 32
    "240102243045000+",  # hour 24
    "240102156045000+",  # minute 60
    "240102153060000+",  # second 60
    "240102153045049+",  # offset over 48 quarters
    "240102153045099-",
]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("status", [S.ESME_RINVSCHED, S.ESME_RINVEXPIRY])
def test_bad_time_raises_with_the_given_status(value: str, status: int) -> None:
    with pytest.raises(CodecError) as caught:
        parse_smpp_time(value, NOW, status=status)
    assert caught.value.status == status


def test_default_status_is_invalid_expiry() -> None:
    with pytest.raises(CodecError) as caught:
        parse_smpp_time("not a time", NOW)
    assert caught.value.status == S.ESME_RINVEXPIRY


@pytest.mark.parametrize("value", ["240230120000000+", "240431120000000+", "230229120000000+"])
def test_impossible_calendar_date_is_rejected(value: str) -> None:
    with pytest.raises(CodecError) as caught:
        parse_smpp_time(value, NOW, status=S.ESME_RINVSCHED)
    assert caught.value.status == S.ESME_RINVSCHED


@pytest.mark.parametrize("value", ["240102153045\xb200+", "\xb940102153045000+"])
def test_non_ascii_digits_raise_codec_error(value: str) -> None:
    with pytest.raises(CodecError) as caught:
        parse_smpp_time(value, NOW, status=S.ESME_RINVSCHED)
    assert caught.value.status == S.ESME_RINVSCHED


# --- format_relative --------------------------------------------------------------------------


def test_format_relative() -> None:
    assert format_relative(86400 + 2 * 3600 + 3 * 60 + 4) == "000001020304000R"
    assert format_relative(59.9) == "000000000059000R"  # whole seconds only
    assert format_relative(0) == "000000000000000R"
    assert format_relative(-10) == "000000000000000R"  # the past clamps to now
    assert format_relative((365 + 30 + 1) * 86400) == "010101000000000R"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 99 * 365 * 86400 - 1))
def test_format_relative_round_trips(seconds: int) -> None:
    text = format_relative(seconds)
    assert len(text) == 16 and text.endswith("R")
    assert parse_smpp_time(text, NOW) == seconds


def test_format_relative_beyond_99_years_stays_valid() -> None:
    assert len(format_relative(100 * 365 * 86400)) == 16
