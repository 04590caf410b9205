"""The storage boundaries in this process (issue 20): the library never takes a keyring it could not
look in for "not signed in"; plain-text and null backends are told apart by keyring's public API;
the store removes every part of a split session or says which it could not; an entry that is not
UTF-8 is damage; the state directory's failures are one documented line; a damaged entry that still
names a grant hands it over to be revoked.

The keyring backends here are real `keyring` backends, named with PYTHON_KEYRING_BACKEND as a user
names theirs (`installed_keyring`)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from helpers import make_session
from installed_keyring import install

import rcauth
from rcauth import keyring_choice
from rcauth.errors import (
    ExitCode,
    KeyringUnreachable,
    NotLoggedIn,
    StorageUnavailable,
    StoredSessionDamaged,
)
from rcauth.session import Session
from rcauth.store import (
    KEYRING_SERVICE,
    PART_SIZE,
    FileStore,
    KeyringStore,
    open_store,
    refresh_lock,
)

SESSION = make_session(
    client_secret="client-secret-value",
    access_token="AT-storage-faults-1",
    refresh_token="RT-storage-faults-1",
)


class Locked(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password  # type: ignore[assignment]


class Raising(Locked):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("org.freedesktop.DBus.Error.ServiceUnknown")

    set_password = delete_password = get_password  # type: ignore[assignment]


class Hanging(Locked):
    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(30)  # a daemon thread; the store gives up long before
        return None

    set_password = delete_password = get_password  # type: ignore[assignment]


class Bytes(keyring.backend.KeyringBackend):
    """A keyring whose entries are bytes, decoded on read as keyring's backends decode them."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], bytes] = {}
        self.stuck: set[str] = set()

    def get_password(self, service: str, username: str) -> str | None:
        value = self.entries.get((service, username))
        return None if value is None else value.decode("utf-8")

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password) > PART_SIZE * 1.2:
            raise keyring.errors.PasswordSetError("too big")
        self.entries[(service, username)] = password.encode("utf-8")

    def delete_password(self, service: str, username: str) -> None:
        if username in self.stuck:
            raise keyring.errors.KeyringError("the credential store is busy")
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture
def bytes_keyring(monkeypatch: pytest.MonkeyPatch) -> Bytes:
    backend = Bytes()
    install(monkeypatch, backend)
    return backend


