"""One exception hierarchy; each error knows its exit code so the CLI maps them in one place."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes; documented in the README, stable for scripts."""

    OK = 0
    GENERIC = 1
    USAGE = 2  # click's own code for bad usage
    CONFIG = 3
    NOT_LOGGED_IN = 4  # also: the session ended (refresh token expired or revoked)
    API = 5
    STORAGE = 6
    HANGUP = 129  # 128 + SIGHUP, as a shell reports it (see `Terminated`)
    INTERRUPTED = 130
    TERMINATED = 143  # 128 + SIGTERM


class Terminated(BaseException):
    """SIGTERM or SIGHUP, held while a token request was in flight (`rcauth.interrupts.deferred`) and
    delivered once the new pair was stored. A BaseException, as KeyboardInterrupt is: no `except
    Exception` may swallow the request to stop. Exit code 128 + the signal's number, as a shell
    reports for a process the signal killed (143 for SIGTERM, 129 for SIGHUP)."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.signum = signum
        self.name = name
        self.exit_code = 128 + signum


class RcauthError(Exception):
    """Root of every error rcauth expects; its message is one line meant for the user."""

    exit_code: ExitCode = ExitCode.GENERIC

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(RcauthError):
    """Settings are missing or invalid (client id, server URL, redirect URI...)."""

    exit_code = ExitCode.CONFIG


class NotLoggedIn(RcauthError):
    """No stored session for this profile."""

    exit_code = ExitCode.NOT_LOGGED_IN


class SessionExpired(NotLoggedIn):
    """The stored session can no longer be used (refresh token expired, revoked, or client changed)."""


class InvalidProfileName(RcauthError):
    """A profile name that cannot safely name a keyring entry, a lock file or a session file."""

    exit_code = ExitCode.USAGE


class LoginFailed(RcauthError):
    """The browser sign-in did not produce a session: denied, timed out, state mismatch, bad code."""


class PortInUse(LoginFailed):
    """The loopback redirect URI's port is taken by another program."""

    exit_code = ExitCode.CONFIG


class StorageUnavailable(RcauthError):
    """No usable place to keep the session (keyring missing, locked or failing) and no consent to a file."""

    exit_code = ExitCode.STORAGE


class StoredSessionDamaged(RcauthError):
    """What the store holds is not a session this version can read."""

    exit_code = ExitCode.STORAGE


class OutputFailed(RcauthError):
    """Standard output could not be written: closed at start (`>&-`), a full disk, an I/O error.

    A script reading rcauth's output must learn from the exit code that it got nothing, or only part
    (`rcauth token >&-` once exited 0 having printed nothing). A reader that went away (`| head`)
    is not this: that ends quietly, as click does.
    """


class ApiError(RcauthError):
    """RingCentral answered with an error; keeps its errorCode so callers branch on it, not on text."""

    exit_code = ExitCode.API

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        details: list[dict] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.error_code = error_code
        self.details = details or []

    def __str__(self) -> str:
        code = f"{self.error_code}: " if self.error_code else ""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{code}{self.message}{status}"


class TransportError(ApiError):
    """RingCentral could not be reached, or kept failing after retries."""


class UnexpectedAnswer(TransportError):
    """Something other than RingCentral's verdict answered: an HTML page from a proxy, captive portal
    or web filter, a 5xx, a JSON without an OAuth `error`, a token answer that holds no usable token.
    A network problem to report, never the end of a session (only an OAuth error body ends one)."""

    def __str__(self) -> str:
        return self.message  # it names the status and what answered itself


def error_parts(response: Any) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
    """RingCentral's error JSON, REST or OAuth, as (body, errors[], errors[0]); empty where absent
    or not JSON. Takes any response with `.json()`, so this module needs no HTTP library."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    details = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    return body, details, first
