"""A server on a real loopback socket that answers as RingCentral's REST API would, except where a test
wants it not to: hostile values inside well-formed answers, a listing that fails at page 2 in each way
a network or a server can fail, a body that trickles forever.

Recordings' content comes from a media host of its own (`HostileMedia`, on another port): whole audio,
or each way a media answer can go wrong that the emulator's switches do not make (a captive portal's
page, a length that disagrees with the body, a 429 with a long Retry-After, headers that never end).

It lives beside the reliability suite, not in the emulator: the emulator stays true to RingCentral,
and these are answers RingCentral never gives (or gives only when something is broken). A session
pointed at it (`sign_in(server=hostile.base_url)`) is never refreshed by the rows that use it: it
knows no token endpoint beyond a revocation that always succeeds.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

EXTENSION = "/restapi/v1.0/account/~/extension/~"
CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
# A recording's content on the media host; a record's `contentUri` as a path (no origin) gets the
# server's media origin in front as the page is answered (its port is known only then).
CONTENT = "/restapi/v1.0/account/37439510/recording/{}/content"
_CONTENT_PATH = re.compile(r"/restapi/v1\.0/account/[^/]+/recording/([^/]+)/content")


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


def recording(number: int, **changes: Any) -> dict[str, Any]:
    """A record's `recording` object, its content on the server's media origin (`CONTENT`)."""
    recording_id = str(800 + number)
    value: dict[str, Any] = {
        "id": recording_id,
        "uri": f"https://platform.ringcentral.com/restapi/v1.0/account/37439510/recording/{recording_id}",
        "type": "Automatic",
        "contentUri": CONTENT.format(recording_id),
    }
    value.update(changes)
    return value


def recorded(number: int, **changes: Any) -> dict[str, Any]:
    """A call-log record with a recording (`call` and `recording` of the same number)."""
    return call(number, **{"recording": recording(number), **changes})


def audio(recording_id: str) -> bytes:
    """What `HostileMedia` serves for a recording: 40 KiB looking like an MP3, unique to the recording
    (NULs, ESCs and every other byte included)."""
    seed = hashlib.sha256(recording_id.encode("utf-8", "surrogatepass")).digest()
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + (seed + bytes(range(256))) * 143


MEDIA_ANSWERS = ("audio", "html", "short", "429", "headers")


class HostileMedia:
    """A media host on its own loopback port answering every recording's content (`GET CONTENT`) as
    `answer` says: "audio" (`audio(id)`, whole), "html" (a captive portal's 200 page), "short" (a
    Content-Length larger than the body, then the connection closed), "429" (RingCentral's rate-limit
    error with `Retry-After: 3600`, longer than rcauth waits), "headers" (a status line whose headers
    never end). `whole[id]` is each body it sent whole; `cut[id]` the content a body it cut short is the
start of; `seen` every request's path and headers."""

    def __init__(self, answer: str = "audio") -> None:
        if answer not in MEDIA_ANSWERS:
            raise ValueError(f"answer must be one of {MEDIA_ANSWERS}")
        self.answer = answer
        self.whole: dict[str, bytes] = {}
        self.cut: dict[str, bytes] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._stop = threading.Event()
        media = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                media.seen.append((self.path, dict(self.headers.items())))
                media._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up on headers that never end: expected

        self._server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileMedia:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, recording_id: str) -> str:
        return self.base_url + CONTENT.format(recording_id)

    @property
    def authorizations(self) -> list[str]:
        """The Authorization headers it was sent (any spelling of the name)."""
        return [v for _, headers in self.seen for k, v in headers.items() if k.lower() == "authorization"]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        match = _CONTENT_PATH.fullmatch(urlsplit(handler.path).path)
        if match is None:
            return HostileRingCentral._send(handler, 404, b'{"errorCode":"CMN-120","message":"Invalid URI"}')
        recording_id = match.group(1)
        body = audio(recording_id)
        if self.answer == "headers":
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            try:
                while not self._stop.wait(1.0):
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
            except OSError:
                pass
            handler.close_connection = True
            return None
        if self.answer == "429":
            handler.send_response(429)
            handler.send_header("Retry-After", "3600")
            handler.send_header("Content-Type", "application/json")
            error = b'{"errorCode":"CMN-301","message":"Request rate exceeded"}'
            handler.send_header("Content-Length", str(len(error)))
            handler.end_headers()
            handler.wfile.write(error)
            return None
        if self.answer == "short":
            self.cut[recording_id] = body
            return HostileRingCentral._send(
                handler, 200, body[: len(body) // 2], "audio/mpeg", length=len(body)
            )
        if self.answer == "html":
            body = b"<html><body>Sign in to the Wi-Fi to continue</body></html>"
            HostileRingCentral._send(handler, 200, body, "text/html; charset=utf-8")
        else:
            HostileRingCentral._send(handler, 200, body, "audio/mpeg")
        self.whole[recording_id] = body
        return None


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
        media: HostileMedia | None = None,
        media_origin: str | None = None,
    ) -> None:
        # Where records' content is: `media` (a well-behaved one unless given), or `media_origin` (a
        # host that is not there, say) instead.
        self.media = media if media is not None or media_origin is not None else HostileMedia()
        self.media_origin = media_origin or (self.media.base_url if self.media else "")
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
        if self.media is not None and not self.media._thread.is_alive():
            self.media.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self.media is not None:
            self.media.__exit__(*exc_info)

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
        ).replace(b'"contentUri": "/', b'"contentUri": "' + self.media_origin.encode() + b"/")
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
