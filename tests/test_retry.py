"""`BoundedRetry`: transient retries stop at a count and at a time budget (real sockets, fake sleeps)."""

from __future__ import annotations

import http.server
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import urllib3
from helpers import FakeClock, free_port, jwt_session, make_session, serving

import rcauth.interrupts
import rcauth.retry
from rcauth.client import ApiClient
from rcauth.errors import ApiError, ExitCode, OAuthError, TransportError, UnexpectedAnswer
from rcauth.oauth import KEPT_HINT, RingCentralOAuth
from rcauth.store import MemoryStore
from ringcentral_emulator import Emulator, EmulatorConfig


@pytest.fixture
def clock() -> FakeClock:
    """The clock and the pauses of the retries under test: given to them, so no test sleeps for real."""
    return FakeClock()


def client(store: MemoryStore, clock: FakeClock) -> ApiClient:
    return ApiClient(store, monotonic=clock.monotonic, sleep=clock.sleep)


def oauth(server: str, clock: FakeClock) -> RingCentralOAuth:
    return RingCentralOAuth(server, "cid", "sec", monotonic=clock.monotonic, sleep=clock.sleep)


def signed_in_store(server: str) -> MemoryStore:
    """A made-up session for `server` (a stub that checks no token)."""
    store = MemoryStore()
    store.save(make_session(server=server, access_token="AT-x-123456", refresh_token="RT-x-123456"))
    return store


def test_dropped_connections_are_retried_six_times_then_reported(clock: FakeClock) -> None:
    with Emulator(EmulatorConfig(rate_limits_enabled=False)) as emu:
        store = MemoryStore()
        store.save(jwt_session(emu))
        emu.set(fault_rate=1.0, fault_kinds=("drop",))
        with client(store, clock) as api, pytest.raises(TransportError) as caught:
            api.get_json("/restapi/v1.0/account/~")
        assert emu.counters()["faults"] == 7  # one try and six retries, every one dropped
    assert "could not reach" in str(caught.value)
    # Exponential backoff with jitter: 0, then about 0.4, 0.8, 1.6, 3.2, 6.4 s.
    assert len(clock.sleeps) == 5
    assert all(low <= s <= low + 0.3 for s, low in zip(clock.sleeps, (0.4, 0.8, 1.6, 3.2, 6.4), strict=True))


