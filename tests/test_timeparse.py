"""`--from` / `--to`: what a typed date or span means, and how it is written for RingCentral.
(Bad values and the out-of-range message are pinned in test_plain_errors.py.)"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcauth.timeparse import parse_instant, to_ringcentral

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("span", "back"),
    [
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("0d", timedelta(0)),
    ],
)
def test_a_span_counts_back_from_now_in_its_unit(span: str, back: timedelta) -> None:
    assert parse_instant(span, NOW) == NOW - back


def test_a_span_ignores_case_and_surrounding_spaces() -> None:
    assert parse_instant(" 7D ", NOW) == parse_instant("7 d", NOW) == NOW - timedelta(days=7)


def test_a_span_is_never_a_count_of_months_or_years() -> None:
    """`m` is minutes (as in `30m`); a month or year has no fixed length, so there is no unit for it."""
    assert parse_instant("1m", NOW) == NOW - timedelta(minutes=1)
    for value in ("1y", "1mo", "1M2d"):
        with pytest.raises(ValueError, match="is not a date"):
            parse_instant(value, NOW)


def test_an_iso_time_with_an_offset_is_the_same_moment_in_utc() -> None:
    moment = parse_instant("2026-11-01T08:00:00-05:00", NOW)
    assert moment == datetime(2026, 11, 1, 13, 0, tzinfo=timezone.utc)
    assert moment.utcoffset() == timedelta(0)


def test_a_trailing_z_means_utc() -> None:
    assert parse_instant("2026-11-01T08:00Z", NOW) == datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)


def test_a_time_without_an_offset_is_taken_as_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person typing `2026-11-01` means their own midnight, not UTC's, with the offset in force at
    that moment: US daylight time ends at 02:00 on 1 Nov 2026, so midnight is UTC-4 and 08:00 is UTC-5."""
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")  # a POSIX rule: no zoneinfo files needed
    time.tzset()
    try:
        assert parse_instant("2026-11-01", NOW) == datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc)
        assert parse_instant("2026-11-01T08:00", NOW) == datetime(2026, 11, 1, 13, 0, tzinfo=timezone.utc)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_ringcentral_gets_utc_with_milliseconds_and_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2026, 11, 1, 10, 0, 5, 123456, tzinfo=plus_two)
    assert to_ringcentral(moment) == "2026-11-01T08:00:05.123Z"
    assert to_ringcentral(datetime(2026, 11, 1, tzinfo=timezone.utc)) == "2026-11-01T00:00:00.000Z"


@given(st.datetimes(timezones=st.just(timezone.utc)))
def test_what_rcauth_sends_reads_back_as_the_same_millisecond(moment: datetime) -> None:
    """Any moment, written for RingCentral and typed back in, names the same instant to the millisecond
    (the year always four digits, so years 1-999 survive too)."""
    sent = to_ringcentral(moment)
    assert parse_instant(sent, NOW) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
