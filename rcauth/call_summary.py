"""A call log at a glance: counts by day, by direction and result, and by hour, from a stream of
call-log records (`call_log_query.call_log`), in memory bounded by the number of days and results, never
by the number of calls: a week of 700 calls and a year of 200 000 cost the same.

Counted as RingCentral labels them: a call's `result` is its own ("Missed", "Voicemail", "Accepted",
"Call connected"...); "missed" are the calls whose result is `Missed`, "voicemail" those whose result is
`Voicemail` (an inbound call sent to voicemail). Days and hours are those of `startTime` in the given
time zone (the CLI's: the local one), so "busiest hours" are the hours the user lives in.

Whatever a record holds, it is counted and nothing raises: the records are the server's, and one odd
record must not cost the user the summary of a year. A `duration` that is not a call's length in
seconds as RingCentral could send it (`call_duration`: a number from 0 to 2**31 - 1; not infinity,
NaN, a negative or a text) adds nothing to the minutes; a `startTime` that is unreadable, or that has
no date in the time zone of the summary (`0001-01-01T00:00:00Z` seen from UTC-12 is in year 0,
`9999-12-31T23:59:59Z` from UTC+14 in year 10000, neither of which a date can hold), counts in the
totals and in the first and last times only, not in a day or an hour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

MISSED = "Missed"
VOICEMAIL = "Voicemail"
# RingCentral's `duration` is an int32 of seconds (about 68 years): nothing longer is a call's length.
MAX_DURATION = 2**31 - 1


def call_duration(value: object) -> int | None:
    """A record's `duration` as whole seconds, or None when it is not one RingCentral could send: not a
    number (text, a boolean, a list), not finite (JSON's `1e400` reads as infinity; NaN), negative, or
    over an int32. The table shows None as a blank and the summary adds nothing for it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= MAX_DURATION:  # False for NaN too
        return None
    return int(value)


@dataclass
class CallSummary:
    """The aggregates; `to_json` gives them as data (what `call-log --summary --format json` writes)."""

    total: int = 0
    duration: int = 0  # seconds, summed
    missed: int = 0
    voicemail: int = 0
    by_day: Counter[str] = field(default_factory=Counter)  # "YYYY-MM-DD" -> calls
    missed_by_day: Counter[str] = field(default_factory=Counter)
    voicemail_by_day: Counter[str] = field(default_factory=Counter)
    by_direction: Counter[str] = field(default_factory=Counter)
    by_result: Counter[str] = field(default_factory=Counter)
    by_direction_result: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    # The earliest and latest startTime seen (as parsed, and as RingCentral wrote it).
    _first: tuple[datetime, str] | None = field(default=None, repr=False)
    _last: tuple[datetime, str] | None = field(default=None, repr=False)

    def add(self, record: Mapping[str, Any], tz: tzinfo | None = None) -> None:
        """Count one record. One without a readable `startTime` (or not an object at all) still counts in
        the totals."""
        self.total += 1
        if not isinstance(record, Mapping):  # RingCentral's records are objects; anything else has no fields
            record = {}
        direction = str(record.get("direction") or "Unknown")
        result = str(record.get("result") or "Unknown")
        self.by_direction[direction] += 1
        self.by_result[result] += 1
        self.by_direction_result[(direction, result)] += 1
        self.duration += call_duration(record.get("duration")) or 0
        self.missed += result == MISSED
        self.voicemail += result == VOICEMAIL
        start = _instant(record.get("startTime"))
        if start is None:
            return
        if self._first is None or start < self._first[0]:
            self._first = (start, str(record["startTime"]))
        if self._last is None or start > self._last[0]:
            self._last = (start, str(record["startTime"]))
        local = _local(start, tz)
        if local is None:
            return
        day = local.date().isoformat()
        self.by_day[day] += 1
        self.missed_by_day[day] += result == MISSED
        self.voicemail_by_day[day] += result == VOICEMAIL
        self.by_hour[local.hour] += 1

    def busiest_hours(self, count: int = 3) -> list[tuple[int, int]]:
        """The `count` hours of the day with most calls, as (hour, calls), most first (earlier on a tie)."""
        ranked = sorted(range(24), key=lambda hour: (-self.by_hour[hour], hour))
        return [(hour, self.by_hour[hour]) for hour in ranked[:count] if self.by_hour[hour]]

    def to_json(self) -> dict[str, Any]:
        days = sorted(self.by_day)
        return {
            "total": self.total,
            "duration_seconds": self.duration,
            "missed": self.missed,
            "voicemail": self.voicemail,
            "first_start_time": self._first[1] if self._first else None,
            "last_start_time": self._last[1] if self._last else None,
            "by_day": [
                {
                    "date": day,
                    "calls": self.by_day[day],
                    "missed": self.missed_by_day[day],
                    "voicemail": self.voicemail_by_day[day],
                }
                for day in days
            ],
            "by_direction": dict(sorted(self.by_direction.items())),
            "by_result": dict(self.by_result.most_common()),
            "by_direction_result": [
                {"direction": d, "result": r, "calls": n}
                for (d, r), n in sorted(self.by_direction_result.items(), key=_by_direction_then_count)
            ],
            "by_hour": list(self.by_hour),
            "busiest_hours": [{"hour": h, "calls": n} for h, n in self.busiest_hours()],
        }


def _by_direction_then_count(item: tuple[tuple[str, str], int]) -> tuple[str, int, str]:
    (direction, result), calls = item
    return direction, -calls, result


def summarize(records: Iterable[Mapping[str, Any]], tz: tzinfo | None = None) -> CallSummary:
    """Aggregate `records` as they stream (each is seen once, none is kept). `tz`: the time zone of
    days and hours (None: this machine's)."""
    summary = CallSummary()
    for record in records:
        summary.add(record, tz)
    return summary


def _instant(value: object) -> datetime | None:
    """RingCentral's `startTime` ("2026-11-28T09:15:02.000Z") as an aware datetime; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _local(moment: datetime, tz: tzinfo | None) -> datetime | None:
    """`moment` in `tz` (None: this machine's zone), or None where that is outside the years 1 to 9999
    (OverflowError), or where the platform has no local time for it (OSError: Windows' localtime
    before 1970)."""
    try:
        return moment.astimezone(tz)
    except (OverflowError, OSError, ValueError):
        return None
