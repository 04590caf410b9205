"""Small HTTP(S) servers on real loopback sockets for answers RingCentral never gives (a foreign
`nextPage`, a redirect to another host) and for a host that only records what reaches it. They live
here, not in the emulator, because the emulator stays true to RingCentral.

`StubServer(route, host=..., tls=...)` answers every request with `route(request)`, a
`(status, headers, body)` triple, and records each request (method, path, headers, body).
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def carries(self, *secrets: str) -> bool:
        """True when any of `secrets` (or any Authorization header) is in this request."""
        text = json.dumps(self.headers) + self.path + self.body.decode("latin-1")
        return any(name.lower() == "authorization" for name in self.headers) or any(
            s and s in text for s in secrets
        )


def json_answer(data: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def not_found(_: Seen) -> Answer:
    return json_answer({"errorCode": "CMN-102", "message": "Resource not found"}, 404)


class StubServer:
    """A threaded HTTP server on `host` (any port unless `port`), optionally TLS with `tls`."""

    def __init__(
        self,
        route: Callable[[Seen], Answer] = not_found,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.route = route
        self.requests: list[Seen] = []
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                server.requests.append(seen)
                status, headers, body = server.route(seen)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> Any:
                sock, address = super().get_request()
                server.connections += 1
                if tls is not None:
                    sock = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                return sock, address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that refused our certificate hangs up mid-handshake: expected

        self._server = Server((host, port), Handler)
        self.host, self.port = host, self._server.server_address[1]
        scheme = "https" if tls is not None else "http"
        self.base_url = f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class TricklingServer:
    """A server that never finishes answering: it sends a byte every `interval` seconds, each well
    inside any read timeout, forever (until the client hangs up or the server stops). With
    `headers_done`, the status line and headers arrive whole (a 200 with a `Date`) and the body
    trickles; without, even the headers trickle. A read timeout alone never ends such an exchange."""

    def __init__(self, *, headers_done: bool, interval: float = 0.2, host: str = "127.0.0.1") -> None:
        import socket

        self.headers_done = headers_done
        self.interval = interval
        self.connections = 0
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.host, self.port = host, self._sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: Any) -> None:
        from email.utils import formatdate

        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n\r\n"
        ).encode()
        import itertools

        with conn:
            try:
                conn.recv(65536)  # the request (one read is enough for a GET)
                if self.headers_done:
                    conn.sendall(head)
                    head = b""
                trickle = itertools.chain((head[i : i + 1] for i in range(len(head))), itertools.repeat(b"{"))
                for byte in trickle:
                    if self._stop.wait(self.interval):
                        return
                    conn.sendall(byte)
            except OSError:
                return  # the client gave up: what it should do

    def __enter__(self) -> TricklingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._sock.close()
