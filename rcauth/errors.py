"""One exception hierarchy; each error knows its exit code so the CLI maps them in one place.

Every exception a caller of rcauth can meet is defined here and exported from `rcauth`
(`tests/test_errors.py` checks both). What to do about an error is its `hint`, given when the error
is made; code that knows better than the raiser (a command that knows which option narrows a
listing) raises a new error, `restated`, rather than changing the one it caught.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Any, NamedTuple, TypeVar


class ExitCode(IntEnum):
    """Process exit codes, stable for scripts. Each one's `meaning` is where what it means is written:
    the documentation's table of exit codes is generated from it (scripts/docs_reference.py)."""

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = 0, "success"
    GENERIC = (
        1,
        "failure: login denied, timed out or refused; an unexpected error; the output could not be "
        "written (stdout closed, disk full, I/O error: one line names it); another `recordings download` "
        "is already saving into the same DIR; stdout closed early by its reader (`| head`: no message)",
    )
    USAGE = (
        2,
        "usage error, click's own code for it: a bad option or value (a date out of range, `--from` later "
        "than `--to`, an invalid profile name, a URL off the session's server and its media server, "
        "binary content `rcauth api` would write to a terminal, an `--output` file that exists without "
        "`--force`)",
    )
    CONFIG = (
        3,
        "configuration error: a missing client id; a bad server, media server or redirect URI; a media "
        "server production is not paired with; a `config.toml` value that is not a string; a keyring "
        "backend named by `PYTHON_KEYRING_BACKEND` or `keyringrc.cfg` that cannot be loaded; the redirect "
        "URI's port in use or below 1024",
    )
    NOT_LOGGED_IN = (
        4,
        "not signed in, or the session has ended (refresh token expired or revoked): run `rcauth login` "
        "(or, when the message names the `--insecure-storage` file, pass that flag)",
    )
    API = (
        5,
        "RingCentral API error (its `errorCode` is shown), RingCentral unreachable, or something else "
        "answering in its place (a proxy's page; the session is kept); an answer that is not the JSON "
        "object asked for; a listing that is incomplete (stopped part-way, or cut at RingCentral's 1000 "
        "pages): what was listed is written whole first",
    )
    STORAGE = (
        6,
        "storage problem: no usable keyring (see `--insecure-storage`; a plain-text backend keyring chose "
        "for you counts as none); a keyring that is locked, does not answer or fails (never taken for "
        '"not signed in"); damaged stored data; a config, state or data directory rcauth cannot use '
        "(`login` checks before signing in; a refresh or logout says the same)",
    )
    HANGUP = (
        129,
        "ended by SIGHUP (128 + its number, as a shell reports it): `Error: terminated (SIGHUP)`. While a "
        "grant is being made and stored (login), a pair rotated and stored (refresh) or a session "
        "revoked and removed (logout), the signal, like Ctrl-C, is held until that is done, then honoured "
        "with this code. During a listing it stops the listing with what was listed written whole. "
        "Inherited as ignored (`nohup`), it stays ignored",
    )
    INTERRUPTED = (
        130,
        "interrupted (Ctrl-C): `Error: interrupted`; during a listing, after what was listed is written "
        "whole",
    )
    TERMINATED = (
        143,
        "ended by SIGTERM (128 + its number), held and honoured as SIGHUP is: `Error: terminated (SIGTERM)`",
    )


