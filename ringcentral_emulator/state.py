"""What the emulator remembers: pending consent, authorization codes, sessions, tokens, and counters.

Everything here is guarded by a lock: the HTTP server answers each connection on its own thread, and the
race tests send concurrent refreshes on purpose. Times are `time.monotonic()` seconds.

Tokens are opaque random strings from `secrets`, shaped like RingCentral's: URL-safe base64 of a short
pod/kind prefix followed by random bytes. The prefix only lets the API tell "corrupted" (OAU-129) from
"not found" (OAU-213); it carries no information about the session.
"""

from __future__ import annotations

import base64
import copy
import itertools
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ringcentral_emulator.config import EmulatorConfig
    from ringcentral_emulator.ratelimit import Verdict

_ACCESS_PREFIX = b"EMU11P01PAS00|"
_REFRESH_PREFIX = b"EMU11P01PRF00|"
_CODE_PREFIX = b"EMU11P01AUT00|"
# The first 12 prefix bytes encode to 16 fixed base64 characters.
ACCESS_MARK = base64.urlsafe_b64encode(_ACCESS_PREFIX[:12]).decode()

CONSENT_TTL = 600.0  # how long an authorize page may stay open before its Approve is refused
_PRUNE_EVERY = 512  # issuances between sweeps of long-dead codes and tokens
_KEEP_DEAD_FOR = 3600.0  # dead tokens are remembered this long so replays get a precise error
_SECRETS_SEEN_MAX = 10_000  # `secrets_seen()` keeps this many, newest last


