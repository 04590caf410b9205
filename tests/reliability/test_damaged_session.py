"""Damaged stored data (issue 4, point 6): not JSON, missing fields, an unknown version, wrong
types: a clear error pointing to `rcauth login` (exit 6), which then overwrites it; nothing crashes."""

from __future__ import annotations

import json
import time

import pytest
from helpers import make_session
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import FileKeyring, write_atomically

from rcauth.errors import StoredSessionDamaged
from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT

GOOD = make_session(
    client_secret="secret-value", access_token="AT-good-access-token", refresh_token="RT-good-refresh-token"
)
GOOD_FIELDS = json.loads(GOOD.to_json())

DAMAGE = {
    "not JSON": ("{'access_token': 'AT-", "the stored session is not valid JSON"),
    "not an object": ("[1, 2, 3]", "the stored session is not a JSON object"),
    "missing fields": (
        json.dumps({"version": 1, "server": "https://platform.ringcentral.com"}),
        "the stored session is missing fields: access_expires_at, access_token, client_id, "
        "client_secret, refresh_expires_at, refresh_token",
    ),
    "unknown version": (
        json.dumps({**GOOD_FIELDS, "version": 99}),
        "the stored session has an unknown version (99)",
    ),
    "wrong types": (
        json.dumps({**GOOD_FIELDS, "refresh_expires_at": "next week", "refresh_token": 42}),
        "the stored session has malformed fields: refresh_expires_at, refresh_token",
    ),
}
LOGIN_HINT = "run `rcauth login` to sign in again (it overwrites the damaged entry)"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_keyring_entry_points_to_login_which_overwrites_it(
    emu, rcauth, keyring_dir, damage, stored
) -> None:
    text, message = DAMAGE[damage]
    # The server a damaged entry names is one a login would accept: the emulator's, not RingCentral's
    # (a grant recovered from it is revoked there).
    text = text.replace(GOOD.server, emu.base_url)
    write_atomically(FileKeyring.entry("rcauth", "default", keyring_dir), text)
    for command in (("whoami",), ("status",), ("token",), ("call-log", "--limit", "1", "--format", "ndjson")):
        result = rcauth.run(*command)
        assert result.code == 6, result
        assert result.out == ""
        assert result.err.splitlines() == [f"Error: {message}; {LOGIN_HINT}"]

    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 0, login
    assert stored() is not None
    assert rcauth.run("whoami").code == 0


def test_damaged_file_is_overwritten_by_a_browser_login(emu, rcauth, browser_login, file_store_env) -> None:
    """The opt-in file holding bytes that are not even text: the same clear error, then a real
    browser sign-in replaces it."""
    store = FileStore("default")
    store.directory.mkdir(parents=True, mode=0o700)
    store.path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    result = rcauth.run("whoami", env=file_store_env)
    assert result.code == 6, result
    assert result.err.splitlines()[-1] == (
        f"Error: the stored session in {store.path} is not text; "
        "run `rcauth login` to sign in again (it overwrites the damaged file)"
    )
    login = browser_login(env=file_store_env)
    assert login.code == 0, login
    assert "Signed in as" in login.out
    assert Session.from_json(store.path.read_text()).access_token
    assert rcauth.run("whoami", env=file_store_env).code == 0


def test_logout_removes_a_damaged_entry(emu, rcauth, keyring_dir, stored) -> None:
    write_atomically(FileKeyring.entry("rcauth", "default", keyring_dir), "garbage")
    result = rcauth.run("logout")
    assert result.code == 0, result
    assert result.err.splitlines() == ["Removed a damaged stored session."]
    assert not FileKeyring.entry("rcauth", "default", keyring_dir).exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(GOOD_FIELDS)), json_values, max_size=4),
    removed=st.sets(st.sampled_from(sorted(GOOD_FIELDS)), max_size=3),
)
def test_any_stored_object_is_a_usable_session_or_reported_as_damaged(changes, removed) -> None:
    """Whatever the store holds, `from_json` returns a session every caller can use, or raises
    StoredSessionDamaged: never a TypeError later, in the middle of a refresh."""
    data = {k: v for k, v in {**GOOD_FIELDS, **changes}.items() if k not in removed}
    try:
        session = Session.from_json(json.dumps(data))
    except StoredSessionDamaged:
        return
    session.access_expires_within(60, now=time.time())
    session.refresh_expired(now=time.time())
    session.scope.split()
    assert all(isinstance(secret, str | None) for secret in session.secrets)
    assert Session.from_json(session.to_json()) == session


