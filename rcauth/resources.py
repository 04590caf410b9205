"""RingCentral's REST resources rcauth reads: where they live and how their queries are built.

The commands and the Python API share this module, so a script calling `rcauth.Client().call_log()`
sends exactly the request `rcauth call-log` sends. Paths and parameter names are RingCentral's own
(`GET /restapi/v1.0/account/~/extension/~`, `GET .../call-log` with `dateFrom`, `dateTo`, `type`,
`direction`, `view`: see docs/ringcentral.md); `~` is RingCentral's alias for "the session's own
account / extension".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rcauth.timeparse import to_ringcentral

if TYPE_CHECKING:
    from rcauth.client import ApiClient

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"
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


def extension_info(client: ApiClient) -> dict[str, Any]:
    """The signed-in user's extension (`GetExtensionInfoResponse`): who the session belongs to."""
    return client.get_json(EXTENSION_PATH)


def describe_user(ext: Mapping[str, Any]) -> str:
    """One line naming a user: `Alex Doe (extension 101, alex@example.com)`.

    Raw server text (it is kept in the profile index as the server gave it): pass it through
    `rcauth.terminal_text.visible` before showing it."""
    contact = ext.get("contact") or {}
    name = ext.get("name") or contact.get("email") or f"extension id {ext.get('id')}"
    extras = [f"extension {ext['extensionNumber']}"] if ext.get("extensionNumber") else []
    if contact.get("email"):
        extras.append(str(contact["email"]))
    return f"{name} ({', '.join(extras)})" if extras else str(name)


def call_log(
    client: ApiClient,
    query: CallLogQuery | None = None,
    *,
    limit: int | None = None,
    on_page: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Call-log records, newest first, streamed page by page (`limit=None`: every page)."""
    query = query or CallLogQuery()
    return client.paginate(query.path, query.params(), limit=limit, on_page=on_page)


def as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """A filter given as one string or several, as a tuple."""
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)
