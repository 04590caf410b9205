"""RingCentral's REST resources rcauth reads about the signed-in user: where they live, and reading them.

The commands and the Python API share this module, so a script calling `rcauth.Client().whoami()`
sends exactly the request `rcauth whoami` sends. Paths are RingCentral's own
(`GET /restapi/v1.0/account/~/extension/~`: see docs/ringcentral.md); `~` is RingCentral's alias for
"the session's own account / extension". The call log is `rcauth.call_log_query`, apart, so that
`whoami` and `token` never load it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rcauth.client import ApiClient

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"


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
