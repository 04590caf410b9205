"""RingCentral's official JavaScript SDKs drive the emulator as independent clients: `@ringcentral/sdk`
5.0.11 and `@rc-ex/core` 1.8.6 (ringcentral-extensible), pinned in js/package-lock.json, run by Node.

Each scenario starts one emulator and runs one script of js/ once; the script prints one JSON line per
step (facts only, every token masked), and each step is checked here as a subtest of its own, so a run
reports every step: PKCE and JWT sign-in, extension info, a call log paged to its end, refresh, the
SDK's own recovery from a 401, logout and revoke (both tokens dead after), and the hand-off: a real
`rcauth login`, then `rcauth token --json` set into each SDK as its docs say. Answers the SDKs got are
checked against the vendored spec where that is cheap.

The packages are installed once (`npm ci`) into the system temp dir, in a directory named for the
lockfile's hash, and reused by later runs (js/README.md). Without node or npm, or when the install
fails, the tests skip with the reason, and fail under CI=true.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from helpers import loopback_redirect_uri
from runner import Rcauth, wait_for_stderr

from rcauth.demo import HeadlessApprover
from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig
from tests.contract import contract
from tests.e2e.support import unavailable

JS = Path(__file__).with_name("js")
GUIDE = Path(__file__).parents[2] / "docs" / "guides" / "python.md"
NODE_MAJOR = 20  # the oldest Node the scripts were run on
NPM_TIMEOUT = 300.0  # seconds for `npm ci` (46 packages: about 10 s when the registry answers)
NODE_TIMEOUT = 60.0  # seconds for one script (about 1 s)
RECORDS = 250
PER_PAGE = 100
STATE = "js-sdk-state"
# The authorize URL `rcauth login --no-browser` prints on stderr.
AUTHORIZE_URL = r"(http://\S+/restapi/oauth/authorize\?\S+)"


# ------------------------------------------------------------------------------------- the packages
@pytest.fixture(scope="session")
def js_sdks() -> Path:
    """The directory whose node_modules holds the pinned packages: `<temp>/rcauth-js-sdk-<uid>-<hash>`,
    the hash (12 hex digits of SHA-256) of js/package-lock.json, so new pins get a new directory.

    Installed when missing or not whole (`_not_whole`: a temp cleaner may have aged out files), under
    a file lock (xdist workers, parallel runs): `npm ci` in a scratch directory beside it, renamed
    into place when it succeeded, so a killed install never leaves a directory that looks done;
    scratch directories left by one are removed first. One another user owns is never used."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed on the PATH for RingCentral's JavaScript SDKs")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    if int(version.lstrip("v").split(".")[0] or 0) < NODE_MAJOR:
        unavailable(f"Node {NODE_MAJOR} or newer is needed, found {version.strip()}")
    lockfile = JS / "package-lock.json"
    # The user's id in the name: a directory in a shared temp dir that another user made is never used.
    name = f"rcauth-js-sdk-{os.getuid()}-{hashlib.sha256(lockfile.read_bytes()).hexdigest()[:12]}"
    temp = Path(tempfile.gettempdir())
    installed = temp / name
    with FileLock(temp / f"{name}.lock", timeout=NPM_TIMEOUT + 60):
        problem = _not_whole(installed, lockfile)
        if problem is not None:
            if installed.is_symlink() or (installed.exists() and installed.lstat().st_uid != os.getuid()):
                unavailable(f"{installed} is not this user's own directory ({problem}): remove it")
            shutil.rmtree(installed, ignore_errors=True)  # a damaged install (a temp cleaner) is redone
            for left in temp.glob(f"{name}.partial-*"):
                shutil.rmtree(left, ignore_errors=True)
            problem = _install(npm, lockfile, installed)
            if problem is not None:
                unavailable(problem)
    return installed


