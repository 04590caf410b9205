"""`rcauth login` as a person runs it: a real subprocess, Debian's Chromium on the consent page, the loopback.

rcauth opens `$BROWSER`, which hands the URL to the test; Playwright drives Chromium from there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from runner import Rcauth

from .support import WAIT, BrowserHandoff

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LOGIN = ("login", "--timeout", "60")


def screenshot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0, f"empty screenshot {path}"


def open_consent(
    page: Any, rcauth: Rcauth, browser_handoff: BrowserHandoff, tmp_path: Path, name: str
) -> Any:
    """Start `rcauth login`, follow the URL it hands to $BROWSER, and check the consent page."""
    browser_handoff.reset()
    proc = rcauth.start(*LOGIN)
    url = browser_handoff.wait_for_url(proc=proc)
    page.goto(url)
    text = page.locator("body").inner_text()
    assert "RingCentral" in f"{page.title()} {text}", text
    assert "rcauth would like to access" in text, text  # the emulator App's default name
    assert "Approve" in text and "Deny" in text, text
    screenshot(page, tmp_path / f"{name}-consent.png")
    return proc


def test_login_in_chromium_then_whoami(
    page: Any, rcauth: Rcauth, browser_handoff: BrowserHandoff, emulator: Any, tmp_path: Path
) -> None:
    proc = open_consent(page, rcauth, browser_handoff, tmp_path, "approve")

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(rcauth.env["RC_REDIRECT_URL"] + "*")
    landed = page.locator("body").inner_text()
    assert "signed in" in landed.lower() and "close" in landed.lower(), landed
    screenshot(page, tmp_path / "approve-loopback.png")

    login = rcauth.finish(proc, timeout=WAIT)
    assert login.code == 0, login
    assert "Signed in as" in login.out, login
    assert browser_handoff.url_file.read_text(encoding="utf-8") in login.err, "authorize URL not on stderr"

    whoami = rcauth.run("whoami", "--json")
    assert whoami.code == 0, whoami
    me = json.loads(whoami.out)
    assert f"Signed in as {me['name']} (extension {me['extensionNumber']}" in login.out, login
    assert emulator.counters()["authorize_approved"] == 1


def test_deny_in_chromium_stores_nothing(
    page: Any, rcauth: Rcauth, browser_handoff: BrowserHandoff, emulator: Any, tmp_path: Path
) -> None:
    proc = open_consent(page, rcauth, browser_handoff, tmp_path, "deny")

    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(rcauth.env["RC_REDIRECT_URL"] + "*")
    screenshot(page, tmp_path / "deny-loopback.png")
    assert "denied" in page.locator("body").inner_text().lower()

    login = rcauth.finish(proc, timeout=WAIT)
    assert login.code == 1, login
    assert login.out == "", login
    errors = [line for line in login.err.splitlines() if "denied" in line.lower()]
    assert len(errors) == 1 and "access was denied" in errors[0], login
    assert emulator.counters()["authorize_denied"] == 1
    assert emulator.counters()["grants"].get("authorization_code", 0) == 0

    whoami = rcauth.run("whoami")
    assert whoami.code == 4, whoami


def test_second_login_replaces_the_session(
    page: Any, rcauth: Rcauth, browser_handoff: BrowserHandoff, emulator: Any, tmp_path: Path
) -> None:
    tokens = []
    for round_ in ("first", "second"):
        proc = open_consent(page, rcauth, browser_handoff, tmp_path, round_)
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(rcauth.env["RC_REDIRECT_URL"] + "*")
        login = rcauth.finish(proc, timeout=WAIT)
        assert login.code == 0, login
        assert "Signed in as" in login.out, login
        token = rcauth.run("token")
        assert token.code == 0, token
        tokens.append(token.out.strip())

    old, new = tokens
    assert old and new and old != new
    counters = emulator.counters()
    assert counters["grants"].get("authorization_code") == 2, counters
    assert counters["authorize_approved"] == 2, counters
    # rcauth revokes the session it replaces (RingCentral caps parallel sessions per user and app).
    assert counters["revokes"] == 1, counters
    assert me_with(emulator, old).status_code == 401
    assert me_with(emulator, new).status_code == 200
    whoami = rcauth.run("whoami", "--json")
    assert whoami.code == 0, whoami


def me_with(emulator: Any, access_token: str) -> requests.Response:
    """GET the current extension straight from the emulator with this bearer token."""
    return requests.get(
        f"{emulator.base_url}/restapi/v1.0/account/~/extension/~",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=WAIT,
    )
