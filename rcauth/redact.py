"""Keep secrets out of logs, debug output and error messages.

Two layers, because either alone leaks: every secret rcauth handles is registered as soon as it is
known (tokens, client secret, code, PKCE verifier), and text is also scrubbed by pattern for the
fields and headers that carry secrets (requests-oauthlib logs whole token responses at DEBUG).
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_MIN_SECRET_LEN = 6  # shorter values would mask ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()
_clients: set[tuple[str, str]] = set()  # (client id, secret) whose Basic credential is not yet in _secrets

# Kept as text and compiled on first use (`re` caches them): every command imports this module,
# few ever redact anything, and compiling these three costs about half a millisecond.
_PATTERNS = (
    # Authorization: Bearer xxx / Basic xxx, in headers dumped as dicts or lines.
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^'\"\s,}]+",
    # A credential quoted without its header's name (a server echoing the request back).
    r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9+/_.~-]{16,}=*",
    # form bodies and query strings: access_token=..., code=..., code_verifier=..., client_secret=...
    r"(?i)((?:access_token|refresh_token|id_token|client_secret|code_verifier|code|assertion|token|password)=)"
    r"[^&\s'\"]+",
    # JSON or repr'd dicts: "access_token": "..."
    r"(?i)(['\"](?:access_token|refresh_token|id_token|client_secret|code_verifier|code|assertion|token)['\"]"
    r"\s*:\s*['\"])[^'\"]+",
)


def register(*values: str | None) -> None:
    """Remember values that must never be shown; call as soon as a secret is read or received."""
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET_LEN:
                _secrets.add(value)


def register_client(client_id: str | None, client_secret: str | None) -> None:
    """Remember an app's secret and the Basic credential made of it (`base64(id:secret)`, as requests
    sends it): a server that echoes the request's Authorization header would otherwise show it. The
    base64 is made when text is first redacted, not here: every command that loads a session calls
    this, few ever redact anything."""
    if client_secret:
        register(client_secret)
        with _lock:
            _clients.add((client_id or "", client_secret))


def _basic_credentials(client_id: str, client_secret: str) -> list[str]:
    import base64

    pair = f"{client_id}:{client_secret}"
    encoded = []
    for encoding in ("latin-1", "utf-8"):  # requests encodes latin-1 when it can
        try:
            encoded.append(base64.b64encode(pair.encode(encoding)).decode("ascii"))
        except UnicodeEncodeError:
            continue
    return encoded


def _spellings(secret: str) -> set[str]:
    """`secret` as it is, as a `repr` of a text or of bytes holding it shows it (escaped), and as a form
    body carries it: an error message made with `%r` (http.client's "Invalid header value
    b'Bearer ...\\n'") or a logged request body (`refresh_token=...` with `+`, `/`, `=` percent-encoded)
    must not show a secret that holds a character they escape."""
    from urllib.parse import quote_plus

    forms = {secret, repr(secret)[1:-1], quote_plus(secret)}
    for encoding in ("latin-1", "utf-8"):  # http.client encodes a header latin-1, most else utf-8
        try:
            forms.add(repr(secret.encode(encoding))[2:-1])
        except UnicodeEncodeError:
            continue
    forms |= {form.replace("'", "\\'") for form in forms}  # a repr quoted with ' escapes the ones inside
    return forms


def mask_registered(text: str) -> str:
    """Return text with every registered secret masked, in every spelling `_spellings` knows; nothing
    else in it changes."""
    with _lock:
        clients = list(_clients)
        _clients.clear()
    for client_id, client_secret in clients:
        register(*_basic_credentials(client_id, client_secret))
    with _lock:
        known = sorted({form for secret in _secrets for form in _spellings(secret)}, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(text: str) -> str:
    """Return text with every registered secret and every secret-carrying field masked."""
    text = mask_registered(text)
    for pattern in _PATTERNS:
        text = re.sub(pattern, lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that formats the record once and masks secrets in the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are rendered by the handler later; pre-render and scrub them now.
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


class _RegisteredSecretsFilter(logging.Filter):
    """Masks rcauth's registered secrets in a record of another library's logger, its arguments
    included (the message is formatted once and kept); a record that holds none is left as it is,
    so a program's own use of that library logs what it always did."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the handler's to report, as without us
            return True
        masked = mask_registered(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FOREIGN_FILTER = _RegisteredSecretsFilter()
# requests-oauthlib's loggers that log token material, at DEBUG: `OAuth2Session.fetch_token` and
# `refresh_token` log the request's headers (the Basic credential) and body (code, PKCE verifier, JWT
# assertion, refresh token), the answer's text and the token obtained (requests-oauthlib 2.0). oauthlib's
# client side, which builds the bodies and reads the answers, logs nothing.
TOKEN_LOGGERS = ("requests_oauthlib.oauth2_session",)


def guard_token_loggers() -> None:
    """Attach the filter to `TOKEN_LOGGERS`, once (`addFilter` keeps one copy), before rcauth's first
    token request: a program that logs at DEBUG (`logging.basicConfig(level=logging.DEBUG)`) would
    otherwise write rcauth's secrets in its own logs. The one change rcauth makes to another library's
    state (SECURITY.md): the program's handlers, levels and every other logger stay as they are."""
    for name in TOKEN_LOGGERS:
        logging.getLogger(name).addFilter(_FOREIGN_FILTER)


# Whatever stands before the last "@" of a URL (a user name, a password), the scheme kept, in every
# spelling requests and users accept or mistype: `http://user:pw@host`, `//user:pw@host`, the
# scheme-less `user:pw@host:port` (which urlsplit reads as scheme "user"), a password holding an
# unencoded "/", "#" or "?", leading blanks, and the full-width "＠" that NFKC turns into "@". It runs to
# the last "@" anywhere: an "@" in a path may be masked with what precedes it, a password never shown.
_AT = "@\uff20\ufe6b"
_USERINFO = re.compile(rf"^\s*((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?.*[{_AT}]", re.DOTALL)


def has_credentials(url: str) -> bool:
    """Whether `url` may carry a user name or password (any "@" in it)."""
    return _USERINFO.match(url) is not None


def mask_credentials(url: str) -> str:
    """`url` with everything between its scheme and its last "@" replaced by `***`."""
    return _USERINFO.sub(lambda m: f"{m.group(1) or ''}***@", url, count=1)