@pytest.fixture(params=[Locked, Raising, Hanging], ids=["locked", "raising", "hanging"])
def unreachable(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", "0.3")
    install(monkeypatch, request.param())


# -- invariant 5: could not look is never "not signed in" ------------------------------------------------
@pytest.mark.parametrize("consent", [False, True], ids=["no consent", "consent"])
def test_the_library_never_takes_an_unreachable_keyring_for_not_signed_in(unreachable, consent: bool) -> None:
    calls = (lambda: rcauth.Client(insecure_storage=consent), lambda: rcauth.token(insecure_storage=consent))
    for call in calls:
        with pytest.raises(StorageUnavailable) as raised:
            call()
        assert not isinstance(raised.value, NotLoggedIn)
        assert isinstance(raised.value, KeyringUnreachable)
        assert raised.value.exit_code == ExitCode.STORAGE
        assert "not signed in" not in str(raised.value)


def test_with_consent_an_unreachable_keyring_still_lets_the_file_session_be_used(unreachable) -> None:
    FileStore("default").save(SESSION)
    store = open_store("default", insecure_storage=True)
    assert store.load() == SESSION and store.kind == "file"
    FileStore("default").delete()
    with pytest.raises(KeyringUnreachable, match="whether it holds this profile's session is unknown"):
        store.load()


def test_a_keyring_that_is_not_there_is_not_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's fail backend: no keyring at all, so an empty file is "not signed in"."""
    install(monkeypatch, keyring.backends.fail.Keyring())
    store = open_store("default", insecure_storage=True)
    assert store.load() is None and store.kind == "file"


# -- invariant 4: plain text and "keeps nothing", by keyring's public API ------------------------------------
def backend_named(module: str, name: str, **attributes: object) -> keyring.backend.KeyringBackend:
    """A backend whose class has that module and name, as keyring reports it (never discovered:
    its priority is below zero)."""
    methods = {
        "get_password": lambda self, service, username: None,
        "set_password": lambda self, service, username, password: None,
        "delete_password": lambda self, service, username: None,
    }
    cls = type(name, (keyring.backend.KeyringBackend,), {"priority": -1, **methods, **attributes})
    cls.__module__, cls.__qualname__ = module, name
    return cls()


@pytest.mark.parametrize(
    ("module", "name", "attributes", "plain"),
    [
        ("keyrings.alt.file", "PlaintextKeyring", {"scheme": "no encryption"}, True),
        ("keyrings.alt.pyfs", "PlaintextKeyring", {}, True),
        ("keyrings.alt.file", "RenamedPlain", {"scheme": "no encryption"}, True),
        ("keyrings.alt.file", "EncryptedKeyring", {"scheme": "[PBKDF2] AES256.CFB"}, False),
        ("keyrings.alt.Windows", "RegistryKeyring", {}, False),
        ("keyring.backends.SecretService", "Keyring", {}, False),
        ("somewhere.else", "Keyring", {"scheme": "no encryption"}, False),
    ],
)
def test_plain_text_backends_are_known_by_class_and_keyrings_alt_scheme(module, name, attributes, plain):
    backend = backend_named(module, name, **attributes)
    assert keyring_choice.plaintext(backend) == (f"{module}.{name}" if plain else None)


def test_a_subclass_of_a_plain_text_backend_is_plain_text() -> None:
    base = type(backend_named("keyrings.alt.file", "PlaintextKeyring"))
    sub = type("Mine", (base,), {})
    sub.__module__ = "my.keyrings"
    assert keyring_choice.plaintext(sub()) == "my.keyrings.Mine"


def test_keyrings_chainer_is_plain_text_when_its_first_backend_is(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = backend_named("keyrings.alt.file", "PlaintextKeyring")
    secure = backend_named("keyring.backends.SecretService", "Keyring")
    chainer = keyring.backends.chainer.ChainerBackend()
    members: list[object] = [plain, secure]
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", members)
    expected = "keyrings.alt.file.PlaintextKeyring (through keyring's chainer)"
    assert keyring_choice.plaintext(chainer) == expected
    members.reverse()  # writes go to the secure one: the chain keeps nothing in plain text
    assert keyring_choice.plaintext(chainer) is None
    assert not keyring_choice.keeps_nothing(chainer)
    members.clear()
    assert keyring_choice.keeps_nothing(chainer)


def test_keyrings_null_backend_keeps_nothing_so_no_session_goes_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch, keyring.backends.null.Keyring())
    with pytest.raises(StorageUnavailable, match=r"keyring.backends.null.Keyring keeps nothing"):
        open_store("default").probe()
    store = open_store("default", insecure_storage=True)
    store.probe()
    assert store.kind == "file"


# -- entries that are not text; parts that will not go -------------------------------------------------------
def test_an_entry_not_utf8_is_damage_that_a_save_overwrites_and_a_delete_removes(bytes_keyring) -> None:
    bytes_keyring.entries[(KEYRING_SERVICE, "default")] = b'{"access_token": "\xff'
    store = open_store("default")
    store.probe()  # the keyring answers: usable
    with pytest.raises(StoredSessionDamaged, match=r"is not text \(byte 18 is not UTF-8\)"):
        store.load()
    store.save(SESSION)
    assert KeyringStore().load() == SESSION
    bytes_keyring.entries[(KEYRING_SERVICE, "default")] = b"\x80"
    assert KeyringStore().delete() is True
    assert bytes_keyring.entries == {}


def test_logout_removes_every_part_it_can_and_keeps_the_index_naming_the_one_it_cannot(bytes_keyring) -> None:
    big = dataclasses.replace(SESSION, access_token="AT-" + "a" * 1500, refresh_token="RT-" + "r" * 1500)
    KeyringStore().save(big)
    parts = sorted(u for (_, u) in bytes_keyring.entries if u != "default")
    assert len(parts) >= 3
    bytes_keyring.stuck = {parts[0]}
    with pytest.raises(KeyringUnreachable, match=r"failed to remove part 0 of the stored session"):
        KeyringStore().delete()
    left = sorted(u for (_, u) in bytes_keyring.entries)
    assert left == ["default", parts[0]]  # every other part gone; the index still names the stuck one
    bytes_keyring.stuck = set()
    with pytest.raises(StoredSessionDamaged, match="incomplete"):
        KeyringStore().load()
    assert KeyringStore().delete() is True  # the next logout finds it through the index
    assert bytes_keyring.entries == {}


# -- a damaged entry that still names a grant ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "recovered_grant"),
    [
        ({"version": 2}, "RT-storage-faults-1"),
        ({"refresh_expires_at": "soon"}, "RT-storage-faults-1"),
        ({"refresh_token": 42}, "AT-storage-faults-1"),
        ({"server": "http://evil.example"}, None),  # never sent anywhere login would refuse
        ({"refresh_token": "has space", "access_token": ""}, None),
        ({"client_id": ""}, None),
    ],
)
def test_a_damaged_entry_hands_over_the_grant_it_still_names(changes: dict, recovered_grant) -> None:
    from rcauth.oauth import grant_of

    text = json.dumps({**json.loads(SESSION.to_json()), **changes})
    with pytest.raises(StoredSessionDamaged) as raised:
        Session.from_json(text)
    recovered = raised.value.recovered
    assert (grant_of(recovered) if recovered else None) == recovered_grant
    if recovered is not None:
        assert (recovered.server, recovered.client_id, recovered.client_secret) == (
            SESSION.server,
            SESSION.client_id,
            SESSION.client_secret,
        )


