"""`--from` / `--to` values: ISO 8601 dates and times, or relative spans like `7d`, `12h`, `30m`."""

from __future__ import annotations

import re
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

