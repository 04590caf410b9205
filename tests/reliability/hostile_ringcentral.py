"""A server on a real loopback socket that answers as RingCentral's REST API would, except where a test
wants it not to: hostile values inside well-formed answers, a listing that fails at page 2 in each way
a network or a server can fail, a body that trickles forever.

It lives beside the reliability suite, not in the emulator: the emulator stays true to RingCentral,
and these are answers RingCentral never gives (or gives only when something is broken). A session
pointed at it (`sign_in(server=hostile.base_url)`) is never refreshed by the rows that use it: it
knows no token endpoint beyond a revocation that always succeeds.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

EXTENSION = "/restapi/v1.0/account/~/extension/~"
CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"


def extension(**changes: Any) -> dict[str, Any]:
    """An extension as RingCentral's `GET /account/~/extension/~` answers it."""
    base: dict[str, Any] = {
        "id": 2071360004,
        "uri": "https://platform.ringcentral.com/restapi/v1.0/account/37439510/extension/2071360004",
        "extensionNumber": "101",
        "name": "Alex Morgan",
        "type": "User",
        "status": "Enabled",
        "contact": {"firstName": "Alex", "lastName": "Morgan", "email": "alex.morgan@example.com"},
        "account": {"id": "37439510"},
    }
    base.update(changes)
    return base


def call(number: int, **changes: Any) -> dict[str, Any]:
    """A call-log record in the spec's `CallLogRecord` shape."""
    record: dict[str, Any] = {
        "id": f"record-{number}",
        "uri": f"https://platform.ringcentral.com/restapi/v1.0/account/37439510/call-log/record-{number}",
        "sessionId": str(400_000 + number),
        "startTime": f"2026-11-{1 + number % 28:02d}T{number % 24:02d}:15:00.000Z",
        "duration": 60 + number,
        "type": "Voice",
        "direction": "Inbound" if number % 2 else "Outbound",
        "action": "Phone Call",
        "result": "Accepted",
        "from": {"phoneNumber": "+16505550123", "name": f"Caller {number}"},
        "to": {"phoneNumber": "+16505550100", "name": "Alex Morgan"},
    }
    record.update(changes)
    return record


@dataclass
class Listing:
    """What the call log answers: `pages[n]` is page n+1's records; `fail_at` (1-based) names the page that
    fails instead, and `failure` how: "500", "drop" (the connection closes mid-body), "foreign" (the
    page before links to another origin), "html" (a 200 that is not JSON), "trickle" (a body that never
    ends)."""

    pages: list[list[dict[str, Any]]] = field(default_factory=lambda: [[call(n) for n in range(3)]])
    fail_at: int | None = None
    failure: str = "500"
    raw_records: bytes | None = None  # page 1's records as raw JSON text (numbers JSON cannot hold)


class HostileRingCentral:
    """`HostileRingCentral(extension_body=..., listing=...)`: a threaded loopback server at `base_url`."""

    def __init__(
        self,
        *,
        extension_body: dict[str, Any] | bytes | None = None,
        listing: Listing | None = None,
        foreign_origin: str = "http://127.0.0.1:9",
        trickle_extension: bool = False,
        trickle_token: bool = False,
        trickle_revoke: bool = False,
        trickle: str = "body",
    ) -> None:
        self.trickle_extension = trickle_extension
        self.trickle_token = trickle_token
        self.trickle_revoke = trickle_revoke
        self.trickle = trickle  # what trickles: "body" (after whole headers) or "headers"
        self.extension_body = extension_body if extension_body is not None else extension()
        self.listing = listing or Listing()
        self.foreign_origin = foreign_origin
        self.requests: list[str] = []
        self._stop = threading.Event()
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                hostile.requests.append(self.path)
                hostile._answer(self)

            def do_POST(self) -> None:  # noqa: N802
                hostile.requests.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/restapi/oauth/token") and hostile.trickle_token:
                    hostile._trickle(self)
                elif self.path.startswith("/restapi/oauth/revoke") and hostile.trickle_revoke:
                    hostile._trickle(self)
                elif self.path.startswith("/restapi/oauth/revoke"):
                    hostile._send(self, 200, b"")
                else:
                    hostile._send(self, 404, b'{"errorCode":"CMN-102","message":"Resource not found"}')

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up on a trickling body: expected

        self._server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileRingCentral:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- answers -------------------------------------------------------------------------------------
    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        if url.path == EXTENSION and self.trickle_extension:
            self._trickle(handler)
        elif url.path == EXTENSION:
            body = self.extension_body
            self._send(handler, 200, body if isinstance(body, bytes) else json.dumps(body).encode())
        elif url.path == CALL_LOG:
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            self._page(handler, page, parse_qs(url.query))
        else:
            self._send(handler, 404, b'{"errorCode":"CMN-102","message":"Resource not found"}')

    def _page(self, handler: BaseHTTPRequestHandler, page: int, query: dict[str, list[str]]) -> None:
        listing = self.listing
        if listing.fail_at == page:
            failure = listing.failure
            if failure == "500":
                return self._send(
                    handler, 500, b'{"errorCode":"CMN-201","message":"Service Temporary Unavailable"}'
                )
            if failure == "html":
                return self._send(handler, 200, b"<html>Sign in to the Wi-Fi</html>", "text/html")
            if failure == "drop":
                return self._send(handler, 200, b'{"records": [{"id": "x", "startTime": ', length=4096)
            if failure == "trickle":
                return self._trickle(handler)
        records = listing.pages[page - 1] if page <= len(listing.pages) else []
        last = max(len(listing.pages), listing.fail_at or 0)
        navigation: dict[str, Any] = {}
        if page < last:
            origin = (
                self.foreign_origin
                if listing.failure == "foreign" and listing.fail_at == page + 1
                else self.base_url
            )
            navigation["nextPage"] = {"uri": f"{origin}{CALL_LOG}?page={page + 1}&perPage=3"}
        paging = {"page": page, "perPage": 3, "pageStart": 3 * (page - 1), "pageEnd": 3 * page - 1}
        records_text = (
            listing.raw_records
            if page == 1 and listing.raw_records is not None
            else json.dumps(records).encode()
        )
        body = (
            b'{"uri": "'
            + f"{self.base_url}{CALL_LOG}?page={page}".encode()
            + b'", "records": '
            + records_text
            + b', "paging": '
            + json.dumps(paging).encode()
            + b', "navigation": '
            + json.dumps(navigation).encode()
            + b"}"
        )
        self._send(handler, 200, body)

    def _trickle(self, handler: BaseHTTPRequestHandler) -> None:
        """A 200 whose body (or, with `trickle="headers"`, whose headers) arrives one byte a second and
        never ends (until the server stops): every read is quick, the answer never whole."""
        if self.trickle == "headers":
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        else:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "100000000")
            handler.end_headers()
        try:
            while not self._stop.wait(1.0):
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        length: int | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        if length is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        if length is not None:
            handler.wfile.flush()
            handler.close_connection = True
