"""Storage that never loses a session to a keyring's limits (issue 10, point 4).

Windows Credential Manager refuses a secret over 2560 bytes of UTF-16 (1280 characters) with
pywin32's `pywintypes.error(1783, 'CredWrite', ...)`, which is no keyring error class; RingCentral's
tokens can be long. `reliability_support.WindowsLimitKeyring` enforces that limit and raises that
error over the shared file keyring, in real `rcauth` subprocesses; the emulator issues tokens of
1000 characters (`token_length`), so a session no longer fits in one entry.
"""

from __future__ import annotations

import json
import stat

import pytest
from reliability_support import WINDOWS_BLOB_LIMIT

from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT

WINDOWS = {"PYTHON_KEYRING_BACKEND": "reliability_support.WindowsLimitKeyring", "RC_JWT": DEMO_JWT}
NO_WRITES = {"PYTHON_KEYRING_BACKEND": "reliability_support.NoWritesKeyring", "RC_JWT": DEMO_JWT}
STUCK = {"PYTHON_KEYRING_BACKEND": "reliability_support.StuckPartKeyring", "RC_JWT": DEMO_JWT}


def entries(keyring_dir) -> dict[str, str]:
    """Every `rcauth` entry the shared keyring holds: username -> value."""
    if not keyring_dir.exists():
        return {}
    return {
        path.name.removeprefix("rcauth@").removesuffix(".json"): path.read_text(encoding="utf-8")
        for path in keyring_dir.glob("rcauth@*.json")
    }


def test_a_session_too_big_for_windows_credential_manager_survives_login_refresh_and_logout(
    emu, rcauth, keyring_dir
) -> None:
    fits = rcauth.run("login", "--jwt", env=WINDOWS)  # today's tokens: one entry, as before
    assert fits.code == 0, fits
    assert list(entries(keyring_dir)) == ["default"]
    assert Session.from_json(entries(keyring_dir)["default"]).access_token  # the session's JSON itself

    emu.set(token_length=1000)
    login = rcauth.run("login", "--jwt", env=WINDOWS)
    assert login.code == 0, login
    assert login.out.startswith("Signed in as Alex Morgan"), login
    assert login.err == ""
    first = entries(keyring_dir)
    assert len(first) > 2  # an index and its parts
    assert all(len(value.encode("utf-16-le")) <= WINDOWS_BLOB_LIMIT for value in first.values())

    emu.expire_access_tokens()  # the stored expiry says fresh: the 401 makes whoami refresh
    whoami = rcauth.run("whoami", "--json", env=WINDOWS)
    assert whoami.code == 0, whoami
    assert json.loads(whoami.out)["name"] == "Alex Morgan"
    assert emu.counters()["refreshes"] == 1
    second = entries(keyring_dir)
    assert set(second).isdisjoint(set(first) - {"default"})  # the old generation's parts are gone
    assert all(len(value.encode("utf-16-le")) <= WINDOWS_BLOB_LIMIT for value in second.values())
    assert rcauth.run("whoami", env=WINDOWS).code == 0  # the refreshed pair reads back whole
    assert emu.counters()["refreshes"] == 1

    logout = rcauth.run("logout", env=WINDOWS)
    assert logout.code == 0, logout
    assert logout.out == "Signed out: tokens revoked and removed.\n"
    assert entries(keyring_dir) == {}  # every part, not just the index
    assert rcauth.run("status", env=WINDOWS).code == 4
    assert emu.counters()["revokes"] == 2  # the session login replaced, then this one


@pytest.mark.parametrize("consent", ["flag", "environment"])
def test_insecure_storage_keeps_the_session_when_the_keyring_refuses_a_write(
    emu, rcauth, keyring_dir, consent
) -> None:
    env, flag = dict(NO_WRITES), ("--insecure-storage",)
    if consent == "environment":
        env["RCAUTH_INSECURE_STORAGE"], flag = "1", ()
    store = FileStore("default")
    refused = rcauth.run("login", "--jwt", env=NO_WRITES)  # without consent: a storage error
    assert refused.code == 6, refused
    assert refused.err.splitlines()[-1].startswith("Error: the system keyring failed to save the session")
    assert "--insecure-storage" in refused.err
    assert not store.path.exists()

    login = rcauth.run("login", "--jwt", *flag, env=env)
    assert login.code == 0, login
    assert login.err.splitlines() == [
        "warning: the system keyring failed to save the session: Can't store password on keychain: "
        f"(-25244, 'Unknown Error'); keeping the session in {store.path}"
    ]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert entries(keyring_dir) == {}

    status = rcauth.run("status", "--json", *flag, env=env)
    assert status.code == 0, status
    assert json.loads(status.out)["storage"] == f"file {store.path} (insecure storage)"
    emu.expire_access_tokens()
    whoami = rcauth.run("whoami", *flag, env=env)
    assert (whoami.code, whoami.err) == (0, ""), whoami  # said once, when the file was created
    assert emu.counters()["refreshes"] == 1
    assert FileStore("default").load().refreshed_at is not None  # the refresh went to the file too

    logout = rcauth.run("logout", *flag, env=env)
    assert logout.code == 0, logout
    assert not store.path.exists()
    assert rcauth.run("status", *flag, env=env).code == 4


def test_no_part_of_a_session_stays_behind_when_the_keyring_refuses_to_remove_one(
    emu, rcauth, keyring_dir
) -> None:
    """Issue 20: a part that cannot be removed holds a piece of the tokens. logout removes every other
    part, keeps the index that names the stuck one (so it can be found again), and says so (exit 6);
    the next logout removes the rest. Removed first, the index would leave a part no one can name."""
    emu.set(token_length=1000)
    login = rcauth.run("login", "--jwt", env=STUCK)
    assert login.code == 0, login
    stored = entries(keyring_dir)
    generation = json.loads(stored["default"])["generation"]
    assert len(stored) > 2
    ended = emu.counters()["sessions_ended"]

    first = rcauth.run("logout", env=STUCK)
    assert first.code == 6, first
    assert first.err.splitlines() == [
        "Error: the system keyring failed to remove part 0 of the stored session: "
        "(5, 'CredDelete', 'Access is denied.'); try again: the entry naming the rest is kept until "
        "every part is gone"
    ]
    assert emu.counters()["sessions_ended"] == ended + 1  # revoked before anything was removed
    assert set(entries(keyring_dir)) == {"default", f"default:{generation}:0"}

    second = rcauth.run("logout", env=STUCK)
    assert (second.code, second.err) == (0, "Removed a damaged stored session.\n"), second
    assert entries(keyring_dir) == {}