def new_token(prefix: bytes, random_bytes: int = 132, length: int | None = None) -> str:
    """`prefix` and `random_bytes` random bytes, URL-safe base64; `length` characters of it if given."""
    if length is not None:
        random_bytes = max(0, (length * 3 + 3) // 4 - len(prefix))
    token = base64.urlsafe_b64encode(prefix + secrets.token_bytes(random_bytes)).rstrip(b"=").decode("ascii")
    return token if length is None else token[:length]


class Counters:
    """Thread-safe counters; `snapshot()` returns a deep copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {
            "requests": 0,
            # TCP connections accepted: a client that keeps one alive opens one for all its requests.
            "connections": 0,
            "authorize_approved": 0,
            "authorize_denied": 0,
            "grants": {},
            "refreshes": 0,
            "refresh_reuses": 0,
            "refresh_grace_replays": 0,
            "code_reuses": 0,
            "revokes": 0,
            # Requests held by `token_delay` or `revoke_delay`, by endpoint ("token", "revoke").
            "held": {},
            "sessions_created": 0,
            "sessions_ended": 0,
            "sessions_evicted": 0,
            "rate_limited": 0,
            "faults": 0,
            "faults_by_kind": {},
            "api_calls": 0,
            # The media origin: requests to it, and the body bytes it sent (what reached the socket).
            "media_requests": 0,
            "media_bytes": 0,
            "unauthorized": 0,
            "responses": {},
        }

    def incr(self, name: str, key: str | None = None, by: int = 1) -> None:
        with self._lock:
            if key is None:
                self._data[name] += by
            else:
                bucket = self._data[name]
                bucket[key] = bucket.get(key, 0) + by

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorize request, kept while the consent page is open and inside the code."""

    client_id: str
    redirect_uri: str  # where to send the browser: the one given, or the only registered one
    redirect_uri_param: str | None  # exactly as sent; the token request must repeat it (RFC 6749 §4.1.3)
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None


class CodeProblem(Enum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    OTHER_CLIENT = "other_client"


class RefreshProblem(Enum):
    UNKNOWN = "unknown"  # never issued, not a refresh token, or issued to another client
    EXPIRED = "expired"
    REVOKED = "revoked"  # the session ended
    SPENT = "spent"  # rotated away and outside the grace (or strict)


class AccessProblem(Enum):
    CORRUPTED = "corrupted"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class _Session:
    id: str
    client_id: str
    extension_id: int
    endpoint_id: str
    scope: str
    created: float
    order: int
    ended: bool = False
    access: str | None = None
    refresh: str | None = None
    tokens: list[str] = field(default_factory=list)


@dataclass
class _Token:
    kind: str  # "access" | "refresh"
    session: _Session
    expires: float
    dead_since: float | None = None  # revoked, or rotated away (access tokens die at once)
    first_used: float | None = None  # access tokens: first successful API call
    spent_at: float | None = None  # refresh tokens: when they were exchanged
    successor: tuple[str, str] | None = None  # refresh tokens: the (access, refresh) pair they bought


@dataclass
class _Code:
    request: AuthorizeRequest
    expires: float
    used: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    """A token pair as the token endpoint reports it (expiry as seconds from now)."""

    access_token: str
    expires_in: int
    refresh_token: str | None
    refresh_token_expires_in: int | None
    session_id: str
    owner_id: str
    endpoint_id: str
    scope: str
    replayed: bool = False  # a grace replay of an existing pair, not a new rotation


@dataclass(frozen=True)
class Grant:
    """A redeemed authorization code's request, for the endpoint to check redirect_uri and PKCE."""

    request: AuthorizeRequest


@dataclass(frozen=True)
class SessionInfo:
    """Who an access token speaks for."""

    client_id: str
    extension_id: int
    scope: str
    session_id: str


class AuthState:
    """Pending consent pages, codes, sessions and tokens."""

    def __init__(self, counters: Counters, clock: Callable[[], float] = time.monotonic) -> None:
        self._counters = counters
        self._clock = clock
        self._lock = threading.Lock()
        self._consent: dict[str, tuple[AuthorizeRequest, float]] = {}
        self._codes: dict[str, _Code] = {}
        self._sessions: dict[str, _Session] = {}
        self._tokens: dict[str, _Token] = {}
        self._order = itertools.count()
        self._issued_since_prune = 0
        # Characters per access/refresh token (EmulatorConfig.token_length; None: the usual length).
        self.token_length: int | None = None
        # For leak tests: every code and token issued, and every PKCE verifier presented (bounded).
        self._secrets_seen: deque[str] = deque(maxlen=_SECRETS_SEEN_MAX)

    # -- consent pages -------------------------------------------------------------------------------

    def open_consent(self, request: AuthorizeRequest) -> str:
        """Remember an authorize request shown on a consent page; returns the page's single-use nonce."""
        nonce = secrets.token_urlsafe(24)
        with self._lock:
            self._consent[nonce] = (request, self._clock() + CONSENT_TTL)
            self._maybe_prune()
        return nonce

    def peek_consent(self, nonce: str) -> AuthorizeRequest | None:
        """The request behind an open consent page, without using it up (the page may be reloaded)."""
        with self._lock:
            entry = self._consent.get(nonce)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def take_consent(self, nonce: str) -> AuthorizeRequest | None:
        """The request behind a consent page, once; None if unknown, used or left open too long."""
        with self._lock:
            entry = self._consent.pop(nonce, None)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    # -- authorization codes -------------------------------------------------------------------------

    def issue_code(self, request: AuthorizeRequest, ttl: float) -> str:
        code = new_token(_CODE_PREFIX, 36)
        with self._lock:
            self._codes[code] = _Code(request, self._clock() + ttl)
            self._secrets_seen.append(code)
            self._maybe_prune()
        return code

    def redeem_code(self, code: str, client_id: str) -> Grant | CodeProblem:
        """Spend a code. Any presentation of a valid code burns it, even if the request then fails
        (RFC 6749 §4.1.2: a code is single-use; a failed PKCE check must not leave it open to guessing)."""
        with self._lock:
            entry = self._codes.get(code)
            if entry is None:
                return CodeProblem.UNKNOWN
            if entry.request.client_id != client_id:
                return CodeProblem.OTHER_CLIENT
            if entry.used:
                self._counters.incr("code_reuses")
                return CodeProblem.USED
            entry.used = True
            if entry.expires <= self._clock():
                return CodeProblem.EXPIRED
            return Grant(entry.request)

    # -- sessions and tokens -------------------------------------------------------------------------

    def create_session(
        self,
        *,
        client_id: str,
        extension_id: int,
        scope: str,
        access_ttl: float,
        refresh_ttl: float | None,
        max_sessions: int | None,
    ) -> IssuedTokens:
        """Start a session (code or JWT grant) and issue its first pair; ends the oldest sessions beyond
        `max_sessions` for this user and app."""
        with self._lock:
            now = self._clock()
            if max_sessions is not None:
                live = sorted(
                    (
                        s
                        for s in self._sessions.values()
                        if not s.ended and s.client_id == client_id and s.extension_id == extension_id
                    ),
                    key=lambda s: s.order,
                )
                for old in live[: max(0, len(live) - max_sessions + 1)]:
                    self._end_session(old, now)
                    self._counters.incr("sessions_evicted")
            session = _Session(
                id=str(secrets.randbelow(9 * 10**11) + 10**11),
                client_id=client_id,
                extension_id=extension_id,
                endpoint_id=secrets.token_urlsafe(16),
                scope=scope,
                created=now,
                order=next(self._order),
            )
            self._sessions[session.id] = session
            self._counters.incr("sessions_created")
            access, refresh = self._issue_pair(session, now, access_ttl, refresh_ttl)
            self._maybe_prune()
            return self._describe(access, refresh, now)

    def refresh(
        self,
        token: str,
        *,
        client_id: str,
        access_ttl: float,
        refresh_ttl: float | None,
        strict: bool,
        grace_after_use: float,
        grace_max: float,
    ) -> IssuedTokens | RefreshProblem:
        """Exchange a refresh token for a new pair (rotation); see RingCentral's rules in EmulatorConfig."""
        with self._lock:
            now = self._clock()
            entry = self._tokens.get(token)
            if entry is None or entry.kind != "refresh" or entry.session.client_id != client_id:
                return RefreshProblem.UNKNOWN
            session = entry.session
            if entry.spent_at is not None:
                self._counters.incr("refresh_reuses")
                replay = self._grace_replay(entry, now, strict, grace_after_use, grace_max)
                if replay is None:
                    return RefreshProblem.REVOKED if session.ended else RefreshProblem.SPENT
                self._counters.incr("refresh_grace_replays")
                return replay
            if session.ended or entry.dead_since is not None:
                return RefreshProblem.REVOKED
            if entry.expires <= now:
                return RefreshProblem.EXPIRED
            # Rotation: the previous access token dies at once; this refresh token is spent.
            if session.access is not None:
                self._kill(session.access, now)
            access, refresh = self._issue_pair(session, now, access_ttl, refresh_ttl)
            entry.spent_at = now
            entry.successor = (access, refresh) if refresh is not None else None
            self._maybe_prune()
            return self._describe(access, refresh, now)

    def _grace_replay(
        self, entry: _Token, now: float, strict: bool, grace_after_use: float, grace_max: float
    ) -> IssuedTokens | None:
        """RingCentral: replaying a spent refresh token returns the same new pair until ~10 s after the new
        access token is first used, for up to 60 minutes. The pair must still be the session's current one:
        once it has itself been rotated or revoked there is nothing valid to return."""
        session = entry.session
        if strict or entry.successor is None or session.ended or entry.spent_at is None:
            return None
        access, refresh = entry.successor
        if session.access != access or session.refresh != refresh:
            return None
        if now - entry.spent_at > grace_max:
            return None
        successor = self._tokens.get(access)
        if successor is None or successor.dead_since is not None:
            return None
        if successor.first_used is not None and now - successor.first_used > grace_after_use:
            return None
        return self._describe(access, refresh, now, replayed=True)

    def authenticate(self, token: str) -> SessionInfo | AccessProblem:
        """Check a bearer token; the first successful use starts the old refresh token's grace countdown."""
        with self._lock:
            now = self._clock()
            entry = self._tokens.get(token)
            if entry is None:
                return AccessProblem.UNKNOWN if token.startswith(ACCESS_MARK) else AccessProblem.CORRUPTED
            if entry.kind != "access":
                return AccessProblem.CORRUPTED
            if entry.dead_since is not None or entry.session.ended:
                return AccessProblem.REVOKED
            if entry.expires <= now:
                return AccessProblem.EXPIRED
            if entry.first_used is None:
                entry.first_used = now
            s = entry.session
            return SessionInfo(s.client_id, s.extension_id, s.scope, s.id)

    def revoke(self, token: str, client_id: str) -> bool | None:
        """End the session a token (access or refresh) belongs to. True if ended now, False if the token is
        unknown or already dead, None if it was issued to another client."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return False
            if entry.session.client_id != client_id:
                return None
            if entry.session.ended:
                return False
            self._end_session(entry.session, self._clock())
            return True

    def expire_access_tokens(self) -> int:
        """Make every live access token expired (not revoked): the next API call gets OAU-128."""
        with self._lock:
            now = self._clock()
            count = 0
            for entry in self._tokens.values():
                if entry.kind == "access" and entry.dead_since is None and entry.expires > now:
                    entry.expires = now
                    count += 1
            return count

    def revoke_all(self) -> int:
        """End every session, as when the user signs out everywhere or changes the password."""
        with self._lock:
            now = self._clock()
            live = [s for s in self._sessions.values() if not s.ended]
            for session in live:
                self._end_session(session, now)
            return len(live)

    def live_grants(self) -> list[str]:
        """Test-only: the token that names each session still alive, its current refresh token (its
        access token for a session without one), so a test can check that every grant a client was
        issued is either kept by it or was revoked."""
        with self._lock:
            now = self._clock()
            named: list[str] = []
            for session in self._sessions.values():
                token = session.refresh or session.access
                entry = self._tokens.get(token) if token else None
                if token is None or entry is None or session.ended:
                    continue
                if entry.dead_since is None and entry.expires > now:
                    named.append(token)
            return named

    def remember_secret(self, value: str) -> None:
        """Note a secret a client presented (a PKCE verifier) for `secrets_seen()`."""
        with self._lock:
            self._secrets_seen.append(value)

    def secrets_seen(self) -> list[str]:
        """Test-only: the newest codes and tokens issued and PKCE verifiers presented, so a test can
        check none of them leaked into a client's output or files."""
        with self._lock:
            return list(self._secrets_seen)

    # -- internals (lock held) -----------------------------------------------------------------------

    def _issue_pair(
        self, session: _Session, now: float, access_ttl: float, refresh_ttl: float | None
    ) -> tuple[str, str | None]:
        access = new_token(_ACCESS_PREFIX, length=self.token_length)
        self._tokens[access] = _Token("access", session, now + access_ttl)
        self._secrets_seen.append(access)
        session.access = access
        session.tokens.append(access)
        refresh = None
        if refresh_ttl is not None:
            refresh = new_token(_REFRESH_PREFIX, length=self.token_length)
            self._tokens[refresh] = _Token("refresh", session, now + refresh_ttl)
            self._secrets_seen.append(refresh)
            session.refresh = refresh
            session.tokens.append(refresh)
        return access, refresh

    def _describe(self, access: str, refresh: str | None, now: float, replayed: bool = False) -> IssuedTokens:
        a = self._tokens[access]
        r = self._tokens[refresh] if refresh is not None else None
        s = a.session
        return IssuedTokens(
            access_token=access,
            expires_in=_seconds_left(a.expires, now),
            refresh_token=refresh,
            refresh_token_expires_in=_seconds_left(r.expires, now) if r is not None else None,
            session_id=s.id,
            owner_id=str(s.extension_id),
            endpoint_id=s.endpoint_id,
            scope=s.scope,
            replayed=replayed,
        )

    def _kill(self, token: str, now: float) -> None:
        entry = self._tokens.get(token)
        if entry is not None and entry.dead_since is None:
            entry.dead_since = now

    def _end_session(self, session: _Session, now: float) -> None:
        session.ended = True
        for token in session.tokens:
            self._kill(token, now)
        self._counters.incr("sessions_ended")

    def _maybe_prune(self) -> None:
        self._issued_since_prune += 1
        if self._issued_since_prune < _PRUNE_EVERY:
            return
        self._issued_since_prune = 0
        now = self._clock()
        horizon = now - _KEEP_DEAD_FOR
        self._consent = {n: e for n, e in self._consent.items() if e[1] > now}
        self._codes = {c: e for c, e in self._codes.items() if e.expires > horizon}
        for token, entry in list(self._tokens.items()):
            ends = [t for t in (entry.dead_since, entry.spent_at) if t is not None]
            if entry.expires <= now:
                ends.append(entry.expires)
            if ends and min(ends) <= horizon:
                del self._tokens[token]
        self._sessions = {
            sid: s for sid, s in self._sessions.items() if any(t in self._tokens for t in s.tokens)
        }
        for session in self._sessions.values():
            session.tokens = [t for t in session.tokens if t in self._tokens]


def _seconds_left(expires: float, now: float) -> int:
    return max(0, math.ceil(expires - now - 1e-6))


class EmulatorCore(Protocol):
    """What every endpoint needs of the emulator that serves it: its switches, its authorization state,
    its counters, and a count against the rate limits. `app.EmulatorApp` is one; the endpoints' modules
    type against this (and their own additions), never the app that composes them."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def auth(self) -> AuthState: ...

    @property
    def counters(self) -> Counters: ...

    def limit(self, who: object, group: str) -> Verdict | None:
        """Count one request of `group` for `who`; None when that group is not limited."""
        ...
