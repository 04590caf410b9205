"""The one place that decides whether a URL may carry the session's bearer token.

A bearer token works for whoever holds it (RFC 6750 §5.3: "don't pass bearer tokens" to anyone but
the resource server), so it goes to the session's own origins (RFC 6454: scheme, host and port) and
nowhere else: not to a URL the user typed by mistake, not to a `navigation.nextPage.uri` an answer
carried, not to a redirect. A session has two at most (`TokenOrigins`): its server's, and the one
media origin paired with that server, where RingCentral serves recordings, voicemail and fax
content (`recording.contentUri` is on `media.ringcentral.com`; the spec marks those operations
`x-media-api`). The pair is a fact about the server (`PAIRED_MEDIA`, the one pairing RingCentral
documents) or a setting made at login (`--media-server`, `RC_MEDIA_URL`, `media_server` in the
config file); it is never learned from a URL in an answer, so an answer naming another host cannot
widen where the token goes. The questions, and their functions:

- `TokenOrigins.of(server, media)`: the pair for a session: `media` as configured, else the one
  RingCentral pairs with the server, else none (`paired_media`).
- `resolve_url(path_or_url, server, media=None)` (`TokenOrigins.resolve`): the absolute URL a
  request goes to. A path is put on the server; a full URL is accepted only when its origin is the
  server's or the media origin's. The URL returned is always built from that origin's own text plus
  the path and query, so however a host was spelled (case, IDNA, a trailing dot), the request goes
  to the host the session was made with.
- `same_origin(url, server)`: a yes/no for one origin and a URL someone else resolved (a redirect's
  Location, checked against the hop before it: a redirect never moves between the two origins);
  `TokenOrigins.allows(url)`: the same for either of a session's origins (`rcauth.Auth`).

Both compare after the normalisation a browser or an HTTP library would apply, so a form that
*looks* foreign but is the same origin is accepted, and a form that looks local but is not is
refused: surrounding whitespace and C0 controls are stripped (WHATWG URL, which `urlsplit` also
follows), controls inside are refused (parsers silently drop tab and newline, which can join a
scheme to a host); scheme and host compare case-insensitively; 443 and 80 are the default ports; a
host's trailing dot is the same DNS name; an IDN compares by its ASCII (punycode) form; userinfo
(`platform.ringcentral.com@evil.example`) is refused outright (the host is what follows the `@`,
and credentials in a URL would be sent as Basic auth); a scheme-relative `//host` takes the
server's scheme and is then compared; `http:host` (a scheme with no `//`) is refused.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from rcauth.errors import ForeignOrigin

DEFAULT_PORTS = {"https": 443, "http": 80}
# WHATWG URL: leading and trailing "C0 control or space" are stripped before parsing.
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
# Controls anywhere else (C0, DEL, C1): never part of a URL rcauth should send anything to.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# UTS #46 deviation characters: IDNA 2003 (the stdlib codec) and IDNA 2008 (the `idna` package
# urllib3 uses) map them differently, so a host holding one could compare equal here and still
# connect elsewhere. No RingCentral host has one.
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")


class Origin(NamedTuple):
    """RFC 6454's origin tuple, normalised: lower-case scheme, ASCII host, explicit port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def origin_of(url: str) -> Origin:
    """The origin of an absolute http(s) URL; `ValueError` (saying why) for anything else."""
    text = url.strip(_C0_OR_SPACE)
    if _CONTROL.search(text):
        raise ValueError("it contains control characters")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("it is not an http(s) URL")
    if not parts.netloc:
        raise ValueError("it names no host (a URL needs scheme://host)")
    if "@" in parts.netloc:
        raise ValueError("it carries user information before an '@'")
    port = parts.port  # ValueError for a port that is not a number in 0-65535
    return Origin(scheme, _normal_host(parts.hostname or ""), DEFAULT_PORTS[scheme] if port is None else port)


def _normal_host(host: str) -> str:
    """Lower case, no trailing dot, IP literals in canonical form, IDNs in ASCII (punycode)."""
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    if not host:
        raise ValueError("it names no host")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        if _IDNA_DEVIATIONS.intersection(host):
            raise ValueError("its host name is spelled ambiguously (an IDNA deviation character)")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("its host name is not a valid internationalised name") from None
    return host.lower()


def same_origin(url: str, server: str) -> bool:
    """True when `url` is an absolute URL on `server`'s origin, after normalisation."""
    try:
        return origin_of(url) == origin_of(server)
    except ValueError:
        return False


