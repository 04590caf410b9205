"""Times as people write and read them: `--from` / `--to` values in (ISO 8601 dates and times, or
relative spans like `7d`, `12h`, `30m`), and out, a token's expiry in one wording (`expiry`) wherever
it is shown (`status`, `profiles`, `doctor`, the refresh-ending warning)."""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A date whose year Python cannot hold (0, 10000): out of range, not "not a date".
_DATE_SHAPE = re.compile(r"^\s*(0000|\d{5,})-\d\d-\d\d")


def _shown(value: str) -> str:
    """The value as the user typed it, cut short: an error message stays one readable line."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def parse_instant(value: str, now: datetime | None = None) -> datetime:
    """The moment `value` names, aware and in UTC; naive times are taken as local time.

    Raises ValueError, never OverflowError: a span reaching back before year 1 (`99999999d`) or a
    date whose UTC time falls outside years 1-9999 is a bad value the user typed, not a crash.
    """
    now = now or datetime.now(timezone.utc)
    out_of_range = ValueError(f"{_shown(value)} is out of range: dates run from year 1 to 9999")
    match = _RELATIVE.match(value)
    if match:
        digits = match.group(1)
        if len(digits) > 15:  # past any date; int() would refuse over 4300 digits anyway
            raise out_of_range
        try:
            return now - timedelta(**{_UNITS[match.group(2).lower()]: int(digits)})
        except OverflowError:
            raise out_of_range from None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        if _DATE_SHAPE.match(value):
            raise out_of_range from None
        raise ValueError(
            f"{_shown(value)} is not a date (2026-11-01, 2026-11-01T08:00) or a span (7d, 12h, 30m)"
        ) from None
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+01:00 is still year 0 in UTC
        raise out_of_range from None


def to_ringcentral(moment: datetime) -> str:
    """RingCentral's format: ISO 8601 in UTC with milliseconds and `Z`, the year always four digits
    (`strftime("%Y")` writes year 1 as `1` on glibc, which RingCentral would refuse)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")



def local_stamp(moment: datetime, *, seconds: bool = True) -> str:
    """`2026-11-28 14:03:02` (or without seconds): the year always in four digits, which strftime's
    `%Y` does not give for years before 1000 on every platform."""
    shown = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}"
    return f"{shown}:{moment.second:02d}" if seconds else shown


def expiry(epoch: object, now: float | None = None) -> str:
    """`expires in 59 min (2026-11-28 14:03)`, `expired 2 h ago (...)`: an expiry time (seconds since
    the epoch) in human terms and local time, the one wording every command and `doctor` show.

    The span is rounded to whole units, in seconds below 90 s, minutes below 90 min, hours below two
    days, then days. "expiry unknown" for None or what is no number of seconds (NaN, infinity, a
    boolean: a stored value is data); past the years a date can hold (1 to 9999), the span alone."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return "expiry unknown"
    try:
        seconds = float(epoch)
    except OverflowError:  # an integer past a float's range
        return "expiry unknown"
    if not math.isfinite(seconds):
        return "expiry unknown"
    left = seconds - (time.time() if now is None else now)
    span = abs(left)
    if span < 90:
        amount = f"{span:.0f} s"
    elif span < 5400:
        amount = f"{span / 60:.0f} min"
    elif span < 172_800:
        amount = f"{span / 3600:.0f} h"
    else:
        amount = f"{span / 86400:.0f} days"
    try:
        stamp = f" ({local_stamp(datetime.fromtimestamp(seconds), seconds=False)})"
    except (OverflowError, OSError, ValueError):  # past year 9999, or before what localtime can tell
        stamp = ""
    return f"expires in {amount}{stamp}" if left > 0 else f"expired {amount} ago{stamp}"
