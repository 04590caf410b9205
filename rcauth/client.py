"""The authenticated API client: one `requests.Session` that owns auth headers, refresh, retries,
rate-limit pacing and paging, so no call site has to think about any of them.

The HTTP stack (requests, urllib3, the transport and retry modules: about 60 ms to import) loads on
the first request, not with this module: a session whose access token is still fresh needs no
request at all (`rcauth token` in a script's loop prints it and exits).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import operator
import os
import random
import re
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from rcauth import interrupts, redact
from rcauth.errors import (
    ApiError,
    ForeignOrigin,
    ListingIncomplete,
    OAuthError,
    RcauthError,
    SessionExpired,
    TransportError,
    UnexpectedAnswer,
    parse_error_body,
)
from rcauth.origin import TokenOrigins
from rcauth.session import NO_REFRESH_TOKEN, Session
from rcauth.store import SessionStore, not_signed_in, refresh_lock

if TYPE_CHECKING:
    import requests

    # Only a refresh needs the OAuth module (imported there): a call with a valid token does not pay for it.
    from rcauth.oauth import RingCentralOAuth
    from rcauth.retry import BoundedRetry

log = logging.getLogger(__name__)

# Refresh this long before the access token expires, from the stored expiry time (RingCentral
# advises refreshing ahead rather than in reaction to a 401).
REFRESH_MARGIN = 60.0
TIMEOUT = (10.0, 60.0)


MAX_RATE_LIMIT_WAIT = 120.0
MAX_429_RETRIES = 5
# RingCentral: a 429 without Retry-After means wait at least 30 s.
DEFAULT_RETRY_AFTER = 30.0
MAX_PER_PAGE = 1000
# The spec's EnumeratedPagingModel: `paging.page` has `maximum: 1000`; no page after it can be asked for.
LAST_PAGE = 1000
# No transient retry starts later than this after a request's first failure.
TRANSIENT_RETRY_BUDGET = 30.0
LOGIN_HINT = "run `rcauth login` to sign in again"

WaitCallback = Callable[[float, str], None]


def _transient_retry(
    monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = interrupts.sleep
) -> BoundedRetry:
    """Connection errors and 502/503/504 on idempotent requests: exponential backoff with jitter.

    Bounded in count and in time: at most 7 tries (6 retries), pauses of 0.4, 0.8, 1.6, 3.2 and 6.4 s
    (plus up to 0.3 s of jitter) or the answer's Retry-After (at most 30 s), and no try starts more than
    `TRANSIENT_RETRY_BUDGET` seconds after the first failure. At 30 % faults a page is lost only when all
    7 tries fail (0.3**7, about 2 in 10,000). POST and PATCH are not in `allowed_methods`: they are
    retried only when no connection could be made (nothing was sent), never once they may have
    reached the server.
    """
    from rcauth.retry import BoundedRetry

    return BoundedRetry(
        total=6,
        connect=6,
        read=6,
        status=6,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}),
        status_forcelist=frozenset({502, 503, 504}),
        backoff_factor=0.2,
        backoff_jitter=0.3,
        backoff_max=8,
        respect_retry_after_header=True,
        retry_after_max=30,
        raise_on_status=False,
        budget=TRANSIENT_RETRY_BUDGET,
        monotonic=monotonic,
        sleep=sleep,
    )


class _GroupWindow:
    """What the last answer of one rate-limit group said, and when this client's newest `limit`
    requests in that group were answered. (A plain class: every command that calls the API imports
    this module, and making a dataclass costs about a millisecond.)"""

    __slots__ = ("limit", "window", "remaining", "free_at", "answered")

    def __init__(self, limit: int, window: float, remaining: int, free_at: float) -> None:
        self.limit = limit
        self.window = window
        self.remaining = remaining
        self.free_at = free_at  # monotonic time from which a request should be admitted again
        self.answered: deque[float] = deque()


class RateLimiter:
    """Paces requests per RingCentral rate-limit group from the `X-Rate-Limit-*` headers.

    RingCentral counts each group's requests per user and app over `X-Rate-Limit-Window` seconds and
    says what is left in `X-Rate-Limit-Remaining`; the request over the limit gets 429 and a penalty
    that each further request restarts. Whether the window is fixed or sliding is not documented, so
    this paces for the stricter sliding one (a client that passes it passes a fixed one too): while
    `Remaining` is above 0 nothing waits; at 0 the next request waits until the oldest request in the
    window has left it. When the window may hold just this client's `limit` newest requests, that is
    the oldest one's answer time plus the window (the server counted it no later than it answered).
    When it cannot (the oldest was answered a whole window before the last one was sent, so another
    process shares the allowance), it waits a whole window from the last answer, when everything the
    server had counted has surely left. A long listing thus runs in bursts just under the limit.
    """

    def __init__(self) -> None:
        self._groups: dict[str, _GroupWindow] = {}

    def delay(self, group: str | None, now: float) -> float:
        """Seconds to wait before the next request of `group` (0 when it may go now)."""
        state = self._groups.get(group) if group else None
        if state is None or state.remaining > 0:
            return 0.0
        return max(0.0, state.free_at - now)

    def observe(self, response: requests.Response, sent_at: float, answered_at: float | None = None) -> None:
        """Record one answer to a request sent at `sent_at` and answered at `answered_at` (monotonic
        times): its group's limit, window and remaining allowance."""
        headers = response.headers
        group = headers.get("X-Rate-Limit-Group")
        if not group:
            return
        if response.status_code == 429:
            # Refused and not counted; once its penalty (Retry-After) is over, a fresh window begins.
            self._groups.pop(group, None)
            return
        try:
            limit = int(headers["X-Rate-Limit-Limit"])
            remaining = int(headers["X-Rate-Limit-Remaining"])
            window = float(headers["X-Rate-Limit-Window"])
        except (KeyError, ValueError):
            return
        if limit < 1 or window <= 0:
            return
        now = time.monotonic() if answered_at is None else answered_at
        state = self._groups.get(group)
        if state is None or (state.limit, state.window) != (limit, window):
            state = self._groups[group] = _GroupWindow(limit, window, remaining, now)
        state.answered.append(now)
        while len(state.answered) > limit:
            state.answered.popleft()
        state.remaining = remaining
        oldest = state.answered[0]
        maybe_all_ours = len(state.answered) == limit and oldest > sent_at - window
        state.free_at = (oldest if maybe_all_ours else now) + window


