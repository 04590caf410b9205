"""A signed-in session as a value: what the store persists and the client refreshes."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from rcauth.errors import ConfigError, StoredSessionDamaged, UnexpectedAnswer

SESSION_VERSION = 1
# RingCentral's documented maxima: `access_token_ttl` may be asked for up to 3600 s and
# `refresh_token_ttl` up to 30 days. A longer lifetime in an answer is clamped to them, so an absurd
# `expires_in` (1e308, 400 digits) at worst refreshes early; it never overflows a float.
ACCESS_TOKEN_MAX_LIFETIME = 3600.0
REFRESH_TOKEN_MAX_LIFETIME = 2_592_000.0
UNUSABLE_TOKEN_ANSWER = "the token endpoint's answer is not usable: "  # noqa: S105 - a message
# What `status` and the session-ended error say of an app whose "Issue refresh tokens" setting is off.
# RingCentral's refresh tokens last 7 days from the last refresh: commands warn a day before one ends.
REFRESH_ENDING_NOTICE = 86_400.0
NO_REFRESH_TOKEN = "this app issues no refresh token"  # noqa: S105 - a sentence, not a password
# A token handed to one of RingCentral's SDKs (`rcauth token --json`, `rcauth.token_data()`) is refreshed
# first unless it has this long left: the JavaScript SDK stops using a token a minute before it expires
# (its `refreshHandicapMs`), and any rcauth command refreshes the session in the token's last minute,
# which ends the token the SDK holds. So a handed-over token is usable for at least 3 minutes.
SDK_HANDOFF_VALID_FOR = 300.0
# RFC 6749 Appendix A.12/A.17 (VSCHAR), less the space RFC 6750's b64token forbids in a Bearer header.
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")
# RFC 6749 Appendix A.1/A.2: a client id and secret are VSCHARs (printable ASCII, the space included).
_CLIENT_TEXT = re.compile(r"[\x20-\x7e]+")


@dataclass(frozen=True)
class Session:
    """Tokens with absolute expiry times (epoch seconds), and who and where they belong to.

    Expiry is kept absolute: a relative `expires_in` is meaningless once stored.
    """

    server: str
    client_id: str
    client_secret: str | None
    access_token: str
    access_expires_at: float
    refresh_token: str | None
    refresh_expires_at: float | None
    scope: str = ""
    owner_id: str = ""
    token_type: str = "bearer"  # noqa: S105 - a token type, not a password
    created_at: float = 0.0
    refreshed_at: float | None = None
    # The media origin configured at login (`rcauth.origin.TokenOrigins`), where content (recordings)
    # is served; None: the one RingCentral pairs with `server`, if any. Absent from sessions stored
    # before it existed, which load as None.
    media_server: str | None = None
    version: int = SESSION_VERSION

    @classmethod
    def from_token_response(
        cls,
        token: Mapping[str, Any],
        *,
        server: str,
        client_id: str,
        client_secret: str | None,
        media_server: str | None = None,
        now: float | None = None,
        previous: Session | None = None,
    ) -> Session:
        """Build a session from a token endpoint answer, trusting its `expires_in` (never a constant)
        within RingCentral's maxima; an answer that holds no usable token raises `UnexpectedAnswer`.
        A refreshed session (`previous`) keeps the media server of the one it replaces."""
        now = time.time() if now is None else now
        token = validated_token(token)
        refresh_token = token.get("refresh_token")
        refresh_expires_in = token.get("refresh_token_expires_in")
        return cls(
            server=server,
            client_id=client_id,
            client_secret=client_secret,
            access_token=token["access_token"],
            access_expires_at=now + token["expires_in"],
            refresh_token=refresh_token,
            refresh_expires_at=now + refresh_expires_in if refresh_token and refresh_expires_in else None,
            # RFC 6749 §5.1: a refresh answer may leave out `scope` when it is unchanged.
            scope=" ".join(token["scope"])
            if isinstance(token.get("scope"), list)
            else str(token.get("scope") or (previous.scope if previous else "")),
            owner_id=str(token.get("owner_id") or (previous.owner_id if previous else "")),
            token_type=token.get("token_type") or "bearer",
            created_at=previous.created_at if previous else now,
            refreshed_at=now if previous else None,
            media_server=previous.media_server if previous else media_server,
        )

    def access_expires_within(self, seconds: float, now: float | None = None) -> bool:
        """True when the access token is expired or will be within `seconds`."""
        now = time.time() if now is None else now
        return self.access_expires_at - now <= seconds

    def refresh_ends_within(self, seconds: float, now: float | None = None) -> bool:
        """True when the refresh token is alive and ends within `seconds`."""
        if self.refresh_token is None or self.refresh_expires_at is None:
            return False
        now = time.time() if now is None else now
        return 0 < self.refresh_expires_at - now <= seconds

    def refresh_expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.refresh_token is None or (
            self.refresh_expires_at is not None and self.refresh_expires_at <= now
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Session:
        """Parse what the store holds; anything unreadable raises `StoredSessionDamaged`."""
        hint = "run `rcauth login` to sign in again (it overwrites the damaged entry)"
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise StoredSessionDamaged("the stored session is not valid JSON", hint=hint) from exc
        if not isinstance(data, dict):
            raise StoredSessionDamaged("the stored session is not a JSON object", hint=hint)
        version = data.get("version")
        if version != SESSION_VERSION:
            raise StoredSessionDamaged(
                f"the stored session has an unknown version ({version!r})",
                hint=hint,
                recovered=_recovered(data),
            )
        known = {f.name for f in fields(cls)}
        try:
            session = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            missing = sorted(f.name for f in fields(cls) if f.name not in data and f.default is MISSING)
            raise StoredSessionDamaged(
                f"the stored session is missing fields: {', '.join(missing) or '?'}",
                hint=hint,
                recovered=_recovered(data),
            ) from exc
        bad = sorted(name for name, ok in _FIELD_CHECKS.items() if not ok(getattr(session, name)))
        if "media_server" not in bad and not _media_pairs(session.server, session.media_server):
            bad = sorted([*bad, "media_server"])
        if bad:
            raise StoredSessionDamaged(
                f"the stored session has malformed fields: {', '.join(bad)}",
                hint=hint,
                recovered=_recovered(data),
            )
        return session

    @property
    def secrets(self) -> tuple[str | None, ...]:
        return (self.access_token, self.refresh_token, self.client_secret)


def _recovered(data: Mapping[str, Any]) -> Session | None:
    """The grant a damaged entry still names: its server (one `login` would accept), its app (client
    id, and secret if any) and a well-formed refresh or access token; None when any is missing.
    Enough to revoke it (`StoredSessionDamaged.recovered`), never to use it."""
    server, client_id, secret = data.get("server"), data.get("client_id"), data.get("client_secret")
    tokens = {
        name: value
        for name in ("refresh_token", "access_token")
        if isinstance(value := data.get(name), str) and looks_like_token(value)
    }
    app_ok = _FIELD_CHECKS["client_id"](client_id) and _FIELD_CHECKS["client_secret"](secret)
    if not (tokens and app_ok and _text(server) and _server_url(str(server))):
        return None
    from rcauth import redact

    redact.register(*tokens.values())
    redact.register_client(str(client_id), secret)
    return Session(
        server=str(server),
        client_id=str(client_id),
        client_secret=secret,
        access_token=tokens.get("access_token", ""),
        access_expires_at=0.0,
        refresh_token=tokens.get("refresh_token"),
        refresh_expires_at=None,
    )


def looks_like_token(text: str) -> bool:
    """Printable ASCII without spaces: what an OAuth token is made of (RFC 6750 §2.1's b64token)."""
    return _TOKEN_TEXT.fullmatch(text) is not None


def sdk_token_data(session: Session, now: float | None = None) -> dict[str, Any]:
    """The access token in the one shape RingCentral's SDKs take as it is (`rcauth.token_data_of`
    says why it has no `expire_time` and no refresh token). Pure and cheap: `rcauth token --json`
    works out `expires_in` the moment before it prints, with no HTTP stack loaded in between."""
    now = time.time() if now is None else now
    return {
        "token_type": session.token_type,
        "access_token": session.access_token,
        "expires_in": max(0, int(session.access_expires_at - now)),
        "scope": session.scope,
        "owner_id": session.owner_id,
    }


def validated_token(token: object) -> dict[str, Any]:
    """A token endpoint answer checked before anything of it is stored, with its lifetimes as clamped
    floats; anything else raises `UnexpectedAnswer` (exit 5), never a session that reads as damaged.

    RFC 6749 §5.1: `access_token` is required; RingCentral always sends `expires_in` (a session whose
    expiry is unknown could never be refreshed ahead, as RingCentral advises). A missing or empty
    `refresh_token` is an app that issues none.
    """

    def unusable(reason: str) -> UnexpectedAnswer:
        return UnexpectedAnswer(f"{UNUSABLE_TOKEN_ANSWER}{reason}")

    if not isinstance(token, Mapping):
        raise unusable("it is not a JSON object")
    checked = dict(token)
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise unusable("it has no access_token")
    if not looks_like_token(access_token):
        raise unusable("its access_token has characters a token cannot have")
    checked["expires_in"] = _lifetime(token, "expires_in", ACCESS_TOKEN_MAX_LIFETIME, unusable)
    refresh_token = token.get("refresh_token")
    if refresh_token in (None, ""):
        checked.pop("refresh_token", None)
        checked.pop("refresh_token_expires_in", None)
    elif not isinstance(refresh_token, str) or not looks_like_token(refresh_token):
        raise unusable("its refresh_token is not a token")
    elif token.get("refresh_token_expires_in") is not None:
        checked["refresh_token_expires_in"] = _lifetime(
            token, "refresh_token_expires_in", REFRESH_TOKEN_MAX_LIFETIME, unusable
        )
    # RFC 6749 §5.1 and §7.1: the token's type, which a hand-off (`rcauth.token_data`, an SDK) puts in
    # the Authorization header before the token; what could not go there is not stored.
    token_type = token.get("token_type")
    if token_type not in (None, "") and not (isinstance(token_type, str) and looks_like_token(token_type)):
        raise unusable("its token_type is not a token type")
    # RFC 6749 §3.3: a space-separated string (oauthlib hands it on as a list of them). oauthlib splits
    # whatever else it is given as one: a number or an object there crashed it.
    scope = token.get("scope")
    if not (
        scope is None
        or isinstance(scope, str)
        or (isinstance(scope, list | tuple) and all(isinstance(s, str) for s in scope))
    ):
        raise unusable("its scope is not text")
    return checked


def _lifetime(
    token: Mapping[str, Any], name: str, maximum: float, unusable: Callable[[str], Exception]
) -> float:
    """A lifetime in seconds: a positive finite number (or numeric string), at most `maximum`.
    Compared as a Decimal, so a 400-digit integer is clamped instead of overflowing a float (decimal
    is imported here: only a token answer needs it, not a command whose stored token is fresh)."""
    from decimal import Decimal, InvalidOperation

    value = token.get(name)
    if value is None:
        raise unusable(f"it has no {name}")
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise InvalidOperation
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise unusable(f"its {name} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise unusable(f"its {name} is not a positive number of seconds")
    return float(min(number, Decimal(maximum)))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _server_url(url: str) -> bool:
    """The rule `rcauth login` enforces, checked again on every load: the session's tokens go to this
    server, so an entry edited to name a plain-http host elsewhere must not be used."""
    from rcauth.config import normalize_server

    try:
        return normalize_server(url) == url
    except ConfigError:
        return False


def _media_pairs(server: str, media: str | None) -> bool:
    """A stored media server the server's documented pairing contradicts is not used: the entry was
    edited to send production's token to another host."""
    from rcauth.origin import media_mismatch

    return media is None or media_mismatch(server, media) is None


def _token(value: object) -> bool:
    return isinstance(value, str) and looks_like_token(value)


def _client_text(value: object) -> bool:
    return isinstance(value, str) and _CLIENT_TEXT.fullmatch(value) is not None


# What each field must hold for the session to be usable: anything else in a stored session (edited
# by hand, written by another program) is reported as damage, never a crash later on. What goes into a
# header or a URL (the tokens and their type, the app's id and secret, the server) is held to the rule
# a token endpoint's answer or `rcauth login` is held to: a token ending in a line break would pass as
# text, then fail every request with an error that shows it.
_FIELD_CHECKS: dict[str, Callable[[object], bool]] = {
    "server": lambda v: _text(v) and _server_url(str(v)),
    "client_id": _client_text,
    "client_secret": lambda v: v is None or v == "" or _client_text(v),
    "access_token": _token,
    "access_expires_at": _number,
    "refresh_token": lambda v: v is None or _token(v),
    "refresh_expires_at": lambda v: v is None or _number(v),
    "scope": lambda v: isinstance(v, str),
    "owner_id": lambda v: isinstance(v, str),
    "token_type": _token,
    "created_at": _number,
    "refreshed_at": lambda v: v is None or _number(v),
    "media_server": lambda v: v is None or (_text(v) and _server_url(str(v))),
}
