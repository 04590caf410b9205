"""RingCentral's REST resources rcauth reads: where they live, and reading them.

The commands and the Python API share this module, so a script calling `rcauth.Client().call_log()`
sends exactly the request `rcauth call-log` sends. Paths and parameter names are RingCentral's own
(`GET /restapi/v1.0/account/~/extension/~`, `GET .../call-log` with `dateFrom`, `dateTo`, `type`,
`direction`, `view`: see docs/ringcentral.md); `~` is RingCentral's alias for "the session's own
account / extension". A call-log query's checks and spelling are in `rcauth.call_log_query`, which
`whoami` and `token` never load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rcauth.call_log_query import CallLogQuery
    from rcauth.client import ApiClient

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"
CALL_LOG_PATH = "/restapi/v1.0/account/~/extension/~/call-log"
# The whole account's log: needs the user's FullCompanyCallLog permission (an admin), else 403.
ACCOUNT_CALL_LOG_PATH = "/restapi/v1.0/account/~/call-log"


def extension_info(client: ApiClient) -> dict[str, Any]:
    """The signed-in user's extension (`GetExtensionInfoResponse`): who the session belongs to."""
    return client.get_json(EXTENSION_PATH)


def describe_user(ext: Mapping[str, Any]) -> str:
    """One line naming a user: `Alex Doe (extension 101, alex@example.com)`.

    Raw server text (it is kept in the profile index as the server gave it): pass it through
    `rcauth.terminal_text.visible` before showing it."""
    email = contact_email(ext)
    name = ext.get("name") or email or f"extension id {ext.get('id')}"
    extras = [f"extension {ext['extensionNumber']}"] if ext.get("extensionNumber") else []
    if email:
        extras.append(str(email))
    return f"{name} ({', '.join(extras)})" if extras else str(name)


def contact_email(ext: Mapping[str, Any]) -> Any:
    """The extension's `contact.email`, or None (also when `contact` is not an object: server data)."""
    contact = ext.get("contact")
    return contact.get("email") if isinstance(contact, Mapping) else None


def call_log(
    client: ApiClient,
    query: CallLogQuery | None = None,
    *,
    limit: int | None = None,
    on_page: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Call-log records, newest first, streamed page by page (`limit=None`: every page)."""
    if query is None:
        from rcauth.call_log_query import CallLogQuery

        query = CallLogQuery()
    return client.paginate(query.path, query.params(), limit=limit, on_page=on_page)
