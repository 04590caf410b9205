"""A stand-in for what sits between rcauth and RingCentral on real networks: a corporate proxy, a
captive portal, a web filter. RingCentral never answers with an HTML page; these do, often with a
400 or 401. So this lives in the tests, not in the emulator.

`InterceptingProxy(upstream)` is a real HTTP server on loopback. Requests reach it two ways:
- as a forward proxy (`HTTP_PROXY=proxy.url`): the request line carries the absolute URL;
- as the server itself (a session whose server is `proxy.url`): a transparent interception.
While `answer` is set, every request gets that answer instead of going on; with `answer = None`
(the network recovered) each request is passed to where it was going (`upstream` for the second
way) and the answer relayed unchanged. `rewrite`, when set, changes the forwarded path and query first.

Faults on one request, not all: `intercept(method, target)`, when set, is asked first for each request
and answers it when it returns an `Answer` (it may also block a while, to hold that request in flight,
and return None to let it go on); `transform(target, body)` rewrites a forwarded answer's body (a page
whose records or links a test wants otherwise). An `Answer` with `cut=True` sends its headers and half
its body, then closes the connection: a connection dropped mid-body.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
    }
)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str
    cut: bool = False  # headers and half the body, then the connection closes


WEB_FILTER_400 = Answer(
    400,
    "text/html; charset=utf-8",
    "<html><head><title>400 Bad Request</title></head><body><h1>Request blocked</h1>"
    "<p>This request was blocked by your organisation's web filter.</p></body></html>",
)
CAPTIVE_PORTAL_401 = Answer(
    401,
    "text/html; charset=iso-8859-1",
    "<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body>"
    "<form action='/portal/login'>Accept the terms to use this Wi-Fi</form></body></html>",
)


class InterceptingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.answer: Answer | None = None
        self.rewrite: Callable[[str], str] | None = None  # path?query as forwarded upstream
        self.intercept: Callable[[str, str], Answer | None] | None = None  # (method, target) -> answer
        self.transform: Callable[[str, bytes], bytes] | None = None  # (path?query, body) -> body
        self.seen: list[tuple[str, str]] = []  # (method, target as it arrived)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> InterceptingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm holds the body
            # until the client's delayed ACK (about 40 ms a request, which a 1000-page listing feels).
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.seen.append((self.command, self.path))
                answer = proxy.answer
                if answer is None and proxy.intercept is not None:
                    answer = proxy.intercept(self.command, self.path)
                if answer is not None:
                    self._reply(answer.status, answer.content_type, answer.body.encode(), cut=answer.cut)
                    return
                self._forward(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

            def _forward(self, body: bytes) -> None:
                target = urlsplit(self.path)
                host, port = (
                    (target.hostname, target.port)
                    if target.scheme
                    else (
                        proxy.upstream.hostname,
                        proxy.upstream.port,
                    )
                )
                path = (
                    self.path
                    if not target.scheme
                    else (target.path + (f"?{target.query}" if target.query else ""))
                )
                if proxy.rewrite is not None:
                    path = proxy.rewrite(path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                connection = http.client.HTTPConnection(host, port, timeout=30)
                try:
                    connection.request(self.command, path, body=body or None, headers=headers)
                    response = connection.getresponse()
                    data = response.read()
                    if proxy.transform is not None:
                        data = proxy.transform(path, data)
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in HOP_BY_HOP | {"content-length"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    connection.close()

            def _reply(self, status: int, content_type: str, data: bytes, *, cut: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