def _not_whole(installed: Path, lockfile: Path) -> str | None:
    """Why `installed` is not a whole install of the lockfile's pins, owned by this user and writable
    by no one else; None when it is."""
    if installed.is_symlink() or not installed.is_dir():
        return "no install"
    info = installed.lstat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return "owned by another user or writable by others"
    pins = json.loads(lockfile.read_text(encoding="utf-8"))["packages"]
    for package in ("@ringcentral/sdk", "@rc-ex/core"):
        manifest = installed / "node_modules" / package / "package.json"
        try:
            version = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            return f"{package} is missing or damaged"
        if version != pins[f"node_modules/{package}"]["version"]:
            return f"{package} is {version}, not the pinned version"
    return None


def _install(npm: str, lockfile: Path, installed: Path) -> str | None:
    """`npm ci` (the lockfile's exact versions, no install scripts) into `installed`; what went wrong."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{installed.name}.partial-", dir=installed.parent))
    try:
        shutil.copy(JS / "package.json", scratch)
        shutil.copy(lockfile, scratch)
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return f"npm ci did not finish in {NPM_TIMEOUT:g} s"
        if done.returncode != 0:
            return f"npm ci failed ({done.returncode}): {' '.join(done.stderr.split())[:500]}"
        scratch.rename(installed)
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------------------------- the scripts
def run_node(
    script: str, js_sdks: Path, emu: Emulator, stdin: str = "", **env: str
) -> dict[str, dict[str, Any]]:
    """Run js/`script` against `emu` (its first app); its steps by name, in the order printed. No
    code, token or verifier the emulator issued or was shown may appear in what the script printed."""
    app = emu.config.apps[0]
    done = subprocess.run(
        ["node", str(JS / script)],
        env={
            "PATH": os.environ["PATH"],
            "RC_SERVER_URL": emu.base_url,
            "RC_CLIENT_ID": app.client_id,
            "RC_CLIENT_SECRET": app.client_secret,
            "RC_CALL_LOG_PER_PAGE": str(PER_PAGE),
            "RCAUTH_JS_SDK_DIR": str(js_sdks),
            **env,
        },
        input=stdin,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    leaked = [s for s in emu.secrets_seen() if s in done.stdout or s in done.stderr]
    assert not leaked, f"{len(leaked)} of the emulator's secrets in what {script} printed"
    return {step["step"]: step for step in map(json.loads, done.stdout.splitlines())}


def passed(step: dict[str, Any]) -> dict[str, Any]:
    assert step["ok"], f"{step['step']}: {step['error']}"
    return step


def check_token(token: dict[str, Any]) -> None:
    assert contract.errors(token, "TokenInfo") == []
    assert token["access_token"] == token["refresh_token"] == "[secret]"  # masked by the script


def check_extension(extension: dict[str, Any], emu: Emulator) -> None:
    assert contract.errors(extension, "GetExtensionInfoResponse") == []
    assert extension["id"] == emu.config.user.extension_id


def check_call_log(step: dict[str, Any]) -> None:
    """Every record once, page by page as the first page's perPage cuts them."""
    assert contract.errors(step["firstPage"], "CallLogResponse") == []
    assert len(step["ids"]) == len(set(step["ids"])) == RECORDS
    assert step["pageSizes"] == [PER_PAGE, PER_PAGE, RECORDS - 2 * PER_PAGE]


def check_refresh(step: dict[str, Any], emu: Emulator) -> None:
    """A new access token that works, and the one it replaced refused."""
    check_token(step["token"])
    assert step["accessTokenChanged"] is True
    assert step["oldAccessToken"]["status"] == 401
    assert step["extensionId"] == emu.config.user.extension_id


def check_session_ended(step: dict[str, Any]) -> None:
    """Both tokens dead at the emulator: the access token refused, the refresh grant invalid_grant."""
    assert step["oldAccessToken"]["status"] == 401
    assert (step["oldRefreshToken"]["status"], step["oldRefreshToken"]["error"]) == (400, "invalid_grant")