# -- the state directory -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["a file", "beneath a file", "lock is a directory"])
def test_a_state_directory_that_cannot_be_used_is_one_documented_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    state = tmp_path / "state"
    if fault == "a file":
        state.write_text("x", encoding="utf-8")
    elif fault == "beneath a file":
        (tmp_path / "blocker").write_text("x", encoding="utf-8")
        state = tmp_path / "blocker" / "state"
    else:
        (state / "default.refresh.lock").mkdir(parents=True)
    monkeypatch.setenv("RCAUTH_STATE_DIR", str(state))
    with pytest.raises(StorageUnavailable) as raised, refresh_lock("default"):
        pass
    assert raised.value.exit_code == ExitCode.STORAGE
    assert raised.value.hint == "set RCAUTH_STATE_DIR to a directory rcauth can write to"
    if fault == "lock is a directory":
        assert str(raised.value).startswith(f"cannot use the lock file {state / 'default.refresh.lock'}: ")
    else:
        assert str(raised.value).startswith(f"cannot use the state directory {state}: ")
        assert str(raised.value).endswith("is not a directory")


def test_a_lock_file_left_root_owned_by_sudo_is_one_documented_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `sudo rcauth ...` the lock file belongs to root and opening it is refused (EACCES). This
    suite runs as root, for whom permission bits refuse nothing: the refusal is made at `os.open`."""
    import errno
    import os

    state = tmp_path / "state"
    monkeypatch.setenv("RCAUTH_STATE_DIR", str(state))
    real_open = os.open

    def refusing(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path).endswith(".refresh.lock"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing)
    with pytest.raises(StorageUnavailable) as raised, refresh_lock("default"):
        pass
    lock = state / "default.refresh.lock"
    assert str(raised.value) == f"cannot use the lock file {lock}: Permission denied"
    assert raised.value.hint == "set RCAUTH_STATE_DIR to a directory rcauth can write to"
