"""The signal rows of issue 20's fault catalogue: SIGINT (Ctrl-C), SIGTERM (a service manager, `kill`)
and SIGHUP (a closed terminal or SSH connection) sent to a real `rcauth` process at each step of a
login (waiting for the browser; exchanging the code from the browser, from a pasted address, or the
JWT; storing the new session; revoking the session it replaced), a refresh (the token request in
flight; storing the rotated pair), a logout (revoking; removing), a listing (the call log's, the
recordings') and a recording's download.

Each step is reached, not guessed at: the emulator holds the token answer after it has made the grant
(`token_delay`) or the revocation before it takes effect (`revoke_delay`) and counts what it holds;
`PausingKeyring` holds a write or removal of the session until the test lets it go. The signal is
sent while the step is held, then the step is released.

Every row checks the invariants that apply:
  1. the process ends with the signal's documented code (130, 143, 129) and one line for it, and no
     traceback;
  2. no code, token or verifier the emulator issued or was shown reaches stdout or stderr;
  3. the sessions alive at the emulator are exactly the sessions stored: every grant was stored or
     revoked before the process ended (`grants_accounted`);
and which session is stored afterwards: the one before (nothing was granted yet, or a refresh kept
what it had), a new one (the sign-in completed before the signal took effect, the old one revoked),
or none (the logout completed). A download stopped part-way leaves its `.part`, and nothing under a
final name.
"""

from __future__ import annotations

import http.server
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_support import (
    AUTHORIZE_URL,
    PAUSED,
    RESUME,
    stdout_of,
    wait_for,
    wait_for_stderr,
)

from rcauth.demo import HeadlessApprover
from ringcentral_emulator import DEMO_JWT

HELD = 60.0  # seconds a held answer would wait; every row releases it long before
SIGNALS = {
    "SIGINT": (130, "Error: interrupted"),
    "SIGTERM": (143, "Error: terminated (SIGTERM)"),
    "SIGHUP": (129, "Error: terminated (SIGHUP)"),
}
PAUSING = {"PYTHON_KEYRING_BACKEND": "reliability_support.PausingKeyring"}


@dataclass
class Held:
    """A process held at one step, how to let the step go on, and what else must hold once it ended."""

    proc: subprocess.Popen[str]
    release: Callable[[], None]
    then: Callable[[], None] = lambda: None