def check_reading_and_refreshing(steps: dict[str, dict[str, Any]], emu: Emulator, subtests: Any) -> None:
    """The steps both SDKs take alike: extension info, the call log to its end, a refresh."""
    with subtests.test("extension"):
        check_extension(passed(steps["extension"])["extension"], emu)
    with subtests.test("call-log"):
        check_call_log(passed(steps["call-log"]))
    with subtests.test("refresh"):
        check_refresh(passed(steps["refresh"]), emu)


def sdk_emulator(**config: Any) -> Emulator:
    """No rate limits (a scenario makes more than the Auth group's 5 token requests a minute) and
    strict rotation (a spent refresh token refused at once, as after a logout)."""
    config = {"call_records": RECORDS, "rate_limits_enabled": False, "strict_rotation": True, **config}
    return Emulator(EmulatorConfig(**config))


# ------------------------------------------------------------------------------------- the scenarios
def test_ringcentral_sdk_signs_in_pages_refreshes_recovers_and_logs_out(js_sdks, subtests) -> None:
    with sdk_emulator() as emu:
        redirect_uri = emu.config.apps[0].redirect_uris[0]
        steps = run_node(
            "ringcentral_sdk.mjs", js_sdks, emu, RC_JWT=DEMO_JWT, RC_REDIRECT_URI=redirect_uri, RC_STATE=STATE
        )
    assert list(steps) == [
        "pkce-login", "jwt-login", "extension", "call-log", "refresh", "logout", "recover-after-401"
    ]  # fmt: skip

    with subtests.test("pkce-login"):
        pkce = passed(steps["pkce-login"])
        assert (pkce["codeChallengeMethod"], pkce["returnedState"]) == ("S256", STATE)
        check_token(pkce["token"])
        assert pkce["extensionId"] == emu.config.user.extension_id
    with subtests.test("jwt-login"):
        jwt = passed(steps["jwt-login"])
        check_token(jwt["token"])
        assert jwt["loggedIn"] is True
    check_reading_and_refreshing(steps, emu, subtests)
    with subtests.test("logout"):
        logout = passed(steps["logout"])
        assert logout["loggedIn"] is False
        check_session_ended(logout)
    with subtests.test("recover-after-401"):
        # The SDK's refresh after a 401 asks for access_token_ttl=-1: the emulator must clamp it, as
        # RingCentral does, not refuse the refresh.
        recover = passed(steps["recover-after-401"])
        assert recover["expired"] >= 1
        assert recover["refreshes"] == ["success"]
        assert recover["extensionId"] == emu.config.user.extension_id


def test_rc_extensible_signs_in_pages_refreshes_and_revokes(js_sdks, subtests) -> None:
    with sdk_emulator() as emu:
        steps = run_node("rc_extensible.mjs", js_sdks, emu, RC_JWT=DEMO_JWT)
    assert list(steps) == ["jwt-login", "extension", "call-log", "refresh", "refresh-after-401", "revoke"]

    with subtests.test("jwt-login"):
        check_token(passed(steps["jwt-login"])["token"])
    check_reading_and_refreshing(steps, emu, subtests)
    with subtests.test("refresh-after-401"):
        # A 401, then rc.refresh(): the refresh the app makes itself after a 401 works.
        after = passed(steps["refresh-after-401"])
        assert after["expired"] >= 1 and after["failedWith"] == 401
        check_token(after["token"])
        assert after["extensionId"] == emu.config.user.extension_id
    with subtests.test("revoke"):
        revoke = passed(steps["revoke"])
        assert revoke["tokenKept"] is False
        check_session_ended(revoke)


def run_readme_example(
    js_sdks: Path, env: dict[str, str], directory: Path
) -> subprocess.CompletedProcess[str]:
    """The Python guide's one ```javascript block (docs/guides/python.md, the SDK hand-off), saved as
    whoami.mjs beside a node_modules that holds the pinned packages and run with an `rcauth` on the PATH
    that is this checkout's."""
    readme = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```javascript\n(.*?)^```$", readme, re.DOTALL | re.MULTILINE)
    assert len(blocks) == 1, "the guide's JavaScript example was removed or another added: update this test"
    directory.mkdir()
    (directory / "node_modules").symlink_to(js_sdks / "node_modules", target_is_directory=True)
    (directory / "whoami.mjs").write_text(blocks[0], encoding="utf-8")
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "rcauth"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m rcauth "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return subprocess.run(
        ["node", "whoami.mjs"],
        cwd=directory,
        env={**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )


