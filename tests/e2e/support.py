"""Helpers for the end-to-end tests (the fixtures that use them are in conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def wait_until_read_directly(username: str, service: str = "rcauth", timeout: float = WAIT) -> str:
    """The entry as `rcauth.secret_service` reads it, once it can.

    gnome-keyring re-publishes its "default" alias object shortly after a write, and a client asking
    in that moment is told UnknownMethod (rcauth then reads through keyring, as it should). A test
    about the direct read waits until the alias answers.
    """
    from rcauth.secret_service import NotHere, SecretServiceReader

    deadline = time.monotonic() + timeout
    while True:
        try:
            with SecretServiceReader(5) as reader:
                if (value := reader.get(service, username)) is not None:
                    return value
        except NotHere:
            pass
        assert time.monotonic() < deadline, "the Secret Service never answered the direct read"
        time.sleep(0.05)


@contextmanager
def session_bus_capture(path: Path) -> Iterator[Path]:
    """Every message on the session bus while the block runs, bodies and all, written to `path` as
    `dbus-monitor --pcap` records it (what a person debugging D-Bus would capture, and keep).

    The block starts once the monitor sees the bus and ends once it has seen everything sent
    before: a marker call is sent until it shows in the capture.
    """
    if shutil.which("dbus-monitor") is None:
        unavailable("dbus-monitor not found (Debian package dbus-bin, which the dbus package installs)")
    with open(path, "wb") as out:
        monitor = subprocess.Popen(
            ["dbus-monitor", "--session", "--pcap"], stdout=out, stderr=subprocess.DEVNULL
        )
    try:
        _wait_for_marker(path, monitor)
        yield path
        _wait_for_marker(path, monitor)
    finally:
        monitor.terminate()
        monitor.wait(timeout=WAIT)


def _wait_for_marker(path: Path, monitor: subprocess.Popen[bytes]) -> None:
    """Ask the bus about a name no one owns, again and again, until the capture holds the question."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    marker = f"org.rcauth.test.capture_{uuid.uuid4().hex}"
    deadline = time.monotonic() + WAIT
    with open_dbus_connection(bus="SESSION") as bus:
        while marker.encode() not in path.read_bytes():
            assert monitor.poll() is None, f"dbus-monitor exited ({monitor.returncode})"
            assert time.monotonic() < deadline, f"dbus-monitor recorded nothing within {WAIT:.0f}s"
            bus.send_and_get_reply(message_bus.NameHasOwner(marker), timeout=WAIT)
            time.sleep(0.05)


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
