"""A call-log request, checked once: `check_period` is the one check that a period can match a call,
made by `CallLogQuery` (so `rcauth.Client().call_log()`) and by `rcauth call-log` (with its option
names); the query is spelled as RingCentral spells it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rcauth.call_log_query import ACCOUNT_CALL_LOG_PATH, CALL_LOG_PATH, CallLogQuery, check_period

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (None, None),
        (None, NOW),
        (NOW - HOUR, None),
        (NOW - HOUR, NOW),
        (NOW, NOW),
        (NOW + HOUR, NOW + 2 * HOUR),
    ],
    ids=["open", "only an end", "from an hour ago", "a closed hour", "an instant", "a future window"],
)
def test_a_period_a_call_can_fall_in_passes(date_from: datetime | None, date_to: datetime | None) -> None:
    check_period(date_from, date_to, NOW)


def test_a_start_after_the_end_is_named_with_both_moments() -> None:
    with pytest.raises(ValueError) as raised:
        check_period(NOW, NOW - HOUR, NOW)
    assert str(raised.value) == (
        "date_from (2026-11-28T12:00:00.000Z) is later than date_to (2026-11-28T11:00:00.000Z): "
        "no call can match"
    )


def test_a_start_after_now_with_no_end_is_later_than_now() -> None:
    """RingCentral's default dateTo is now: a start in the future matches nothing."""
    with pytest.raises(ValueError) as raised:
        check_period(NOW + timedelta(seconds=1), None, NOW)
    assert str(raised.value) == "date_from (2026-11-28T12:00:01.000Z) is later than now: no call can match"


def test_the_caller_names_the_bounds() -> None:
    with pytest.raises(ValueError) as raised:
        check_period(NOW, NOW - HOUR, NOW, names=("'1h'", "--to '2h'"))
    assert str(raised.value).startswith("'1h' (2026-11-28T12:00:00.000Z) is later than --to '2h' (")


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        (datetime.now(timezone.utc), datetime.now(timezone.utc) - HOUR, "is later than date_to "),
        (datetime.now(timezone.utc) + HOUR, None, "is later than now: no call can match"),
    ],
)
def test_a_query_no_call_can_match_is_refused_when_made(
    date_from: datetime, date_to: datetime | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CallLogQuery(date_from, date_to)


def test_a_query_is_spelled_as_ringcentral_spells_it() -> None:
    query = CallLogQuery(
        NOW - HOUR, NOW, types=("voice",), directions=("INBOUND", "outbound"), view="detailed"
    )
    assert query.path == CALL_LOG_PATH
    assert query.params() == {
        "dateFrom": "2026-11-28T11:00:00.000Z",
        "dateTo": "2026-11-28T12:00:00.000Z",
        "type": ["Voice"],
        "direction": ["Inbound", "Outbound"],
        "view": "Detailed",
    }
    assert CallLogQuery(account=True).path == ACCOUNT_CALL_LOG_PATH
    assert CallLogQuery().params() == {}
