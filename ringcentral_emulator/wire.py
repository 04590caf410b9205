"""Request and response values passed between the HTTP handler and the endpoints; RingCentral's error bodies.

Two error shapes, as RingCentral answers them (docs/ringcentral.md, "Errors"):
- OAuth endpoints:
  `{"error": "invalid_grant", "error_description": "...", "errors": [{"errorCode": "OAU-109", ...}]}`
- REST API:
  `{"errorCode": "CMN-102", "message": "...", "errors": [{"errorCode": "CMN-102", "message": "..."}]}`
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import parse_qs

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"

# RFC 6749 §5.1: token responses (and our other auth answers) must not be cached.
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


@dataclass
class Request:
    """One HTTP request as the endpoints see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    client_ip: str
    base_url: str  # scheme://host[:port] as the client addressed us (from the Host header)

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """The urlencoded body's fields; empty unless the Content-Type says it is a form."""
        if self.content_type != FORM_CONTENT_TYPE:
            return {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=1000)

    def form_value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


class Stream(Protocol):
    """A body too large to hold in memory (a recording's content): its length, then its bytes in pieces."""

    @property
    def length(self) -> int: ...

    def chunks(self) -> Iterable[bytes | memoryview]: ...


@dataclass
class Response:
    """An answer. `stream`, when set, is the body in place of `body`. The body faults: `cut_after` sends
    that many bytes of the body and hangs up (a connection lost mid-body); `trickle_rate` sends it at that
    many bytes a second (a slow body)."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Stream | None = None
    cut_after: int | None = None
    trickle_rate: float | None = None

    @property
    def length(self) -> int:
        """The Content-Length: the whole body's, whatever a fault lets through."""
        return self.stream.length if self.stream is not None else len(self.body)

    def chunks(self) -> Iterable[bytes | memoryview]:
        return self.stream.chunks() if self.stream is not None else (self.body,)

    def with_headers(self, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> Response:
        self.headers.extend(headers)
        return self


class Drop:
    """Close the connection without answering (the "drop" fault)."""


DROP = Drop()


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, JSON_CONTENT_TYPE, list(headers))


def html_response(status: int, html: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    security = [
        ("Cache-Control", "no-store"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        # No form-action: Chrome applies it to the redirect that follows the form post.
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    ]
    return Response(status, html.encode("utf-8"), HTML_CONTENT_TYPE, [*security, *headers])


def redirect(location: str) -> Response:
    return Response(302, b"", None, [("Location", location), ("Cache-Control", "no-store")])


def rest_error(status: int, code: str, message: str, *, top: str | None = None, **extra: Any) -> Response:
    """A REST API error; `top` replaces the top-level errorCode (e.g. "InsufficientPermissions")."""
    error = {"errorCode": code, "message": message, **extra}
    return json_response(status, {"errorCode": top or code, "message": message, "errors": [error]})


def oauth_error(status: int, error: str, description: str, code: str, **extra: Any) -> Response:
    """An OAuth endpoint error (RFC 6749 §5.2 fields plus RingCentral's `errors` list)."""
    payload = {
        "error": error,
        "error_description": description,
        "errors": [{"errorCode": code, "message": description, **extra}],
    }
    return json_response(status, payload, NO_STORE)
