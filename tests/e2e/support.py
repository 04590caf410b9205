"""Helpers for the end-to-end tests (the fixtures that use them are in conftest.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import requests
from runner import stderr_of, stdout_of

from rcauth.demo import HeadlessApprover

IN_CI = os.environ.get("CI") == "true"

CHROMIUM = Path(os.environ.get("RCAUTH_TEST_CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium, never a Playwright download (`playwright install` cannot reach its CDN from CI).
# Root in a container has no user namespaces for the sandbox, and a small /dev/shm; the rest keeps
# Chromium off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WAIT = 20.0  # seconds: the bound on every wait in these tests, unless a test says otherwise
PROBE_SERVICE = "rcauth-e2e-probe"


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI, where a missing browser or keyring is a broken install."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A loopback port that was free a moment ago (the emulator must know the redirect URI up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KEYRING_PROBE = textwrap.dedent(
    """
    import sys, keyring
    from keyring.backends import SecretService
    kr = keyring.get_keyring()
    if not isinstance(kr, SecretService.Keyring):
        sys.exit(f"keyring's active backend is {kr!r}, not SecretService")
    service, user = sys.argv[1], sys.argv[2]
    kr.set_password(service, user, "probe-value")
    got = kr.get_password(service, user)
    kr.delete_password(service, user)
    if got != "probe-value" or kr.get_password(service, user) is not None:
        sys.exit(f"SecretService round trip returned {got!r}")
    """
)


@dataclass(frozen=True)
class SecretServiceStatus:
    usable: bool
    reason: str


@dataclass(frozen=True)
class SecretService:
    """The running Secret Service, read the way a person would: with libsecret's `secret-tool`."""

    def lookup(self, username: str = "default", service: str = "rcauth") -> str | None:
        """The stored secret for keyring's (service, username) attributes, or None when there is none."""
        r = subprocess.run(
            ["secret-tool", "lookup", "service", service, "username", username],
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        return r.stdout if r.returncode == 0 and r.stdout else None

    def clear(self, service: str = "rcauth") -> None:
        """Remove every item with this service attribute (the keyring is the test run's private one)."""
        subprocess.run(
            ["secret-tool", "clear", "service", service], capture_output=True, timeout=WAIT, check=False
        )


@dataclass
class BrowserHandoff:
    """What `$BROWSER` points at: a script that writes the URL it is given to a file, for the test to open.

    Python's `webbrowser` runs `$BROWSER <url>`; the script always exits 0 so `webbrowser` never falls
    through to a real browser.
    """

    script: Path
    url_file: Path

    def reset(self) -> None:
        self.url_file.unlink(missing_ok=True)

    def wait_for_url(self, timeout: float = WAIT, proc: subprocess.Popen[str] | None = None) -> str:
        """The URL handed to the browser; fails after `timeout` seconds or when `proc` exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.url_file.exists():
                return self.url_file.read_text(encoding="utf-8").strip()
            if proc is not None and proc.poll() is not None:
                out, err = stdout_of(proc), stderr_of(proc)
                pytest.fail(f"rcauth exited {proc.returncode} before opening a browser:\n{out}\n{err}")
            time.sleep(0.05)
        pytest.fail(f"no URL reached $BROWSER within {timeout:.0f}s")


def submit_consent(url: str, button_text: str = "Approve", timeout: float = WAIT) -> requests.Response:
    """Play the browser with `requests`: open the consent page at `url`, press `button_text` the way its
    HTML form says, and follow the redirect to rcauth's loopback page; returns that last response.
    The same approver `rcauth demo` uses on a machine without a browser."""
    return HeadlessApprover(button_text).approve(url)
