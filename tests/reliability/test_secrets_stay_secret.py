"""Secrets stay secret (issue 4, point 8): with --debug on every command, no access token, refresh
token, client secret, authorization code, PKCE verifier or JWT credential appears on stdout, on
stderr, or in any file rcauth writes (other than where the session itself is kept).

The secrets are collected from where they are born: the emulator records every code and token it
issues and every PKCE verifier presented to it (`Emulator.secrets_seen()`), so the list includes the
code and verifier of the real browser login and every rotated pair, not just what is stored at the end.
`rcauth token` prints the token by design: only its stderr is checked.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

from reliability_support import FileKeyring, write_atomically

from ringcentral_emulator import DEMO_JWT
from ringcentral_emulator.config import DEFAULT_CLIENT_SECRET


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The secrets found in `text`, shortened so a failure report does not leak them in turn."""
    return [f"{s[:6]}...({len(s)} chars)" for s in secrets if s in text]


def written_files(home: Path, keyring_dir: Path) -> dict[Path, str]:
    """Every file under the subprocesses' home, except the keyring (it holds the session by design)."""
    return {
        path: path.read_text(encoding="utf-8", errors="replace")
        for path in home.rglob("*")
        if path.is_file() and keyring_dir not in path.parents
    }


def test_debug_output_of_every_command_holds_no_secret(
    emu, rcauth, browser_login, stored, isolated, keyring_dir, tmp_path
) -> None:
    app = emu.config.apps[0]
    results = [browser_login("--debug")]  # authorization code + PKCE verifier + exchange
    emu.expire_access_tokens()
    results.append(rcauth.run("--debug", "whoami", "--json"))  # 401, refresh under the lock, retry
    session = stored()
    write_atomically(  # due by the stored expiry: the refresh-ahead path
        FileKeyring.entry("rcauth", "default", keyring_dir),
        dataclasses.replace(session, access_expires_at=time.time() - 1).to_json(),
    )
    results.append(rcauth.run("--debug", "call-log", "--limit", "5", "--json"))
    results.append(rcauth.run("--debug", "status"))
    results.append(rcauth.run("--debug", "status", "--check", "--json"))
    results.append(rcauth.run("--debug", "api", "GET", "/restapi/v1.0/account/~"))
    token = rcauth.run("--debug", "token")
    results.append(rcauth.run("--debug", "logout"))
    results.append(rcauth.run("--debug", "login", "--jwt", env={"RC_JWT": DEMO_JWT}))  # JWT grant
    emu.revoke_all()
    ended = rcauth.run("--debug", "whoami")  # a failure: --debug logs the traceback too
    results.append(ended)
    assert all(r.code == 0 for r in results[:-1]), "\n".join(str(r) for r in results if r.code)
    assert token.code == 0 and ended.code == 4, ended

    secrets = [*emu.secrets_seen(), app.client_secret, DEMO_JWT]
    counters = emu.counters()
    # Every kind of secret was really in play: codes, tokens (several rotations), a verifier.
    assert counters["grants"]["authorization_code"] == 1 and counters["refreshes"] >= 2
    assert len(secrets) >= 2 + 2 * (1 + counters["refreshes"] + 1) + 1

    for result in results:
        found = leaks(result.out + result.err, secrets)
        assert not found, result.args
        if result.args != ("--debug", "status"):  # (the only one that makes no request at all)
            assert "debug: " in result.err, result  # --debug really logged the traffic
    found = leaks(token.err, secrets)
    assert not found
    assert "POST /restapi/oauth/token" in results[0].err and "***" in results[0].err
    assert "Traceback" in ended.err
    for path, text in written_files(isolated, keyring_dir).items():
        found = leaks(text, secrets)
        assert not found, path
    for log in (tmp_path / "logs").glob("*.stderr"):  # every stderr, once more, whole
        found = leaks(log.read_text(errors="replace"), secrets)
        assert not found, log


def test_debug_demo_holds_no_secret(rcauth, tmp_path) -> None:
    """`rcauth demo` runs its own emulator inside the process; a wrapper records that emulator's
    secrets when it stops (reliability_support.run_recording_emulator_secrets)."""
    secrets_file = tmp_path / "demo-secrets.json"
    proc = rcauth.start(
        argv=[sys.executable, "-m", "reliability_support", str(secrets_file), "--debug", "demo", "--headless"]
    )
    result = rcauth.finish(proc, timeout=60)
    assert result.code == 0, result
    secrets = [*json.loads(secrets_file.read_text()), DEFAULT_CLIENT_SECRET]
    assert len(secrets) >= 4  # a code, a verifier, a pair: the demo really signed in
    assert "debug: " in result.err and "Signed in as" in result.out + result.err
    found = leaks(result.out + result.err, secrets)
    assert not found


def test_debug_never_shows_the_basic_client_credential(emu, rcauth, sign_in) -> None:
    """Issue 10 §7: every token request authenticates the app with `Authorization: Basic
    base64(client_id:client_secret)`; --debug logs the traffic, but never that header, in any form."""
    import base64

    app = emu.config.apps[0]
    credential = f"{app.client_id}:{app.client_secret}"
    forms = [
        app.client_secret,
        base64.b64encode(credential.encode()).decode(),
        base64.urlsafe_b64encode(credential.encode()).decode(),
        base64.b64encode(credential.encode()).decode().rstrip("="),
    ]
    login = rcauth.run("--debug", "login", "--jwt", env={"RC_JWT": DEMO_JWT})  # a token request
    sign_in(access_expires_at=0)  # due: the next command refreshes first (a second token request)
    refreshed = rcauth.run("--debug", "whoami", "--json")
    assert login.code == 0 and refreshed.code == 0, (login, refreshed)
    assert emu.counters()["refreshes"] >= 1
    for result in (login, refreshed):
        assert "POST /restapi/oauth/token" in result.err, result  # the token request really was logged
        assert not leaks(result.out + result.err, forms), result.args
