"""Which keyring backend the store uses (rcauth.keyring_choice): the user's choice wins; else the one
keyring's discovery chose, remembered in the state dir and made directly next time; a remembered one
that fails, or whose key (keyring's version, the backend class) no longer holds, is discovered again.

Discovery here is rcauth's own instance of keyring's (`keyring_choice.discover`), over a list of
backends this module gives keyring in place of the machine's (keyring.backend.get_all_keyring), so no
test touches a real keyring. Every store makes its own backend, as a new process would: nothing here
resets keyring's process-wide backend, which rcauth neither reads nor sets.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
from pathlib import Path
from typing import ClassVar

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.core
import keyring.errors
import keyring.util.platform_
import pytest
from helpers import make_session
from installed_keyring import install, programs_keyring

from rcauth import keyring_choice
from rcauth.errors import KeyringUnreachable, StorageUnavailable
from rcauth.store import (
    INSECURE_HINT,
    PLAINTEXT_HINT,
    FileStore,
    KeyringStore,
    keyring_backend_choice,
    open_store,
)

SESSION = make_session(
    server="https://s.example.com", access_token="AT-choice-1", refresh_token="RT-choice-1"
)


class SharedKeyring(keyring.backend.KeyringBackend):
    """A working keyring whose entries outlive its instances (as a real store's do)."""

    priority = 5  # type: ignore[assignment]
    entries: ClassVar[dict[tuple[str, str], str]] = {}
    made: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        type(self).made += 1

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class OtherKeyring(SharedKeyring):
    """Another working backend, kept apart from SharedKeyring."""

    entries: ClassVar[dict[tuple[str, str], str]] = {}


class GoneKeyring(SharedKeyring):
    """A backend that no longer answers (a Secret Service gone from the bus)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("org.freedesktop.DBus.Error.ServiceUnknown")


def name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.fixture
def no_user_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    """No PYTHON_KEYRING_BACKEND, no keyringrc.cfg; keyring's discovery finds
    `discovered["backend"]` (SharedKeyring unless a test says otherwise) and is counted."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    SharedKeyring.entries.clear()
    OtherKeyring.entries.clear()
    state = {"discoveries": 0}
    choice: dict[str, type] = {"backend": SharedKeyring}

    def get_all_keyring() -> list[keyring.backend.KeyringBackend]:
        state["discoveries"] += 1
        return [choice["backend"]()]

    monkeypatch.setattr(keyring.backend, "get_all_keyring", get_all_keyring)
    state["choice"] = choice  # type: ignore[assignment]
    return state


def record() -> dict[str, str]:
    return json.loads((keyring_choice._record_path()).read_text(encoding="utf-8"))


def test_the_backend_keyring_discovered_is_remembered_and_made_directly_next_time(no_user_choice) -> None:
    KeyringStore("default").save(SESSION)
    assert no_user_choice["discoveries"] == 1
    assert record()["backend"] == name(SharedKeyring)
    assert record()["keyring"] == importlib.metadata.version("keyring")

    store = KeyringStore("default")  # as in a new process
    assert store.load() == SESSION
    assert no_user_choice["discoveries"] == 1  # no second discovery
    backend, reason = keyring_backend_choice()
    assert type(backend) is SharedKeyring and reason.startswith("remembered")


def test_a_remembered_chain_missing_a_backend_it_chained_is_no_answer_about_the_session(
    no_user_choice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring's chainer leaves out a backend that is not viable now: "no such entry" from the rest
    says nothing about a session that backend took. Found in the rest, a session is used as ever."""
    from keyring.backends.chainer import ChainerBackend

    viable: list[type[SharedKeyring]] = [SharedKeyring, OtherKeyring]
    monkeypatch.setattr(
        keyring.backend, "get_all_keyring", lambda: [ChainerBackend(), *(cls() for cls in viable)]
    )
    KeyringStore("default").save(SESSION)
    assert record()["backend"] == "keyring.backends.chainer.ChainerBackend"
    assert record()["chain"] == [name(SharedKeyring), name(OtherKeyring)]
    assert SharedKeyring.entries  # the chain's first backend took it

    viable.remove(SharedKeyring)  # gone from the chain, as a Secret Service without its bus
    with pytest.raises(KeyringUnreachable) as caught:
        KeyringStore("default", plaintext_reads=True).load()
    assert caught.value.message == (
        f"the keyring backend {name(SharedKeyring)}, one of keyring's chainer's when rcauth began using "
        "it, is not available now"
    )
    assert caught.value.hint == "unlock the keyring (or wait until it answers) and try again"
    OtherKeyring.entries[("rcauth", "default")] = SESSION.to_json()
    assert KeyringStore("default").load() == SESSION
    viable.insert(0, SharedKeyring)
    OtherKeyring.entries.clear()
    assert KeyringStore("default").load() == SESSION
    assert KeyringStore("dev").load() is None  # the whole chain answered: truly none


@pytest.mark.parametrize("field", ["keyring", "keyring_path", "backend"])
def test_a_changed_key_means_discovering_again(no_user_choice, field: str) -> None:
    KeyringStore("default").save(SESSION)
    path = keyring_choice._record_path()
    data = record()
    data[field] = {"keyring": "0.0.1", "keyring_path": "/elsewhere/keyring", "backend": "gone.Module"}[field]
    path.write_text(json.dumps(data), encoding="utf-8")

    assert KeyringStore("default").load() == SESSION
    assert no_user_choice["discoveries"] == 2
    assert record()["backend"] == name(SharedKeyring) and record()["keyring"] != "0.0.1"


@pytest.mark.parametrize("consent", [False, True])
def test_a_failing_remembered_backend_is_the_keyring_failing_not_a_reason_to_look_elsewhere(
    no_user_choice, consent: bool
) -> None:
    """A record from a day the Secret Service worked; today its bus is gone (over SSH) and keyring's
    discovery would find another backend, or none. The sessions rcauth stored are in the remembered
    one: exit 6 naming the failure, the record kept, never "not signed in" from another backend nor,
    with consent, from an empty file."""
    no_user_choice["choice"]["backend"] = GoneKeyring
    with pytest.raises(KeyringUnreachable):  # discovered, never worked: nothing remembered
        KeyringStore("default").load()
    assert not keyring_choice._record_path().exists()

    path = keyring_choice._record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**keyring_choice._key(), "backend": name(GoneKeyring)}), encoding="utf-8")
    no_user_choice["choice"]["backend"] = OtherKeyring  # what discovery would choose today
    with pytest.raises(KeyringUnreachable) as caught:
        open_store("default", insecure_storage=consent).load()
    assert "ServiceUnknown" in caught.value.message
    assert "whether it holds this profile's session is unknown" in caught.value.message or not consent
    assert record()["backend"] == name(GoneKeyring)
    assert no_user_choice["discoveries"] == 1  # only the first store's


def test_a_locked_remembered_backend_is_not_forgotten(no_user_choice) -> None:
    class Locked(SharedKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    globals()["Locked"] = Locked  # importable by name, as a real backend class is
    Locked.__qualname__ = "Locked"
    try:
        path = keyring_choice._record_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**keyring_choice._key(), "backend": name(Locked)}), encoding="utf-8")
        with pytest.raises(Exception, match="locked"):
            KeyringStore("default").load()
        assert record()["backend"] == name(Locked)  # locked is the keyring's state, not a wrong choice
        assert no_user_choice["discoveries"] == 0
    finally:
        del globals()["Locked"]


def test_the_users_choice_wins_over_a_remembered_backend(
    no_user_choice, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    KeyringStore("default").save(SESSION)  # remembered: SharedKeyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name(OtherKeyring))
    backend, reason = keyring_backend_choice()
    assert type(backend) is OtherKeyring and reason == keyring_choice.FROM_ENV
    assert KeyringStore("default").load() is None  # OtherKeyring's entries, not the remembered one's
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")

    config = keyring.util.platform_.config_root() / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text(f"[backend]\ndefault-keyring={name(OtherKeyring)}\n", encoding="utf-8")
    backend, reason = keyring_backend_choice()
    assert type(backend) is OtherKeyring and reason == keyring_choice.FROM_CONFIG.format(path=config)
    config.unlink()
    assert no_user_choice["discoveries"] == 1


def test_a_programs_own_keyring_is_neither_rcauths_choice_nor_changed_by_it(no_user_choice) -> None:
    """A program that imports rcauth keeps its keyring (`keyring.set_keyring`) to itself: rcauth
    chooses by its own rules (here the backend it remembered) and leaves the program's in place."""
    KeyringStore("default").save(SESSION)  # remembered: SharedKeyring
    mine = OtherKeyring()
    with programs_keyring(mine):
        backend, reason = keyring_backend_choice()
        assert type(backend) is SharedKeyring and reason.startswith(keyring_choice.REMEMBERED_PREFIX)
        assert KeyringStore("default").load() == SESSION and OtherKeyring.entries == {}
        assert keyring.get_keyring() is mine


def test_rcauths_discovery_chooses_as_keyrings_own(no_user_choice, monkeypatch: pytest.MonkeyPatch) -> None:
    """`keyring_choice.discover` is keyring's discovery put together from its public parts (its own,
    `keyring.core.init_backend`, would set the backend of the whole process): the two must agree, on
    the locked keyring and on the lowest one allowed (scripts/test runs this file on both)."""

    class Low(SharedKeyring):
        priority = 1  # type: ignore[assignment]

    class High(SharedKeyring):
        priority = 9  # type: ignore[assignment]

    for found in ([Low(), High(), SharedKeyring()], [Low()], []):
        monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda found=found: list(found))
        with programs_keyring(keyring.backends.fail.Keyring()):
            keyring.core.init_backend()
            keyrings_own = keyring.get_keyring()
        assert type(keyring_choice.discover()) is type(keyrings_own)


def test_the_mirrored_config_path_is_keyrings_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def keyrings() -> Path:
        return keyring.util.platform_.config_root() / "keyringrc.cfg"

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "somewhere"))
    assert keyring_choice.keyring_config_path() == keyrings() == keyring_choice._keyrings_config_path()
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert keyring_choice.keyring_config_path() == keyrings()