def rcauth_env(home: Path, emu: Emulator, redirect_uri: str) -> dict[str, str]:
    """`python -m rcauth`'s environment as tests/reliability's `file_store_env` makes it: the dirs
    tests/conftest.py isolates, the emulator and its app, no keyring and consent to rcauth's 0600
    session file (so no keyring or Secret Service is needed)."""
    app = emu.config.apps[0]
    dropped = ("RC_", "RCAUTH_", "PYTHON_KEYRING", "BROWSER")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return {
        **inherited,
        "HOME": str(home),
        **{f"RCAUTH_{kind}_DIR": os.environ[f"RCAUTH_{kind}_DIR"] for kind in ("CONFIG", "STATE", "DATA")},
        "RC_SERVER_URL": emu.base_url,
        "RC_APP_CLIENT_ID": app.client_id,
        "RC_APP_CLIENT_SECRET": app.client_secret,
        "RC_REDIRECT_URL": redirect_uri,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "RCAUTH_INSECURE_STORAGE": "1",
        "NO_COLOR": "1",
    }


def test_a_token_from_rcauth_works_in_both_sdks(js_sdks, isolated, tmp_path, subtests) -> None:
    """A real browser sign-in by `rcauth login`, then `rcauth token --json` given to each SDK as its
    docs say to set a token: a call and a call-log page work, neither SDK tries to refresh (it has no
    refresh token to spend), and rcauth's own session is untouched after."""
    redirect_uri = loopback_redirect_uri()
    with sdk_emulator(apps=(App(redirect_uris=(redirect_uri,)),)) as emu:
        rcauth = Rcauth(rcauth_env(isolated, emu, redirect_uri), logs=tmp_path / "logs")
        try:
            login = rcauth.start("login", "--no-browser")
            HeadlessApprover("Approve").approve(wait_for_stderr(login, AUTHORIZE_URL).group(1))
            assert rcauth.finish(login).code == 0, rcauth.results[-1]
            token = rcauth.run("token", "--json")
            assert token.code == 0, token
            steps = run_node("handoff.mjs", js_sdks, emu, stdin=token.out)
            readme = run_readme_example(js_sdks, rcauth.env, tmp_path / "readme")
            whoami = rcauth.run("whoami")
        finally:
            rcauth.kill_all()
    assert list(steps) == ["ringcentral-sdk", "rc-extensible"]

    with subtests.test("readme-javascript-example"):
        # The guide's JavaScript block, as written, run by node with `rcauth` on the PATH.
        assert readme.returncode == 0, readme.stderr
        name = f"{emu.config.user.first_name} {emu.config.user.last_name}"
        assert readme.stdout.splitlines() == [
            f"the JavaScript SDK calls RingCentral as {name}",
            f"ringcentral-extensible calls RingCentral as {name}",
        ]
        assert not [s for s in emu.secrets_seen() if s in readme.stdout + readme.stderr]

    with subtests.test("ringcentral-sdk"):
        # platform.auth().setData(...): the SDK keeps expire_time in epoch milliseconds; one in
        # seconds reads as long expired, and it would try to refresh with no refresh token.
        sdk = passed(steps["ringcentral-sdk"])
        assert sdk["extensionId"] == emu.config.user.extension_id
        assert sdk["callLogRecords"] == PER_PAGE
        assert sdk["refreshes"] == 0
    with subtests.test("rc-extensible"):
        rc = passed(steps["rc-extensible"])
        assert rc["extensionId"] == emu.config.user.extension_id
        assert rc["callLogRecords"] == PER_PAGE
    with subtests.test("rcauth-session-kept"):
        assert whoami.code == 0, whoami