class ApiClient:
    """Calls RingCentral's REST API as the stored session, refreshing it when due.

    `on_wait(seconds, reason)` is told before any long wait (rate limits) so a CLI can show a countdown.
    `clock` (wall time: token expiry), `monotonic` (rate-limit pacing, retry budgets) and `sleep` (every
    wait this client takes itself) are time's own unless given: a test passes a fake clock instead of
    patching `time` in this module.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        profile: str = "default",
        refresh_margin: float = REFRESH_MARGIN,
        on_wait: WaitCallback | None = None,
        timeout: float | tuple[float, float] = TIMEOUT,
        answer_within: float | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = interrupts.sleep,
    ) -> None:
        from rcauth.config import answer_budget

        self.store = store
        # Seconds for a whole answer, from its send to its last byte: a server or proxy that trickles
        # its body is hung up on (`RCAUTH_TIMEOUT`, read here: a script may set it before the client).
        self.answer_within = answer_within if answer_within is not None else answer_budget()
        self.profile = profile
        self.refresh_margin = refresh_margin
        self.on_wait = on_wait
        self.timeout = timeout
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.rate_limiter = RateLimiter()
        self._group_of_path: dict[str, str] = {}
        self._session: Session | None = None
        self._http: requests.Session | None = None

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def http(self) -> requests.Session:
        """The HTTP session, made (and the HTTP stack imported) on first use."""
        if self._http is None:
            from rcauth import transport

            http = transport.new_session(
                _transient_retry(self.monotonic, self.sleep), answer_within=self.answer_within
            )
            http.headers.update({"Accept": "application/json", "User-Agent": _user_agent()})
            self._http = http
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # -- the session -----------------------------------------------------------------------------
    def load_session(self) -> Session:
        """The session in use: the stored one, read from the store on the first call only (after a
        refresh, the refreshed one); raises `NotLoggedIn` when there is none. `rcauth.Client.session`
        is this without its secrets."""
        if self._session is None:
            session = self.store.load()
            if session is None:
                raise not_signed_in(self.store)
            self._session = session
        return self._session

    @property
    def loaded_session(self) -> Session | None:
        """The session in use, if one was loaded (never loads one)."""
        return self._session

    def _oauth(self, session: Session) -> RingCentralOAuth:
        from rcauth.oauth import RingCentralOAuth

        return RingCentralOAuth(
            session.server,
            session.client_id,
            session.client_secret,
            monotonic=self.monotonic,
            sleep=self.sleep,
        )

    def fresh_session(self, valid_for: float = 0.0) -> Session:
        """The session with an access token valid for at least the refresh margin, or `valid_for`
        seconds if that is longer (a token handed to an SDK outlives rcauth's own next refresh)."""
        session = self.load_session()
        # Without a refresh token nothing can be renewed ahead: the access token is used to its end.
        margin = max(self.refresh_margin, valid_for) if session.refresh_token else 0.0
        if session.access_expires_within(margin, self.clock()):
            session = self.refresh(stale_access_token=session.access_token, valid_for=margin)
        return session

    def refresh(self, *, stale_access_token: str | None = None, valid_for: float = 0.0) -> Session:
        """Rotate the token pair under the cross-process lock and store the new pair at once.

        Inside the lock the stored session is read again: if another process already rotated it
        (its access token differs from the one we found stale and is not due), that pair is used
        and no second refresh is spent.
        """
        with refresh_lock(self.profile, on_wait=_waiting_for_the_lock):
            current = self.store.load()
            if current is None:
                raise SessionExpired("the session was removed by another rcauth", hint=LOGIN_HINT)
            now = self.clock()
            if current.access_token != stale_access_token and not current.access_expires_within(
                max(self.refresh_margin, valid_for), now
            ):
                self._session = current
                return current
            if current.refresh_token is None:
                self._end_session(
                    current, f"the session has ended: its access token expired and {NO_REFRESH_TOKEN}"
                )
            if current.refresh_expired(now):
                self._end_session(current, "the session has expired (its refresh token is no longer valid)")
            with interrupts.deferred():
                try:
                    token = self._oauth(current).refresh(current.refresh_token or "")
                except OAuthError as exc:
                    if exc.oauth_error == "invalid_client":
                        self._end_session(
                            current,
                            "the session has ended: RingCentral refused the app's client credentials "
                            f"({exc})",
                            hint="run `rcauth login` with the app's current client secret "
                            "(was it changed in the developer console?)",
                        )
                    if exc.session_is_dead:
                        self._end_session(current, f"the session has ended ({exc})")
                    raise
                except UnexpectedAnswer as exc:
                    if exc.revoked:  # it carried the rotated pair, which rcauth cannot use
                        self._end_session(
                            current,
                            f"the session has ended: {exc} (rcauth revoked the new tokens it could not use)",
                        )
                    raise
                try:
                    new = Session.from_token_response(
                        token,
                        server=current.server,
                        client_id=current.client_id,
                        client_secret=current.client_secret,
                        now=self.clock(),
                        previous=current,
                    )
                    self.store.save(new)
                except BaseException as exc:
                    ended = self._revoke_unkept(current, token, exc)
                    if ended is not None:
                        raise ended from exc
                    raise
            log.debug(
                "refreshed the access token; it expires in %.0f s", new.access_expires_at - self.clock()
            )
            self._session = new
            return new

    def _revoke_unkept(
        self, current: Session, token: Mapping[str, Any], error: BaseException
    ) -> RcauthError | None:
        """The rotated pair could not be stored (the keyring refused it, ran out of room or time).

        RingCentral has spent the stored refresh token (at once under strict rotation, else once the
        new access token is used), so the new pair is the session's only live grant, and nothing
        can keep it. Kept in memory, it would outlive the process with nothing able to end it; so
        it is revoked, which ends the session, and the stored pair (ended with it) is removed, best
        effort, as the store is failing. Returns `error` restated to say the session is over (None:
        `error` goes up as it is). If the revocation fails too, the stored pair is left as it is:
        RingCentral may still replay its rotation.
        """
        issued = token.get("refresh_token") or token.get("access_token")
        if not self._oauth(current).revoke_quietly(issued if isinstance(issued, str) else None):
            return None
        with contextlib.suppress(RcauthError, OSError):
            self.store.delete()
        self._session = None
        if not isinstance(error, RcauthError):
            return None
        ended = "the session was ended at RingCentral, as its new tokens could not be kept"
        return error.restated(
            message=f"{error.message}; {ended}", hint=LOGIN_HINT + (f"; {error.hint}" if error.hint else "")
        )

    def _end_session(self, session: Session, message: str, hint: str = LOGIN_HINT) -> None:
        """Remove a session that can no longer be refreshed, and say so. Only that session: if another
        process stored a new one meanwhile, it is left alone (we hold the refresh lock here)."""
        stored = self.store.load()
        if stored is not None and (stored.refresh_token, stored.access_token) == (
            session.refresh_token,
            session.access_token,
        ):
            self.store.delete()
        self._session = None
        raise SessionExpired(message, hint=hint)

    # -- requests ------------------------------------------------------------------------------
    @property
    def origins(self) -> TokenOrigins:
        """Where the session's token may go: its server, and the media origin paired with it."""
        session = self.load_session()
        return TokenOrigins.of(session.server, session.media_server)

    def url_for(self, path_or_url: str) -> str:
        """An absolute URL on the session's server (a path, or a URL on it) or its media origin (a
        content URL an answer gave); `ForeignOrigin` for any other origin, so the bearer token never
        goes anywhere but RingCentral (paging links are absolute and come from the server).
        `rcauth.origin` decides, for every request this client sends."""
        return self.origins.resolve(path_or_url)

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
        """Send an authenticated request; refresh and retry once on 401, wait out 429s (bounded).

        Returns the response for any status below 400; raises `ApiError` (with RingCentral's
        errorCode) otherwise, `SessionExpired` when the session cannot be renewed.
        """
        return self._complete(method, self.url_for(path_or_url), kwargs)

    @contextlib.contextmanager
    def streamed(
        self, method: str, path_or_url: str, *, accept: Collection[int] = (), **kwargs: Any
    ) -> Iterator[requests.Response]:
        """`request`, with the answer's body left unread for the caller to read in chunks
        (`iter_content`): content such as a call recording is too large to hold, and has no answer
        deadline but requests' per-read timeout. An error answer (400 and up) is read whole, within
        the answer budget and size cap, and raised as `request` raises it. The answer is closed when
        the block ends. Failures while reading the body are `requests` exceptions (`transport.failure`
        names them). A status in `accept` (416 for a resumed download) is returned, not raised."""
        response = self._complete(method, self.url_for(path_or_url), {**kwargs, "stream": True}, accept)
        try:
            yield response
        finally:
            response.close()

    def download(
        self,
        path_or_url: str,
        destination: Path,
        *,
        replace: bool = False,
        resume: bool = False,
        method: str = "GET",
        **kwargs: Any,
    ) -> int:
        """Send `method path_or_url` (a content URL on the media origin, typically; `kwargs` as
        `request` takes them) and write the answer's body to the file `destination` in chunks, never
        holding it whole; returns the bytes written. The body goes to a temp file beside
        `destination`, renamed to it once whole (`files.write_chunks_atomically`), so a body cut off
        part-way (a `TransportError`) leaves no file under that name. An existing `destination` is
        replaced only with `replace`, else `FileExistsError`, checked before the request (nothing is
        sent) and again before the rename. A `destination` that is a device, a FIFO or `/dev/stdout`
        is written into as it is, never replaced; a symbolic link is kept and the file it leads to
        written (`files.output_target`). A directory is an `IsADirectoryError`, before the request.

        With `resume` (GET only), the body goes to `destination` + `.part`, which is kept when the
        answer is cut off and continued by the next call (`fetch_part`: `Range`, verified against the
        answer's lengths); it is renamed to `destination` once whole."""
        from rcauth.files import (
            check_writable_directory,
            output_target,
            place,
            write_chunks_atomically,
            write_into,
        )

        if not isinstance(path_or_url, str):
            raise TypeError(f"path_or_url must be a str, not {type(path_or_url).__name__}")
        if not isinstance(replace, bool) or not isinstance(resume, bool):
            raise TypeError("replace and resume must be True or False")
        # The file holds the bytes as sent, whose length the answer states: never a body inflated from
        # a compressed one, which nothing bounds (a few KB of gzip fill a disk).
        headers = {"Accept-Encoding": "identity", **dict(kwargs.pop("headers", None) or {})}
        kwargs["headers"] = headers
        destination, into = output_target(Path(destination))
        if into:  # a device, a FIFO, /dev/stdout: written into, never replaced by a file
            with self.streamed(method, path_or_url, **kwargs) as response:
                _check_whole_body(response, headers)
                return write_into(destination, self._body(response))
        if os.path.isdir(destination):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(destination))
        if not replace and os.path.lexists(destination):
            raise FileExistsError(f"{destination} exists")
        check_writable_directory(destination)
        if not resume:
            with self.streamed(method, path_or_url, **kwargs) as response:
                _check_whole_body(response, headers)
                return write_chunks_atomically(destination, self._body(response), replace=replace)
        if method.upper() != "GET":
            raise ValueError("only a GET download can be resumed")
        part = destination.with_name(destination.name + PART_SUFFIX)
        if os.path.lexists(part) and (os.path.islink(part) or not os.path.isfile(part)):
            # A FIFO, a link, a directory at the part's name (anyone who can write in /tmp can put
            # one there): in the way, said before the request.
            raise OSError(errno.EEXIST, "in the way: not a regular file", str(part))
        fetched = self.fetch_part(
            path_or_url, part if os.path.lexists(part) else None, lambda content_type: part, **kwargs
        )
        if replace and os.path.lexists(destination):
            os.replace(fetched.part, destination)
        else:
            place(fetched.part, destination)
        return fetched.size

    def fetch_part(
        self,
        path_or_url: str,
        part: Path | None,
        part_for: Callable[[str], Path],
        *,
        on_chunk: Callable[[int], object] | None = None,
        **kwargs: Any,
    ) -> Fetched:
        """Bring a partial download to the whole of `path_or_url`'s content, and say where it is.

        `part` is what an earlier try left (None: nothing); it is continued with a `Range` (RFC 9110
        §14) that starts `RESUME_OVERLAP` bytes before its end: the answer's first bytes must be the
        part's last ones, so a part of another body (the content changed since, a file put there) is
        found out without a validator RingCentral does not document, and removed, and the content
        asked for whole. A 206 whose `Content-Range` starts where asked is appended after the overlap,
        and the file must then hold the range's total (a whole part is confirmed the same way); a 200
        (the server ignored the range) is written from the start; a 416 means the part is longer than
        the content: no prefix of it, removed. A fresh body goes
        to `part_for(content_type)` (the answer's type may decide the name). A 200's body must be
        `Content-Length` long. Compression is refused (`Accept-Encoding: identity`), so the lengths
        are the file's.

        A body cut off part-way is a `TransportError`, and what arrived stays in the part for the next
        call; a length that does not add up is an `ApiError` (the part is removed: it cannot be
        trusted). `content_type` is the answer's (empty after a 416, which has none). `on_chunk` is
        told the length of each piece of body written (a progress bar)."""
        from rcauth.files import write_part

        headers = {**dict(kwargs.pop("headers", None) or {}), "Accept": "*/*", "Accept-Encoding": "identity"}
        unsized = False  # a 200 came with no length and no chunked framing: its end was not proved
        for _ in range(3):  # a part that is no prefix of the content, a body whose end must be confirmed
            offset = part.stat().st_size if part is not None else 0
            start = max(0, offset - RESUME_OVERLAP)
            sent = {**headers, "Range": f"bytes={start}-"} if part is not None and offset else headers
            with self.streamed("GET", path_or_url, accept=(416,), headers=sent, **kwargs) as response:
                status = response.status_code
                content_type = str(response.headers.get("Content-Type", ""))
                refuse_encoded(response)
                if status == 416:
                    if part is not None:
                        os.unlink(part)
                    part = None
                    continue
                if status == 206:
                    if part is None or not offset:
                        raise ApiError("the server answered part of the content unasked (HTTP 206)")
                    answered, total = _content_range(response.headers.get("Content-Range"))
                    if answered != start or total is None:
                        os.unlink(part)  # asked again, it would be refused again: fetched whole next time
                        raise ApiError(
                            f"the server answered another range than the one asked for "
                            f"({response.headers.get('Content-Range')!r}, asked from byte {start})",
                            status=206,
                        )
                    if part_for(content_type) != part:  # the content changed type: not this part's
                        os.unlink(part)
                        part = None
                        continue
                    rest = _after_overlap(self._body(response), _tail(part, offset - start))
                    try:
                        write_part(part, _counted(_at_most(rest, total - offset), on_chunk), append=True)
                    except _NotThisContent:
                        os.unlink(part)
                        part = None
                        continue
                    except _TooLong:
                        os.unlink(part)
                        said = f"the content is longer than the {total} bytes the server said; not kept"
                        raise ApiError(said) from None
                    _check_length(part, total)
                    return Fetched(part, total, content_type, 0 if unsized else offset)
                if unsized:  # asked for a range to learn the length, and the whole body came again
                    if part is not None:
                        os.unlink(part)
                    raise ApiError(
                        "the server says neither how long the content is nor answers a range: it cannot "
                        "be checked whole; not kept"
                    )
                target = part_for(content_type)
                if part is not None and part != target:
                    os.unlink(part)
                part = target
                expected = _content_length(response)
                body = self._body(response)  # http.client reads no byte past a Content-Length
                if expected is None:
                    body = _at_most(body, UNSIZED_BODY_MAX)
                try:
                    write_part(target, _counted(body, on_chunk), append=False)
                except _TooLong:
                    os.unlink(target)
                    raise ApiError(
                        f"the server sent more than {UNSIZED_BODY_MAX // 2**30} GiB without saying how long "
                        "the content is; not kept"
                    ) from None
                if expected is not None:
                    _check_length(target, expected)
                elif not _chunked(response):
                    # Ended by closing the connection: a cut looks the same as the end. One range
                    # request for the last bytes learns the length (its Content-Range) and checks them.
                    unsized = True
                    continue
                return Fetched(target, target.stat().st_size, content_type, 0)
        raise ApiError("the server refused every range asked of it (HTTP 416)", status=416)

    def _body(self, response: requests.Response) -> Iterator[bytes]:
        """A streamed body, stalled past this client's answer budget (`body_chunks`)."""
        return body_chunks(response, stall_after=self.answer_within)

    def _send(self, method: str, url: str, access_token: str, **kwargs: Any) -> requests.Response:
        """One try: pace for the rate limit, send, and note what the answer says about the limit."""
        import requests

        from rcauth import transport

        url = self.url_for(url)  # the last check before the token is attached: every send passes here
        path = _route_key(urlsplit(url).path)
        # The group of the next request is known from the last answer for the same path.
        wait = self.rate_limiter.delay(self._group_of_path.get(path), self.monotonic())
        if wait > 0:
            self._wait(wait, "pacing to stay under the rate limit")
        sent_at = self.monotonic()
        unsendable: ValueError | None = None
        try:
            # The caller's headers go as given; the token is set last (an auth object, which also
            # keeps requests from reading ~/.netrc), so no header of the caller's can replace it.
            response = self.http.request(
                method, url, auth=transport.BearerToken(access_token), timeout=self.timeout, **kwargs
            )
        except requests.exceptions.InvalidHeader as exc:
            unsendable = exc
        except requests.RequestException as exc:
            raise transport.failure(exc, url) from None
        except ValueError as exc:  # http.client's check of a header: requests' skips what an auth sets
            unsendable = exc
        if unsendable is not None:
            # Both say the header's value as a repr: masked here, in every spelling, and raised outside
            # the `except` so the error does not keep the original (and its repr) as its context.
            said = redact.redact(" ".join(str(unsendable).split()))
            raise TransportError(f"could not send the request to {urlsplit(url).netloc}: {said}")
        log.debug("%s %s -> %s", method, redact.redact(url), response.status_code)
        if kwargs.get("stream") and response.status_code >= 400:
            # Read by `api_error` or thrown away: within the budget and cap every answer read whole has.
            transport.read_within(response, self.answer_within, url)
        self.rate_limiter.observe(response, sent_at, self.monotonic())
        if group := response.headers.get("X-Rate-Limit-Group"):
            self._group_of_path[path] = group
        return response

    def _complete(
        self, method: str, url: str, kwargs: Mapping[str, Any], accept: Collection[int] = ()
    ) -> requests.Response:
        """Send `method url` until it has a final answer, and return it (raise for 400 and up, but for
        a status in `accept`)."""
        refreshed = False
        limited = 0
        while True:
            access_token = self.fresh_session().access_token
            response = self._send(method, url, access_token, **kwargs)
            if response.status_code == 401 and not refreshed:
                # RingCentral may end an access token early (refresh elsewhere, session limits):
                # refresh once and retry once.
                refreshed = True
                response.close()
                self.refresh(stale_access_token=access_token)
                continue
            if response.status_code == 429 and limited < MAX_429_RETRIES:
                retry_after = _retry_after(response)
                if retry_after > MAX_RATE_LIMIT_WAIT:
                    # Asking again before the penalty is over would only restart it (RingCentral
                    # restarts the penalty on every request made during it): say when instead.
                    raise api_error(
                        response, hint=f"RingCentral asks to wait {retry_after:.0f} s before the next request"
                    )
                limited += 1
                response.close()
                # A little jitter so processes that were limited together do not come back together.
                jitter = random.uniform(0, 0.25)  # noqa: S311 - jitter, not a secret
                self._wait(retry_after + jitter, "rate limit reached (HTTP 429)")
                continue
            if response.status_code >= 400 and response.status_code not in accept:
                raise api_error(response)
            return response

    def _wait(self, seconds: float, reason: str) -> None:
        seconds = min(seconds, MAX_RATE_LIMIT_WAIT)
        if self.on_wait is not None and seconds >= 1:
            self.on_wait(seconds, reason)
        else:
            self.sleep(seconds)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return _json_of(self.request("GET", path, params=params, **kwargs))

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
        on_page: Callable[[dict[str, Any]], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield records page by page, following `navigation.nextPage`, stopping after `limit` records.

        Records are yielded as each page arrives and the next page is asked for once the caller has
        taken them all, so a long listing runs in constant memory (one page at a time), and an error
        part-way comes after every record listed before it.

        A listing that ends at page 1000 (the most RingCentral's paging model allows) while its totals
        say records remain raises `ListingIncomplete` after the last record it could reach.

        `limit` is checked here, at the call, before anything is sent (`check_limit`); the first page is
        asked for when iteration starts.
        """
        return self._pages(path, params, check_limit(limit), on_page)

    def _pages(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        limit: int | None,
        on_page: Callable[[dict[str, Any]], None] | None,
    ) -> Iterator[dict[str, Any]]:
        if limit == 0:
            return  # nothing asked for: no request (perPage=0 would be refused, and 1000 too many)
        params = dict(params or {})
        if "perPage" not in params:
            params["perPage"] = min(limit, MAX_PER_PAGE) if limit else MAX_PER_PAGE
        page = self.get_json(path, params=params)
        where = path
        seen = 0
        # The pages followed, by link: RingCentral never links back to a page of the same listing nor
        # past page 1000, so a server that does (a loop, an endless chain) is stopped here, after the
        # records it sent, instead of writing them again and again for ever.
        followed: set[str] = set()
        while True:
            if on_page is not None:
                on_page(page)
            records, next_url = _page_parts(page, where)
            for record in records:
                yield record
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not next_url:
                _check_complete(page, seen)
                return
            url = self._next_page(next_url, followed, seen)
            followed.add(url)
            page, where = _json_of(self._complete("GET", url, {})), url

    def _next_page(self, next_url: str, followed: set[str], listed: int) -> str:
        """The absolute URL of the next page, or why it must not be fetched: a link back to a page
        already listed, a 1001st page (RingCentral serves 1000 at most), or another origin."""
        try:
            url = self.url_for(next_url)
        except ForeignOrigin as exc:
            raise exc.restated(
                hint="the next-page link RingCentral sent leads elsewhere; the listing stops here"
            ) from exc
        if url in followed:
            raise ApiError(
                f"RingCentral's next-page link leads back to a page already listed ({listed} records "
                "listed); the listing stops here"
            )
        if len(followed) + 1 >= LAST_PAGE:
            raise ListingIncomplete(listed, None, LAST_PAGE)
        return url


# A chunk of a streamed body: large enough to keep the system calls few, small enough to stay flat.
CHUNK_BYTES = 64 * 1024
# The most one read of a streamed body returns where reads return what has arrived (`body_chunks`).
READ_BYTES = 1024 * 1024
# A streamed body that brings less than this in `RCAUTH_TIMEOUT` seconds (120 by default: about half a
# KB a second, far below any link a recording comes over) has stalled (`body_chunks`).
STALL_BYTES = 64 * 1024


# A resumed download asks again for this many bytes it already has and checks they are the same: the
# part is then known to be a prefix of the content the server has now.
RESUME_OVERLAP = 4096


# The most a body that does not say its length (no Content-Length) is let write: above any recording
# RingCentral makes (a day of 8 kHz 16-bit WAV is 1.4 GB), far below a disk filled by an endless body.
UNSIZED_BODY_MAX = 4 * 2**30


class _NotThisContent(Exception):
    """The bytes a resumed download asked for again differ from the part's: another body."""


class _TooLong(Exception):
    """A body went past the length it was let have."""


def _at_most(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """`chunks`, raising `_TooLong` before the first byte past `limit` is yielded."""
    left = limit
    for chunk in chunks:
        if len(chunk) > left:
            raise _TooLong
        left -= len(chunk)
        yield chunk


def _chunked(response: requests.Response) -> bool:
    """The body came in chunked framing, whose last chunk proves its end (a cut one is an error)."""
    return "chunked" in str(response.headers.get("Transfer-Encoding", "")).lower()


def _tail(part: Path, size: int) -> bytes:
    """The last `size` bytes of `part`, read without following a symlink put in its place."""
    from rcauth.files import open_no_follow

    with open_no_follow(part) as fh:
        if not size:
            return b""
        fh.seek(-size, os.SEEK_END)
        return fh.read(size)


def _after_overlap(chunks: Iterator[bytes], expected: bytes) -> Iterator[bytes]:
    """`chunks` less their first `len(expected)` bytes, which must be `expected` (else
    `_NotThisContent`, raised before anything is yielded)."""
    seen = b""
    for chunk in chunks:
        if len(seen) < len(expected):
            need = len(expected) - len(seen)
            seen += chunk[:need]
            chunk = chunk[need:]
            if len(seen) == len(expected) and seen != expected:
                raise _NotThisContent
        if chunk:
            yield chunk
    if seen != expected:  # the body ended inside the overlap
        raise _NotThisContent


def refuse_encoded(response: requests.Response) -> None:
    """A download asks for the content as it is (`Accept-Encoding: identity`), so that what is written
    is what `Content-Length` counts. A server or proxy that compresses it anyway would have requests
    inflate it unbounded as it is read: refused before a byte is written."""
    encoding = str(response.headers.get("Content-Encoding", "")).strip().lower()
    if encoding not in ("", "identity"):
        raise ApiError(
            f"{urlsplit(response.url).netloc} sent the content compressed ({encoding[:40]}) though asked "
            "not to: nothing saved",
            status=response.status_code,
        )


def _check_whole_body(response: requests.Response, headers: Mapping[str, str] | None) -> None:
    """A body saved as a file must be the whole of what was asked for: not a redirect nobody followed
    (a 3xx without a usable Location comes back as it is), nor a 206 part when no Range was sent, nor a
    compressed body (`refuse_encoded`)."""
    refuse_encoded(response)
    asked_range = any(name.lower() == "range" for name in (headers or {}))
    status = response.status_code
    if 300 <= status < 400 or (status == 206 and not asked_range):
        raise UnexpectedAnswer(
            f"{urlsplit(response.url).netloc} answered HTTP {status}, not the whole content: nothing saved",
            status=status,
        )


def body_chunks(response: requests.Response, *, stall_after: float | None = None) -> Iterator[bytes]:
    """A streamed answer's body in chunks, as sent (decompressed if it was compressed in transit); a
    connection dropped or a body cut short of its Content-Length is a `TransportError`, and so is a body
    that stalls: less than `STALL_BYTES` in `stall_after` seconds (default `RCAUTH_TIMEOUT`) of waiting
    for it (`transport.steady`: the socket is shut at that moment, even if nothing comes at all). A body as
    long as a recording has no deadline as a whole (a slow link takes its time), but one a server or a
    proxy sends a byte now and then would otherwise hold the command, and a download's folder, for ever.

    Read with urllib3's `read1` where it has one (urllib3 2.3 and later): each read returns what has
    arrived, up to `READ_BYTES`, where `iter_content` waits to fill a whole chunk. So the chunks can be
    large (a quarter of the system calls and Python-level work of 64 KiB ones) without a cut connection
    losing the chunk it was filling: what arrived before the cut is yielded, and a resumed download
    continues from there."""
    from rcauth import transport
    from rcauth.config import answer_budget

    window = answer_budget() if stall_after is None else stall_after
    return transport.steady(_raw_chunks(response), response, window, STALL_BYTES)


def _raw_chunks(response: requests.Response) -> Iterator[bytes]:
    import requests

    from rcauth.transport import cut_off

    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if not callable(read1) or not hasattr(raw, "decode_content"):  # not urllib3 2.3+: requests' own way
        try:
            yield from response.iter_content(CHUNK_BYTES)
            return
        except requests.RequestException as exc:
            error = cut_off(exc, response.url)
        # Raised outside the `except`: the chain would only repeat urllib3's wording.
        raise error
    import urllib3.exceptions

    while True:
        try:
            chunk = read1(READ_BYTES, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = cut_off(exc, response.url)
            break
        if not chunk:
            return
        yield chunk
    raise error


def _waiting_for_the_lock() -> None:
    log.debug("another rcauth holds the session's refresh lock: waiting for it")


def _page_parts(page: dict[str, Any], where: str) -> tuple[list[Any], str]:
    """A page's records and its next page's link ("" for none). A page shaped otherwise (no `records`
    at all, records that are not a list, a `navigation.nextPage.uri` that is not text at any step) is an
    `ApiError`, raised before any of its records: read as an empty or a last page, it would pass a
    listing off as complete, or a resource that is no listing (`/restapi/v1.0/account/~`) as an empty
    one. `records: null` is an empty page: every list answer of RingCentral's carries the key."""
    if "records" not in page:
        raise ApiError(
            f"{urlsplit(where).path or where} does not answer with a listing: its answer has no records",
            hint="only a list resource (one answering with `records`) can be paged: read this one whole",
        )
    records = page["records"]
    if records is None:
        records = []
    if not isinstance(records, list):
        raise ApiError("RingCentral answered a page whose records are not a list")
    link: Any = page
    for key in ("navigation", "nextPage", "uri"):
        if not isinstance(link, dict):
            raise ApiError("RingCentral answered a page whose next-page link is not a URL")
        link = link.get(key)
        if link is None:
            return records, ""
    if not isinstance(link, str):
        raise ApiError("RingCentral answered a page whose next-page link is not a URL")
    return records, link


def _check_complete(page: dict[str, Any], listed: int) -> None:
    """Raise `ListingIncomplete` when the listing stopped at page LAST_PAGE (it has no `nextPage`)
    although its totals say more records follow: a listing a script cannot tell from a complete one
    would be worse than an error after the records. Only at that page: elsewhere a missing `nextPage`
    is the end, whatever totals RingCentral estimated ("may be omitted ... for performance reasons")."""
    paging = page.get("paging")
    if not isinstance(paging, dict):
        return
    number, end = paging.get("page"), paging.get("pageEnd")
    total, pages = paging.get("totalElements"), paging.get("totalPages")
    if not isinstance(number, int) or number < LAST_PAGE:
        return
    known_total = total if isinstance(total, int) else None
    if (known_total is not None and isinstance(end, int) and end + 1 < known_total) or (
        isinstance(pages, int) and pages > number
    ):
        raise ListingIncomplete(listed, known_total, LAST_PAGE)


def _json_of(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object. Anything else is an `ApiError` (exit 5): text that is not JSON, JSON
    nested deeper than Python parses (RecursionError), or JSON that is not an object (every resource
    rcauth reads, and every page of a listing, is one)."""
    try:
        data = response.json()
    except (ValueError, RecursionError):
        raise ApiError(
            "RingCentral answered with something that is not JSON", status=response.status_code
        ) from None
    if not isinstance(data, dict):
        raise ApiError("RingCentral answered with JSON that is not an object", status=response.status_code)
    return data


def check_limit(limit: object) -> int | None:
    """`limit` as paging takes it: None (every record) or an int of 0 or more. Anything else would
    be sent as `perPage` (True as "True", nan, 1.5: a server's 400 for the caller's mistake) or miscount
    (2.5 listed 3 records), so it is refused before a request: `TypeError` for what is not an int (a
    bool included), `ValueError` for a negative one."""
    if limit is None:
        return None
    try:  # an int, or what stands for one exactly (numpy's integers): `operator.index`
        if isinstance(limit, bool):
            raise TypeError
        count = operator.index(limit)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"limit must be an int, or None for every record, not {type(limit).__name__}"
        ) from None
    if count < 0:
        raise ValueError(f"limit must be 0 or more, or None for every record, not {count}")
    return count


def _retry_after(response: requests.Response) -> float:
    """Seconds a 429 asks to wait: `Retry-After`, or RingCentral's documented minimum without it."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER
    return max(1.0, seconds)


def api_error(response: requests.Response, *, hint: str | None = None) -> ApiError:
    """RingCentral's REST error JSON -> `ApiError` with its errorCode, message and details; its hint
    `hint` when the caller knows what to do, else what the answer says (a permission lacking, a 401)."""
    parsed = parse_error_body(response)
    if hint is None and response.status_code == 401:
        hint = LOGIN_HINT
    elif hint is None and parsed.permission:
        hint = f"your user or app lacks the {parsed.permission} permission"
    return ApiError(
        redact.redact(parsed.message or response.reason or "request failed"),
        status=response.status_code,
        error_code=parsed.error_code,
        details=parsed.details,
        hint=hint,
    )


def _user_agent() -> str:
    import requests

    from rcauth.version import __version__

    return f"rcauth/{__version__} python-requests/{requests.__version__}"


PART_SUFFIX = ".part"


class Fetched(NamedTuple):
    """A partial download made whole (`ApiClient.fetch_part`): where it is, its length, the answer's
    content type (empty when a 416 said it was whole already) and how many bytes an earlier try had
    fetched (0: the whole body came in this one)."""

    part: Path
    size: int
    content_type: str
    resumed_from: int


def _route_key(path: str) -> str:
    """The path with its ids (segments of digits) as `{}`: RingCentral throttles by operation
    (`X-Rate-Limit-Group`), so one recording's group is every recording's, and the pacing learnt from
    one content answer holds for the next, whose id was never asked for before."""
    return "/".join("{}" if part.isdigit() else part for part in path.split("/"))


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """A 206's `Content-Range: bytes FIRST-LAST/TOTAL` as (FIRST, TOTAL); None where it says none, or
    where LAST is not TOTAL - 1 (less than the rest was sent: not the range asked for)."""
    match = _CONTENT_RANGE.fullmatch((header or "").strip())
    if match is None:
        return None, None
    first, last, total = match.groups()
    if total == "*" or int(last) + 1 != int(total) or int(first) > int(last):
        return int(first), None
    return int(first), int(total)


def _content_length(response: requests.Response) -> int | None:
    value = str(response.headers.get("Content-Length", "")).strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _check_length(part: Path, expected: int) -> None:
    """An `ApiError` (and the part removed) when the part is not `expected` bytes long: a body longer or
    shorter than the server said cannot be trusted to be the content."""
    size = part.stat().st_size
    if size != expected:
        os.unlink(part)
        raise ApiError(f"the content is {size} bytes where the server said {expected}; not kept")


def _counted(chunks: Iterator[bytes], on_chunk: Callable[[int], object] | None) -> Iterator[bytes]:
    for chunk in chunks:
        if on_chunk is not None:
            on_chunk(len(chunk))
        yield chunk
