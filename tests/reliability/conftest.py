"""Fixtures for the reliability tests: an emulator in this process, `rcauth` in real subprocesses.

The subprocesses get their own environment: the config/state/data dirs tests/conftest.py isolates,
the emulator's server and app, and a keyring (`reliability_support.FileKeyring`) kept in files
under the test's home, so several processes share one keyring as they would a real one.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import jwt_session, loopback_redirect_uri
from intercepting_proxy import InterceptingProxy
from reliability_support import (
    AUTHORIZE_URL,
    BACKEND,
    HERE,
    KEYRING_DIR_ENV,
    REPO,
    FileKeyring,
    Rcauth,
    Result,
    stored_grants,
    wait_for_stderr,
    write_atomically,
)

from rcauth.demo import HeadlessApprover
from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import App, Emulator, EmulatorConfig

DROPPED_ENV = ("RC_", "RCAUTH_", "PYTHON_KEYRING", "BROWSER", "PYTEST_ADDOPTS", "COV_CORE")


@pytest.fixture
def redirect_uri() -> str:
    """The loopback redirect URI a login listens on; the emulator's app registers exactly this one."""
    return loopback_redirect_uri()


@pytest.fixture
def emu(redirect_uri: str) -> Iterator[Emulator]:
    """A running emulator: strict rotation (a spent refresh token is refused at once), no rate limits
    unless a test turns them on, one app that registers `redirect_uri`."""
    config = EmulatorConfig(
        apps=(App(redirect_uris=(redirect_uri,)),), strict_rotation=True, rate_limits_enabled=False
    )
    with Emulator(config, host="127.0.0.1", port=0) as emulator:
        yield emulator


@pytest.fixture
def keyring_dir(isolated: Path) -> Path:
    return isolated / "keyring"


@pytest.fixture
def env(isolated: Path, keyring_dir: Path, emu: Emulator, redirect_uri: str) -> dict[str, str]:
    """The subprocesses' environment: isolated dirs, the emulator and its app, the file-backed keyring."""
    app = emu.config.apps[0]
    base = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV)}
    base.update(
        HOME=str(isolated),
        RCAUTH_CONFIG_DIR=os.environ["RCAUTH_CONFIG_DIR"],
        RCAUTH_STATE_DIR=os.environ["RCAUTH_STATE_DIR"],
        RCAUTH_DATA_DIR=os.environ["RCAUTH_DATA_DIR"],
        RC_SERVER_URL=emu.base_url,
        RC_APP_CLIENT_ID=app.client_id,
        RC_APP_CLIENT_SECRET=app.client_secret,
        RC_REDIRECT_URL=redirect_uri,
        PYTHON_KEYRING_BACKEND=BACKEND,
        PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent), str(REPO)]),  # + tests/runner.py
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
        COLUMNS="200",
        **{KEYRING_DIR_ENV: str(keyring_dir)},
    )
    return base


@pytest.fixture
def file_store_env(env: dict[str, str]) -> dict[str, str]:
    """No keyring at all (keyring's fail backend), with consent to rcauth's 0600 file."""
    return {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "RCAUTH_INSECURE_STORAGE": "1"}


@pytest.fixture
def rcauth(env: dict[str, str], tmp_path: Path) -> Iterator[Rcauth]:
    runner = Rcauth(env, logs=tmp_path / "logs")
    try:
        yield runner
    finally:
        runner.kill_all()


@pytest.fixture
def sign_in(emu: Emulator, keyring_dir: Path) -> Callable[..., Session]:
    """`sign_in(profile="default", store="keyring", **changes)`: a real session from the emulator
    (JWT grant, one POST) written where the subprocesses will look for it; `changes` edit the stored
    value (e.g. `access_expires_at=0` for a token that is due)."""

    def sign_in(profile: str = "default", store: str = "keyring", **changes: Any) -> Session:
        session = dataclasses.replace(jwt_session(emu), **changes)
        if store == "keyring":
            write_atomically(FileKeyring.entry("rcauth", profile, keyring_dir), session.to_json())
        else:
            FileStore(profile).save(session)
        return session

    return sign_in


def load_stored(keyring_dir: Path, profile: str = "default") -> Session | None:
    path = FileKeyring.entry("rcauth", profile, keyring_dir)
    return Session.from_json(path.read_text(encoding="utf-8")) if path.exists() else None


@pytest.fixture
def stored(keyring_dir: Path) -> Callable[..., Session | None]:
    """`stored(profile="default")`: the session the subprocesses' keyring holds now, or None."""
    return lambda profile="default": load_stored(keyring_dir, profile)


@pytest.fixture
def browser_login(rcauth: Rcauth) -> Callable[..., Result]:
    """`browser_login(*args, env=None)`: a real `rcauth login --no-browser` subprocess, approved the way
    a browser would (load the consent page, press Approve, follow the redirect to the loopback)."""

    def login(*args: str, env: dict[str, str] | None = None) -> Result:
        proc = rcauth.start("login", "--no-browser", *args, env=env)
        url = wait_for_stderr(proc, AUTHORIZE_URL).group(1)
        HeadlessApprover("Approve").approve(url)
        return rcauth.finish(proc)

    return login


@pytest.fixture
def proxy(emu: Emulator) -> Iterator[InterceptingProxy]:
    """A corporate proxy / captive portal between rcauth and the emulator, on a real loopback socket
    (intercepting_proxy.py): set `proxy.answer` to intercept, `None` to pass requests on."""
    with InterceptingProxy(emu.base_url) as stub:
        yield stub


@pytest.fixture
def grants_accounted(emu: Emulator, keyring_dir: Path) -> Callable[[], None]:
    """Invariant 3 of issue 20: `grants_accounted()` asserts that the sessions alive at the emulator
    are exactly the sessions the keyring holds (of every profile): each grant issued was stored or
    revoked, none is left alive with nothing able to end it, and none stored was ended under it."""

    def check() -> None:
        live, kept = sorted(emu.live_grants()), sorted(stored_grants(keyring_dir))
        orphans = len(set(live) - set(kept))
        assert live == kept, f"{len(live)} alive at the emulator, {len(kept)} stored, {orphans} orphaned"

    return check


@pytest.fixture
def hangups_not_ignored() -> Iterator[None]:
    """rcauth keeps ignoring a signal it inherits ignored (`nohup`): the test's child must not."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)
