"""`--from` / `--to`: what a typed date or span means, and how it is written for RingCentral.
(Bad values and the out-of-range message are pinned in test_plain_errors.py.)"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from helpers import save_session
from hypothesis import given
from hypothesis import strategies as st

from rcauth.timeparse import expiry, local_stamp, parse_instant, to_ringcentral

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


# -- expiry: one wording for status, profiles, doctor and the refresh-ending warning -----------------------
@pytest.fixture
def utc_zone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC0")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


EPOCH_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("offset", "wording"),
    [
        (30, "expires in 30 s (2026-11-28 12:00)"),
        (89, "expires in 89 s (2026-11-28 12:01)"),
        (90, "expires in 2 min (2026-11-28 12:01)"),
        (3600, "expires in 60 min (2026-11-28 13:00)"),
        (5399, "expires in 90 min (2026-11-28 13:29)"),
        (5400, "expires in 2 h (2026-11-28 13:30)"),
        (5 * 3600, "expires in 5 h (2026-11-28 17:00)"),
        (36 * 3600, "expires in 36 h (2026-11-30 00:00)"),
        (172_800, "expires in 2 days (2026-11-30 12:00)"),
        (int(2.6 * 86400), "expires in 3 days (2026-12-01 02:24)"),
        (7 * 86400, "expires in 7 days (2026-12-05 12:00)"),
        (0, "expired 0 s ago (2026-11-28 12:00)"),
        (-2 * 3600, "expired 2 h ago (2026-11-28 10:00)"),
        (-10 * 86400, "expired 10 days ago (2026-11-18 12:00)"),
    ],
)
def test_an_expiry_is_said_in_whole_units_with_the_local_time(utc_zone, offset: int, wording: str) -> None:
    """Seconds below 90 s, minutes below 90 min, hours below two days, then days, rounded: `doctor` once
    said "2.6 days" where `status` said "3 days" for the same session."""
    assert expiry(EPOCH_NOW + offset, EPOCH_NOW) == wording


@pytest.mark.parametrize("value", [None, float("nan"), float("inf"), True, "soon", 10**400])
def test_an_expiry_that_is_no_number_of_seconds_is_unknown(value: object) -> None:
    assert expiry(value, EPOCH_NOW) == "expiry unknown"


def test_an_expiry_past_the_years_a_date_can_hold_is_the_span_alone() -> None:
    assert expiry(EPOCH_NOW + 10**13, EPOCH_NOW) == f"expires in {10**13 / 86400:.0f} days"


def test_a_local_stamp_always_has_four_digits_of_year() -> None:
    assert local_stamp(datetime(999, 1, 2, 3, 4, 5)) == "0999-01-02 03:04:05"
    assert local_stamp(datetime(999, 1, 2, 3, 4, 5), seconds=False) == "0999-01-02 03:04"


def test_status_profiles_and_doctor_say_an_expiry_in_the_same_words() -> None:
    from cli_runner import cli_runner

    from rcauth.cli import cli
    from rcauth.diagnose import check_session

    now = time.time()
    access, refresh = now + 3600, now + 7 * 86400
    save_session(client_secret=None, access_expires_at=access, refresh_expires_at=refresh)

    doctor = check_session("default", now=now).detail
    status = cli_runner().invoke(cli, ["status", "--format", "table"], env={"COLUMNS": "200"}).stdout
    listed = cli_runner().invoke(cli, ["profiles", "--json"]).stdout

    assert f"access token {expiry(access, now)}; refresh token {expiry(refresh, now)}" in doctor
    assert expiry(access, now) in status and expiry(refresh, now) in status
    assert f'"refresh_token_expires": "{expiry(refresh, now)}"' in listed
