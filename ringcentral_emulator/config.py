"""The emulator's settings: the registered apps, the signed-in user, and the switches tests flip.

Defaults are RingCentral's real values (token lifetimes, rate limits, the 60 s code), so a client that works
against `EmulatorConfig()` has met the real limits. Tests that log in a lot switch them off explicitly,
e.g. `EmulatorConfig(rate_limits_enabled=False)`.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLIENT_ID = "rcauth-emulator-client"
DEFAULT_CLIENT_SECRET = "rcauth-emulator-secret"  # noqa: S105 - a published demo credential, not a secret
DEFAULT_REDIRECT_URI = "http://localhost:5000/oauth2callback"

GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SUPPORTED_GRANTS = (GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, GRANT_JWT_BEARER)

RATE_GROUPS = ("Light", "Medium", "Heavy", "Auth")
DEFAULT_RATE_LIMITS: Mapping[str, int] = {"Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5}
# "503", "drop" (hang up before answering) and "slow" (answer late) hit before the work; "cut" (hang up
# part-way through the body) and "trickle" (send the body at `trickle_rate` bytes a second) after it.
FAULT_KINDS = ("503", "drop", "slow", "cut", "trickle")
# Where faults are drawn: "api" (REST paths on either origin: the API's and the recordings' content),
# "all" (the token endpoint too), "media" (the media origin only: a recording's answer fails while the
# call log that lists it works).
FAULT_SCOPES = ("api", "all", "media")

# RingCentral: access_token_ttl may be asked for in 600-3600 s, refresh_token_ttl up to 30 days (the spec's
# TokenRequest); a value out of range is clamped (oauth._granted_ttls).
REQUESTED_ACCESS_TTL_RANGE = (600, 3600)
MAX_REFRESH_TOKEN_TTL = 2_592_000

# A token keeps its 16-character kind mark and at least 16 random characters.
MIN_TOKEN_LENGTH = 32
MAX_TOKEN_LENGTH = 16_384

# The array-backed filter indexes hold 32-bit positions and the account log is twice the user's.
MAX_CALL_RECORDS = 50_000_000

# `recording_seconds` at most a day: a day of 8 kHz 16-bit WAV is 1.4 GB, inside RIFF's 4 GiB.
MAX_RECORDING_SECONDS = 86_400


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _demo_jwt() -> str:
    """A fixed JWT-shaped credential like those RingCentral's developer console issues (never verified)."""
    header = {"kid": "rcauth-emulator", "typ": "JWT", "alg": "RS256"}
    payload = {
        "aud": "https://platform.ringcentral.com/restapi/oauth/token",
        "sub": "2071360004",
        "iss": "https://platform.ringcentral.com",
        "exp": 3_900_000_000,
        "iat": 1_700_000_000,
        "jti": "rcauth-emulator-demo-credential",
    }
    # 256 fixed bytes: shaped like an RS256 signature, signs nothing.
    signature = hashlib.sha512(b"rcauth-emulator-demo-credential").digest() * 4
    parts = [json.dumps(p, separators=(",", ":")).encode() for p in (header, payload)]
    return ".".join([_b64url(parts[0]), _b64url(parts[1]), _b64url(signature)])


