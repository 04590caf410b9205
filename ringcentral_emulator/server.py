"""The emulator's HTTP server on loopback, and `Emulator`, the context manager that owns it.

`ThreadingHTTPServer` with daemon threads, HTTP/1.1 keep-alive and an exact Content-Length on every answer,
so a client can reuse one connection the way `requests.Session` does. `Emulator` *has* a server rather than
being one (as MSAL's AuthCodeReceiver does), so the socket is always freed on exit and the server's API
does not leak.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ringcentral_emulator.app import EmulatorApp
from ringcentral_emulator.config import EmulatorConfig, is_loopback_host
from ringcentral_emulator.wire import Drop, Request, Response

_HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_MAX_BODY = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response below carries Content-Length
    server_version = "RingCentral-Emulator/1.0"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm holds the body
        # until the client's delayed ACK (~40 ms on Linux) and every call on a kept-alive connection stalls.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError as exc:
            self.send_error(400, str(exc))
            return
        parts = urlsplit(self.path)
        host = self.headers.get("Host", "")
        if not _HOST_HEADER.fullmatch(host):
            host = self.server.authority
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True, max_num_fields=1000),
            headers=self.headers,
            body=body,
            client_ip=self.client_address[0],
            base_url=f"http://{host}",
        )
        result = self.server.app.dispatch(request, media=self.server.media)
        if isinstance(result, Drop):
            # Hang up without a byte of answer; the server closes the socket when we return.
            self.close_connection = True
            return
        self._write(result)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit() or int(raw) > _MAX_BODY:
            raise ValueError("Bad Content-Length")
        return self.rfile.read(int(raw))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise ValueError("Bad chunk size") from exc
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > _MAX_BODY:
                raise ValueError("Body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header, off by the `clock_skew` switch."""
        moment = time.time() if timestamp is None else timestamp
        return super().date_time_string(moment + self.server.app.config.clock_skew)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(response.length))
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        try:
            sent = self._write_body(response)
        finally:
            if self.server.media:
                self.server.app.counters.incr("media_bytes", by=sent)
        if sent < response.length:
            # The "cut" fault: the client has fewer bytes than the Content-Length promised; hang up.
            self.close_connection = True

    def _write_body(self, response: Response) -> int:
        """Send the body (big ones as memoryviews of precomputed blocks: no copy per byte), honouring the
        body faults; returns the bytes sent."""
        limit = response.length if response.cut_after is None else min(response.cut_after, response.length)
        rate = response.trickle_rate
        sent = 0
        for chunk in response.chunks():
            if sent >= limit:
                break
            view = memoryview(chunk)[: limit - sent]
            if rate is None:
                self.wfile.write(view)
                sent += len(view)
                continue
            step = max(1, int(rate / 10))  # ten pieces a second
            for at in range(0, len(view), step):
                self.wfile.write(view[at : at + step])
                sent += len(view[at : at + step])
                self.server.app.slow_sleep(0.1)
        return sent

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: query strings carry state and PKCE challenges, bodies carry tokens.
        if self.server.verbose:
            path = urlsplit(self.path).path if isinstance(self.path, str) else "-"
            sys.stderr.write(f"emulator: {self.client_address[0]} {self.command} {path} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        if self.server.verbose:
            sys.stderr.write("emulator: " + (format % args) + "\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], app: EmulatorApp, verbose: bool, family: int, *, media: bool = False
    ) -> None:
        self.address_family = family
        self.app = app
        self.media = media  # the media origin: recordings' content only
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)
        self.authority = ""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a process ending while a request is in flight) is normal
        traffic for a server, not an error to print; anything else is still reported."""
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipe, ConnectionReset, ...
            return
        super().handle_error(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.app.counters.incr("connections")
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """Hang up on idle keep-alive connections so their threads end and the port is really free."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Emulator:
    """A RingCentral emulator serving on loopback in background threads.

    Two origins, as RingCentral has (the spec's servers: the API entry point and the media entry point):
    the API on `base_url`, recordings' content on `media_url`, each on its own port of the same host.
    Use it as a context manager (`with Emulator(config) as emu:`) or call `start()` and `stop()`.
    `port=0` (and `media_port=0`) picks a free port; read it back from `port` or `base_url`.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        media_port: int = 0,
        verbose: bool = False,
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the emulator only binds loopback addresses, not {host!r}")
        self._app = EmulatorApp(config or EmulatorConfig())
        self._host = host
        self._requested_ports = (port, media_port)
        self._verbose = verbose
        self._server: _Server | None = None
        self._media: _Server | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind both origins and start serving; returns self. Raises OSError if a port cannot be bound."""
        if self._server is not None:
            return self
        host = self._host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server = _Server((host, self._requested_ports[0]), self._app, self._verbose, family)
        try:
            media = _Server((host, self._requested_ports[1]), self._app, self._verbose, family, media=True)
        except OSError:
            server.server_close()
            raise
        for each in (server, media):
            each.authority = _authority(self._host, each.server_address[1])
        self._app.set_origins(f"http://{server.authority}", f"http://{media.authority}")
        self._server, self._media = server, media
        self._threads = [
            threading.Thread(
                target=each.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
            )
            for each, name in ((server, "rcauth-emulator"), (media, "rcauth-emulator-media"))
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, hang up on open connections and free the ports. Safe to call twice."""
        servers = [s for s in (self._server, self._media) if s is not None]
        threads, self._threads = self._threads, []
        self._server = self._media = None
        for server in servers:
            server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """ "http://127.0.0.1:PORT", the server URL to give a client."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self._server.authority}"

    @property
    def media_url(self) -> str:
        """ "http://127.0.0.1:MEDIA_PORT", the media origin (RingCentral's media.ringcentral.com): where
        records' `recording.contentUri` point."""
        if self._media is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self._media.authority}"

    # -- control -----------------------------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self._app.config

    def counters(self) -> dict[str, Any]:
        """A deep copy of the counters (see ringcentral_emulator.state.Counters for the names)."""
        return self._app.counters.snapshot()

    def set(self, **switches: Any) -> None:
        """Change switches while running, e.g. `set(fault_rate=0.3, strict_rotation=True)`.

        Any EmulatorConfig field is a switch; `rate_limits` is merged into the current limits.
        Raises ValueError for an unknown switch or an invalid value.
        """
        self._app.set(**switches)

    def expire_access_tokens(self) -> int:
        """Expire every live access token now (API calls get 401 OAU-128); returns how many."""
        return self._app.auth.expire_access_tokens()

    def revoke_all(self) -> int:
        """End every session, like the user signing out everywhere; returns how many ended."""
        return self._app.auth.revoke_all()

    def live_grants(self) -> list[str]:
        """Test-only: the token naming each session still alive (its refresh token, else its access
        token), for tests that check every grant issued is either kept or revoked."""
        return self._app.auth.live_grants()

    def recording_content(self, recording_id: str) -> bytes | None:
        """Test-only: a recording's whole content as the media origin serves it now (None: no such
        recording), for tests that check a saved file is byte for byte what was served."""
        from ringcentral_emulator.api import find_recording

        audio = find_recording(self._app, recording_id)
        return None if audio is None else audio.read(0, audio.length)

    def secrets_seen(self) -> list[str]:
        """Test-only: the codes and tokens issued and PKCE verifiers presented (newest 10,000), for
        tests that check no secret leaks into a client's output."""
        return self._app.auth.secrets_seen()


def _authority(host: str, port: int) -> str:
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"
