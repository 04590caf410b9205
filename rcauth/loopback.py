"""The one-shot loopback receiver for the authorization code (RFC 8252 §7.3).

`CallbackReceiver` *has* an HTTP server rather than being one, so the server's API does not leak:
it owns the socket, the wait (on an event, never a sleep-poll), the timeout and the page the browser
sees. It is a context manager, so the port is freed on every path out, Ctrl-C included.
"""

from __future__ import annotations

import errno
import hmac
import html
import http.server
import logging
import socket
import sys
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from rcauth.errors import ConfigError, LoginFailed, PortInUse

log = logging.getLogger(__name__)

# How long one connection may sit idle: a silent client must not hold up the real callback.
CONNECTION_TIMEOUT = 10.0
# How long the browser's callback request waits for the login to finish before it gets a page.
FINISH_TIMEOUT = 60.0
MAX_QUERY_FIELDS = 32


@dataclass(frozen=True)
class CallbackResult:
    """What the authorization server sent back; only ever built from a request with the right state."""

    code: str | None = None
    error: str | None = None
    error_description: str | None = None

    @property
    def ok(self) -> bool:
        return self.code is not None and self.error is None


class ForeignCallback(LoginFailed):
    """A callback whose `state` is not this login's (forged, or from another sign-in): none of it is used."""