class _Landing(http.server.BaseHTTPRequestHandler):
    """Where the browser lands after approving a `--paste` login (nothing of rcauth listens there)."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def landing(redirect_uri: str) -> Iterator[None]:
    port = int(redirect_uri.rsplit(":", 1)[1].split("/")[0])
    server = http.server.HTTPServer(("127.0.0.1", port), _Landing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def held_count(emu, endpoint: str) -> int:
    return int(emu.counters()["held"].get(endpoint, 0))


def hold_token_answer(emu, proc: subprocess.Popen[str]) -> Held:
    wait_for(lambda: held_count(emu, "token") >= 1, "the token answer to be held", proc=proc)
    return Held(proc, lambda: emu.set(token_delay=0))


def hold_keyring(keyring_dir: Path, operation: str, proc: subprocess.Popen[str]) -> Held:
    paused = keyring_dir / PAUSED

    def reached() -> bool:
        return paused.exists() and paused.read_text(encoding="utf-8") == operation

    wait_for(reached, f"the keyring {operation} to start", proc=proc)
    return Held(proc, lambda: (keyring_dir / RESUME).touch())


# -- the steps: each starts rcauth, brings it to the step and returns it held ----------------------------
def login_waiting_for_the_browser(emu, rcauth, keyring_dir) -> Held:
    proc = rcauth.start("login", "--no-browser")
    wait_for_stderr(proc, "Waiting for the redirect to ")
    return Held(proc, lambda: None)


def login_exchanging_the_browsers_code(emu, rcauth, keyring_dir) -> Held:
    emu.set(token_delay=HELD)
    proc = rcauth.start("login", "--no-browser")
    HeadlessApprover("Approve")(wait_for_stderr(proc, AUTHORIZE_URL).group(1))  # a browser, on a thread
    return hold_token_answer(emu, proc)


def login_exchanging_a_pasted_code(emu, rcauth, keyring_dir) -> Held:
    emu.set(token_delay=HELD)
    proc = rcauth.start("login", "--paste", stdin=subprocess.PIPE)
    landed = HeadlessApprover("Approve").approve(wait_for_stderr(proc, AUTHORIZE_URL).group(1)).url
    assert proc.stdin is not None
    proc.stdin.write(landed + "\n")
    proc.stdin.flush()
    return hold_token_answer(emu, proc)


def login_exchanging_the_jwt(emu, rcauth, keyring_dir) -> Held:
    emu.set(token_delay=HELD)
    return hold_token_answer(emu, rcauth.start("login", "--jwt", env={"RC_JWT": DEMO_JWT}))


def login_storing_the_session(emu, rcauth, keyring_dir) -> Held:
    proc = rcauth.start("login", "--jwt", env={"RC_JWT": DEMO_JWT, **PAUSING})
    return hold_keyring(keyring_dir, "set", proc)


def login_revoking_the_session_it_replaced(emu, rcauth, keyring_dir) -> Held:
    emu.set(revoke_delay=HELD)
    proc = rcauth.start("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    wait_for(lambda: held_count(emu, "revoke") >= 1, "the replaced session's revocation", proc=proc)
    return Held(proc, lambda: emu.set(revoke_delay=0))


def refresh_in_flight(emu, rcauth, keyring_dir) -> Held:
    emu.set(token_delay=HELD)
    return hold_token_answer(emu, rcauth.start("whoami", "--json"))


def refresh_storing_the_rotated_pair(emu, rcauth, keyring_dir) -> Held:
    return hold_keyring(keyring_dir, "set", rcauth.start("whoami", "--json", env=PAUSING))


def logout_revoking(emu, rcauth, keyring_dir) -> Held:
    emu.set(revoke_delay=HELD)
    proc = rcauth.start("logout")
    wait_for(lambda: held_count(emu, "revoke") >= 1, "the revocation to be held", proc=proc)
    return Held(proc, lambda: emu.set(revoke_delay=0))


def logout_removing(emu, rcauth, keyring_dir) -> Held:
    return hold_keyring(keyring_dir, "delete", rcauth.start("logout", env=PAUSING))


def listing_a_page(emu, rcauth, keyring_dir) -> Held:
    emu.set(call_records=3000, fault_rate=1.0, fault_kinds=("slow",), fault_scope="api", slow_seconds=2.0)
    proc = rcauth.start("call-log", "--limit", "3000", "--from", "400d", "--format", "ndjson")
    wait_for(lambda: emu.counters()["faults"] >= 2, "the second page to be requested", proc=proc)
    wait_for(lambda: stdout_of(proc), "the first records to be written", proc=proc)
    return Held(proc, lambda: emu.set(fault_rate=0.0))


def listing_recordings(emu, rcauth, keyring_dir) -> Held:
    # About one call in fourteen is recorded: 15000 calls give two pages of recordings.
    emu.set(call_records=15000, fault_rate=1.0, fault_kinds=("slow",), fault_scope="api", slow_seconds=2.0)
    proc = rcauth.start("recordings", "list", "--all", "--from", "400d", "--format", "ndjson")
    wait_for(lambda: emu.counters()["faults"] >= 2, "the second page to be requested", proc=proc)
    wait_for(lambda: stdout_of(proc), "the first records to be written", proc=proc)
    return Held(proc, lambda: emu.set(fault_rate=0.0))


def downloading_a_recording(emu, rcauth, keyring_dir) -> Held:
    """A recording's body coming slowly (20 kB a second: a minute or more each), part of it saved."""
    folder = keyring_dir.parent / "calls"
    emu.set(fault_rate=1.0, fault_kinds=("trickle",), fault_scope="media", trickle_rate=20_000)
    proc = rcauth.start("recordings", "download", "--from", "30d", "--limit", "2", "--dir", str(folder))
    wait_for(lambda: any(p.stat().st_size for p in folder.glob("*.part")), "a part to be written", proc=proc)

    def only_parts_left() -> None:
        left = [p.name for p in folder.iterdir()]
        assert left and all(name.endswith(".part") for name in left), left

    return Held(proc, lambda: emu.set(fault_rate=0.0), only_parts_left)


@dataclass(frozen=True)
class Step:
    reach: Callable[..., Held]
    due: bool  # the stored access token is due: the command refreshes first
    stored_after: str  # "before" (the session signed in before), "new" (another one), "none"
    fixtures: tuple[str, ...] = ()


