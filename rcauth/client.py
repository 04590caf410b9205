"""The authenticated API client: one `requests.Session` that owns auth headers, refresh, retries,
rate-limit pacing and paging, so no call site has to think about any of them.
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from rcauth import redact
from rcauth.errors import ApiError, NotLoggedIn, SessionExpired, TransportError
from rcauth.oauth import OAuthError, RingCentralOAuth
from rcauth.session import Session
from rcauth.store import SessionStore, refresh_lock

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
LOGIN_HINT = "run `rcauth login` to sign in again"

WaitCallback = Callable[[float, str], None]


def _transient_retry() -> Retry:
    """Connection errors and 502/503/504 on idempotent requests: exponential backoff with jitter.

    Bounded: at most 6 tries and about 20 s of backoff in all. POST is not in `allowed_methods`:
    a POST that may have reached the server is never repeated blindly.
    """
    return Retry(
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
    )


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block ends: between receiving a rotated pair and storing it, an interrupt
    would lose the only refresh token that still works. The block is bounded by HTTP timeouts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(*received[0])


class RateLimiter:
    """Paces requests per RingCentral rate-limit group from the `X-Rate-Limit-*` headers.

    The window's start is taken as the time of the first request seen with a full allowance; once
    `Remaining` reaches 0 the next request in that group waits for the window to roll over, so a long
    listing runs just under the limit instead of running into 429 and its 60 s penalty.
    """

    def __init__(self) -> None:
        self._groups: dict[str, tuple[float, float, int]] = {}  # group -> (window_start, window, remaining)

    def delay(self, group: str | None, now: float) -> float:
        if group is None or group not in self._groups:
            return 0.0
        start, window, remaining = self._groups[group]
        if remaining > 0:
            return 0.0
        return max(0.0, start + window - now)

    def observe(self, response: requests.Response, sent_at: float) -> None:
        headers = response.headers
        group = headers.get("X-Rate-Limit-Group")
        try:
            limit = int(headers["X-Rate-Limit-Limit"])
            remaining = int(headers["X-Rate-Limit-Remaining"])
            window = float(headers["X-Rate-Limit-Window"])
        except (KeyError, ValueError):
            return
        if not group:
            return
        start = self._groups.get(group, (sent_at, window, remaining))[0]
        if remaining >= limit - 1 or sent_at >= start + window:
            start = sent_at
        self._groups[group] = (start, window, remaining)


class ApiClient:
    """Calls RingCentral's REST API as the stored session, refreshing it when due.

    `on_wait(seconds, reason)` is told before any long wait (rate limits) so a CLI can show a countdown.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        profile: str = "default",
        refresh_margin: float = REFRESH_MARGIN,
        on_wait: WaitCallback | None = None,
        timeout: float | tuple[float, float] = TIMEOUT,
    ) -> None:
        self.store = store
        self.profile = profile
        self.refresh_margin = refresh_margin
        self.on_wait = on_wait
        self.timeout = timeout
        self.rate_limiter = RateLimiter()
        self._group_of_path: dict[str, str] = {}
        self._session: Session | None = None
        self.http = requests.Session()
        adapter = HTTPAdapter(max_retries=_transient_retry())
        self.http.mount("https://", adapter)
        self.http.mount("http://", adapter)
        self.http.headers.update({"Accept": "application/json", "User-Agent": _user_agent()})

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- the session -----------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The stored session (loaded once); raises `NotLoggedIn` when there is none."""
        if self._session is None:
            session = self.store.load()
            if session is None:
                raise NotLoggedIn("not signed in", hint="run `rcauth login` first")
            self._session = session
        return self._session

    def _oauth(self, session: Session) -> RingCentralOAuth:
        return RingCentralOAuth(session.server, session.client_id, session.client_secret)

    def fresh_session(self) -> Session:
        """The session with an access token valid for at least the refresh margin."""
        session = self.session
        if session.access_expires_within(self.refresh_margin):
            session = self.refresh(stale_access_token=session.access_token)
        return session

    def refresh(self, *, stale_access_token: str | None = None) -> Session:
        """Rotate the token pair under the cross-process lock and store the new pair at once.

        Inside the lock the stored session is read again: if another process already rotated it
        (its access token differs from the one we found stale and is not due), that pair is used
        and no second refresh is spent.
        """
        with refresh_lock(self.profile):
            current = self.store.load()
            if current is None:
                raise SessionExpired("the session was removed by another rcauth", hint=LOGIN_HINT)
            if current.access_token != stale_access_token and not current.access_expires_within(
                self.refresh_margin
            ):
                self._session = current
                return current
            if current.refresh_expired():
                self._end_session(current, "the session has expired (its refresh token is no longer valid)")
            with interrupts_deferred():
                try:
                    token = self._oauth(current).refresh(current.refresh_token or "")
                except OAuthError as exc:
                    if exc.session_is_dead:
                        self._end_session(current, f"the session has ended ({exc})")
                    raise
                new = Session.from_token_response(
                    token,
                    server=current.server,
                    client_id=current.client_id,
                    client_secret=current.client_secret,
                    previous=current,
                )
                self.store.save(new)
            log.debug("refreshed the access token; it expires in %.0f s", new.access_expires_at - time.time())
            self._session = new
            return new

    def _end_session(self, session: Session, message: str) -> None:
        """Remove a session that can no longer be refreshed, and say so. Only that session: if another
        process stored a new one meanwhile, it is left alone (we hold the refresh lock here)."""
        stored = self.store.load()
        if stored is not None and stored.refresh_token == session.refresh_token:
            self.store.delete()
        self._session = None
        raise SessionExpired(message, hint=LOGIN_HINT)

    # -- requests ------------------------------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        """An absolute URL on the session's server; refuses any other origin, so the bearer token
        never goes anywhere but RingCentral (paging links are absolute and come from the server)."""
        server = self.session.server
        if path_or_url.startswith(("http://", "https://")):
            target, base = urlsplit(path_or_url), urlsplit(server)
            if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
                raise ApiError(f"refusing to send the session's token to another server: {target.netloc}")
            return path_or_url
        return urljoin(server + "/", path_or_url.lstrip("/"))

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
        """Send an authenticated request; refresh and retry once on 401, wait out 429s (bounded).

        Returns the response for any status below 400; raises `ApiError` (with RingCentral's
        errorCode) otherwise, `SessionExpired` when the session cannot be renewed.
        """
        url = self.url_for(path_or_url)
        # The group of the next request is known from the last answer for the same path.
        path = urlsplit(url).path
        group_hint = self._group_of_path.get(path)
        refreshed = False
        limited = 0
        while True:
            session = self.fresh_session()
            wait = self.rate_limiter.delay(group_hint, time.monotonic())
            if wait > 0:
                self._wait(wait, "pacing to stay under the rate limit")
            sent_at = time.monotonic()
            try:
                response = self.http.request(
                    method,
                    url,
                    headers={"Authorization": f"Bearer {session.access_token}"},
                    timeout=self.timeout,
                    **kwargs,
                )
            except requests.RequestException as exc:
                raise TransportError(
                    f"could not reach {urlsplit(url).netloc}: {type(exc).__name__}"
                ) from None
            log.debug("%s %s -> %s", method, redact.redact(url), response.status_code)
            self.rate_limiter.observe(response, sent_at)
            group_hint = response.headers.get("X-Rate-Limit-Group") or group_hint
            if group_hint:
                self._group_of_path[path] = group_hint
            if response.status_code == 401 and not refreshed:
                # RingCentral may end an access token early (refresh elsewhere, session limits):
                # refresh once and retry once.
                refreshed = True
                self.refresh(stale_access_token=session.access_token)
                continue
            if response.status_code == 429 and limited < MAX_429_RETRIES:
                limited += 1
                self._wait(_retry_after(response), "rate limit reached (HTTP 429)")
                continue
            if response.status_code >= 400:
                raise api_error(response)
            return response

    def _wait(self, seconds: float, reason: str) -> None:
        seconds = min(seconds, MAX_RATE_LIMIT_WAIT)
        if self.on_wait is not None and seconds >= 1:
            self.on_wait(seconds, reason)
        else:
            time.sleep(seconds)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        response = self.request("GET", path, params=params, **kwargs)
        try:
            data = response.json()
        except ValueError:
            raise ApiError(
                "RingCentral answered with something that is not JSON", status=response.status_code
            ) from None
        return data

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
        on_page: Callable[[dict[str, Any]], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield records page by page, following `navigation.nextPage`, stopping after `limit` records.

        Records are yielded as each page arrives, so a long listing runs in constant memory.
        """
        params = dict(params or {})
        if "perPage" not in params:
            params["perPage"] = min(limit, MAX_PER_PAGE) if limit else MAX_PER_PAGE
        url: str | None = path
        query: Mapping[str, Any] | None = params
        seen = 0
        while url:
            page = self.get_json(url, params=query)
            if on_page is not None:
                on_page(page)
            for record in page.get("records") or []:
                yield record
                seen += 1
                if limit is not None and seen >= limit:
                    return
            next_page = (page.get("navigation") or {}).get("nextPage") or {}
            url, query = next_page.get("uri"), None


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER
    # A little jitter so processes that were limited together do not come back together.
    return max(1.0, seconds) + random.uniform(0, 0.25)  # noqa: S311 - jitter, not a secret


def api_error(response: requests.Response) -> ApiError:
    """RingCentral's REST error JSON -> `ApiError` with its errorCode, message and details."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    details = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    error_code = body.get("errorCode") or first.get("errorCode") or body.get("error")
    message = body.get("message") or first.get("message") or body.get("error_description") or response.reason
    hint = None
    permission = first.get("permissionName")
    if permission:
        hint = f"your user or app lacks the {permission} permission"
    if response.status_code == 401:
        hint = LOGIN_HINT
    return ApiError(
        redact.redact(str(message or "request failed")),
        status=response.status_code,
        error_code=str(error_code) if error_code else None,
        details=details,
        hint=hint,
    )


def _user_agent() -> str:
    from rcauth import __version__

    return f"rcauth/{__version__} python-requests/{requests.__version__}"
