"""Issue 10, point 4: storage problems are found before sign-in where possible, and a grant that is
made and then cannot be stored is revoked, not orphaned (RingCentral caps concurrent sessions per user
and app). Real `rcauth login` subprocesses against the emulator; its counters prove "no grant" and
"revoked"."""

from __future__ import annotations

import http.server
import os
import sys
import threading
from pathlib import Path

import pytest
from reliability_support import AUTHORIZE_URL, wait_for_stderr

from rcauth import flow
from rcauth.config import Settings
from rcauth.demo import HeadlessApprover
from rcauth.errors import StorageUnavailable
from ringcentral_emulator import DEMO_JWT

JWT = {"RC_JWT": DEMO_JWT}
REFUSING = {"PYTHON_KEYRING_BACKEND": "refusing_keyring.WriteRefusingKeyring"}
KINDS = ("state", "data", "config")


def live_sessions(emu) -> int:
    counters = emu.counters()
    return counters["sessions_created"] - counters["sessions_ended"]


def file_in_the_way(kind: str, where: str) -> tuple[Path, dict[str, str]]:
    """A file where rcauth's `kind` directory (or one of its parents) should be; root cannot write
    through it either, unlike a chmod'ed directory."""
    base = Path(os.environ[f"RCAUTH_{kind.upper()}_DIR"])
    base.parent.mkdir(parents=True, exist_ok=True)
    blocker = base if where == "the directory" else base.parent / "blocker"
    blocker.write_text("not a directory\n")
    directory = base if where == "the directory" else blocker / kind
    return directory, {f"RCAUTH_{kind.upper()}_DIR": str(directory)}


def assert_named(result, kind: str, directory: Path) -> None:
    assert result.code == 6, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith(f"Error: cannot use the {kind} directory {directory}: "), lines[0]
    assert f"set RCAUTH_{kind.upper()}_DIR to a directory rcauth can" in lines[0]


@pytest.mark.parametrize("where", ["the directory", "a parent"])
@pytest.mark.parametrize("kind", KINDS)
def test_jwt_login_stops_before_any_grant_when_a_directory_it_needs_is_a_file(
    emu, rcauth, file_store_env, stored, kind, where
) -> None:
    directory, override = file_in_the_way(kind, where)
    # The data dir is needed only when the session goes to a file (no keyring, --insecure-storage).
    env = {**(file_store_env if kind == "data" else {}), **override, **JWT}

    result = rcauth.run("login", "--jwt", env=env)

    assert_named(result, kind, directory)
    assert emu.counters()["grants"] == {}
    assert stored() is None


@pytest.mark.parametrize("kind", ["state", "config"])
def test_browser_login_stops_before_showing_the_sign_in_url_when_a_directory_is_a_file(
    emu, rcauth, kind
) -> None:
    directory, override = file_in_the_way(kind, "the directory")
    result = rcauth.run("login", "--no-browser", env=override)
    assert_named(result, kind, directory)
    assert "/restapi/oauth/authorize" not in result.err
    assert emu.counters()["authorize_approved"] == 0 and emu.counters()["grants"] == {}


def test_login_stops_before_any_grant_when_the_profiles_lock_file_cannot_be_opened(emu, rcauth) -> None:
    """A directory where the lock file should be: no file opens there, not even for root."""
    lock = Path(os.environ["RCAUTH_STATE_DIR"]) / "work.refresh.lock"
    lock.mkdir(parents=True)
    result = rcauth.run("--profile", "work", "login", "--jwt", env=JWT)
    assert result.code == 6, result
    assert result.err.splitlines() == [
        f"Error: cannot use the lock file {lock}: Is a directory; "
        "set RCAUTH_STATE_DIR to a directory rcauth can write to"
    ]
    assert emu.counters()["grants"] == {}


# Mode bits do not stop root (CI runs as root): there the directory is made read-only for real, as a
# read-only bind mount in a private mount namespace (`unshare -m`), which refuses root's writes too
# (EROFS) and vanishes with the process.
READ_ONLY_MOUNT = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


def test_login_stops_before_any_grant_when_the_lock_directory_is_read_only(emu, rcauth) -> None:
    directory = Path(os.environ["RCAUTH_STATE_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        argv = ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, str(directory), sys.executable, "-m", "rcauth"]
        result = rcauth.finish(rcauth.start(env=JWT, argv=[*argv, "login", "--jwt"]))
    else:
        directory.chmod(0o500)
        try:
            result = rcauth.run("login", "--jwt", env=JWT)
        finally:
            directory.chmod(0o700)
    assert_named(result, "state", directory)
    assert emu.counters()["grants"] == {}


def test_a_keyring_that_refuses_the_write_gets_the_jwt_grant_revoked(emu, rcauth, stored) -> None:
    result = rcauth.run("login", "--jwt", env={**REFUSING, **JWT})

    assert result.code == 6, result
    assert result.err.splitlines() == [
        "Error: the system keyring failed to save the session: the credential store refused the write; "
        "pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1) to keep it in a 0600 file instead"
    ]
    counters = emu.counters()
    assert counters["grants"] == {"urn:ietf:params:oauth:grant-type:jwt-bearer": 1}
    assert counters["revokes"] == 1 and live_sessions(emu) == 0
    assert stored() is None


def test_a_keyring_that_refuses_the_write_gets_the_browser_grant_revoked_and_the_page_says_so(
    emu, rcauth
) -> None:
    proc = rcauth.start("login", "--no-browser", env=REFUSING)
    page = HeadlessApprover("Approve").approve(wait_for_stderr(proc, AUTHORIZE_URL).group(1))
    result = rcauth.finish(proc)

    assert result.code == 6, result
    assert page.status_code == 400
    assert "Sign-in not saved" in page.text and "you are not signed in" in page.text
    assert "Signed in to RingCentral" not in page.text
    counters = emu.counters()
    assert counters["grants"] == {"authorization_code": 1}
    assert counters["revokes"] == 1 and live_sessions(emu) == 0


class _Landing(http.server.BaseHTTPRequestHandler):
    """Where the browser lands after approving: on a machine reached over SSH nothing useful listens;
    here something answers, so the test can read the address the user would paste."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_pasted_login_whose_session_cannot_be_stored_is_revoked(emu, redirect_uri) -> None:
    app = emu.config.apps[0]
    settings = Settings(app.client_id, app.client_secret, emu.base_url, redirect_uri)
    port = int(redirect_uri.rsplit(":", 1)[1].split("/")[0])
    landed: list[str] = []
    server = http.server.HTTPServer(("127.0.0.1", port), _Landing)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def refuse(session) -> None:
        raise StorageUnavailable("the disk is full")

    try:
        with pytest.raises(StorageUnavailable):
            flow.login(
                settings,
                flow.Paste(lambda: landed[0]),
                save=refuse,
                announce=lambda url: landed.append(HeadlessApprover("Approve").approve(url).url),
            )
    finally:
        server.shutdown()
        server.server_close()
    counters = emu.counters()
    assert counters["grants"] == {"authorization_code": 1}
    assert counters["revokes"] == 1 and live_sessions(emu) == 0