STEPS = {
    "login: waiting for the browser": Step(login_waiting_for_the_browser, False, "before"),
    "login: exchanging the browser's code": Step(login_exchanging_the_browsers_code, False, "new"),
    "login --paste: exchanging the pasted code": Step(
        login_exchanging_a_pasted_code, False, "new", ("landing",)
    ),
    "login --jwt: exchanging the JWT": Step(login_exchanging_the_jwt, False, "new"),
    "login: storing the new session": Step(login_storing_the_session, False, "new"),
    "login: revoking the session it replaced": Step(login_revoking_the_session_it_replaced, False, "new"),
    "refresh: token request in flight": Step(refresh_in_flight, True, "new"),
    "refresh: storing the rotated pair": Step(refresh_storing_the_rotated_pair, True, "new"),
    "logout: revoking": Step(logout_revoking, False, "none"),
    "logout: removing": Step(logout_removing, False, "none"),
    "listing: a page in flight": Step(listing_a_page, False, "before"),
    "listing: a page of recordings in flight": Step(listing_recordings, False, "before"),
    "recordings download: a recording in flight": Step(downloading_a_recording, False, "before"),
}


@pytest.mark.parametrize("signal_name", list(SIGNALS))
@pytest.mark.parametrize("step_name", list(STEPS))
def test_a_signal_at_any_step_ends_in_one_line_with_its_code_and_every_grant_stored_or_revoked(
    request,
    emu,
    sign_in,
    rcauth,
    stored,
    keyring_dir,
    grants_accounted,
    hangups_not_ignored,
    step_name,
    signal_name,
) -> None:
    """Invariants 1, 2 and 3 for one step x one signal."""
    step = STEPS[step_name]
    for name in step.fixtures:
        request.getfixturevalue(name)
    code, line = SIGNALS[signal_name]
    due = {"access_expires_at": time.time() - 5} if step.due else {}
    before = sign_in(media_server=emu.media_url, **due)  # the recordings are at its media origin

    held = step.reach(emu, rcauth, keyring_dir)
    held.proc.send_signal(getattr(signal, signal_name))
    held.release()
    result = rcauth.finish(held.proc)
    held.then()

    # 1: the signal's code, and one line for it (a login's own lines, the URL, come before it)
    assert result.code == code, result
    assert result.err.splitlines()[-1] == line, result
    assert "Traceback" not in result.err and "unexpected error" not in result.err, result
    if not step_name.startswith("login"):
        assert result.err.splitlines() == [line], result
    if not step_name.startswith("listing"):
        assert result.out == "", result
    # 2: no secret on either stream
    shown = result.out + result.err
    assert not [secret for secret in emu.secrets_seen() if secret in shown]
    # 3: every grant stored or revoked
    grants_accounted()
    after = stored()
    if step.stored_after == "before":
        assert after == before
    elif step.stored_after == "new":
        assert after is not None and after.refresh_token != before.refresh_token
    else:
        assert after is None
    # and what is stored works
    if after is not None:
        emu.set(fault_rate=0.0)
        assert rcauth.run("whoami", "--json").code == 0
        grants_accounted()


LIBRARY_LOGIN = """
import os, sys
import rcauth
from rcauth.errors import Terminated
try:
    rcauth.login(jwt=os.environ["RC_JWT"])
except Terminated as exc:
    print("terminated", exc.name)
    sys.exit(exc.exit_code)
print("signed in")
"""


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_the_library_holds_a_signal_during_its_sign_in_and_raises_it_once_the_session_is_stored(
    emu, sign_in, rcauth, stored, grants_accounted, hangups_not_ignored, signal_name
) -> None:
    """`rcauth.login()` in a program that left SIGTERM and SIGHUP at their defaults: the signal is held
    through the exchange and the store (in the main thread), then raised as `rcauth.errors.Terminated`
    instead of killing the program with the grant made and nothing stored."""
    before = sign_in()
    emu.set(token_delay=HELD)
    proc = rcauth.start(env={"RC_JWT": DEMO_JWT}, argv=[sys.executable, "-c", LIBRARY_LOGIN])
    held = hold_token_answer(emu, proc)
    proc.send_signal(getattr(signal, signal_name))
    held.release()
    result = rcauth.finish(proc)
    assert (result.code, result.out) == (SIGNALS[signal_name][0], f"terminated {signal_name}\n"), result
    after = stored()
    assert after is not None and after.refresh_token != before.refresh_token
    grants_accounted()


def test_a_hangup_inherited_ignored_stays_ignored(emu, sign_in, rcauth, stored) -> None:
    """`nohup rcauth login`: SIGHUP does nothing; the login keeps waiting until Ctrl-C stops it."""
    sign_in()
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what the child inherits
    try:
        proc = rcauth.start("login", "--no-browser")
    finally:
        signal.signal(signal.SIGHUP, previous)
    wait_for_stderr(proc, "Waiting for the redirect to ")
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert proc.poll() is None
    result = rcauth.interrupt(proc)
    assert result.code == 130 and result.err.splitlines()[-1] == "Error: interrupted", result