class _Always503(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        type(self).hits += 1
        body = b'{"errorCode":"CMN-211","message":"Service Temporarily Unavailable"}'
        self.send_response(503)
        self.send_header("Retry-After", "20")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def always_503() -> Iterator[str]:
    _Always503.hits = 0
    with serving(_Always503) as url:
        yield url


def test_no_retry_starts_after_the_time_budget(clock: FakeClock, always_503: str) -> None:
    """Retry-After: 20 each time, budget 30 s: the second pause would end at 40 s, so it stops there."""
    with client(signed_in_store(always_503), clock) as api, pytest.raises(ApiError) as caught:
        api.get_json("/restapi/v1.0/account/~")
    assert caught.value.status == 503 and caught.value.error_code == "CMN-211"
    assert _Always503.hits == 2
    assert clock.sleeps == [20]


def _sigint_soon(delay: float = 0.2) -> None:
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()


def test_ctrl_c_during_a_token_rotation_is_held_until_the_block_ends() -> None:
    outcome: list[str] = []
    try:
        with rcauth.interrupts.deferred():
            _sigint_soon(0.05)
            time.sleep(0.3)
            outcome.append("block finished")
    except KeyboardInterrupt:
        outcome.append("delivered after it")
    assert outcome == ["block finished", "delivered after it"]


def test_a_held_ctrl_c_cuts_a_retry_pause_short() -> None:
    """Between tries nothing is in flight and the stored pair is still good: a refresh waiting out a
    Retry-After (RingCentral's Auth penalty is 60 s) stops at once instead of after the wait."""
    answer = SimpleNamespace(headers={"Retry-After": "20"})
    outcome: list[str] = []
    try:
        with rcauth.interrupts.deferred():
            _sigint_soon()
            try:
                rcauth.retry.BoundedRetry(total=3).sleep(answer)
                outcome.append("slept 20 s")
            except KeyboardInterrupt:
                outcome.append("cut short")
    except KeyboardInterrupt:
        outcome.append("delivered again")
    assert outcome == ["cut short"]


def test_a_proxy_that_refuses_the_connection_is_tried_once_not_retried(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS_PROXY at a closed port: urllib3 counts the refusal as a connect error (6 retries with
    backoff for the API, 3 for the token endpoint); a local proxy that is not running will not be
    there seconds later. Counted at the socket: one connection attempt, no pause."""
    import urllib3.util.connection

    port = free_port()
    attempts: list[tuple[str, int]] = []
    connect = urllib3.util.connection.create_connection

    def counting(address, *args, **kwargs):
        attempts.append(address)
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting)
    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    store = signed_in_store("https://platform.ringcentral.com")
    with client(store, clock) as api, pytest.raises(TransportError) as caught:
        api.get_json("/restapi/v1.0/account/~")
    assert attempts == [("127.0.0.1", port)]
    assert clock.sleeps == []
    assert f"HTTPS_PROXY=http://127.0.0.1:{port}" in str(caught.value)

    attempts.clear()
    with pytest.raises(TransportError, match="could not reach the proxy"):
        oauth("https://platform.ringcentral.com", clock).refresh("RT-x-123456")
    assert attempts == [("127.0.0.1", port)] and clock.sleeps == []


def test_retry_policy_gives_up_at_once_on_a_proxy_error_but_still_retries_a_refused_server() -> None:
    from urllib3.exceptions import MaxRetryError, NewConnectionError, ProxyError

    policy = rcauth.retry.BoundedRetry(total=6, connect=6, read=6, status=6, other=0)
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    with pytest.raises(MaxRetryError) as caught:
        policy.increment("GET", "/x", error=ProxyError("Unable to connect to proxy", refused))
    assert isinstance(caught.value.reason, ProxyError)
    assert policy.increment("GET", "/x", error=refused).connect == 5  # the server itself: retried


# -- issue 10 §7: the token endpoint's 429, pinned -----------------------------------------------------
TOKEN_BODY = (
    b'{"access_token":"AT-429-123456","token_type":"bearer","expires_in":3600,'
    b'"refresh_token":"RT-429-123456","refresh_token_expires_in":604800}'
)
LIMITED_BODY = b'{"errorCode":"CMN-301","message":"Request rate exceeded"}'


class _TokenEndpoint(http.server.BaseHTTPRequestHandler):
    """A token endpoint that answers 429 (with `retry_after`) `limited` times, then tokens."""

    limited = 0
    retry_after: str | None = None
    hits = 0

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cls = type(self)
        cls.hits += 1
        limited = cls.hits <= cls.limited
        body = LIMITED_BODY if limited else TOKEN_BODY
        self.send_response(429 if limited else 200)
        if limited and cls.retry_after is not None:
            self.send_header("Retry-After", cls.retry_after)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def token_endpoint() -> Iterator[str]:
    _TokenEndpoint.limited, _TokenEndpoint.retry_after, _TokenEndpoint.hits = 0, None, 0
    with serving(_TokenEndpoint) as url:
        yield url


def test_a_token_endpoint_429_waits_out_its_retry_after_before_asking_again(
    clock: FakeClock, token_endpoint: str
) -> None:
    """RingCentral restarts the Auth group's penalty on every request made during it: the retry must
    wait the whole Retry-After, not go again at once (nor after a short backoff)."""
    _TokenEndpoint.limited, _TokenEndpoint.retry_after = 1, "7"
    token = oauth(token_endpoint, clock).refresh("RT-old-123456")
    assert token["access_token"] == "AT-429-123456"
    assert _TokenEndpoint.hits == 2
    assert clock.sleeps == [7]


def test_an_api_clients_refresh_waits_out_a_429_on_the_clock_the_client_was_given(
    clock: FakeClock, token_endpoint: str
) -> None:
    """The refresh an `ApiClient` makes is paced as its own requests are: on its clock, not the process's."""
    _TokenEndpoint.limited, _TokenEndpoint.retry_after = 1, "7"
    store = MemoryStore()
    store.save(make_session(0, server=token_endpoint, refresh_token="RT-old-123456"))  # due now
    with client(store, clock) as api:
        assert api.fresh_session().access_token == "AT-429-123456"
    assert _TokenEndpoint.hits == 2
    assert clock.sleeps == [7]


def test_an_api_clients_refresh_gives_up_at_the_token_budget_on_the_clock_the_client_was_given(
    clock: FakeClock, token_endpoint: str
) -> None:
    """Its budget is the client's clock's too: Retry-After 3600 (capped at 60 s) ends the first pause at
    60 s and would end the second at 120 s, past the 90 s budget, so the refresh gives up after two tries
    (not four, as it would on a clock its own pauses do not move) and the stored pair is kept."""
    _TokenEndpoint.limited, _TokenEndpoint.retry_after = 100, "3600"
    store = MemoryStore()
    store.save(make_session(0, server=token_endpoint, refresh_token="RT-old-123456"))  # due now
    with client(store, clock) as api, pytest.raises(ApiError) as caught:
        api.fresh_session()
    assert caught.value.status == 429
    assert _TokenEndpoint.hits == 2
    assert clock.sleeps == [60]
    kept = store.load()
    assert kept is not None and kept.refresh_token == "RT-old-123456"


def test_a_token_endpoint_429_without_retry_after_waits_30_s(clock: FakeClock, token_endpoint: str) -> None:
    """RingCentral: a 429 without Retry-After means wait at least 30 s (urllib3's first backoff is 0)."""
    _TokenEndpoint.limited = 1
    oauth(token_endpoint, clock).refresh("RT-old-123456")
    assert _TokenEndpoint.hits == 2
    assert clock.sleeps == [30]


def test_a_persistent_token_endpoint_429_is_tried_four_times_then_reported(
    clock: FakeClock, token_endpoint: str
) -> None:
    """Tried 4 times, each pause the Retry-After, then reported as what answered: a network problem
    (exit 5) that keeps the session, never RingCentral's verdict that it is over (an `OAuthError`)."""
    _TokenEndpoint.limited, _TokenEndpoint.retry_after = 100, "20"
    with pytest.raises(UnexpectedAnswer) as caught:
        oauth(token_endpoint, clock).refresh("RT-old-123456")
    assert _TokenEndpoint.hits == 4
    assert clock.sleeps == [20, 20, 20]
    error = caught.value
    assert not isinstance(error, OAuthError) and error.exit_code == ExitCode.API
    assert (error.status, error.error_code) == (429, "CMN-301")
    assert str(error) == (
        "the token endpoint answered HTTP 429 (application/json): CMN-301: Request rate exceeded; "
        "RingCentral allows a few sign-in and token requests a minute (its Auth rate-limit group): "
        "try again in 20 s"
    )
    assert error.hint == KEPT_HINT


def test_a_token_endpoint_429_whose_wait_outlasts_the_budget_is_not_waited_for(
    clock: FakeClock, token_endpoint: str
) -> None:
    """Retry-After is capped at 60 s (RingCentral's Auth penalty), and no try starts more than 90 s
    after the first failure: the second 60 s pause would end at 120 s, so it gives up after one."""
    _TokenEndpoint.limited, _TokenEndpoint.retry_after = 100, "3600"
    with pytest.raises(ApiError):
        oauth(token_endpoint, clock).refresh("RT-old-123456")
    assert _TokenEndpoint.hits == 2
    assert clock.sleeps == [60]


def test_the_planned_pause_is_the_retry_after_else_the_backoff() -> None:
    retry = rcauth.retry.BoundedRetry(total=3, backoff_factor=0.5, respect_retry_after_header=True)
    assert retry._planned_pause(SimpleNamespace(headers={"Retry-After": "12"})) == 12
    assert retry._planned_pause(SimpleNamespace(headers={"Retry-After": "soon"})) == 0  # no history yet
    assert retry._planned_pause(SimpleNamespace(status=503, headers={})) == 0
    assert retry._planned_pause(SimpleNamespace(status=429, headers={})) == rcauth.retry.MIN_429_PAUSE
    ignoring = rcauth.retry.BoundedRetry(total=3, respect_retry_after_header=False)
    assert ignoring._planned_pause(SimpleNamespace(headers={"Retry-After": "12"})) == 0


class _Always503After15(_Always503):
    def send_header(self, keyword: str, value: str) -> None:
        super().send_header(keyword, "15" if keyword == "Retry-After" else value)


def test_a_retry_whose_pause_ends_exactly_at_the_budget_still_starts(clock: FakeClock) -> None:
    """Budget 30 s, Retry-After 15: the second pause ends at 30 s, inside the budget; the third would not."""
    _Always503After15.hits = 0
    with serving(_Always503After15) as url, client(signed_in_store(url), clock) as api:
        with pytest.raises(ApiError):
            api.get_json("/restapi/v1.0/account/~")
    assert _Always503After15.hits == 3
    assert clock.sleeps == [15, 15]


def _answer(status: int, retry_after: str | None = None) -> urllib3.HTTPResponse:
    return urllib3.HTTPResponse(status=status, headers={"Retry-After": retry_after} if retry_after else {})


def test_giving_up_on_the_budget_says_how_many_tries_and_keeps_the_pool_and_url(clock: FakeClock) -> None:
    pool = object()
    retry = rcauth.retry.BoundedRetry(
        3, status_forcelist={503}, budget=10, respect_retry_after_header=True, monotonic=clock.monotonic
    )
    first = retry.increment("GET", "/x", response=_answer(503), _pool=pool)  # the budget starts now
    assert first.deadline == clock.now + 10 and first.total == 2
    assert [(h.method, h.url, h.status) for h in first.history] == [("GET", "/x", 503)]
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        first.increment("GET", "/x", response=_answer(503, "11"), _pool=pool)
    assert (caught.value.pool, caught.value.url) == (pool, "/x")
    assert str(caught.value.reason) == "gave up after 2 tries in 10 s"


def test_giving_up_on_a_connection_error_reports_that_error(clock: FakeClock) -> None:
    # The second pause is 2 s.
    retry = rcauth.retry.BoundedRetry(3, budget=1, backoff_factor=1, monotonic=clock.monotonic)
    error = urllib3.exceptions.NewConnectionError(None, "refused")
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        retry.increment("GET", "/x", error=error).increment("GET", "/x", error=error)
    assert caught.value.reason is error


def test_a_retry_policy_keeps_its_budget_through_every_try() -> None:
    retry = rcauth.retry.BoundedRetry(2)
    assert (retry.total, retry.budget, retry.deadline) == (2, 30.0, None)
    assert rcauth.retry.BoundedRetry(2, budget=5).new().budget == 5


def test_a_connection_error_counts_against_the_connect_budget_and_is_the_reason_given() -> None:
    pool = object()
    error = urllib3.exceptions.NewConnectionError(None, "refused")
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        rcauth.retry.BoundedRetry(total=5, connect=0).increment("GET", "/x", error=error, _pool=pool)
    assert caught.value.reason is error and caught.value.pool is pool and caught.value.url == "/x"
