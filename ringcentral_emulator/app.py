"""The emulator behind the socket: routing, fault injection, the rate-limit count and the control endpoints.

Control endpoints (only on the emulator, for tests that run it as a subprocess):

- `GET  /__emulator/counters`              the counters, as `Emulator.counters()`
- `GET  /__emulator/config`                the current switches
- `POST /__emulator/config`                a JSON object of switches, as `Emulator.set(**switches)`
- `POST /__emulator/expire-access-tokens`  every live access token expires now
- `POST /__emulator/revoke-all`            every session ends
- `GET  /__emulator/origins`               `{"base_url": ..., "media_url": ...}`, the two origins

They are on the API origin only, and never rate-limited, faulted or counted in `requests`. The media origin
serves recordings' content and nothing else (`media`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

from ringcentral_emulator import pages
from ringcentral_emulator.api import API_PREFIX, ApiEndpoints
from ringcentral_emulator.config import EmulatorConfig
from ringcentral_emulator.data import CallLog, Directory
from ringcentral_emulator.media import MediaEndpoints
from ringcentral_emulator.oauth import LOGIN_PATH, OAuthEndpoints
from ringcentral_emulator.ratelimit import RateLimiter, Verdict
from ringcentral_emulator.state import AuthState, Counters
from ringcentral_emulator.wire import DROP, Drop, Request, Response, html_response, json_response, rest_error

CONTROL_PREFIX = "/__emulator/"
_DATA_SWITCHES = {"seed", "call_records", "anchor_time", "user", "caller_names"}


class EmulatorApp:
    """All of the emulator's behaviour, independent of the HTTP server that carries it."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._config_lock = threading.Lock()
        self.anchor_time = config.anchor_time if config.anchor_time is not None else time.time()
        self.counters = Counters()
        self.auth = AuthState(self.counters)
        self.auth.token_length = config.token_length
        # Notified when the switches change, so held requests see a new `token_delay` or
        # `revoke_delay` at once.
        self._switched = threading.Condition()
        self.limiter = RateLimiter()
        self._fault_lock = threading.Lock()
        self._fault_rng = random.Random(config.seed)  # noqa: S311 - reproducible fault injection, not crypto
        self._build_data(config)
        self.oauth = OAuthEndpoints(self)
        self.api = ApiEndpoints(self)
        self.media = MediaEndpoints(self)
        self.slow_sleep = time.sleep
        # The two origins, once the servers are bound (`set_origins`).
        self.base_url: str | None = None
        self.media_url: str | None = None

    @property
    def config(self) -> EmulatorConfig:
        return self._config

    def _build_data(self, config: EmulatorConfig) -> None:
        anchor = config.anchor_time if config.anchor_time is not None else self.anchor_time
        self.directory = Directory(config.user, config.seed)
        self.call_log = CallLog(
            self.directory,
            seed=config.seed,
            records=config.call_records,
            anchor_ms=int(anchor * 1000),
            caller_names=config.caller_names,
        )

    def set(self, **switches: Any) -> EmulatorConfig:
        """Apply switches while running; raises ValueError for an unknown switch or a bad value."""
        with self._config_lock:
            new = self._config.with_switches(**switches)
            if any(getattr(new, k) != getattr(self._config, k) for k in _DATA_SWITCHES):
                self._build_data(new)
            if new.seed != self._config.seed:
                with self._fault_lock:
                    self._fault_rng.seed(new.seed)
            self._config = new
            self.auth.token_length = new.token_length
        with self._switched:
            self._switched.notify_all()
        return new

    def set_origins(self, base_url: str, media_url: str) -> None:
        """Where the API and the media origin listen: records' `contentUri` point at the media origin."""
        self.base_url, self.media_url = base_url, media_url

    @staticmethod
    def clock_ms() -> int:
        return int(time.time() * 1000)

    # -- rate limits -------------------------------------------------------------------------------------

    def limit(self, who: object, group: str) -> Verdict | None:
        """Count one request of `group` for `who`; None when that group is not limited."""
        cfg = self._config
        if not cfg.rate_limits_enabled or group not in cfg.rate_limits:
            return None
        verdict = self.limiter.check(who, group, cfg.rate_limits[group], cfg.rate_window, cfg.rate_penalty)
        if not verdict.allowed:
            self.counters.incr("rate_limited")
        return verdict

    # -- dispatch ----------------------------------------------------------------------------------------

    def dispatch(self, req: Request, *, media: bool = False) -> Response | Drop:
        """Answer a request to the API origin, or with `media` to the media origin."""
        if req.path.startswith(CONTROL_PREFIX) and not media:
            return self._control(req)
        self.counters.incr("requests")
        if media:
            self.counters.incr("media_requests")
        fault = self._draw_fault(req.path, media=media)
        if fault == "drop":
            return DROP  # before any work: the request has no effect
        if fault == "503":
            return self._unavailable()
        if fault == "slow":
            self.slow_sleep(self._config.slow_seconds)
        if req.path == "/restapi/oauth/revoke" and not media:
            self._hold("revoke_delay", "revoke")  # before the work: the session is live meanwhile
        response = self.media.handle(req) if media else self._route(req)
        if req.path == "/restapi/oauth/token" and not media:
            self._hold("token_delay", "token")  # after the work: a refresh has rotated the pair
        self.counters.incr("responses", str(response.status))
        if fault == "cut":
            # Part of the body, then the connection is lost: a drawn point strictly inside the body.
            with self._fault_lock:
                response.cut_after = self._fault_rng.randrange(response.length) if response.length else 0
        elif fault == "trickle":
            response.trickle_rate = self._config.trickle_rate
        return response

    def _hold(self, switch: str, endpoint: str) -> None:
        """Hold a request `switch` (`token_delay`, `revoke_delay`) seconds from now, counting it in
        `held` as it starts. The switch is read again whenever it changes, so lowering it (a test's
        `set(token_delay=0)`) releases it at once."""
        start = time.monotonic()
        if getattr(self._config, switch) > 0:
            self.counters.incr("held", endpoint)
        with self._switched:
            while (left := start + getattr(self._config, switch) - time.monotonic()) > 0:
                self._switched.wait(left)

    def _route(self, req: Request) -> Response:
        path = req.path
        if path == "/restapi/oauth/authorize":
            return self.oauth.authorize(req)
        if path == "/restapi/oauth/token":
            return self.oauth.token(req)
        if path == "/restapi/oauth/revoke":
            return self.oauth.revoke(req)
        if path == LOGIN_PATH:
            return self.oauth.login_page(req)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            self.counters.incr("api_calls")
            return self.api.handle(req)
        if path == "/" and req.method in ("GET", "HEAD"):
            return html_response(200, pages.index_page(req.base_url))
        return rest_error(404, "CMN-120", "Invalid URI")

    def _draw_fault(self, path: str, *, media: bool) -> str | None:
        cfg = self._config
        if cfg.fault_rate <= 0 or (cfg.fault_scope == "media" and not media):
            return None
        if cfg.fault_scope == "api" and not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            return None
        with self._fault_lock:
            if self._fault_rng.random() >= cfg.fault_rate:
                return None
            kind = self._fault_rng.choice(cfg.fault_kinds)
        self.counters.incr("faults")
        self.counters.incr("faults_by_kind", kind)
        return kind

    def _unavailable(self) -> Response:
        self.counters.incr("responses", "503")
        # The error code of RingCentral's 503 body is unconfirmed; clients branch on the status.
        response = rest_error(503, "CMN-211", "Service Temporarily Unavailable", top="ServiceUnavailable")
        with self._fault_lock:
            with_retry_after = self._fault_rng.random() < 0.5
        # The notes: on 503 wait for Retry-After. It is not always sent, so half the 503s omit it.
        return response.with_headers([("Retry-After", "1")] if with_retry_after else [])

    # -- control endpoints -------------------------------------------------------------------------------

    def _control(self, req: Request) -> Response:
        name = req.path[len(CONTROL_PREFIX) :]
        if name == "counters" and req.method in ("GET", "HEAD"):
            return json_response(200, self.counters.snapshot())
        if name == "config" and req.method in ("GET", "HEAD"):
            return json_response(200, self._config.to_json())
        if name == "config" and req.method == "POST":
            try:
                switches = json.loads(req.body or b"{}")
                if not isinstance(switches, dict):
                    raise ValueError("the body must be a JSON object of switches")
                new = self.set(**switches)
            except (ValueError, TypeError) as exc:
                return json_response(400, {"error": "invalid_switch", "message": str(exc)})
            return json_response(200, new.to_json())
        if name == "expire-access-tokens" and req.method == "POST":
            return json_response(200, {"expired": self.auth.expire_access_tokens()})
        if name == "origins" and req.method in ("GET", "HEAD"):
            return json_response(200, {"base_url": self.base_url, "media_url": self.media_url})
        if name == "revoke-all" and req.method == "POST":
            return json_response(200, {"ended": self.auth.revoke_all()})
        return json_response(
            404, {"error": "not_found", "message": f"no control endpoint {req.method} {req.path}"}
        )