def test_the_fast_path_is_only_for_keyrings_own_secret_service_with_its_defaults(
    no_user_choice, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keyring_choice.fast_path_backend() is None  # nothing remembered yet
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", keyring_choice.SECRET_SERVICE)
    assert keyring_choice.fast_path_backend() == keyring_choice.SECRET_SERVICE
    monkeypatch.setenv("KEYRING_PROPERTY_PREFERRED_COLLECTION", "/org/freedesktop/secrets/collection/x")
    assert keyring_choice.fast_path_backend() is None  # keyring would look elsewhere
    monkeypatch.delenv("KEYRING_PROPERTY_PREFERRED_COLLECTION")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name(OtherKeyring))
    assert keyring_choice.fast_path_backend() is None


# -- issue 20 (session 8): backends no session may go to (`KeyringStore._check_backend`) ----------------
class PlainKeyring(SharedKeyring):
    """keyrings.alt's PlaintextKeyring as keyring reports it (its module and class name)."""

    entries: ClassVar[dict[tuple[str, str], str]] = {}


PlainKeyring.__module__, PlainKeyring.__qualname__ = "keyrings.alt.file", "PlaintextKeyring"
PLAIN = "keyrings.alt.file.PlaintextKeyring"
PLAINTEXT_REFUSAL = (
    f"no secure keyring is available: keyring chose {PLAIN}, which keeps secrets in plain text"
)