def parse_callback(query: str, expected_state: str) -> CallbackResult:
    """The redirect's query -> `CallbackResult`: the one reading of a callback, for the loopback
    receiver and for an address pasted back by hand.

    The `state` must match, compared in constant time (RFC 6749 §10.12: it is all that stands between
    this login and a forged callback), before anything else in the query is looked at. Then `error`
    (with `error_description`, RFC 6749 §4.1.2.1) wins over `code`; a redirect with neither is an
    `invalid_request` error, so the login ends at once rather than waiting for its timeout.

    Raises `ForeignCallback` on a state mismatch and `LoginFailed` when the query cannot be read.
    """
    try:
        fields = parse_qs(query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        raise LoginFailed("the redirect's query could not be read") from None
    state = _first(fields, "state") or ""
    if not hmac.compare_digest(state.encode("utf-8", "surrogateescape"), expected_state.encode()):
        raise ForeignCallback("the redirect does not belong to this sign-in (state mismatch)")
    error = _first(fields, "error")
    if error is not None:
        return CallbackResult(error=error, error_description=_first(fields, "error_description"))
    code = _first(fields, "code")
    if code:
        return CallbackResult(code=code)
    return CallbackResult(error="invalid_request", error_description="the redirect carried no code")


def _bind_host(host: str) -> str:
    # RFC 8252 §8.3: listen on the loopback literal, not on "localhost" (which a hosts file may
    # point elsewhere) and never on all interfaces.
    return "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR lets a second login reuse a port left in TIME_WAIT; on Windows it would let
    # another process steal a bound port, so it is off there.
    allow_reuse_address = sys.platform != "win32"
    receiver: CallbackReceiver

    def handle_error(self, request: object, client_address: object) -> None:
        # Noise (resets, garbage) is expected on a port browsers and scanners can reach; never print it.
        log.debug("loopback: connection from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


# The titles (and status lines' reasons) of what http.server refuses itself, fixed here: its own phrases
# change between Python versions (414 is "Request-URI Too Long" up to 3.12, "URI Too Long" from 3.13).
_REFUSALS = {
    400: "Bad request",
    408: "Request timeout",
    414: "Request line too long",
    431: "Request headers too large",
    501: "Not implemented",
    505: "HTTP version not supported",
}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    server_version = "rcauth"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = CONNECTION_TIMEOUT

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature from base class
        # The request line carries the code: log only the method and the path without its query.
        # A request line refused before it was read (too long, malformed) has no `path` yet: its
        # error page is still owed to the client, so logging must not fail there.
        log.debug("loopback: %s %s", self.command, urlsplit(getattr(self, "path", "")).path)

    def _send(
        self, status: int, title: str, detail: str, *, ok: bool = False, reason: str | None = None
    ) -> None:
        body = _page(title, detail, ok=ok).encode("utf-8")
        self.close_connection = True
        self.send_response(status, reason)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # The callback URL holds the code: keep it out of any Referer the page might send.
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def parse_request(self) -> bool:
        # A two-word request line ("GET /") is HTTP/0.9, which http.server would serve with neither a
        # status line nor headers. No browser sends one: refuse it with a proper HTTP/1.1 answer.
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(400)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server calls this for what it refuses itself (a malformed or oversized request line, too
        # many headers, an unknown method). Its own page differs between Python versions, carries none of
        # the headers `_send` sets, and for a line refused before its HTTP version was read it is sent
        # HTTP/0.9-style, with no status line at all. Every refusal gets this receiver's page instead,
        # as HTTP/1.1 (no browser speaks 0.9). `message` may quote the client's bytes: not echoed.
        self.request_version = self.protocol_version
        title = _REFUSALS.get(code, "Bad request")
        self._send(code, title, "This address only accepts RingCentral's sign-in redirect.", reason=title)

    def _host_allowed(self) -> bool:
        # DNS rebinding: a page on evil.example resolving to 127.0.0.1 reaches us with its own Host.
        host = self.headers.get("Host", "")
        return host.lower() in self.server.receiver.allowed_hosts

    def do_GET(self) -> None:
        receiver = self.server.receiver
        if not self._host_allowed():
            self._send(400, "Bad request", "This address only accepts RingCentral's sign-in redirect.")
            return
        parts = urlsplit(self.path)
        if parts.path != receiver.callback_path:
            self._send(
                404, "Not found", "Nothing here. rcauth is waiting for RingCentral's sign-in redirect."
            )
            return
        receiver._handle_callback(self, parts.query)

    def _method_not_allowed(self) -> None:
        self._send(405, "Method not allowed", "Only the browser's GET redirect is accepted here.")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _method_not_allowed


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


class CallbackReceiver:
    """Waits on the loopback for the one redirect that carries this login's `state`.

    Use as a context manager: entering binds the port and starts serving (before any browser opens,
    so a browser that blocks cannot deadlock the login); leaving answers any waiting browser and
    frees the port.
    """

    def __init__(
        self,
        redirect_uri: str,
        *,
        expected_state: str,
        connection_timeout: float = CONNECTION_TIMEOUT,
    ) -> None:
        parts = urlsplit(redirect_uri)
        if parts.hostname is None or parts.port is None:
            raise LoginFailed(f"redirect URI {redirect_uri!r} needs a host and a port")
        self._requested = parts
        self.callback_path = parts.path or "/"
        self.expected_state = expected_state
        self.connection_timeout = connection_timeout
        self._servers: list[_Server] = []  # 127.0.0.1 (or the literal asked for), then ::1 for localhost
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._delivered = threading.Event()
        self._finished = threading.Event()
        self._answered = threading.Event()
        self._result: CallbackResult | None = None
        self._page: tuple[int, str, str, bool] = (
            500,
            "Sign-in interrupted",
            "rcauth stopped before finishing.",
            False,
        )
        self.allowed_hosts: frozenset[str] = frozenset()

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> CallbackReceiver:
        host = _bind_host(self._requested.hostname or "127.0.0.1")
        handler = type("Handler", (_Handler,), {"timeout": self.connection_timeout})
        requested_port = self._requested.port or 0
        self._servers = [self._bind(host, requested_port, handler, self._requested.hostname or host)]
        port = self.port
        if (self._requested.hostname or "").lower() == "localhost":
            # `localhost` may resolve to ::1 first (RFC 8252 §7.3: bind both loopbacks): listen on
            # [::1]:port as well, so the redirect cannot reach another program listening there.
            # A machine without IPv6 is fine; the port taken on ::1 by another program is not.
            try:
                self._servers.append(self._bind("::1", port, handler, "[::1] (IPv6 localhost)"))
            except PortInUse:
                self.close()
                raise
            except LoginFailed as exc:
                log.debug("loopback: %s", exc)
        names = {(self._requested.hostname or host).lower(), host, "localhost", "127.0.0.1", "[::1]"}
        self.allowed_hosts = frozenset(f"{name}:{port}" for name in names)
        for server in self._servers:
            # A short poll interval: shutdown() waits for the loop to notice, which adds to every login.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="rcauth-loopback",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _bind(self, host: str, port: int, handler: type[_Handler], shown_host: str) -> _Server:
        """A server bound to `host`:`port` (not serving yet); a port held elsewhere is `PortInUse`."""
        server_cls = _Server6 if ":" in host else _Server
        try:
            server = server_cls((host, port), handler)
        except OSError as exc:
            if privileged_port(exc):
                raise ConfigError(privileged_port_message(shown_host, port)) from None
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(_port_in_use_message(shown_host, port)) from None
            raise LoginFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        server.receiver = self
        return server

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Answer a browser still waiting, stop serving and free the port; safe to call twice."""
        self._finished.set()
        if self._delivered.is_set():
            # The browser that delivered the callback is owed its page: let the handler thread write
            # it before the process (and its daemon threads) may exit.
            self._answered.wait(5)
        servers, self._servers = self._servers, []
        for server in servers:
            if self._threads:  # serving (shutdown() would wait forever for a loop never started)
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    # -- what the caller uses ------------------------------------------------------------------
    @property
    def port(self) -> int:
        if not self._servers:
            raise RuntimeError("the receiver is not listening")
        return int(self._servers[0].server_address[1])

    @property
    def redirect_uri(self) -> str:
        """The redirect URI as bound: the requested one, with the real port when port 0 was asked for."""
        parts = self._requested
        host = parts.hostname or "127.0.0.1"
        netloc = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def wait(self, timeout: float | None) -> CallbackResult | None:
        """Block until the redirect with the right `state` arrives; None when `timeout` passes first."""
        if not self._delivered.wait(timeout):
            return None
        return self._result

    def finish(self, ok: bool, title: str, detail: str) -> None:
        """Choose the page the waiting browser gets (success, or what went wrong) and release it."""
        self._page = (200 if ok else 400, title, detail, ok)
        self._finished.set()

    # -- called on the server's threads ---------------------------------------------------------
    def _handle_callback(self, handler: _Handler, query: str) -> None:
        try:
            result = parse_callback(query, self.expected_state)
        except ForeignCallback:
            handler._send(
                400,
                "Sign-in not accepted",
                "This redirect does not belong to the sign-in rcauth is waiting for (state mismatch). "
                "Start again from the terminal.",
            )
            return
        except LoginFailed:
            handler._send(400, "Bad request", "The redirect's query could not be read.")
            return
        with self._lock:
            if self._delivered.is_set():
                handler._send(
                    409, "Already done", "This sign-in was already completed. You can close this tab."
                )
                return
            self._result = result
            self._delivered.set()
        # Hold the browser's request until the login has exchanged the code, so its page tells the truth.
        self._finished.wait(FINISH_TIMEOUT)
        status, title, detail, ok = self._page
        try:
            handler._send(status, title, detail, ok=ok)
        finally:
            self._answered.set()


def privileged_port(exc: OSError) -> bool:
    """A bind refused for want of privilege: EACCES on POSIX, a port below 1024 (Linux without
    CAP_NET_BIND_SERVICE). Windows answers EACCES for a port another program holds: in use, there."""
    return exc.errno == errno.EACCES and sys.platform != "win32"


def privileged_port_message(host: str, port: int | None) -> str:
    return (
        f"port {port} on {host} is one only a privileged program may listen on here (below 1024), so "
        "rcauth cannot receive the sign-in redirect; register a redirect URI with a port from 1024 up "
        "for your RingCentral app and use it with --redirect-uri http://localhost:PORT/oauth2callback"
    )


def _port_in_use_message(host: str, port: int | None) -> str:
    message = (
        f"port {port} on {host} is in use by another program, so rcauth cannot receive the sign-in redirect; "
        "stop that program or use another port with --redirect-uri http://localhost:PORT/oauth2callback "
        "(the URI must also be registered for your RingCentral app)"
    )
    if port == 5000:
        message += (
            "; on macOS, port 5000 is held by the AirPlay Receiver "
            "(System Settings > General > AirDrop & Handoff)"
        )
    return message


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - rcauth</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
background:#f5f7fa;color:#1f2933;
display:flex;align-items:center;justify-content:center;min-height:100vh;margin:0}}
main{{background:#fff;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.08);
padding:40px 48px;max-width:480px}}
h1{{font-size:1.4rem;margin:0 0 12px;color:{color}}}
p{{line-height:1.5;margin:0}}
.mark{{font-size:2.5rem;color:{color}}}
</style></head>
<body><main><div class="mark">{mark}</div><h1>{title}</h1><p>{detail}</p></main></body></html>
"""


def _page(title: str, detail: str, *, ok: bool) -> str:
    return _PAGE.format(
        title=html.escape(title),
        detail=html.escape(detail),
        color="#0a7d32" if ok else "#b42318",
        mark="&#10003;" if ok else "&#9888;",
    )