# RingCentral's media entry point for each server where RingCentral documents one: the spec's servers
# list and its media guide pair production's platform with `media.ringcentral.com`. No other pairing
# (the sandbox `platform.devtest.ringcentral.com`, partner brands) is documented, so for any other
# server the media origin is configured (`rcauth login --media-server`), never guessed.
PAIRED_MEDIA: dict[Origin, str] = {
    Origin("https", "platform.ringcentral.com", 443): "https://media.ringcentral.com",
}


def paired_media(server: str) -> str | None:
    """The media origin RingCentral pairs with `server` (production's), or None where none is
    documented."""
    try:
        return PAIRED_MEDIA.get(origin_of(server))
    except ValueError:
        return None


def media_mismatch(server: str, media: str) -> str | None:
    """Why `media` cannot be `server`'s media origin, or None when it can: a server RingCentral pairs
    with a media origin takes that one only (a setting naming another host would send production's
    token there)."""
    paired = paired_media(server)
    if paired is None or same_origin(media, paired) or same_origin(media, server):
        return None
    return f"the media server of {server} is {paired}, not {media}"


class TokenOrigins(NamedTuple):
    """Where a session's bearer token may go: its server's origin and at most one media origin.

    `media` is None when the session has none (a server with no documented pairing and nothing
    configured), or the server's own origin (then it adds nothing). Build it with `of`, which applies
    the pairing, so a session stored before media origins existed gets production's too.
    """

    server: str
    media: str | None = None

    @classmethod
    def of(cls, server: str, media: str | None = None) -> TokenOrigins:
        """The origins of a session on `server` with `media` configured at login: a server RingCentral
        pairs with a media origin gets that one whatever was stored (`config` and `session` refuse
        any other), any other server `media` (None: none)."""
        return cls(server, paired_media(server) or media)

    def resolve(self, path_or_url: str) -> str:
        """`resolve_url` for this pair."""
        return resolve_url(path_or_url, self.server, self.media)

    def allows(self, url: str) -> bool:
        """True when the absolute `url` is on the server's origin or the media origin."""
        return same_origin(url, self.server) or (self.media is not None and same_origin(url, self.media))

    def refusal(self, url: str) -> str:
        """Why `allows(url)` is False, naming the origins the token may go to."""
        try:
            return f"{origin_of(url)} is another server, not {self.named()}"
        except ValueError as exc:
            return str(exc)

    def named(self) -> str:
        """The origins as a message names them."""
        if self.media is None or same_origin(self.media, self.server):
            return f"the session's {self.server}"
        return f"the session's {self.server} or its media server {self.media}"


def resolve_url(path_or_url: str, server: str, media: str | None = None) -> str:
    """The absolute URL on `server` for a path (`/restapi/...`, or without its leading slash), or a
    full URL on the server's origin or on `media`'s (the session's media origin, as `TokenOrigins.of`
    gives it; None: none); `ForeignOrigin` for anything else. No pairing is applied here: the caller
    names the pair.

    A path whose first segment looks like a scheme (`/http://other/x`) is refused rather than sent
    as a path: it is a URL with a slash in front, and the user meant another host.
    """
    origins = TokenOrigins(server, media)
    text = path_or_url.strip(_C0_OR_SPACE)
    if _CONTROL.search(text):
        raise ForeignOrigin(path_or_url, server, "it contains control characters")
    if text[:2].strip("/\\") == "" and len(text) >= 2:
        # Scheme-relative (`//host/x`; WHATWG reads a backslash as a slash): it names a host.
        text = f"{urlsplit(server).scheme}://{text.lstrip('/' + chr(92))}"
    elif not _SCHEME.match(text):
        path = text if text.startswith("/") else "/" + text
        if _SCHEME.match(path.lstrip("/\\")):
            raise ForeignOrigin(path_or_url, server, "it is a URL behind a slash, not a path")
        return _checked(server, path, path_or_url, server)
    try:
        target = origin_of(text)
    except ValueError as exc:
        raise ForeignOrigin(path_or_url, server, str(exc)) from None
    if target == origin_of(server):
        base = server
    elif media is not None and _origin_or_none(media) == target:
        base = media
    else:
        raise ForeignOrigin(path_or_url, server, f"{target} is another server, not {origins.named()}")
    parts = urlsplit(text)
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    return _checked(base, path + (f"?{parts.query}" if parts.query else ""), path_or_url, server)


def _origin_or_none(url: str) -> Origin | None:
    try:
        return origin_of(url)
    except ValueError:
        return None


def _checked(base: str, path: str, asked: str, server: str) -> str:
    """The last word: whatever was built on `base`'s own text must parse back to `base`'s origin."""
    url = base.rstrip("/") + path
    if not same_origin(url, base):
        raise ForeignOrigin(asked, server, f"it does not stay on the session's server {base}")
    return url