@pytest.fixture
def plain_discovered(no_user_choice) -> type[PlainKeyring]:
    """keyring's discovery chooses the plain-text backend (as on a Linux box with no Secret Service)."""
    PlainKeyring.entries.clear()
    no_user_choice["choice"]["backend"] = PlainKeyring
    return PlainKeyring


def test_a_plain_text_keyring_discovery_chose_is_no_keyring(plain_discovered) -> None:
    with pytest.raises(StorageUnavailable) as caught:
        open_store("default").probe()
    assert str(caught.value) == PLAINTEXT_REFUSAL
    assert caught.value.hint == PLAINTEXT_HINT
    assert plain_discovered.entries == {}


def test_with_consent_a_discovered_plain_text_keyring_is_read_but_every_write_goes_to_the_file(
    plain_discovered,
) -> None:
    """A session an older rcauth left there is found and used; saved again, it moves to the 0600 file
    and the plain-text copy is removed."""
    plain_discovered.entries[("rcauth", "default")] = SESSION.to_json()
    store = open_store("default", insecure_storage=True)
    assert store.load() == SESSION
    assert store.refused == PLAINTEXT_REFUSAL
    assert store.kind == "file"
    store.save(dataclasses.replace(SESSION, access_token="AT-choice-2"))
    assert plain_discovered.entries == {}
    assert FileStore("default").load().access_token == "AT-choice-2"