class Terminated(BaseException):
    """SIGTERM or SIGHUP. In the `rcauth` program it is raised wherever the signal arrives
    (`rcauth.interrupts.exit_on_termination`); in the program and the library alike, a signal that
    arrives while a grant is being made and stored, a pair rotated and stored, or a session revoked
    and removed is held until that is done (`rcauth.interrupts.deferred`), then raised here (when the
    signal was left at its default; a program's own handler is called instead). A BaseException, as
    KeyboardInterrupt is: no `except Exception` may swallow the request to stop. Exit code 128 + the
    signal's number, as a shell reports for a process the signal killed (143 for SIGTERM, 129 for
    SIGHUP)."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.signum = signum
        self.name = name
        self.exit_code = 128 + signum


_Error = TypeVar("_Error", bound="RcauthError")


class RcauthError(Exception):
    """Root of every error rcauth expects; its message is one line meant for the user, and `hint`,
    when there is one, says what to do about it."""

    exit_code: ExitCode = ExitCode.GENERIC

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def restated(self: _Error, *, message: str | None = None, hint: str | None) -> _Error:
        """A new error of this type and with these fields, its message and hint replaced: for a caller
        that knows more than the raiser about what happened or what to do (raise it `from` this one).
        Made without `__init__`, whose arguments differ from class to class; the error caught is
        left as it was."""
        again = type(self).__new__(type(self), *self.args)
        again.__dict__.update(self.__dict__)
        again.message = self.message if message is None else message
        again.hint = hint
        return again


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


class KeyringUnreachable(StorageUnavailable):
    """A keyring is there but could not be looked in: locked, hung, or failing. What it holds is
    unknown, so no command may take its silence for "not signed in" (a session may be stored there)."""


class StoredSessionDamaged(RcauthError):
    """What the store holds is not a session this version can read.

    `recovered` is the grant that could still be read from it (a `Session` holding the server, the app
    and a well-formed token, nothing else), so that `logout` and a new `login` can end it at
    RingCentral rather than leave it counting against the user's sessions; None when nothing could."""

    exit_code = ExitCode.STORAGE

    def __init__(self, message: str, *, hint: str | None = None, recovered: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.recovered = recovered


class OutputFailed(RcauthError):
    """Standard output could not be written: closed at start (`>&-`), a full disk, an I/O error.

    A script reading rcauth's output must learn from the exit code that it got nothing, or only part
    (`rcauth token >&-` once exited 0 having printed nothing). A reader that went away (`| head`)
    is not this: that ends quietly, as click does.
    """


class DownloadBusy(RcauthError):
    """Another rcauth is downloading recordings into the same folder (it holds the folder's lock):
    two at once would resume the same partial file together."""


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


class OAuthError(ApiError):
    """The token or revoke endpoint refused with an OAuth error body: keeps the OAuth `error` and
    RingCentral's `errorCode`. Anything else that answers is an `UnexpectedAnswer`, not this."""

    def __init__(self, message: str, *, oauth_error: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.oauth_error = oauth_error

    @property
    def session_is_dead(self) -> bool:
        """True when the refresh token or client can no longer be used (log in again, do not retry).

        Only RingCentral's verdict counts (`SESSION_ENDING_ERRORS` in an OAuth error body): a 400 or
        401 page from a proxy or captive portal says nothing about the session, and must not end it.
        """
        return self.oauth_error in SESSION_ENDING_ERRORS


# The OAuth `error` values (RFC 6749 §5.2) that are RingCentral's verdict that a session is over:
# `invalid_grant` (refresh token expired, revoked or spent), `invalid_client` (the client secret was
# rotated), `unauthorized_client` (the app may no longer use the grant). Nothing else ends one.
SESSION_ENDING_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


class ForeignOrigin(ApiError):
    """A URL that would take the session's token to another origin (scheme, host or port); the one
    place that decides is `rcauth.origin`."""

    def __init__(self, target: str, server: str, why: str, *, hint: str | None = None) -> None:
        super().__init__(f"refusing to send the session's token to {_shown(target)}: {why}", hint=hint)
        self.target = target
        self.server = server
        self.why = why


def _shown(text: str, limit: int = 120) -> str:
    """`text` quoted for a one-line message: controls escaped by repr(), long values cut, any
    user:password before an '@' masked (it may be a credential), and a URL's query and fragment left
    out: they say nothing about where the URL goes, and may carry a token (RingCentral's own
    `?access_token=` links)."""
    for mark in "?#":
        head, found, _ = text.partition(mark)
        text = head + (mark + "..." if found else "")
    cut = text if len(text) <= limit else text[:limit] + "..."
    return repr(re.sub(r"(//|\\\\|^|:)[^/\\@\s]*@", r"\1***@", cut))


class ListingIncomplete(ApiError):
    """A paged listing that ended (no `nextPage`) while its totals say records remain: RingCentral's
    paging model caps `paging.page` at 1000 (the spec's EnumeratedPagingModel), so past 1000 pages at
    the requested perPage the rest cannot be reached. Raised after the last reachable record, so what
    was listed is kept; a script must still learn, from the exit code, that it did not get everything.
    `total` is None when the answer gave totalPages but not totalElements."""

    def __init__(self, listed: int, total: int | None, last_page: int, *, hint: str | None = None) -> None:
        of = f" of {total}" if total is not None else ""
        super().__init__(
            f"only {listed}{of} records listed: RingCentral lists at most {last_page} pages", hint=hint
        )
        self.listed = listed
        self.total = total


class TransportError(ApiError):
    """RingCentral could not be reached, or kept failing after retries."""


class UnexpectedAnswer(TransportError):
    """Something other than RingCentral's verdict answered: an HTML page from a proxy, captive portal
    or web filter, a 5xx, a JSON without an OAuth `error`, a token answer that holds no usable token.
    A network problem to report, never RingCentral's verdict that a session is over (only an OAuth
    error body is one).

    A token answer refused although it carried a token keeps that token in `issued_token` (never
    shown: the grant is revoked with it, being one all the same); `revoked` says whether that was
    done, in which case the session it belonged to is over."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        hint: str | None = None,
        issued_token: str | None = None,
        revoked: bool = False,
    ) -> None:
        super().__init__(message, status=status, error_code=error_code, hint=hint)
        self.issued_token = issued_token
        self.revoked = revoked

    def __str__(self) -> str:
        return self.message  # it names the status and what answered itself


class ErrorBody(NamedTuple):
    """RingCentral's error JSON, read once for every endpoint (REST and OAuth alike).

    Its two shapes (see docs/ARCHITECTURE.md and RingCentral's API reference, "Error handling"):
    REST `{"errorCode", "message", "errors": [{"errorCode", "message", "permissionName"?}]}` and
    OAuth `{"error", "error_description", "errors": [{"errorCode", "message"}]}`. The top level is the
    answer's summary and `errors[0]` its first cause, so the top level wins where both say something:
    `error_code` = `errorCode`, else `errors[0].errorCode`, else the OAuth `error`; `message` =
    `message`, else `error_description`, else `errors[0].message`. Callers branch on `error_code`
    (RingCentral: never on the message).

    A NamedTuple, not a dataclass: every command imports this module, and making a dataclass costs
    about a millisecond (bench/README.md).
    """

    fields: dict[str, Any]  # the JSON object; empty when there is none
    details: list[Any]  # `errors`, as sent
    oauth_error: str | None = None  # the OAuth `error` (RFC 6749 §5.2), when it is a string
    error_code: str | None = None
    message: str | None = None
    permission: str | None = None  # `errors[0].permissionName`: what the user or app lacks


def parse_error_body(response: Any) -> ErrorBody:
    """The error fields of `response` (anything with `.json()`, so this module needs no HTTP library);
    an `ErrorBody` with nothing set when the body is not a JSON object."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        return ErrorBody({}, [])
    errors = body.get("errors")
    details: list[Any] = errors if isinstance(errors, list) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    oauth_error = body.get("error") if isinstance(body.get("error"), str) else None

    def text(*values: Any) -> str | None:
        return next((str(v) for v in values if v not in (None, "") and not isinstance(v, (dict, list))), None)

    return ErrorBody(
        fields=body,
        details=details,
        oauth_error=oauth_error,
        error_code=text(body.get("errorCode"), first.get("errorCode"), oauth_error),
        message=text(body.get("message"), body.get("error_description"), first.get("message")),
        permission=text(first.get("permissionName")),
    )
