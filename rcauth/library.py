"""rcauth's Python API: the session `rcauth login` stored, for scripts, notebooks and any
requests-based code (Google's Application Default Credentials and Azure's `AzureCliCredential` are
the model: sign in once with the CLI, and every program on the machine picks the session up).

Everything here goes through the same parts as the CLI, so a script and a concurrent `rcauth`
command share one session safely: the profile's store (`rcauth.store.open_store`: the keyring, or
the 0600 file with `RCAUTH_INSECURE_STORAGE`), the cross-process refresh lock (RingCentral's refresh
tokens are single-use: two processes refreshing the same one would end the session), and
`rcauth.client.ApiClient` for refresh-ahead, retries, rate-limit pacing, paging and the origin check.

Nothing here prints, prompts or imports click or rich; failures are `rcauth.RcauthError`s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import requests
from requests.auth import AuthBase

from rcauth import resources
from rcauth.call_log_query import CallLogQuery, as_tuple, call_log
from rcauth.client import ApiClient
from rcauth.config import DEFAULT_PROFILE, PROFILE_VAR, check_profile_name
from rcauth.errors import ForeignOrigin
from rcauth.origin import TokenOrigins
from rcauth.session import SDK_HANDOFF_VALID_FOR, sdk_token_data
from rcauth.store import open_store

if TYPE_CHECKING:
    from rcauth.recordings import Saved as RecordingSaved
    from rcauth.session import Session

log = logging.getLogger(__name__)


def _profile(profile: str | None) -> str:
    """The profile a command would use: the one named, else `$RCAUTH_PROFILE`, else `default_profile`
    in config.toml, else the one `rcauth profiles use` chose, else "default". A script run after
    `rcauth profiles use work` must reach the session `rcauth whoami` reaches, not another one.

    As for the commands, a config file that cannot be parsed does not stop a script that needs nothing
    else of it: the default is read from what can be read, and the problem logged."""
    named = profile or os.environ.get(PROFILE_VAR.name)
    if named:
        return check_profile_name(named)
    from rcauth import config, profiles

    written, problem = config.read_default_profile()
    if problem is not None:
        log.warning("%s", " ".join(problem.message.split()))
    return check_profile_name(written or profiles.chosen_default() or DEFAULT_PROFILE)


def _api_client(profile: str, insecure_storage: bool) -> ApiClient:
    return ApiClient(open_store(profile, insecure_storage=insecure_storage), profile=profile)


def _moment(value: datetime | str | None, name: str, now: datetime) -> datetime | None:
    """A datetime as given (it must be timezone-aware), or a string as `rcauth call-log` reads it:
    ISO 8601 (naive: local time) or a span back from now (`7d`, `12h`, `30m`)."""
    if value is None or isinstance(value, datetime):
        return value
    from rcauth.timeparse import parse_instant

    try:
        return parse_instant(value, now)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


@dataclass(frozen=True)
class SessionInfo:
    """What a stored session is, without its secrets (no token, no client secret)."""

    profile: str
    server: str
    client_id: str
    scope: str
    owner_id: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None  # None: no refresh token, or RingCentral gave no expiry
    storage: str  # where it is kept: the keyring entry or the file
    # The media origin the token may also go to (recordings' content URLs), None: none.
    media_server: str | None = None

    @classmethod
    def of(cls, session: Session, profile: str, storage: str) -> SessionInfo:
        return cls(
            profile=profile,
            server=session.server,
            client_id=session.client_id,
            scope=session.scope,
            owner_id=session.owner_id,
            access_expires_at=datetime.fromtimestamp(session.access_expires_at, timezone.utc),
            refresh_expires_at=_utc(session.refresh_expires_at if session.refresh_token else None),
            storage=storage,
            media_server=TokenOrigins.of(session.server, session.media_server).media,
        )


class Client:
    """RingCentral's REST API as a profile's stored session (the one `rcauth login` made).

    Example::

        with rcauth.Client() as rc:
            print(rc.whoami()["name"])
            for call in rc.call_log(date_from="7d", limit=50):
                print(call["startTime"], call["direction"])

    Calls refresh the session ahead of its expiry (under the cross-process lock, so a concurrent
    `rcauth` command never spends the same refresh token), retry transient faults on idempotent
    requests, wait out RingCentral's rate limits (without output: a wait may last up to two minutes),
    and send the token only to the session's own server and its media server.

    Args:
        profile: the profile to use; default: the one a command would use (`$RCAUTH_PROFILE`,
            `default_profile` in config.toml, the one `rcauth profiles use` chose, else "default").
        insecure_storage: allow the 0600 session file when no keyring works (as
            `--insecure-storage`; `RCAUTH_INSECURE_STORAGE=1` does the same).

    Raises:
        NotLoggedIn: the profile has no stored session (run `rcauth login`).
        InvalidProfileName: `profile` cannot name a profile.
        StorageUnavailable: no keyring works and no consent to the file was given; its subclass
            `KeyringUnreachable`: the keyring is locked, does not answer or fails, so whether a
            session is stored is unknown (never reported as `NotLoggedIn`).
        StoredSessionDamaged: what is stored is not a session this version reads.
    """

    def __init__(self, profile: str | None = None, *, insecure_storage: bool = False) -> None:
        self.profile = _profile(profile)
        self._api = _api_client(self.profile, insecure_storage)
        try:
            self._api.load_session()  # now, so a missing session is said at once
        except BaseException:
            self._api.close()
            raise

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections. The stored session stays: this is not `rcauth logout`."""
        self._api.close()

    def __repr__(self) -> str:
        return f"rcauth.Client(profile={self.profile!r})"

    @property
    def session(self) -> SessionInfo:
        """The session in use (after any refresh), without its secrets."""
        return SessionInfo.of(self._api.load_session(), self.profile, self._api.store.location)

    # -- requests ------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send an authenticated request and return its answer.

        Args:
            method: an HTTP method ("GET", "POST", ...).
            path: a path on the session's server (`/restapi/v1.0/account/~`), a full URL on it, or a
                URL on its media server (a recording's `contentUri`).
            **kwargs: passed to `requests` (`params`, `json`, `data`, `headers`, `files`...).

        Returns:
            The response, for any status below 400.

        Raises:
            ApiError: RingCentral answered 400 or above (`error_code` and `status` say what).
            ForeignOrigin: `path` is a URL on another origin; nothing was sent.
            TransportError: RingCentral could not be reached, even after retries.
            SessionExpired: the session has ended and cannot be refreshed (run `rcauth login`).
        """
        return self._api.request(method.upper(), path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """`request("GET", path, **kwargs)`."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """`request("POST", path, **kwargs)`; retried only if it could not be sent at all."""
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        """`request("PUT", path, **kwargs)`."""
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        """`request("PATCH", path, **kwargs)`; retried only if it could not be sent at all."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        """`request("DELETE", path, **kwargs)`."""
        return self.request("DELETE", path, **kwargs)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET `path` and return its JSON object.

        Raises:
            ApiError: an error answer, or one that is not JSON. And as `request`.
        """
        return self._api.get_json(path, params)

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield the `records` of a RingCentral list, following `navigation.nextPage`.

        Pages are fetched as the records are consumed (the next one while this one is worked
        through), so any number of records runs in constant memory. A next-page link to another
        origin stops the listing with `ForeignOrigin`.

        Args:
            path: the list's path, e.g. `/restapi/v1.0/account/~/extension`.
            params: its query parameters (`perPage` defaults to RingCentral's maximum, 1000).
            limit: stop after this many records (an int, 0 or more); None for every page.

        Raises:
            TypeError: a `limit` that is not an int (a bool, a float, a string): raised here, at once,
                before any request.
            ValueError: a negative `limit`, likewise.

        While iterating, it raises what `get_json` raises.
        """
        return self._api.paginate(path, params, limit=limit)

    # -- RingCentral's resources, as the CLI shows them ------------------------------------------
    def whoami(self) -> dict[str, Any]:
        """The signed-in user's extension (`GET /restapi/v1.0/account/~/extension/~`), as
        `rcauth whoami --json` prints it: `id`, `extensionNumber`, `name`, `contact`...

        Raises what `get_json` raises.
        """
        return resources.extension_info(self._api)

    def call_log(
        self,
        *,
        date_from: datetime | str | None = None,
        date_to: datetime | str | None = None,
        types: Iterable[str] | str = (),
        directions: Iterable[str] | str = (),
        view: str | None = None,
        account: bool = False,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Call-log records, newest first, with `rcauth call-log`'s filters (the same request).

        Args:
            date_from: the oldest call: a timezone-aware datetime, or a string as `--from` takes it
                (ISO 8601, naive meaning local time, or a span back from now: "7d", "12h", "30m").
                RingCentral's default: 24 hours before `date_to`.
            date_to: the newest call, likewise; default now.
            types: "Voice" and/or "Fax" (any case).
            directions: "Inbound" and/or "Outbound" (any case).
            view: "Simple" (default) or "Detailed" (adds call legs).
            account: the whole account's log (needs the FullCompanyCallLog permission, else 403).
            limit: stop after this many records (an int, 0 or more); None (the default) follows
                every page.

        Returns:
            An iterator of call records; the request is sent when iteration starts.

        Raises:
            TypeError: a `limit` that is not an int (a bool, a float, a string): raised here, at once.
            ValueError: a filter RingCentral does not know, a string that is not a time, a naive
                datetime, `date_from` later than `date_to` (or than now), or a negative `limit`:
                raised here, at once.
            ApiError, TransportError, SessionExpired: while iterating, as `request`.
        """
        query = _query(date_from, date_to, as_tuple(types), as_tuple(directions), view, account)
        return call_log(self._api, query, limit=limit)

    def recordings(
        self,
        *,
        date_from: datetime | str | None = None,
        date_to: datetime | str | None = None,
        directions: Iterable[str] | str = (),
        account: bool = False,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The call-log records that have a recording (`withRecording=true`), newest first, as
        `rcauth recordings list` lists them; each has `recording{id, uri, type, contentUri}`.

        Args:
            date_from, date_to, directions, account, limit: as `call_log`.

        Raises what `call_log` raises.
        """
        from rcauth.recordings import recordings

        query = _query(date_from, date_to, ("Voice",), as_tuple(directions), None, account)
        return recordings(self._api, query, limit=limit)

    def download(self, url: str, path: str | os.PathLike[str], *, replace: bool = False) -> int:
        """Save the content at `url` (a recording's `contentUri`, or a path on the server) to the file
        `path`, never holding it whole; returns its length in bytes.

        Resumable and atomic: the body is streamed to `path` + `.part`, which a download cut off keeps
        and the next call continues with a byte range (`Range`; checked against the answer's
        `Content-Length` and `Content-Range`); `path` itself appears only once the content is whole.

        Raises:
            FileExistsError: `path` exists and `replace` is false (nothing was sent).
            ForeignOrigin: `url` is not on the session's server or media server; nothing was sent.
            TransportError: the answer was cut off (the `.part` is kept for the next call).
            ApiError: an error answer, or lengths that do not add up (the `.part` is removed).
        """
        from pathlib import Path

        return self._api.download(url, Path(path), replace=replace, resume=True)

    def download_recordings(
        self,
        directory: str | os.PathLike[str],
        *,
        date_from: datetime | str | None = None,
        date_to: datetime | str | None = None,
        directions: Iterable[str] | str = (),
        account: bool = False,
        limit: int | None = None,
        checksums: bool = True,
    ) -> Iterator[RecordingSaved]:
        """Save the recordings of a period's calls in `directory` (an existing directory) as
        `rcauth recordings download` does, yielding each one's outcome as it is done: `status` is
        "saved", "exists" (saved before: skipped without a request) or "failed" (`reason` says why;
        the others go on), with `file`, `bytes`, `content_type` and `sha256`. File names are made safe
        from the call's data; an existing file is never replaced; a run cut off is resumed by the next.
        `checksums=False` leaves `sha256` None, and spares reading every file again (an archive saved
        before is otherwise read whole on each run).

        Raises:
            ApiError: the app lacks ReadCallRecording (its `hint` says what to do); a listing page
                failed. And as `call_log`.
        """
        from pathlib import Path

        from rcauth.recordings import download_recordings

        records = self.recordings(
            date_from=date_from, date_to=date_to, directions=directions, account=account, limit=limit
        )
        return download_recordings(self._api, records, Path(directory), checksums=checksums)


def _query(
    date_from: datetime | str | None,
    date_to: datetime | str | None,
    types: tuple[str, ...],
    directions: tuple[str, ...],
    view: str | None,
    account: bool,
) -> CallLogQuery:
    now = datetime.now(timezone.utc)
    start = _moment(date_from, "date_from", now)
    end = _moment(date_to, "date_to", now)
    return CallLogQuery(start, end, types=types, directions=directions, view=view, account=account)


class Auth(AuthBase):
    """A `requests` authentication that signs requests with a profile's stored session.

    Example::

        requests.get(f"{server}/restapi/v1.0/account/~", auth=rcauth.Auth())

    Each request gets an access token valid for at least a minute, refreshed ahead under the
    cross-process lock when due (a session whose app issues no refresh token uses its token until it
    expires). The token is attached only to the session's own origins (scheme,
    host and port): its server's, and the media origin paired with it (`https://media.ringcentral.com`
    for production, where recordings are served; elsewhere the one configured at login). A request
    anywhere else raises `ForeignOrigin` before anything is sent, and requests itself drops the
    header when a redirect leaves the host.

    A 401 answer is handled as the CLI handles it: RingCentral may end an access token before its
    stated expiry (a refresh elsewhere, session limits), so the session is refreshed once (or the pair
    another process just stored is taken) and the request is sent again, once, with the new token;
    the second answer is returned whatever it is. requests-oauthlib's `OAuth2Session` refreshes only
    ahead of expiry and hands a 401 to the caller. A request whose body is a stream that cannot be
    rewound is not sent again: its 401 is returned as it is.

    Args:
        profile: the profile to use; default: the one a command would use (`$RCAUTH_PROFILE`,
            `default_profile` in config.toml, the one `rcauth profiles use` chose, else "default").
        insecure_storage: allow the 0600 session file when no keyring works.

    Raises (when a request is prepared, from `requests.get(...)` and the like):
        NotLoggedIn: the profile has no stored session.
        SessionExpired: the session has ended and cannot be refreshed.
        ForeignOrigin: the request is for another origin than the session's server or media server.
        StorageUnavailable: no keyring works and no consent to the file was given.
    """

    def __init__(self, profile: str | None = None, *, insecure_storage: bool = False) -> None:
        self.profile = _profile(profile)
        self._insecure_storage = insecure_storage
        self._api: ApiClient | None = None

    def __repr__(self) -> str:
        return f"rcauth.Auth(profile={self.profile!r})"

    def _client(self) -> ApiClient:
        # Opened at the first request: an `Auth()` made before `rcauth login` works after it.
        if self._api is None:
            self._api = _api_client(self.profile, self._insecure_storage)
        return self._api

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        session = self._client().fresh_session()
        self._attach(request, session)
        start = _body_start(request.body)

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            return self._on_response(response, start, on_response, **kwargs)

        request.register_hook("response", on_response)  # type: ignore[no-untyped-call]
        return request

    def _attach(self, request: requests.PreparedRequest, session: Session) -> None:
        url = request.url or ""
        origins = TokenOrigins.of(session.server, session.media_server)
        if not origins.allows(url):
            raise ForeignOrigin(url, session.server, origins.refusal(url))
        request.headers["Authorization"] = f"Bearer {session.access_token}"

    def _on_response(
        self,
        response: requests.Response,
        start: int | None,
        hook: Callable[..., requests.Response],
        **kwargs: Any,
    ) -> requests.Response:
        """The response hook: on a 401, refresh once and send a copy of the request again, once
        (as requests' own `HTTPDigestAuth` answers its 401: `PreparedRequest.copy`, the
        response's `connection`). A body that is a file is rewound to where it began (`start`);
        one that cannot be (a generator, a pipe) is not sent again, empty: its 401 is returned."""
        if response.status_code != 401:
            return response
        request = response.request
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            if start is None:
                return response
            try:
                body.seek(start)
            except (AttributeError, OSError):
                return response
        sent = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        response.content  # noqa: B018 - read it all, so the connection goes back to the pool
        response.close()
        session = self._client().refresh(stale_access_token=sent)
        retry = request.copy()
        # Once: the copy does not carry this hook, so its own 401 is the answer.
        retry.hooks = {**request.hooks, "response": [h for h in request.hooks["response"] if h is not hook]}
        self._attach(retry, session)
        second: requests.Response = response.connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        return second


def _body_start(body: object) -> int | None:
    """Where a file body begins (its position now, as requests' `HTTPDigestAuth` records it), so a
    request sent again sends it whole; None for a body that is not a file or cannot tell (a pipe)."""
    if body is None or isinstance(body, (bytes, str)):
        return None
    try:
        position = body.tell()  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
    return position if isinstance(position, int) else None


def token(profile: str | None = None, *, insecure_storage: bool = False) -> str:
    """An access token of the profile's session, valid for at least a minute (refreshed if due; a
    session whose app issues no refresh token gives its token until it expires).

    For code that wants a bearer token itself; prefer `Auth` or `Client`, which also refresh and
    retry on a 401 for long-running work.

    Returns:
        The access token. Never log or print it.

    Raises:
        NotLoggedIn, SessionExpired, StorageUnavailable, InvalidProfileName: as `Client`.
        TransportError: RingCentral could not be reached for a refresh that was due.
    """
    with _api_client(_profile(profile), insecure_storage) as api:
        return api.fresh_session().access_token


def token_data_of(session: Session, now: float | None = None) -> dict[str, Any]:
    """`session`'s token data (`token_data`, for a session in hand), in the one shape every RingCentral
    SDK takes as it is: the Python SDK's `platform.auth().set_data(...)`, the JavaScript SDK's
    `platform.auth().setData(...)` and ringcentral-extensible's `rc.token = ...`; what
    `rcauth token --json` prints.

    `expire_time` is left out on purpose: the Python SDK keeps it in epoch seconds and the JavaScript
    SDK in epoch milliseconds, and each takes a supplied one as it is (a value in the other's unit reads
    as expired in 1970, or valid for ever). Without it, each computes the expiry from `expires_in` in its
    own unit when the data is handed over, so hand it over at once.

    The refresh token is left out too: a refresh by the SDK would rotate the pair behind rcauth's back
    (RingCentral's refresh tokens are single-use), and the session rcauth keeps would end at its next
    refresh. Without one, the SDK cannot refresh: ask rcauth for a new token before the last minute
    of `expires_in`, when any rcauth command may refresh the session and so end this token (and the
    JavaScript SDK stops using a token a minute before it expires anyway).
    """
    return sdk_token_data(session, now)


def token_data(profile: str | None = None, *, insecure_storage: bool = False) -> dict[str, Any]:
    """A valid access token (refreshed if due) as RingCentral's SDKs read it, without the refresh
    token: `platform.auth().set_data(rcauth.token_data())` in Python, `setData` in JavaScript. See
    `token_data_of`.

    Raises what `token` raises.
    """
    with _api_client(_profile(profile), insecure_storage) as api:
        # Refreshed first unless it has SDK_HANDOFF_VALID_FOR left (see there).
        return token_data_of(api.fresh_session(valid_for=SDK_HANDOFF_VALID_FOR))


def login(
    *,
    jwt: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    server: str | None = None,
    redirect_uri: str | None = None,
    media_server: str | None = None,
    env_file: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    open_browser: bool = True,
    announce: Callable[[str], object] | None = None,
    read_redirect: Callable[[], str] | None = None,
    timeout: float = 300.0,
    insecure_storage: bool = False,
) -> SessionInfo:
    """Sign in and store the session exactly as `rcauth login` does (same store, same lock; the
    session it replaces is revoked), so `Client`, `Auth` and the CLI all use it afterwards.

    Three ways, as the command's: with `jwt`, RingCentral's JWT bearer grant (scripts, CI); with
    `read_redirect`, the paste flow (the user opens the URL anywhere and pastes back the address the
    browser landed on); otherwise the browser flow on the loopback redirect URI (PKCE).

    Settings not given are resolved as the CLI resolves them: the environment (`RC_APP_CLIENT_ID`,
    `RC_APP_CLIENT_SECRET`, `RC_SERVER_URL`, `RC_REDIRECT_URL`, `RC_MEDIA_URL`), then `env_file`, then
    the config file.

    Signals: called on the main thread, it holds SIGINT, SIGTERM and SIGHUP from the token request
    until the session is stored (or revoked) and the replaced session revoked, then delivers them
    (the program's handler, else `KeyboardInterrupt`, or `rcauth.errors.Terminated` for SIGTERM and
    SIGHUP left at their defaults), and puts the program's handlers back: no grant is left alive
    that nothing can end. On another thread it cannot hold them (Python installs handlers only on
    the main thread): the program's handlers decide.

    Args:
        jwt: a JWT credential: sign in without a browser.
        client_id, client_secret, server, redirect_uri, media_server: the app's settings, as the flags
            (`media_server`: the server's media host, where recordings are served; known for
            production, needed for any other server whose content you fetch).
        env_file: a RingCentral quick-start `.env` to read `RC_*` settings from.
        profile: the profile to store the session for; default: the one a command would use
            (`$RCAUTH_PROFILE`, `default_profile` in config.toml, the one `rcauth profiles use`
            chose, else "default").
        open_browser: open the system browser at the sign-in page (browser flow).
        announce: called with the sign-in URL (browser and paste flows), e.g. `print`; the library
            itself never prints. Required when no browser is opened.
        read_redirect: the paste flow: returns the address the browser landed on (e.g. `input`).
        timeout: seconds to wait for the browser's redirect.
        insecure_storage: allow the 0600 session file when no keyring works.

    Returns:
        The stored session, without its secrets.

    Raises:
        ConfigError: no client id, or a setting is invalid.
        LoginFailed: denied, timed out, refused by RingCentral, a pasted URL from elsewhere, or no
            browser can be opened here (no display) and no `announce` was given.
        PortInUse: the redirect URI's port is taken.
        StorageUnavailable: the session cannot be kept (checked before any grant is made).
        TransportError: RingCentral could not be reached.
        ValueError: `open_browser=False` (or `read_redirect`) without `announce`: nobody would see
            the sign-in URL; or both `jwt` and `read_redirect` given.
    """
    from rcauth import config, login_logout
    from rcauth.errors import LoginFailed
    from rcauth.flow import Browser, Jwt, Paste, WayIn

    if jwt is not None and read_redirect is not None:
        raise ValueError("give either jwt or read_redirect, not both")
    if jwt is None and announce is None and (read_redirect is not None or not open_browser):
        raise ValueError("nobody would see the sign-in URL: pass announce (e.g. announce=print)")
    name = _profile(profile)
    settings = config.resolve(
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "server": server,
            "redirect_uri": redirect_uri,
            "media_server": media_server,
        },
        env_file=env_file,
        profile=name,
    )
    if jwt is None and read_redirect is None and open_browser and announce is None and not _browser_here():
        raise LoginFailed(
            "no browser can be opened here (no display): pass announce=print to see the sign-in URL, "
            "or sign in with jwt= or read_redirect="
        )
    way: WayIn
    if jwt is not None:
        way = Jwt(jwt)
    elif read_redirect is not None:
        way = Paste(read_redirect)
    else:
        way = Browser(open_browser=_open_browser if open_browser else None, timeout=timeout)
    store = open_store(name, insecure_storage=insecure_storage)
    # The same sign-in as `rcauth login`, which only prints more: nothing is printed here.
    logged_in = login_logout.login(settings, way, store, announce=announce)
    return SessionInfo.of(logged_in.session, name, store.location)


def _browser_here() -> bool:
    from rcauth.browser import graphical_browser_likely, is_wsl

    return graphical_browser_likely() or is_wsl()


def _open_browser(url: str) -> bool:
    """The system browser, on a thread (a `$BROWSER` that blocks must not hold the login up); where
    none opens, the URL given to `announce` is the way in."""
    from rcauth.browser import open_in_background

    open_in_background(url)
    return True
