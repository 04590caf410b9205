"""A call-log request (`GET .../call-log`): the period, filters and view, checked once and spelled as
RingCentral spells them (`dateFrom`, `dateTo`, `type`, `direction`, `view`: docs/ringcentral.md).

Shared by `rcauth call-log` and `rcauth.Client().call_log()`, so both send exactly the same request.
Its own module so that the commands that never list calls (`whoami`, `token`) do not load it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rcauth.resources import ACCOUNT_CALL_LOG_PATH, CALL_LOG_PATH
from rcauth.timeparse import to_ringcentral

CALL_TYPES = ("Voice", "Fax")
DIRECTIONS = ("Inbound", "Outbound")
VIEWS = ("Simple", "Detailed")


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    """RingCentral's spelling of `value` (matched without regard to case)."""
    for choice in allowed:
        if value.lower() == choice.lower():
            return choice
    raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")


@dataclass(frozen=True)
class CallLogQuery:
    """A call-log request: the period, filters and view, checked once and spelled as RingCentral does.

    Raises `ValueError` for a filter RingCentral does not know, or a `date_from` later than `date_to`
    (RingCentral would answer an empty list; no call can match, so it is a mistake worth naming).
    Naive datetimes are refused: RingCentral reads times as UTC, a local time would shift silently.
    """

    date_from: datetime | None = None
    date_to: datetime | None = None
    types: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    view: str | None = None
    account: bool = False

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware (RingCentral reads times as UTC)")
        if self.date_from is not None and self.date_to is not None and self.date_from > self.date_to:
            raise ValueError("date_from is later than date_to: no call can match")
        object.__setattr__(self, "types", tuple(_one_of(t, CALL_TYPES, "type") for t in self.types))
        object.__setattr__(
            self, "directions", tuple(_one_of(d, DIRECTIONS, "direction") for d in self.directions)
        )
        if self.view is not None:
            object.__setattr__(self, "view", _one_of(self.view, VIEWS, "view"))

    @property
    def path(self) -> str:
        return ACCOUNT_CALL_LOG_PATH if self.account else CALL_LOG_PATH

    def params(self) -> dict[str, Any]:
        """The query string RingCentral expects (repeatable `type`/`direction` as lists)."""
        params: dict[str, Any] = {}
        if self.date_from is not None:
            params["dateFrom"] = to_ringcentral(self.date_from)
        if self.date_to is not None:
            params["dateTo"] = to_ringcentral(self.date_to)
        if self.types:
            params["type"] = list(self.types)
        if self.directions:
            params["direction"] = list(self.directions)
        if self.view:
            params["view"] = self.view
        return params


def as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """A filter given as one string or several, as a tuple."""
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)
