"""No usable keyring (issue 4, point 5): say so clearly; fall back to a file only with consent
(`--insecure-storage` / RCAUTH_INSECURE_STORAGE=1): atomic, 0600 in a 0700 directory, with a warning
naming it when it is created; `rcauth status` names where the session lives.

Each keyring failure is a real keyring backend, loaded in the rcauth subprocess through
PYTHON_KEYRING_BACKEND: keyring's own fail backend (no keyring at all), and reliability_support's
locked, erroring and hanging Secret Service stand-ins.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT

BACKENDS = {
    "no keyring": ("keyring.backends.fail.Keyring", "no system keyring is available"),
    "locked": ("reliability_support.LockedKeyring", "the system keyring is locked (read the session)"),
    "erroring": (
        "reliability_support.ErroringKeyring",
        "the system keyring failed to read the session: "
        "org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable",
    ),
    "hanging": (
        "reliability_support.HangingKeyring",
        "the system keyring did not answer within 1 s while trying to read the session (is it locked?)",
    ),
}
INSECURE_HINT = "pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1) to keep it in a 0600 file instead"


def keyring_env(name: str) -> dict[str, str]:
    # The hanging keyring is given up on after RCAUTH_KEYRING_TIMEOUT seconds (20 by default).
    return {"PYTHON_KEYRING_BACKEND": BACKENDS[name][0], "RCAUTH_KEYRING_TIMEOUT": "1", "RC_JWT": DEMO_JWT}


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_without_consent_it_says_why_and_stores_nothing(emu, rcauth, isolated, backend) -> None:
    env = keyring_env(backend)
    for command in (("login", "--jwt"), ("whoami",), ("status",)):
        result = rcauth.run(*command, env=env, timeout=15)
        assert result.code == 6, result
        assert result.err.splitlines() == [f"Error: {BACKENDS[backend][1]}; {INSECURE_HINT}"]
    assert emu.counters()["grants"] == {}  # it stopped before asking RingCentral for anything
    assert not FileStore("default").directory.exists()


CONSENTS = [(backend, "environment") for backend in BACKENDS] + [("no keyring", "flag")]


@pytest.mark.parametrize(("backend", "consent"), CONSENTS, ids=[f"{b}, {c}" for b, c in CONSENTS])
def test_with_consent_the_session_goes_to_a_0600_file_named_in_a_warning(
    emu, rcauth, backend, consent
) -> None:
    env = keyring_env(backend)
    flag: tuple[str, ...] = ()
    if consent == "flag":
        flag = ("--insecure-storage",)
    else:
        env["RCAUTH_INSECURE_STORAGE"] = "1"
    store = FileStore("default")
    warning = f"warning: {BACKENDS[backend][1]}; keeping the session in {store.path}"

    login = rcauth.run("login", "--jwt", *flag, env=env, timeout=15)
    assert login.code == 0, login
    unknown = (
        "Warning: the keyring could not be read, so a session it may hold for this profile was not "
        "ended; `rcauth logout --insecure-storage` once it can be read ends both"
    )
    # A keyring that is there but could not be looked in may hold a session this sign-in replaces.
    assert login.err.splitlines() == [warning] + ([unknown] if backend != "no keyring" else [])

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert os.listdir(store.directory) == [store.path.name]  # written atomically: no temp file left
    assert json.loads(store.path.read_text())["access_token"]

    status = rcauth.run("status", "--json", *flag, env=env, timeout=15)
    assert status.code == 0, status
    assert json.loads(status.out)["storage"] == f"file {store.path} (insecure storage)"
    whoami = rcauth.run("whoami", "--json", *flag, env=env, timeout=15)
    assert whoami.code == 0, whoami
    assert whoami.err == ""  # said once, when the file was created: not on every command


def test_status_names_the_keyring_when_it_works(emu, sign_in, rcauth) -> None:
    sign_in()
    status = rcauth.run("status", "--json")
    assert status.code == 0, status
    assert json.loads(status.out)["storage"] == (
        "system keyring (reliability_support: service 'rcauth', entry 'default')"
    )
    assert status.err == ""


def test_the_file_is_kept_private_even_in_a_directory_left_open(emu, rcauth, file_store_env) -> None:
    store = FileStore("default")
    store.directory.mkdir(parents=True, mode=0o755)
    os.chmod(store.directory, 0o755)  # noqa: S103 - the permissive state under test
    result = rcauth.run("login", "--jwt", env={**file_store_env, "RC_JWT": DEMO_JWT})
    assert result.code == 0, result
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


# -- issue 20, invariant 5: a keyring rcauth could not look in is never "not signed in" ---------------------
@pytest.mark.parametrize("backend", ["locked", "erroring", "hanging"])
def test_with_consent_logout_never_says_nothing_to_do_when_it_could_not_look(emu, rcauth, sign_in, backend):
    """The session may be in that keyring, live at RingCentral: "Not signed in; nothing to do." and
    exit 0 would tell a script it is gone. The keyring is named, exit 6, and nothing is claimed."""
    sign_in()  # a live session, in a keyring the backend below cannot reach
    env = {**keyring_env(backend), "RCAUTH_INSECURE_STORAGE": "1"}
    for command in (("logout",), ("whoami",), ("status",), ("token",)):
        result = rcauth.run(*command, env=env, timeout=15)
        assert result.code == 6, result
        reason = BACKENDS[backend][1]
        assert result.err.splitlines() == [
            f"Error: {reason}, so whether it holds this profile's session is unknown; "
            "unlock the keyring (or wait until it answers) and try again"
        ]
        assert "nothing to do" not in result.err and "not signed in" not in result.err


def test_logout_ends_the_file_session_and_still_says_the_keyring_was_not_looked_in(emu, rcauth, sign_in):
    sign_in(store="file")  # the session a login kept in the file while the keyring was locked
    env = {**keyring_env("locked"), "RCAUTH_INSECURE_STORAGE": "1"}
    ended = emu.counters()["sessions_ended"]
    result = rcauth.run("logout", env=env)
    assert result.code == 6, result
    assert result.out == "Signed out: tokens revoked and removed.\n"
    assert result.err.splitlines() == [
        f"Error: {BACKENDS['locked'][1]}, so whether it holds this profile's session is unknown; "
        "unlock the keyring (or wait until it answers) and try again"
    ]
    assert emu.counters()["sessions_ended"] == ended + 1
    assert not FileStore("default").path.exists()


def test_a_sign_in_made_while_the_keyring_was_locked_says_so_and_logout_later_ends_both_sessions(
    emu, rcauth, sign_in
) -> None:
    """The keyring's session could not be read, so the sign-in that went to the file could not end
    it: the user is told. Once the keyring can be read again, both stores hold a session; logout
    removes both, so it ends both at RingCentral (never deleting a grant it did not end)."""
    from rcauth.oauth import grant_of

    older = sign_in()  # in the keyring
    locked = {**keyring_env("locked"), "RCAUTH_INSECURE_STORAGE": "1"}
    login = rcauth.run("login", "--jwt", env=locked)
    assert login.code == 0, login
    assert "a session it may hold for this profile was not ended" in login.err, login
    newer = FileStore("default").load()
    assert newer is not None and grant_of(newer) != grant_of(older)
    assert {grant_of(older), grant_of(newer)} <= set(emu.live_grants())
    logout = rcauth.run("logout", env={"RCAUTH_INSECURE_STORAGE": "1"})
    assert logout.code == 0, logout
    assert not {grant_of(older), grant_of(newer)} & set(emu.live_grants())


def test_logout_keeps_both_sessions_when_the_older_ones_grant_cannot_be_ended(
    emu, rcauth, sign_in, stored
) -> None:
    from helpers import free_port

    from rcauth.oauth import grant_of

    older = sign_in(server=f"http://127.0.0.1:{free_port()}")  # its server cannot be reached
    rcauth.run("login", "--jwt", env={**keyring_env("locked"), "RCAUTH_INSECURE_STORAGE": "1"})
    newer = FileStore("default").load()
    assert newer is not None
    logout = rcauth.run("logout", env={"RCAUTH_INSECURE_STORAGE": "1", "RCAUTH_TIMEOUT": "3"})
    assert logout.code == 5 and "still stored here" in logout.err, logout
    assert grant_of(newer) in emu.live_grants() and FileStore("default").load() == newer
    assert stored() == older  # the keyring's session too: nothing is removed that was not ended
