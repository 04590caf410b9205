"""How rcauth's own HTTP sessions reach RingCentral: whose certificates they trust, where their
redirects may go, and what a network failure is called.

- Trust: the operating system's trust store (the `truststore` package), so a machine behind a
  TLS-inspecting proxy whose root the OS trusts works as the browser does; certifi's bundle, which
  requests uses by default, knows nothing of that root. Scoped to rcauth's sessions through an
  adapter (`inject_into_ssl()` would change every SSL context in the process: a library must not).
  A bundle the user names still wins: `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` (requests reads them)
  and `SSL_CERT_FILE`. truststore is imported on the first https request, not before: start-up
  and the emulator's plain-http path never pay for it.
- Redirects: never followed to another origin (`rcauth.origin`). requests drops the Authorization
  header on a cross-host redirect, but not the body: a 307/308 from the token endpoint would re-send
  the refresh token, the code and PKCE verifier to wherever it points. Such a redirect is an error
  before anything is sent, for the API client and the token endpoint alike.
- Deadlines: every answer is read whole within `RCAUTH_TIMEOUT` seconds of its send, its headers
  (`_Watch`, through urllib3's `ConnectionCls` hook) and its body (`read_within`): requests' read
  timeout bounds each read only, and a server sending a byte at a time never lets one time out. A
  download's body has no deadline as a whole, but must keep coming (`steady`).
- Failures: one line naming what failed (the host and the certificate problem, or the proxy and
  the environment variable that set it, credentials masked).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.models import PreparedRequest
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from rcauth.config import CURL_CA_BUNDLE_VAR, REQUESTS_CA_BUNDLE_VAR, SSL_CERT_FILE_VAR, answer_budget
from rcauth.errors import ConfigError, ForeignOrigin, TransportError
from rcauth.origin import same_origin
from rcauth.redact import mask_credentials

if TYPE_CHECKING:
    # The pool key's shapes, as typeshed's requests stubs name them (they exist only in the stubs).
    from requests.adapters import _HostParams, _PoolKwargs

_S = TypeVar("_S", bound=requests.Session)

# Checked after requests' own REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (which reach the adapter as
# `verify=<path>`): OpenSSL's variable. truststore would honour it on Linux only (OpenSSL's default
# paths); naming the file explicitly makes it win on every OS.
CA_FILE_ENV = SSL_CERT_FILE_VAR.name
CA_BUNDLE_ENV = (REQUESTS_CA_BUNDLE_VAR.name, CURL_CA_BUNDLE_VAR.name)


@cache
def os_trust_context() -> ssl.SSLContext:
    """One TLS context verifying against the OS trust store, shared by every https connection (the
    pool key includes it, so pools are reused)."""
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _Watch:
    """The deadline of one answer until its headers are in: a server that sends its status line and
    headers a byte at a time (or never), or a proxy answering CONNECT so, or a TLS handshake so,
    satisfies every read timeout and would hold a command, and a sign-in that holds Ctrl-C, forever.
    Each connection used for the answer is handed over (`_WatchedConnection`) as it connects or waits
    for the headers; at the deadline its socket is shut down, which ends the wait at once. A socket not
    there yet (the connection between its TCP connect and keeping the socket) is looked for again
    until it is, and a connection handed over later (a retry) is refused at once."""

    def __init__(self, seconds: float) -> None:
        self.fired = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        self._previous = getattr(_watching, "watch", None)
        _watching.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._timer.cancel()
        _watching.watch = self._previous

    def attach(self, connection: Any) -> None:
        """Watch `connection`; past the deadline, raise `_Overdue` instead: no new try starts."""
        with self._lock:
            self._connections.append(connection)
            late = self.fired.is_set()
        if late:
            _shut(getattr(connection, "sock", None))
            raise _Overdue

    def _fire(self) -> None:
        with self._lock:
            self.fired.set()
            connections = list(self._connections)
        waiting = connections
        while waiting and not self._done.is_set():
            for connection in waiting:
                _shut(getattr(connection, "sock", None))
            waiting = [c for c in waiting if getattr(c, "sock", None) is None]
            self._done.wait(0.05)


class _Overdue(Exception):
    """A try about to start after its answer's deadline. Of no class urllib3 retries or requests wraps,
    so it ends the whole send at once, retries and all (urllib3 closes the connection on its way out)."""


@contextlib.contextmanager
def _answer_socket(response: requests.Response) -> Iterator[socket.socket | None]:
    """The socket an answer's body is read from, to shut down at a deadline; None where there is none
    to find (another transport adapter). The connection's own while it holds it; else (`Connection:
    close`, HTTP/1.0, a body ended by closing: http.client hands the socket to the response and the
    connection lets go of it) a duplicate of the response's file descriptor (urllib3's public
    `fileno()`), which shuts the same connection down and is closed when the block ends."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        yield sock
        return
    fileno = getattr(response.raw, "fileno", None)
    try:
        duplicate = socket.socket(fileno=os.dup(fileno())) if callable(fileno) else None
    except (OSError, ValueError):  # no descriptor, or not a socket's
        duplicate = None
    try:
        yield duplicate
    finally:
        if duplicate is not None:
            duplicate.close()


def _shut(sock: object) -> None:
    if not isinstance(sock, socket.socket):
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: the wait has ended by itself


# The watch of the answer this thread is waiting for, if any (rcauth's own state, per thread).
_watching = threading.local()


class _WatchedConnection:
    """Hands itself to this thread's `_Watch` as it connects (a proxy's CONNECT answer and the TLS
    handshake are read there) and before it waits for the answer's headers (a reused connection)."""

    sock: socket.socket | None

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        self._hand_over()
        return super().connect(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        self._hand_over()
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]

    def _hand_over(self) -> None:
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.attach(self)


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


# urllib3's documented hooks: a pool manager makes its pools from `pool_classes_by_scheme`, a pool its
# connections from `ConnectionCls`. A SOCKS proxy has pools of its own: there the headers have the
# per-read bound only.
WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class OSTrustAdapter(HTTPAdapter):
    """An `HTTPAdapter` that verifies https with the OS trust store unless a CA bundle was named, and
    reads each answer whole within `answer_within` seconds of its send (default: `answer_budget()` at
    each send): its headers under a `_Watch`, its body by `read_within`."""

    def __init__(self, *args: Any, answer_within: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answer_within = answer_within

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("verify", True) is True and os.environ.get(CA_FILE_ENV):
            kwargs["verify"] = os.environ[CA_FILE_ENV]
        verify = kwargs.get("verify", True)
        https = (request.url or "").lower().startswith("https:")
        if https and isinstance(verify, str) and not os.path.exists(verify):
            # requests would raise a bare OSError; a bundle the user named and that is gone is a setting
            # to fix, said in one line.
            names = [n for n in (*CA_BUNDLE_ENV, CA_FILE_ENV) if os.environ.get(n) == verify] or ["verify"]
            raise ConfigError(f"the CA bundle {verify!r} named by {names[0]} does not exist")
        # The whole answer within the budget, not only each read: the headers under a watch, then the
        # body here, against a deadline counted from the send, instead of by requests after this
        # returns. A caller that streams (a download) reads the body at its own pace.
        budget = self.answer_within if self.answer_within is not None else answer_budget()
        started = time.monotonic()
        streamed = bool(kwargs.get("stream"))
        with _Watch(budget) as watch:
            try:
                response = super().send(request, *args, **{**kwargs, "stream": True})
            except _Overdue:
                raise too_slow(request.url or "", budget) from None
            except requests.RequestException:
                if watch.fired.is_set():
                    raise too_slow(request.url or "", budget) from None
                raise
        if watch.fired.is_set():  # the headers came as the deadline passed: the socket is shut
            response.close()
            raise too_slow(request.url or "", budget)
        if streamed:
            return response
        if isinstance(response, requests.Response):
            read_within(response, budget - (time.monotonic() - started), request.url or "", budget=budget)
        return response

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if _uses_os_trust(request.url, verify):
            pool_kwargs["ssl_context"] = os_trust_context()
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)
        if _uses_os_trust(url, verify):
            # requests would load certifi's bundle into the connection's context as well.
            conn.ca_certs = conn.ca_cert_dir = None


def _uses_os_trust(url: str | None, verify: bool | str) -> bool:
    return verify is True and (url or "").lower().startswith("https:")


class StayOnOrigin(requests.Session):
    """A `requests.Session` whose redirects never leave the origin of the request answered.

    Every first request is checked by `rcauth.origin.resolve_url`, and each hop here against the one
    before it, so a whole chain stays on the session's origin. A foreign hop raises `ForeignOrigin`
    before it is sent: stripping the header (what requests does) would still re-send a 307/308's
    body, and a GET followed elsewhere would meet a 401 that spends a refresh for nothing.
    """

    def rebuild_auth(self, prepared_request: PreparedRequest, response: requests.Response) -> None:
        previous = response.request.url or ""
        if not same_origin(prepared_request.url or "", previous):
            response.close()
            raise ForeignOrigin(
                prepared_request.url or "",
                previous,
                f"the server at {urlsplit(previous).netloc} redirected there; rcauth does not follow "
                "a redirect to another server",
            )
        # Same origin: the Authorization header stays as sent. requests' own rebuild_auth would then
        # read ~/.netrc for the host and replace the bearer token with that file's password.


class BearerToken(AuthBase):
    """`Authorization: Bearer <token>` (RFC 6750 section 2.1), as requests' auth rather than a header.

    Why not a plain header: with no `auth=`, requests reads `~/.netrc` (or `$NETRC`) for the host and,
    when the file names it, replaces the Authorization header with Basic credentials from that file:
    RingCentral would answer 401, the session would be refreshed for nothing, and the file's password
    would be sent to the API. An auth object makes requests skip the file.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:  # never the token, whatever prints the request's parts
        return "BearerToken(...)"


@cache
def staying_on_origin(cls: type[_S]) -> type[_S]:
    """`cls` (e.g. requests-oauthlib's `OAuth2Session`) with `StayOnOrigin`'s redirect rule."""
    # A subclass of `cls` made at run time: `type()` returns a plain `type` to a type checker.
    return cast("type[_S]", type(f"{cls.__name__}OnOrigin", (StayOnOrigin, cls), {}))


def new_session(max_retries: Any = 0, *, answer_within: float | None = None) -> StayOnOrigin:
    """A session for rcauth's own calls: OS trust, redirects pinned to the origin, `max_retries`, each
    answer read within `answer_within` seconds (default `RCAUTH_TIMEOUT`)."""
    session = StayOnOrigin()
    mount(session, max_retries, answer_within=answer_within)
    return session


def mount(
    session: requests.Session,
    max_retries: Any = 0,
    prefix: str | None = None,
    *,
    answer_within: float | None = None,
) -> None:
    """Mount an `OSTrustAdapter` with `max_retries` on `prefix` (default: every http(s) URL)."""
    adapter = OSTrustAdapter(max_retries=max_retries, answer_within=answer_within)
    for each in [prefix] if prefix else ["https://", "http://"]:
        session.mount(each, adapter)


def failure(exc: requests.RequestException, url: str) -> TransportError:
    """One line for a request that got no answer: the host, and the certificate problem or the
    proxy (as the environment variable that set it, with any credentials masked) when that is why."""
    host = urlsplit(url).netloc
    if isinstance(exc, requests.exceptions.ProxyError):
        # None: a proxy given to requests directly, not by the environment ("the proxy proxy" otherwise).
        proxy = proxy_in_use(url)
        named = f"the proxy {proxy}" if proxy else "the proxy"
        return TransportError(
            f"could not reach {named} (on the way to {host}): {_reason(exc)}",
            hint="check the proxy setting, or name the host in NO_PROXY to go direct",
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(
            f"could not verify the TLS certificate of {host}: {_certificate_problem(exc)}",
            hint="behind a TLS-inspecting proxy, add its root certificate to the system's trust store "
            "or name a CA bundle in REQUESTS_CA_BUNDLE",
        )
    return TransportError(f"could not reach {host}: {_reason(exc)}")


def cut_off(exc: BaseException, url: str) -> TransportError:
    """One line for an answer whose headers came and whose body did not all come: the host was reached
    ("could not reach" would send the user to check a network that worked), and the answer ended early."""
    reason = _reason(exc)
    how = "stalled" if reason == "timed out" else "was cut off"
    return TransportError(f"the answer from {urlsplit(url).netloc} {how} part-way ({reason})")


def read_within(
    response: requests.Response, seconds: float, url: str, *, budget: float | None = None
) -> None:
    """Read a streamed answer's body whole, or hang up once `seconds` have passed.

    requests' read timeout bounds each read, not the answer: a server (or a proxy) that sends a byte
    every few seconds would hold a command forever. A timer shuts the connection's socket down at the
    deadline, which ends the blocked read at once; the broken connection is not reused. When the
    socket cannot be found (another transport adapter), the body is read with the per-read bound only.
    `budget` is the whole answer's allowance the error names (default `seconds`).
    """
    with _answer_socket(response) as sock:
        _read_within(response, seconds, url, sock, seconds if budget is None else budget)


def _read_within(
    response: requests.Response, seconds: float, url: str, sock: socket.socket | None, said: float
) -> None:
    fired = threading.Event()

    def hang_up() -> None:
        fired.set()
        _shut(sock)

    timer = threading.Timer(max(seconds, 0.0), hang_up) if isinstance(sock, socket.socket) else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    raw = response.raw
    if callable(getattr(raw, "stream", None)):
        response.raw = _Capped(raw, ANSWER_MAX_BYTES)
    try:
        response.content  # noqa: B018 - reads and keeps the body
    except requests.RequestException as exc:
        if fired.is_set():
            raise too_slow(url, said) from None
        raise cut_off(exc, url) from None  # the headers came: the host was reached
    except _TooLarge:
        response.close()
        raise TransportError(
            f"{urlsplit(url).netloc} sent an answer larger than {ANSWER_MAX_BYTES // 2**20} MiB, "
            "more than RingCentral ever sends; it was not read",
            hint="a proxy or server in the way may be misbehaving",
        ) from None
    finally:
        response.raw = raw
        if timer is not None:
            timer.cancel()
    if fired.is_set() and not response.content:
        raise too_slow(url, said)


def steady(
    chunks: Iterator[bytes], response: requests.Response, seconds: float, need: int
) -> Iterator[bytes]:
    """`chunks`, a streamed answer's body, as long as it keeps coming: at least `need` bytes within
    `seconds` (`RCAUTH_TIMEOUT`), time counted only while rcauth waits for the body, not while the
    caller writes what came (a slow disk is not a slow server).

    A download has no deadline as a whole (a long recording on a slow link takes what it takes), and
    requests' read timeout bounds each read only: a body sent a few bytes at a time would hold the
    download for ever. Past the allowance the connection's socket is shut down, which ends the blocked
    read at once, and the body is a `TransportError`. Without a socket to watch (another transport
    adapter), the per-read bound only."""
    with _answer_socket(response) as sock:
        if sock is None:
            yield from chunks
            return
        yield from _steady(chunks, response, seconds, need, sock)


def _steady(
    chunks: Iterator[bytes], response: requests.Response, seconds: float, need: int, sock: socket.socket
) -> Iterator[bytes]:
    watch = _Stall(sock, seconds)
    got = 0
    try:
        while True:
            watch.arm()
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except TransportError:
                if not watch.fired.is_set():
                    raise
                break
            finally:
                watch.pause()
            if watch.fired.is_set():
                break
            got += len(chunk)
            if got >= need:  # the allowance is met: a new one starts
                watch.reset()
                got = 0
            yield chunk
    finally:
        watch.stop()
    if watch.fired.is_set():  # also when the shut socket read as the body's end (no Content-Length)
        amount = f"{need // 1024} KiB" if need % 1024 == 0 else f"{need} bytes"
        raise TransportError(
            f"the answer from {urlsplit(response.url).netloc} stalled part-way: less than {amount} "
            f"in {seconds:g} s",
            hint="the server or a proxy on the way is sending it too slowly; try again later",
        )


class _Stall:
    """Shuts `sock` down once the time spent waiting (between `arm()` and `pause()`) passes `seconds`
    since the last `reset()`; one thread for the whole body, not one a chunk."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.fired = threading.Event()
        self._sock, self._seconds = sock, max(seconds, 0.0)
        self._left = self._seconds
        self._changed = threading.Condition()
        self._deadline: float | None = None
        self._stopped = False
        self._idle = False  # the watcher waits with no deadline: only a notify wakes it
        threading.Thread(target=self._watch, daemon=True, name="rcauth-steady-body").start()

    def arm(self) -> None:
        with self._changed:
            self._deadline = time.monotonic() + self._left
            # A deadline only ever moves later (what is left shrinks by the time spent waiting, no
            # more), so a watcher asleep until an earlier one wakes in time and looks again: woken
            # only from its idle wait, not for every chunk of a fast body.
            if self._idle:
                self._changed.notify()

    def pause(self) -> None:
        with self._changed:
            if self._deadline is not None:
                self._left = max(0.0, self._deadline - time.monotonic())
            self._deadline = None

    def reset(self) -> None:
        with self._changed:
            self._left = self._seconds

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while not self._stopped:
                if self._deadline is None:
                    self._idle = True
                    self._changed.wait()
                    self._idle = False
                elif (left := self._deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
                else:
                    self.fired.set()
                    _shut(self._sock)
                    return


# The most an answer read whole may hold, decompressed: RingCentral's largest (a page of 1000 detailed
# call-log records) is a few MB. A compressed answer that inflates past it (a decompression bomb) or an
# endless one is refused as it is read, not once memory is gone. Downloads stream and are not bounded.
ANSWER_MAX_BYTES = 64 * 2**20


class _TooLarge(Exception):
    pass


class _Capped:
    """urllib3's response as requests reads it (its public `stream()`), counting the decoded bytes."""

    def __init__(self, raw: Any, limit: int) -> None:
        self._raw, self._limit = raw, limit

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        seen = 0
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            seen += len(chunk)
            if seen > self._limit:
                raise _TooLarge
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def too_slow(url: str, seconds: float) -> TransportError:
    return TransportError(
        f"{urlsplit(url).netloc} did not finish its answer within {seconds:g} s",
        hint="the server or a proxy on the way is sending it too slowly; try again later",
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it: requests and urllib3 wrap errors in `args` and `reason` too."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        each = todo.pop(0)
        if each is None or any(each is s for s in seen) or len(seen) > 20:
            continue
        seen.append(each)
        nested = [getattr(each, "reason", None), getattr(each, "original_error", None)]
        nested += [a for a in each.args if isinstance(a, BaseException)]
        todo += [n for n in (*nested, each.__cause__, each.__context__) if isinstance(n, BaseException)]
    return seen


def _certificate_problem(exc: BaseException) -> str:
    # OpenSSL's errors carry `verify_message` and `reason`; one made in Python code has neither
    # (truststore on Windows raises `SSLCertVerificationError("Peer sent no certificates to verify")`).
    for each in _chain(exc):
        if isinstance(each, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {getattr(each, 'verify_message', None) or _said(each)}"
    for each in _chain(exc):
        if isinstance(each, ssl.SSLError):
            return getattr(each, "reason", None) or _said(each)
    return type(exc).__name__


def _said(exc: OSError) -> str:
    """An OSError's own words: str() of one made with a single argument is its args tuple."""
    return exc.strerror or ", ".join(map(str, exc.args)) or type(exc).__name__


def _reason(exc: BaseException) -> str:
    for each in _chain(exc):
        if isinstance(each, ConnectionRefusedError):
            return "connection refused"
        if isinstance(each, TimeoutError) or "timed out" in str(each).lower():
            return "timed out"
    for each in _chain(exc):
        if "Name or service not known" in str(each) or "nodename nor servname" in str(each):
            return "host name not found"
    return type(exc).__name__


def proxy_in_use(url: str) -> str | None:
    """The environment's proxy for `url` as `NAME=URL` (the variable that set it), password masked,
    by requests' own rules (scheme, NO_PROXY); None when the request goes direct."""
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    if not proxy:
        return None
    scheme = urlsplit(url).scheme.lower()
    names = {f"{scheme}_proxy", "all_proxy"}
    name = next((k for k, v in os.environ.items() if k.lower() in names and v == proxy), "proxy")
    return f"{name}={mask_credentials(proxy)}"