def test_a_plain_text_keyring_the_user_chose_is_used_and_said_to_be_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    PlainKeyring.entries.clear()
    install(monkeypatch, PlainKeyring())
    store = open_store("default")
    store.save(SESSION)
    assert store.load() == SESSION and PlainKeyring.entries != {}
    assert store.refused is None
    assert store.kind == "keyring (plain text)"
    assert store.location == (
        f"plain-text keyring ({PLAIN}, {keyring_choice.FROM_ENV}: service 'rcauth', entry 'default')"
    )


def test_a_keyring_the_fast_path_read_is_not_called_plain_text(memory_keyring) -> None:
    """Before any backend is chosen (the Secret Service read directly) the store says "keyring"."""
    store = KeyringStore("default")
    assert store.kind == "keyring"
    store.save(SESSION)  # a backend is chosen now: the user's (the in-memory one), which encrypts
    assert store.kind == "keyring"


def test_keyrings_null_backend_is_no_keyring_with_or_without_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.backends.null

    install(monkeypatch, keyring.backends.null.Keyring())
    with pytest.raises(StorageUnavailable) as caught:
        open_store("default").load()
    assert str(caught.value) == "no system keyring is available (keyring.backends.null.Keyring keeps nothing)"
    assert caught.value.hint == INSECURE_HINT
    store = open_store("default", insecure_storage=True)
    assert store.load() is None and store.kind == "file"


@pytest.mark.parametrize(
    ("named", "said"),
    [
        ("keyring.backends.SecretServic.Keyring", "'keyring.backends.SecretServic.Keyring' named by "
         "PYTHON_KEYRING_BACKEND cannot be loaded (ModuleNotFoundError)"),
        ("", "PYTHON_KEYRING_BACKEND is set but empty"),
    ],
)  # fmt: skip
def test_a_backend_the_user_named_that_does_not_load_is_their_setting_to_fix_not_a_file_to_use(
    monkeypatch: pytest.MonkeyPatch, named: str, said: str
) -> None:
    """Not "the keyring failed" with a hint to use a file: with consent the file would hide the typo."""
    from rcauth.errors import ConfigError

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", named)
    for consent in (False, True):
        with pytest.raises(ConfigError) as caught:
            open_store("default", insecure_storage=consent).load()
        assert said in caught.value.message
        assert "fix or unset PYTHON_KEYRING_BACKEND" in (caught.value.hint or "")
        assert not FileStore("default").path.exists()


class NotViableHere(SharedKeyring):
    """A backend that exists but is not viable now: keyring asks its priority before making it."""

    @keyring.backend.properties.classproperty
    def priority(cls) -> float:  # noqa: N805 - keyring's classproperty
        raise RuntimeError("Unable to initialize SecretService: DBUS_SESSION_BUS_ADDRESS is unset")


def test_a_backend_the_user_named_that_is_not_viable_here_is_the_keyring_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a typo to fix (exit 3): the keyring is out of reach (exit 6), keyring's reason said, and
    with consent the empty file is no answer about the session either."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name(NotViableHere))
    for consent in (False, True):
        with pytest.raises(KeyringUnreachable) as caught:
            open_store("default", insecure_storage=consent).load()
        assert f"{name(NotViableHere)} is not available here" in caught.value.message
        assert "DBUS_SESSION_BUS_ADDRESS is unset" in caught.value.message
