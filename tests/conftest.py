"""Shared fixtures: every test runs with its config, state and data dirs in tmp_path and, outside
tests/e2e, an in-memory keyring backend, so no test can touch the user's real session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from installed_keyring import MemoryKeyring, install

from rcauth import redact

RC_ENV = (
    "RC_APP_CLIENT_ID",
    "RC_CLIENT_ID",
    "RC_APP_CLIENT_SECRET",
    "RC_CLIENT_SECRET",
    "RC_SERVER_URL",
    "RC_REDIRECT_URL",
    "RC_MEDIA_URL",
    "RC_JWT",
    "RCAUTH_PROFILE",
    "RCAUTH_INSECURE_STORAGE",
    "RCAUTH_ENV_FILE",
    "BROWSER",
    "OAUTHLIB_INSECURE_TRANSPORT",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Config, state and data dirs under tmp_path; no RC_* settings leak in from the environment."""
    for name in RC_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    for kind in ("CONFIG", "STATE", "DATA"):
        directory = home / kind.lower()
        monkeypatch.setenv(f"RCAUTH_{kind}_DIR", str(directory))
    yield home


@pytest.fixture(autouse=True)
def memory_keyring(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring | None:
    """Unit tests get an in-memory keyring, named as the user names one (`installed_keyring`);
    tests/e2e use whatever the machine has (subprocesses)."""
    if "e2e" in Path(str(request.node.path)).parts:
        return None
    backend = MemoryKeyring()
    install(monkeypatch, backend)
    return backend


@pytest.fixture(autouse=True)
def _no_keyring_call_left_waiting() -> Iterator[None]:
    """A test's hung keyring (its calls given up on, still waiting) must not make the next test's
    keyring fail at once (`rcauth.store._bounded`): each test starts as a new process would."""
    yield
    from rcauth import store

    store._stuck.clear()
    store._fast_read_gave_up.clear()


@pytest.fixture(autouse=True)
def _fresh_redaction_registry() -> Iterator[None]:
    """Secrets registered by one test must not mask text in the next."""
    yield
    redact._secrets.clear()
