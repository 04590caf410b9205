"""The session in a real Secret Service (gnome-keyring on a private D-Bus), and nowhere else.

The test plays the browser with `requests` (consent page -> its Approve form -> the loopback redirect),
so only the keyring is under test here; Chromium has its own tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from runner import Rcauth

from .support import BrowserHandoff, SecretService

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
