"""The call log (`GET .../call-log`): a request's period, filters and view, checked once and spelled as
RingCentral spells them (`dateFrom`, `dateTo`, `type`, `direction`, `view`: docs/ringcentral.md), and
the listing itself (`call_log`).

Shared by `rcauth call-log`, `rcauth demo` and `rcauth.Client().call_log()`, so all send exactly the
same request. Its own module, apart from `rcauth.resources` (which imports nothing of it), so that the
commands that never list calls (`whoami`, `token`) do not load it or the time parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rcauth.timeparse import to_ringcentral

if TYPE_CHECKING:
    from rcauth.client import ApiClient

CALL_LOG_PATH = "/restapi/v1.0/account/~/extension/~/call-log"
# The whole account's log: needs the user's FullCompanyCallLog permission (an admin), else 403.
ACCOUNT_CALL_LOG_PATH = "/restapi/v1.0/account/~/call-log"
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

    Raises `ValueError` for a filter RingCentral does not know, or a period no call can match
    (`check_period`). Naive datetimes are refused: RingCentral reads times as UTC, a local time would
    shift silently.
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
        check_period(self.date_from, self.date_to, datetime.now(timezone.utc))
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


def check_period(
    date_from: datetime | None,
    date_to: datetime | None,
    now: datetime,
    *,
    names: tuple[str, str] = ("date_from", "date_to"),
) -> None:
    """Raise `ValueError` when `date_from` is later than `date_to`, or than `now` when there is no
    `date_to` (RingCentral's default `dateTo`): RingCentral would answer an empty list, and since no
    call can match, it is a mistake worth naming. `names` are what the caller calls the two bounds
    (`--from '7d'` for the command line), shown with the moment each was read as."""
    if date_from is None or date_from <= (date_to or now):
        return
    later_than = f"{names[1]} ({to_ringcentral(date_to)})" if date_to is not None else "now"
    moment = to_ringcentral(date_from)
    raise ValueError(f"{names[0]} ({moment}) is later than {later_than}: no call can match")


def call_log(
    client: ApiClient,
    query: CallLogQuery | None = None,
    *,
    limit: int | None = None,
    on_page: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Call-log records, newest first, streamed page by page (`limit=None`: every page)."""
    query = query if query is not None else CallLogQuery()
    return client.paginate(query.path, query.params(), limit=limit, on_page=on_page)


def as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """A filter given as one string or several, as a tuple."""
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)
