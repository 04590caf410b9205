"""The session in a real Secret Service (gnome-keyring on a private D-Bus), and nowhere else: not in a
file, not in output, not in clear on the session bus.

The login test plays the browser with `requests` (consent page -> its Approve form -> the loopback
redirect), so only the keyring is under test here; Chromium has its own tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from runner import Rcauth

from rcauth.secret_service import ALGORITHM
from ringcentral_emulator import DEMO_JWT

from .support import BrowserHandoff, SecretService, session_bus_capture, wait_until_read_directly

pytestmark = [pytest.mark.e2e, pytest.mark.secret_service]


def files_containing(root: Path, needles: list[str]) -> list[str]:
    """Every file under `root` whose bytes contain one of `needles`, as 'path: needle' lines."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {n[:8]}..." for n in needles if n.encode() in data]
    return found


def test_session_lives_in_the_keyring_only(
    secret_service: SecretService,
    rcauth: Rcauth,
    browser_handoff: BrowserHandoff,
    requests_browser: Callable[..., Any],
    emulator: Any,
    rcauth_home: Path,
    tmp_path: Path,
) -> None:
    assert secret_service.lookup() is None, "the private keyring already holds an rcauth session"

    proc = rcauth.start("login", "--timeout", "60")
    url = browser_handoff.wait_for_url(proc=proc)
    landed = requests_browser(url, "Approve")
    assert landed.status_code == 200, landed.text
    assert "signed in" in landed.text.lower(), landed.text
    login = rcauth.finish(proc)
    assert login.code == 0, login

    stored = secret_service.lookup()
    assert stored is not None, "no secret under service=rcauth username=default after login"
    session = json.loads(stored)
    access, refresh = session["access_token"], session["refresh_token"]
    assert len(access) >= 16 and len(refresh) >= 16, session.keys()
    assert session["server"].rstrip("/") == emulator.base_url.rstrip("/")
    assert session["client_id"] == rcauth.env["RC_APP_CLIENT_ID"]
    # At rest, in gnome-keyring's own file (under the private XDG_DATA_HOME scripts/test made), encrypted.
    keyrings = Path(os.environ["XDG_DATA_HOME"]) / "keyrings"
    assert any(p.stat().st_size > 0 for p in keyrings.glob("*.keyring")), f"no keyring file in {keyrings}"
    assert files_containing(keyrings, [access, refresh]) == [], "a token is in plain text in the keyring file"

    whoami = rcauth.run("whoami", "--json")
    assert whoami.code == 0, whoami

    logout = rcauth.run("logout")
    assert logout.code == 0, logout
    assert secret_service.lookup() is None, "the keyring entry survived `rcauth logout`"
    assert rcauth.run("whoami").code == 4

    tokens = [access, refresh]
    assert files_containing(rcauth_home, tokens) == [], "a token was written to a file under $HOME"
    assert files_containing(tmp_path, tokens) == [], "a token was written to a file under the test's tmp dir"
    for result in rcauth.results:
        for token in tokens:
            assert token not in result.out and token not in result.err, f"token printed by:\n{result}"
    assert all(token not in landed.text for token in tokens), "a token reached the browser"


def test_the_session_crosses_the_session_bus_only_encrypted(
    secret_service: SecretService, rcauth: Rcauth, emulator: Any, tmp_path: Path
) -> None:
    """A capture of the session bus (`dbus-monitor`, what a person debugging D-Bus records and keeps)
    made while rcauth reads the session straight from the Secret Service (whoami, token) and stores a
    rotated pair through keyring holds neither token nor the client secret: the reads open the same
    encrypted session keyring's backend opens for the writes."""
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 0, login
    signed_in = json.loads(wait_until_read_directly("default"))

    with session_bus_capture(tmp_path / "session-bus.pcap") as capture:
        for command in ("whoami", "token"):
            result = rcauth.run("--debug", command)
            assert result.code == 0, result
            # Read straight from the Secret Service, not by keyring (which rcauth's read falls back to).
            assert "through keyring" not in result.err, result
        emulator.expire_access_tokens()
        refreshed = rcauth.run("whoami")
        assert refreshed.code == 0, refreshed
        assert emulator.counters()["refreshes"] == 1

    rotated = json.loads(secret_service.lookup() or "{}")
    assert rotated["refresh_token"] != signed_in["refresh_token"]
    recorded = capture.read_bytes()
    # The capture saw the Secret Service traffic: sessions opened, secrets fetched, the rotated pair stored.
    assert ALGORITHM.encode() in recorded
    for method in (b"OpenSession", b"GetSecret", b"CreateItem"):
        assert method in recorded, method
    secrets = {
        "access token": signed_in["access_token"],
        "refresh token": signed_in["refresh_token"],
        "client secret": signed_in["client_secret"],
        "rotated access token": rotated["access_token"],
        "rotated refresh token": rotated["refresh_token"],
    }
    assert [name for name, value in secrets.items() if value.encode() in recorded] == []