DEMO_JWT = _demo_jwt()


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost` and any loopback literal (127.0.0.0/8, ::1): the only hosts the emulator binds.

    A copy of `rcauth.config.is_loopback_host`, kept on purpose: the emulator is a test double for
    RingCentral and stands alone, importing nothing from the client it tests (a bug shared through one
    helper would hide itself). tests/test_emulator_package.py checks that the two copies agree.
    """
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class App:
    """An app registered in the developer console: its credentials, redirect URIs and allowed grants.

    `public=True` is a client-side app: no client secret is checked, it names itself with `client_id`
    in the request body, and it must use PKCE.
    """

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,)
    jwt_credentials: tuple[str, ...] = (DEMO_JWT,)
    grant_types: tuple[str, ...] = SUPPORTED_GRANTS
    issue_refresh_tokens: bool = True
    public: bool = False
    name: str = "rcauth"
    # The quick start's app has ReadAccounts and ReadCallLog; the emulator's also reads call recordings
    # (the media origin's content needs ReadCallRecording), so the demo can fetch one. Tests that need an
    # app without it register one.
    scopes: tuple[str, ...] = ("ReadAccounts", "ReadCallLog", "ReadCallRecording")

    def __post_init__(self) -> None:
        for name in ("redirect_uris", "jwt_credentials", "grant_types", "scopes"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, tuple | list):
                raise ValueError(f"App.{name} must be a tuple of strings, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        if not self.client_id:
            raise ValueError("App.client_id must not be empty")


@dataclass(frozen=True)
class User:
    """The user who is signed in at the authorize page and owns every session."""

    account_id: str = "37439510"
    extension_id: int = 2_071_360_004
    extension_number: str = "101"
    first_name: str = "Alex"
    last_name: str = "Morgan"
    email: str = "alex.morgan@example.com"
    company: str = "Northwind Traders (emulated)"
    business_phone: str = "+16505550100"
    main_number: str = "+16505550100"

    def __post_init__(self) -> None:
        if not (self.account_id.isascii() and self.account_id.isdigit()):
            # GET /account/~ sends it as an integer, as the spec's GetAccountInfoResponse types it.
            raise ValueError(f"User.account_id must be a number in digits, not {self.account_id!r}")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator can be told. All fields have RingCentral's defaults.

    Durations are seconds (floats allowed, so tests can use short ones). `rate_limits` maps a rate-limit
    group to requests per `rate_window`; `fault_kinds` are drawn from "503", "drop" and "slow".
    """

    apps: tuple[App, ...] = (App(),)
    user: User = User()
    access_token_ttl: float = 3600
    refresh_token_ttl: float = 604_800
    code_ttl: float = 60
    # Rotation: by default a spent refresh token keeps returning the same new pair until
    # `rotation_grace_after_use` seconds after the new access token's first use, for at most
    # `rotation_grace_max` seconds (RingCentral's documented grace). Strict refuses it at once.
    strict_rotation: bool = False
    rotation_grace_after_use: float = 10.0
    rotation_grace_max: float = 3600.0
    # RingCentral ends the oldest session when a user exceeds the parallel-session limit (usually five).
    max_sessions: int | None = 5
    rate_limits_enabled: bool = True
    rate_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_window: float = 60.0
    rate_penalty: float = 60.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("503", "drop")
    fault_scope: str = "api"
    slow_seconds: float = 2.0
    # The "trickle" fault's pace: bytes of the body a second.
    trickle_rate: float = 16_384.0
    # RingCentral's token endpoint can be slow: each token answer is held this many seconds after the
    # work is done (a refresh has rotated the pair by then). Lowering it releases answers being held.
    token_delay: float = 0.0
    # And its revoke endpoint: each revocation is held this many seconds before it takes effect (the
    # session is still live meanwhile). Lowering it releases revocations being held.
    revoke_delay: float = 0.0
    # Characters in each access and refresh token issued. RingCentral documents no length and its tokens
    # can be long (well over a thousand characters); None keeps the emulator's usual 195.
    token_length: int | None = None
    seed: int = 1
    call_records: int = 1000
    # Seconds every recording lasts, whatever its call's duration (None: the call's). For the bench's big
    # downloads: 3,277 s of WAV (8 kHz 16-bit, 16,000 bytes a second) is about 50 MB.
    recording_seconds: float | None = None
    admin: bool = True
    # Approve every authorize request without showing the page (headless demos and e2e tests).
    auto_approve: bool = False
    # Wall-clock time (epoch seconds) the call log is anchored to; None means when the emulator starts.
    anchor_time: float | None = None
    # Caller-ID names for the external parties of the call log, used in turn (record by record); empty
    # keeps the generated names. True to the service: whoever calls you chooses the caller-ID name
    # RingCentral shows (any text, control characters included), so tests can serve hostile ones.
    caller_names: tuple[str, ...] = ()
    # Seconds added to the clock in every answer's `Date` header (RFC 9110 §6.6.1): true to a server
    # whose clock, or the client's, is off; clients that trust the server's time see the difference.
    clock_skew: float = 0.0

    def __post_init__(self) -> None:
        apps = tuple(self.apps)
        if not apps or not all(isinstance(a, App) for a in apps):
            raise ValueError("apps must be a non-empty tuple of App")
        if len({a.client_id for a in apps}) != len(apps):
            raise ValueError("apps must have distinct client ids")
        object.__setattr__(self, "apps", apps)
        if not isinstance(self.user, User):
            raise ValueError("user must be a User")
        for name in (
            "access_token_ttl",
            "refresh_token_ttl",
            "code_ttl",
            "rate_window",
            "slow_seconds",
            "trickle_rate",
        ):
            _require(_is_number(getattr(self, name)) and getattr(self, name) > 0, f"{name} must be > 0")
        # An app's lifetimes are the ceilings a token request is clamped to: never above the spec's maxima.
        _require(self.access_token_ttl <= REQUESTED_ACCESS_TTL_RANGE[1], "access_token_ttl must be <= 3600")
        _require(self.refresh_token_ttl <= MAX_REFRESH_TOKEN_TTL, "refresh_token_ttl must be <= 2592000")
        for name in (
            "rotation_grace_after_use",
            "rotation_grace_max",
            "rate_penalty",
            "token_delay",
            "revoke_delay",
        ):
            _require(_is_number(getattr(self, name)) and getattr(self, name) >= 0, f"{name} must be >= 0")
        _require(
            self.max_sessions is None or (_is_int(self.max_sessions) and self.max_sessions >= 1),
            "max_sessions must be None or >= 1",
        )
        limits = dict(self.rate_limits)
        for group, limit in limits.items():
            _require(
                group in RATE_GROUPS, f"unknown rate-limit group {group!r}; groups: {', '.join(RATE_GROUPS)}"
            )
            _require(_is_int(limit) and limit >= 1, f"rate limit for {group} must be an integer >= 1")
        object.__setattr__(self, "rate_limits", limits)
        _require(_is_number(self.fault_rate) and 0 <= self.fault_rate <= 1, "fault_rate must be in [0, 1]")
        kinds = tuple(self.fault_kinds)
        _require(
            bool(kinds) and set(kinds) <= set(FAULT_KINDS), f"fault_kinds must be drawn from {FAULT_KINDS}"
        )
        object.__setattr__(self, "fault_kinds", kinds)
        _require(self.fault_scope in FAULT_SCOPES, f"fault_scope must be one of {FAULT_SCOPES}")
        _require(
            self.token_length is None
            or (_is_int(self.token_length) and MIN_TOKEN_LENGTH <= self.token_length <= MAX_TOKEN_LENGTH),
            f"token_length must be None or in {MIN_TOKEN_LENGTH}..{MAX_TOKEN_LENGTH}",
        )
        _require(_is_int(self.seed), "seed must be an integer")
        _require(
            _is_int(self.call_records) and 0 <= self.call_records <= MAX_CALL_RECORDS,
            f"call_records must be in 0..{MAX_CALL_RECORDS}",
        )
        _require(
            self.anchor_time is None or _is_number(self.anchor_time), "anchor_time must be None or a number"
        )
        _require(
            self.recording_seconds is None
            or (_is_number(self.recording_seconds) and 0 < self.recording_seconds <= MAX_RECORDING_SECONDS),
            f"recording_seconds must be None or in (0, {MAX_RECORDING_SECONDS}]",
        )
        names = self.caller_names
        _require(
            isinstance(names, tuple | list) and all(isinstance(n, str) for n in names),
            "caller_names must be a list of strings",
        )
        object.__setattr__(self, "caller_names", tuple(names))
        _require(
            _is_number(self.clock_skew) and abs(self.clock_skew) <= 10 * 365 * 86400,
            "clock_skew must be a number of seconds within ten years",
        )

    def app(self, client_id: str | None) -> App | None:
        """The registered app with this client id, or None."""
        for app in self.apps:
            if app.client_id == client_id:
                return app
        return None

    def with_switches(self, **switches: Any) -> EmulatorConfig:
        """A copy with `switches` applied; `rate_limits` is merged into the current limits.

        Raises ValueError for an unknown switch or an invalid value. Values may come from JSON
        (lists for tuples, dicts for `apps` and `user`).
        """
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(switches) - known)
        if unknown:
            raise ValueError(f"unknown switch(es) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        changes = dict(switches)
        if "rate_limits" in changes:
            changes["rate_limits"] = {**self.rate_limits, **dict(changes["rate_limits"])}
        if "fault_kinds" in changes and not isinstance(changes["fault_kinds"], str):
            changes["fault_kinds"] = tuple(changes["fault_kinds"])
        elif "fault_kinds" in changes:
            changes["fault_kinds"] = (changes["fault_kinds"],)
        if "apps" in changes:
            changes["apps"] = tuple(a if isinstance(a, App) else _app_from_json(a) for a in changes["apps"])
        if isinstance(changes.get("user"), Mapping):
            changes["user"] = User(**changes["user"])
        try:
            return dataclasses.replace(self, **changes)
        except TypeError as exc:
            raise ValueError(str(exc)) from exc

    def to_json(self) -> dict[str, Any]:
        """The switches as JSON-ready values (what `GET /__emulator/config` shows)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def _app_from_json(value: Mapping[str, Any]) -> App:
    if not isinstance(value, Mapping):
        raise ValueError(f"an app must be an object, not {value!r}")
    try:
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
        return App(**fields)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
