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
import urllib3.util.retry

import rcauth.interrupts
import rcauth.retry
from rcauth.client import ApiClient
from rcauth.errors import ApiError, TransportError
from rcauth.oauth import RingCentralOAuth
from rcauth.session import Session
from rcauth.store import MemoryStore
from ringcentral_emulator import DEMO_JWT, Emulator, EmulatorConfig


class FakeClock:
    """`time.monotonic` and `time.sleep` for urllib3's Retry and rcauth.retry: sleeping advances it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Replaces the `time` module seen by urllib3's retry and rcauth.retry only (not the process's)."""
    fake = FakeClock()
    fake_time = SimpleNamespace(sleep=fake.sleep, monotonic=fake.monotonic, time=time.time)
    monkeypatch.setattr(urllib3.util.retry, "time", fake_time)
    monkeypatch.setattr(rcauth.retry, "time", fake_time)
    monkeypatch.setattr(rcauth.interrupts, "time", fake_time)
    return fake


def signed_in_store(server: str, emu: Emulator | None = None) -> MemoryStore:
    store = MemoryStore()
    if emu is not None:
        app = emu.config.apps[0]
        token = RingCentralOAuth(server, app.client_id, app.client_secret).jwt_bearer(DEMO_JWT)
        store.save(
            Session.from_token_response(
                token, server=server, client_id=app.client_id, client_secret=app.client_secret
            )
        )
    else:
        store.save(
            Session(
                server=server,
                client_id="cid",
                client_secret="sec",
                access_token="AT-x-123456",
                access_expires_at=time.time() + 3600,
                refresh_token="RT-x-123456",
                refresh_expires_at=time.time() + 86400,
            )
        )
    return store


def test_dropped_connections_are_retried_six_times_then_reported(clock: FakeClock) -> None:
    with Emulator(EmulatorConfig(rate_limits_enabled=False)) as emu:
        store = signed_in_store(emu.base_url, emu)
        emu.set(fault_rate=1.0, fault_kinds=("drop",))
        with ApiClient(store) as client, pytest.raises(TransportError) as caught:
            client.get_json("/restapi/v1.0/account/~")
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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Always503)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_no_retry_starts_after_the_time_budget(clock: FakeClock, always_503: str) -> None:
    """Retry-After: 20 each time, budget 30 s: the second pause would end at 40 s, so it stops there."""
    with ApiClient(signed_in_store(always_503)) as client, pytest.raises(ApiError) as caught:
        client.get_json("/restapi/v1.0/account/~")
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
    import socket

    import urllib3.util.connection

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
    with ApiClient(store) as client, pytest.raises(TransportError) as caught:
        client.get_json("/restapi/v1.0/account/~")
    assert attempts == [("127.0.0.1", port)]
    assert clock.sleeps == []
    assert f"HTTPS_PROXY=http://127.0.0.1:{port}" in str(caught.value)

    attempts.clear()
    oauth = RingCentralOAuth("https://platform.ringcentral.com", "cid", "secret")
    with pytest.raises(TransportError, match="could not reach the proxy"):
        oauth.refresh("RT-x-123456")
    assert attempts == [("127.0.0.1", port)] and clock.sleeps == []


def test_retry_policy_gives_up_at_once_on_a_proxy_error_but_still_retries_a_refused_server() -> None:
    from urllib3.exceptions import MaxRetryError, NewConnectionError, ProxyError

    policy = rcauth.retry.BoundedRetry(total=6, connect=6, read=6, status=6, other=0)
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    with pytest.raises(MaxRetryError) as caught:
        policy.increment("GET", "/x", error=ProxyError("Unable to connect to proxy", refused))
    assert isinstance(caught.value.reason, ProxyError)
    assert policy.increment("GET", "/x", error=refused).connect == 5  # the server itself: retried
