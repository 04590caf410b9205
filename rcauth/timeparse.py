"""`--from` / `--to` values: ISO 8601 dates and times, or relative spans like `7d`, `12h`, `30m`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str, now: datetime | None = None) -> str:
    """Return RingCentral's format (ISO 8601, UTC, `Z`); naive times are taken as local time."""
    now = now or datetime.now(timezone.utc)
    match = _RELATIVE.match(value)
    if match:
        moment = now - timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    else:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date (2026-11-01, 2026-11-01T08:00) or a span (7d, 12h, 30m)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.astimezone()
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
