"""End-to-end fixtures: the emulator, `rcauth` in real subprocesses, Debian's Chromium, the Secret Service.

`bash scripts/test` runs pytest inside a private D-Bus session with an unlocked gnome-keyring, under a
throwaway $HOME. Outside CI a missing browser or keyring skips the tests that need it (with the reason);
under CI=true it fails them, so a broken install cannot pass as green.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import loopback_redirect_uri
from runner import Rcauth

from .support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    KEYRING_PROBE,
    PROBE_SERVICE,
    WAIT,
    BrowserHandoff,
    SecretService,
    SecretServiceStatus,
    submit_consent,
    unavailable,
)

# ---------------------------------------------------------------- Secret Service


@pytest.fixture(scope="session")
def secret_service_status() -> SecretServiceStatus:
    """Whether keyring's SecretService backend works here: a set/get/delete probe in a subprocess.

    A subprocess, so a hung D-Bus call (a keyring waiting on an unlock prompt nobody can answer)
    is bounded by a timeout instead of hanging the run.
    """
    bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not bus:
        return SecretServiceStatus(False, "no D-Bus session bus (run the tests with `bash scripts/test`)")
    if os.environ.get("RCAUTH_TEST_KEYRING_BUS") != bus:
        # Never write test sessions into a person's real keyring: only into the one scripts/test made.
        return SecretServiceStatus(
            False, "not on the private keyring `bash scripts/test` starts (leaving your real keyring alone)"
        )
    if shutil.which("secret-tool") is None:
        return SecretServiceStatus(False, "secret-tool not found (Debian package libsecret-tools)")
    try:
        r = subprocess.run(
            [sys.executable, "-c", KEYRING_PROBE, PROBE_SERVICE, uuid.uuid4().hex],
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
    except subprocess.TimeoutExpired:
        return SecretServiceStatus(False, f"the Secret Service did not answer within {WAIT:.0f}s")
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return SecretServiceStatus(False, f"keyring's SecretService backend is not usable: {last}")
    return SecretServiceStatus(True, "")


@pytest.fixture
def secret_service(secret_service_status: SecretServiceStatus) -> SecretService:
    """A usable Secret Service (keyring's active backend is SecretService); skip/fail otherwise."""
    if not secret_service_status.usable:
        unavailable(secret_service_status.reason)
    return SecretService()


# ---------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def _chromium_session() -> Iterator[tuple[Any, str]]:
    """(browser, "") or (None, reason); one Chromium for the whole run, started on first use."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        yield None, f"playwright is not installed ({exc}); `bash scripts/test` installs it"
        return
    if not os.access(CHROMIUM, os.X_OK):
        yield None, f"{CHROMIUM} not found (Debian package chromium)"
        return
    with sync_playwright() as pw:
        try:
            # executable_path: Debian's Chromium; `playwright install` is never run (no download from CI).
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
            )
        except PlaywrightError as exc:
            first = (str(exc).strip().splitlines() or ["?"])[0]
            yield None, f"could not launch {CHROMIUM} with Playwright: {first}"
            return
        try:
            yield browser, ""
        finally:
            browser.close()


@pytest.fixture
def chromium(_chromium_session: tuple[Any, str]) -> Any:
    """A Playwright `Browser`: Debian's Chromium, headless."""
    browser, reason = _chromium_session
    if browser is None:
        unavailable(reason)
    return browser


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page in its own browser context (no cookies shared between tests); waits bounded by WAIT."""
    context = chromium.new_context()
    context.set_default_timeout(WAIT * 1000)
    try:
        yield context.new_page()
    finally:
        context.close()


# ---------------------------------------------------------------- emulator and rcauth


@pytest.fixture
def redirect_uri() -> str:
    """The loopback redirect URI rcauth will listen on; the emulator's app registers exactly this one."""
    return loopback_redirect_uri()


@pytest.fixture
def emulator(redirect_uri: str) -> Iterator[Any]:
    """A running emulator (port 0, no rate limits) whose one app allows `redirect_uri`."""
    from ringcentral_emulator import App, Emulator, EmulatorConfig

    config = EmulatorConfig(apps=(App(redirect_uris=(redirect_uri,)),), rate_limits_enabled=False)
    with Emulator(config, host="127.0.0.1", port=0) as emu:
        yield emu


@pytest.fixture
def browser_handoff(tmp_path: Path) -> BrowserHandoff:
    """A `$BROWSER` that hands the URL to the test instead of opening anything."""
    directory = tmp_path / "handoff"
    directory.mkdir()
    url_file = directory / "url"
    script = directory / "browser.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import os, sys
            tmp = {str(url_file)!r} + ".part"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(sys.argv[1] if len(sys.argv) > 1 else "")
            os.replace(tmp, {str(url_file)!r})
            """
        ),
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return BrowserHandoff(script=script, url_file=url_file)


@pytest.fixture
def rcauth_home(tmp_path: Path) -> Path:
    """The subprocesses' $HOME; every XDG dir lives inside it, so one walk covers all they write."""
    home = tmp_path / "home"  # the same directory tests/conftest.py's `isolated` fixture names
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture
def rcauth_env(
    rcauth_home: Path,
    emulator: Any,
    redirect_uri: str,
    browser_handoff: BrowserHandoff,
    secret_service_status: SecretServiceStatus,
) -> dict[str, str]:
    """Environment for `python -m rcauth ...`: throwaway home, the emulator, its app, the handoff browser.

    Keeps DBUS_SESSION_BUS_ADDRESS so the keyring is the private one `scripts/test` started. Where no
    Secret Service works (a developer machine outside scripts/test), sessions go to rcauth's opt-in file
    inside the throwaway home instead, never to the developer's own keychain.
    """
    from ringcentral_emulator import App

    app = App(redirect_uris=(redirect_uri,))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RC_", "RCAUTH_", "PYTHON_KEYRING")) and k not in {"BROWSER", "PYTEST_ADDOPTS"}
    }
    runtime = rcauth_home / ".run"
    runtime.mkdir(mode=0o700)
    env.update(
        HOME=str(rcauth_home),
        XDG_CONFIG_HOME=str(rcauth_home / ".config"),
        XDG_DATA_HOME=str(rcauth_home / ".local" / "share"),
        XDG_STATE_HOME=str(rcauth_home / ".local" / "state"),
        XDG_CACHE_HOME=str(rcauth_home / ".cache"),
        XDG_RUNTIME_DIR=str(runtime),
        RC_SERVER_URL=emulator.base_url,
        RC_APP_CLIENT_ID=app.client_id,
        RC_APP_CLIENT_SECRET=app.client_secret,
        RC_REDIRECT_URL=redirect_uri,
        BROWSER=str(browser_handoff.script),
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
        COLUMNS="200",
    )
    if not secret_service_status.usable:
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        env["RCAUTH_INSECURE_STORAGE"] = "1"
    return env


@pytest.fixture
def rcauth(
    rcauth_env: dict[str, str], secret_service_status: SecretServiceStatus, tmp_path: Path
) -> Iterator[Rcauth]:
    """Runs `python -m rcauth ...` with `rcauth_env` (tests/runner.py, as the reliability suite does);
    kills whatever is still running at teardown.

    The private keyring outlives a test, so each test starts and ends with no rcauth entry in it.
    """
    keyring = SecretService() if secret_service_status.usable else None
    if keyring is not None:
        keyring.clear()
    runner = Rcauth(rcauth_env, logs=tmp_path / "rcauth-logs")
    try:
        yield runner
    finally:
        runner.kill_all()
        if keyring is not None:
            keyring.clear()


@pytest.fixture
def requests_browser() -> Callable[..., Any]:
    """`submit_consent(url, button_text="Approve")`: the consent page driven without Chromium."""
    return submit_consent
