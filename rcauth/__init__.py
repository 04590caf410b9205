"""rcauth: sign in to RingCentral from a terminal (OAuth 2.0 authorization code + PKCE, RFC 8252),
and use that session from Python.

After `rcauth login`, any script on the machine can use the stored session::

    import rcauth

    with rcauth.Client() as rc:            # the profile's session: refreshed, paced, paged
        print(rc.whoami()["name"])
    requests.get(url, auth=rcauth.Auth())  # any requests-based code
    rcauth.token()                         # a bearer token, valid for at least a minute

The names below are loaded when first used (PEP 562): `import rcauth` stays as light as the
command line's start-up needs (`rcauth --help` imports no HTTP library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Public name -> the module that defines it. `__version__` too: `rcauth.version` holds it for the modules
# that need it (they import that, never this module), and `import rcauth` still loads no submodule.
_EXPORTS = {
    "__version__": "rcauth.version",
    "Client": "rcauth.library",
    "Auth": "rcauth.library",
    "SessionInfo": "rcauth.library",
    "token": "rcauth.library",
    "token_data": "rcauth.library",
    "login": "rcauth.library",
    "RecordingSaved": "rcauth.recordings",
    "RcauthError": "rcauth.errors",
    "ConfigError": "rcauth.errors",
    "NotLoggedIn": "rcauth.errors",
    "SessionExpired": "rcauth.errors",
    "InvalidProfileName": "rcauth.errors",
    "LoginFailed": "rcauth.errors",
    "PortInUse": "rcauth.errors",
    "StorageUnavailable": "rcauth.errors",
    "KeyringUnreachable": "rcauth.errors",
    "StoredSessionDamaged": "rcauth.errors",
    "OutputFailed": "rcauth.errors",
    "DownloadBusy": "rcauth.errors",
    "ApiError": "rcauth.errors",
    "OAuthError": "rcauth.errors",
    "ForeignOrigin": "rcauth.errors",
    "ListingIncomplete": "rcauth.errors",
    "TransportError": "rcauth.errors",
    "UnexpectedAnswer": "rcauth.errors",
    "Terminated": "rcauth.errors",
}

__all__ = [*_EXPORTS]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time `__getattr__` loads them
    from rcauth.errors import ApiError as ApiError
    from rcauth.errors import ConfigError as ConfigError
    from rcauth.errors import DownloadBusy as DownloadBusy
    from rcauth.errors import ForeignOrigin as ForeignOrigin
    from rcauth.errors import InvalidProfileName as InvalidProfileName
    from rcauth.errors import KeyringUnreachable as KeyringUnreachable
    from rcauth.errors import ListingIncomplete as ListingIncomplete
    from rcauth.errors import LoginFailed as LoginFailed
    from rcauth.errors import NotLoggedIn as NotLoggedIn
    from rcauth.errors import OAuthError as OAuthError
    from rcauth.errors import OutputFailed as OutputFailed
    from rcauth.errors import PortInUse as PortInUse
    from rcauth.errors import RcauthError as RcauthError
    from rcauth.errors import SessionExpired as SessionExpired
    from rcauth.errors import StorageUnavailable as StorageUnavailable
    from rcauth.errors import StoredSessionDamaged as StoredSessionDamaged
    from rcauth.errors import Terminated as Terminated
    from rcauth.errors import TransportError as TransportError
    from rcauth.errors import UnexpectedAnswer as UnexpectedAnswer
    from rcauth.library import Auth as Auth
    from rcauth.library import Client as Client
    from rcauth.library import SessionInfo as SessionInfo
    from rcauth.library import login as login
    from rcauth.library import token as token
    from rcauth.library import token_data as token_data
    from rcauth.recordings import RecordingSaved as RecordingSaved
    from rcauth.version import __version__ as __version__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rcauth' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
