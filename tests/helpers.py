"""What many test files need, written once: a fake clock, a free loopback port, a stub server on one, a
JWT sign-in to the emulator, and sessions to store.

Imported by name (`from helpers import ...`), as `runner` and `cli_runner` are: pytest puts tests/ on
the path for every suite below it. In-process only; what a subprocess needs is in its suite's support
module."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests

from rcauth.oauth import RingCentralOAuth
from rcauth.session import Session
from rcauth.store import KeyringStore
from ringcentral_emulator import DEMO_JWT, Emulator

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SERVER = "https://platform.ringcentral.com"


class FakeClock:
    """Time that only the test moves: `time()` and `monotonic()` read `now`, and `sleep()` records the
    pause and moves `now` on instead of waiting. Its methods go where code takes a clock
    (`ApiClient(clock=..., monotonic=..., sleep=...)`, `BoundedRetry`, the emulator's parts), so no test
    patches `time` inside a module."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def free_port() -> int:
    """A loopback port that was free a moment ago: for a URL that must be known before its server
    starts (a redirect URI the emulator registers), or one nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def loopback_redirect_uri() -> str:
    """A redirect URI on a free loopback port, as a login listens on and an emulator app registers."""
    return f"http://127.0.0.1:{free_port()}/oauth2callback"


def jwt_token(emu: Emulator, http: requests.Session | None = None) -> dict[str, Any]:
    """The emulator's answer to RingCentral's JWT grant (one POST, as the emulator's first app, with
    `DEMO_JWT`), read over HTTP without rcauth: for tests of the emulator itself."""
    app = emu.config.apps[0]
    answer = (http or requests).post(
        f"{emu.base_url}/restapi/oauth/token",
        data={"grant_type": JWT_GRANT, "assertion": DEMO_JWT},
        auth=(app.client_id, app.client_secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def jwt_session(emu: Emulator) -> Session:
    """A real session from the emulator, through rcauth's own JWT grant: tokens the emulator will
    accept and rotate, as `rcauth login --jwt` would store them."""
    app = emu.config.apps[0]
    token = RingCentralOAuth(emu.base_url, app.client_id, app.client_secret).jwt_bearer(DEMO_JWT)
    return Session.from_token_response(
        token, server=emu.base_url, client_id=app.client_id, client_secret=app.client_secret
    )


def make_session(expires_in: float = 3600, *, now: float | None = None, **changes: Any) -> Session:
    """A valid session (made up, for a mocked or no server): its access token good for `expires_in`
    seconds from `now` (the wall clock unless given), its refresh token for RingCentral's 7 days.
    `changes` set any other field."""
    now = time.time() if now is None else now
    fields: dict[str, Any] = {
        "server": SERVER,
        "client_id": "cid",
        "client_secret": "sec",
        "access_token": "AT-test-1",
        "access_expires_at": now + expires_in,
        "refresh_token": "RT-test-1",
        "refresh_expires_at": now + 604800,
        "created_at": now,
    }
    return Session(**{**fields, **changes})


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` answering on a free loopback port, on a thread of its own, for the length of the
    block; yields its base URL (`http://127.0.0.1:PORT`). For a server shaped as no emulator is."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def save_session(profile: str = "default", expires_in: float = 3600, **changes: Any) -> Session:
    """`make_session(expires_in, **changes)` kept in the profile's keyring entry (the in-memory keyring
    tests/conftest.py installs), where a command looks for it."""
    session = make_session(expires_in, **changes)
    KeyringStore(profile).save(session)
    return session


def token_answer(access_token: str, refresh_token: str, **fields: Any) -> dict[str, Any]:
    """What RingCentral's token endpoint answers to a grant: a bearer pair, the access token good for an
    hour and the refresh token for 7 days; `fields` add to it or change it (`scope`, `owner_id`, ...)."""
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": refresh_token,
        "refresh_token_expires_in": 604800,
        **fields,
    }