# -- issue 20: bytes that are not UTF-8; a grant a damaged entry still names ---------------------------------
NOT_TEXT = "the stored session is not text (byte 20 is not UTF-8)"


def test_an_entry_that_is_not_utf8_is_reported_as_damage_replaced_by_login_removed_by_logout(
    emu, rcauth, keyring_dir, stored
) -> None:
    """Every command, login and logout included, once exited 1 with "unexpected error:
    UnicodeDecodeError", so the user could not even recover by signing in again."""
    entry = FileKeyring.entry("rcauth", "default", keyring_dir)
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(b'{"access_token": "AT\xff\xfe garbage')
    for command in (("whoami",), ("status",), ("token",), ("profiles", "--json"), ("api", "get", "/x")):
        result = rcauth.run(*command)
        assert result.code == 6, result
        assert "unexpected error" not in result.err
        last = result.err.splitlines()[-1]
        assert last == (f"Error: {NOT_TEXT}; {LOGIN_HINT}" if command[0] != "profiles" else last), result
        assert NOT_TEXT in result.out + result.err
    logout = rcauth.run("logout")
    assert (logout.code, logout.err) == (0, "Removed a damaged stored session.\n"), logout
    assert not entry.exists()

    entry.write_bytes(b'{"access_token": "AT\xff\xfe garbage')
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 0, login
    assert stored() is not None and rcauth.run("whoami").code == 0


@pytest.mark.parametrize("command", ["logout", "login"])
def test_a_grant_a_damaged_entry_still_names_is_revoked_by_logout_and_by_the_login_replacing_it(
    emu, rcauth, sign_in, keyring_dir, command
) -> None:
    """An entry of another format version (written by a newer rcauth, say) still names its server,
    its app and a well-formed refresh token: removing it without ending that session would leave it
    live at RingCentral, counting against the user's sessions until it expires."""
    session = sign_in()
    fields = json.loads(session.to_json())
    write_atomically(
        FileKeyring.entry("rcauth", "default", keyring_dir), json.dumps({**fields, "version": 2})
    )
    ended = emu.counters()["sessions_ended"]
    result = rcauth.run(command, *(("--jwt",) if command == "login" else ()), env={"RC_JWT": DEMO_JWT})
    assert result.code == 0, result
    if command == "logout":
        revoked = f"the session it still named was revoked at {emu.base_url}"
        assert result.err == f"Removed a damaged stored session; {revoked}.\n"
    assert emu.counters()["sessions_ended"] == ended + 1  # that session is over at RingCentral


def test_a_damaged_entry_whose_grant_ringcentral_cannot_be_told_of_is_kept_unless_forgotten(
    emu, rcauth, sign_in, keyring_dir
) -> None:
    """The entry is that grant's only means of being ended: as with an intact session, logout keeps it
    when RingCentral cannot be reached (exit 5, one line) and removes it only with --forget, saying the
    grant stays live until it expires."""
    from helpers import free_port

    session = sign_in()
    unreachable = f"http://127.0.0.1:{free_port()}"
    fields = {**json.loads(session.to_json()), "version": 2, "server": unreachable}
    entry = FileKeyring.entry("rcauth", "default", keyring_dir)
    write_atomically(entry, json.dumps(fields))
    kept = rcauth.run("logout", env={"RCAUTH_TIMEOUT": "3"})
    assert kept.code == 5, kept
    assert len(kept.err.splitlines()) <= 2 and "still stored here" in kept.err, kept
    assert json.loads(entry.read_text(encoding="utf-8"))["refresh_token"] == session.refresh_token
    forgotten = rcauth.run("logout", "--forget", env={"RCAUTH_TIMEOUT": "3"})
    assert forgotten.code == 0, forgotten
    assert forgotten.err.splitlines()[0] == "Removed a damaged stored session."
    assert "could not revoke" in forgotten.err and "expire on its own" in forgotten.err
    assert not entry.exists() or "refresh_token" not in entry.read_text(encoding="utf-8")
