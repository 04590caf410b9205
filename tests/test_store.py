from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.errors
import pytest

from rcauth.errors import StorageUnavailable, StoredSessionDamaged
from rcauth.session import Session
from rcauth.store import (
    INSECURE_HINT,
    FileStore,
    KeyringStore,
    MemoryStore,
    insecure_storage_allowed,
    open_store,
    refresh_lock,
)

SESSION = Session(
    server="https://s.example.com",
    client_id="cid",
    client_secret="sec",
    access_token="AT-xyz-1",
    access_expires_at=2e9,
    refresh_token="RT-xyz-1",
    refresh_expires_at=2e9,
    created_at=1.0,
)


def test_keyring_store_keeps_one_entry_per_profile(memory_keyring) -> None:
    KeyringStore("default").save(SESSION)
    KeyringStore("dev").save(SESSION.with_updates(access_token="AT-dev-1"))
    assert KeyringStore("default").load() == SESSION
    assert KeyringStore("dev").load().access_token == "AT-dev-1"
    assert set(memory_keyring.entries) == {("rcauth", "default"), ("rcauth", "dev")}
    assert KeyringStore("default").delete() is True
    assert KeyringStore("default").load() is None
    assert KeyringStore("default").delete() is False


def test_damaged_keyring_entry_is_reported(memory_keyring) -> None:
    memory_keyring.entries[("rcauth", "default")] = "{broken"
    with pytest.raises(StoredSessionDamaged):
        KeyringStore().load()


def test_no_keyring_without_consent_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(StorageUnavailable) as caught:
        open_store()
    assert "--insecure-storage" in (caught.value.hint or "")


def test_no_keyring_with_consent_falls_back_to_a_file_named_once_when_it_is_created(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, isolated: Path
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", "1")
    with caplog.at_level(logging.WARNING):
        store = open_store()
        assert isinstance(store, FileStore)
        assert caplog.text == ""  # reading (or finding nothing) is not worth a warning ...
        store.save(SESSION)
        assert f"no system keyring is available; keeping the session in {store.path}" in caplog.text
        caplog.clear()
        open_store().save(SESSION.with_updates(access_token="AT-xyz-2"))  # ... nor is a refresh's write
        assert open_store().load().access_token == "AT-xyz-2"
    assert caplog.text == ""  # said once: when the file was created


def test_file_store_is_0600_in_a_0700_dir_and_atomic(tmp_path: Path) -> None:
    store = FileStore("default", tmp_path / "data" / "rcauth")
    store.save(SESSION)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    store.save(SESSION.with_updates(access_token="AT-2-abc"))
    assert store.load().access_token == "AT-2-abc"
    assert [p.name for p in store.directory.iterdir()] == ["default.session.json"]  # no temp files left
    assert store.delete() and store.load() is None


def test_hanging_keyring_is_bounded(memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(memory_keyring, "get_password", lambda *a: release.wait(10))
    try:
        with pytest.raises(StorageUnavailable, match="did not answer within 0.2 s"):
            KeyringStore(timeout=0.2).load()
    finally:
        release.set()


def test_memory_store_round_trip() -> None:
    store = MemoryStore()
    assert store.load() is None
    store.save(SESSION)
    assert store.load() == SESSION
    assert store.delete() and not store.delete()


def test_refresh_lock_excludes_a_second_holder() -> None:
    from filelock import FileLock, Timeout

    from rcauth.config import state_dir

    with refresh_lock("default"):
        other = FileLock(str(state_dir() / "default.refresh.lock"), timeout=0.1)
        with pytest.raises(Timeout):
            other.acquire()
    with refresh_lock("default", timeout=0.5):
        pass


@pytest.mark.parametrize(
    ("value", "expected"), [("1.5", 1.5), ("soon", 20.0), ("0", 20.0), ("-3", 20.0), ("inf", 20.0)]
)
def test_keyring_timeout_comes_from_the_environment_when_it_is_a_positive_number(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: float
) -> None:
    from rcauth.store import _keyring_timeout

    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", value)
    assert _keyring_timeout() == expected


# -- sessions too big for one keyring entry --------------------------------------------------------
class WindowsError1783(Exception):
    """pywin32's `pywintypes.error` as CredWrite raises it (no keyring error class)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.winerror, self.funcname, self.strerror = args


def refuse_like_windows(*_: object) -> Exception:
    return WindowsError1783(1783, "CredWrite", "The stub received bad data.")


def refuse_like_keyring(*_: object) -> Exception:
    return keyring.errors.PasswordSetError("Can't store password on keychain: (-25244, 'Unknown Error')")


@pytest.fixture(
    params=[refuse_like_windows, refuse_like_keyring], ids=["pywintypes.error", "PasswordSetError"]
)
def limited_keyring(request: pytest.FixtureRequest, memory_keyring, monkeypatch: pytest.MonkeyPatch):
    """The in-memory keyring with Windows Credential Manager's limit (2560 bytes of UTF-16), refusing
    a bigger secret as Windows or as other backends do; it counts reads."""
    memory_keyring.reads = 0
    set_password, get_password = memory_keyring.set_password, memory_keyring.get_password

    def limited_set(service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > 2560:
            raise request.param()
        set_password(service, username, password)

    def counted_get(service: str, username: str) -> str | None:
        memory_keyring.reads += 1
        return get_password(service, username)

    monkeypatch.setattr(memory_keyring, "set_password", limited_set)
    monkeypatch.setattr(memory_keyring, "get_password", counted_get)
    return memory_keyring


def refusing(*_: object) -> None:
    raise refuse_like_keyring()


def big(n: int = 1) -> Session:
    return SESSION.with_updates(access_token=f"AT{n}-" + "a" * 1200, refresh_token=f"RT{n}-" + "r" * 1200)


def test_a_session_too_big_for_one_entry_is_kept_in_parts_and_read_back_whole(limited_keyring) -> None:
    KeyringStore().save(big(1))
    entries = limited_keyring.entries
    assert len(entries) == 4  # the index and three parts of at most 1000 characters
    assert all(len(value) <= 1000 for value in entries.values())
    assert KeyringStore().load() == big(1)


def test_a_new_session_replaces_every_part_of_the_old_one(limited_keyring) -> None:
    KeyringStore().save(big(1))
    first = set(limited_keyring.entries)
    KeyringStore().save(big(2))
    second = set(limited_keyring.entries)
    assert first & second == {("rcauth", "default")}  # the old generation's parts are gone
    assert KeyringStore().load() == big(2)
    KeyringStore().save(SESSION)  # fits again: one entry, as before parts existed
    assert limited_keyring.entries == {("rcauth", "default"): SESSION.to_json()}
    limited_keyring.reads = 0
    store = KeyringStore()
    store.probe()
    assert store.load() == SESSION
    assert limited_keyring.reads == 1  # one keyring round trip per command, as before


def test_logout_removes_every_part(limited_keyring) -> None:
    KeyringStore().save(big())
    KeyringStore("dev").save(SESSION)
    assert KeyringStore().delete() is True
    assert set(limited_keyring.entries) == {("rcauth", "dev")}
    assert KeyringStore().load() is None and KeyringStore().delete() is False


def test_a_reader_follows_the_index_it_read_never_a_mix_of_two_sessions(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(big(1))
    get_password = limited_keyring.get_password
    replaced: list[bool] = []

    def get_racing_a_writer(service: str, username: str) -> str | None:
        if ":" in username and not replaced:  # the reader has read the old index: a writer replaces it
            replaced.append(True)
            KeyringStore().save(big(2))
        return get_password(service, username)

    monkeypatch.setattr(limited_keyring, "get_password", get_racing_a_writer)
    assert KeyringStore().load() == big(2)
    assert replaced


def test_a_write_refused_midway_keeps_the_old_session_and_leaves_no_parts(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(SESSION)
    set_password = limited_keyring.set_password

    def fail_on_the_second_part(service: str, username: str, password: str) -> None:
        if username.endswith(":1"):
            raise keyring.errors.KeyringError("the Secret Service went away")
        set_password(service, username, password)

    monkeypatch.setattr(limited_keyring, "set_password", fail_on_the_second_part)
    with pytest.raises(StorageUnavailable, match="failed to save the session: the Secret Service went away"):
        KeyringStore().save(big())
    assert limited_keyring.entries == {("rcauth", "default"): SESSION.to_json()}
    assert KeyringStore().load() == SESSION


@pytest.mark.parametrize(
    "damage",
    ["a part removed", "a part altered", "an unreadable index", "an index naming 10,000 parts"],
)
def test_a_broken_chunked_session_reads_as_damage_not_a_crash(limited_keyring, damage: str) -> None:
    KeyringStore().save(big())
    entries = limited_keyring.entries
    part = next(key for key in entries if ":" in key[1])
    if damage == "a part removed":
        del entries[part]
    elif damage == "a part altered":
        entries[part] = entries[part][:-1] + ("y" if entries[part].endswith("x") else "x")  # really altered
    elif damage == "an unreadable index":
        entries[("rcauth", "default")] = '{"rcauth_parts": 1, "generation": '
    else:
        index = json.loads(entries[("rcauth", "default")])
        entries[("rcauth", "default")] = json.dumps({**index, "count": 10_000})
    limited_keyring.reads = 0
    with pytest.raises(StoredSessionDamaged) as caught:
        KeyringStore().load()
    assert "run `rcauth login`" in (caught.value.hint or "")
    assert limited_keyring.reads <= 10  # never thousands of reads for a hostile index
    assert KeyringStore().delete() is True  # logout can still remove it
    assert KeyringStore().load() is None


def test_a_keyring_error_outside_keyrings_classes_is_a_storage_error(memory_keyring, monkeypatch) -> None:
    def refuse(*_: object) -> None:
        raise WindowsError1783(1312, "CredWrite", "A specified logon session does not exist.")

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    with pytest.raises(StorageUnavailable, match="failed to save the session: .*logon session"):
        KeyringStore().save(SESSION)


def test_a_write_the_keyring_refuses_goes_to_the_file_with_consent_said_once(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()  # an older login's copy
    set_password = memory_keyring.set_password
    monkeypatch.setattr(memory_keyring, "set_password", refusing)
    newer = SESSION.with_updates(access_token="AT-newer", refreshed_at=5.0)
    with pytest.raises(StorageUnavailable) as caught:
        open_store().save(newer)  # without consent: an error naming the way out, and no file
    assert "--insecure-storage" in (caught.value.hint or "")
    assert not FileStore("default").path.exists()
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", "1")
    with caplog.at_level(logging.WARNING):
        store = open_store()
        assert isinstance(store, KeyringStore) and store.kind == "keyring"
        store.save(newer)
    file = FileStore("default")
    assert caplog.text.count("keeping the session in") == 1
    assert "the system keyring failed to save the session: Can't store password on keychain" in caplog.text
    assert file.load() == newer
    assert memory_keyring.entries == {}  # the keyring's older copy cannot shadow the file
    again = open_store()
    assert again.load() == newer and again.kind == "file" and str(file.path) in again.location

    monkeypatch.setattr(memory_keyring, "set_password", set_password)
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()  # a copy the keyring kept anyway
    assert open_store().load() == newer  # the newer of the two is the live one
    assert open_store().delete() is True
    assert memory_keyring.entries == {} and not file.path.exists()  # logout removes both


def test_refresh_lock_says_when_it_has_to_wait_then_waits() -> None:
    from filelock import FileLock

    from rcauth.config import state_dir

    state_dir().mkdir(parents=True, exist_ok=True)
    held, release = threading.Event(), threading.Event()

    def other_holder() -> None:  # another process, as far as flock is concerned (its own descriptor)
        with FileLock(str(state_dir() / "default.refresh.lock")):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_holder)
    thread.start()
    assert held.wait(10)
    told: list[str] = []

    def on_wait() -> None:
        told.append("waiting")
        release.set()

    with refresh_lock("default", timeout=10, on_wait=on_wait):
        assert told == ["waiting"]
    thread.join(10)
    with refresh_lock("default", on_wait=lambda: told.append("again")):
        pass
    assert told == ["waiting"]  # a free lock is taken without a word


def test_the_keyring_timeout_is_read_when_a_store_is_made_not_at_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rcauth.store import KeyringStore

    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", "1.5")
    assert KeyringStore("default").timeout == 1.5
    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", "7")
    assert KeyringStore("default").timeout == 7.0
    assert KeyringStore("default", timeout=3).timeout == 3


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from rcauth.store import write_atomically

    target = tmp_path / "index.json"
    write_atomically(target, "old")
    assert target.read_text() == "old" and (target.stat().st_mode & 0o777) == 0o600

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_atomically(target, "new")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]


def test_the_file_store_names_the_profiles_it_holds(tmp_path: Path) -> None:
    from rcauth.store import FileStore

    for profile in ("dev", "prod"):
        FileStore(profile, tmp_path).save(_session_for_listing())
    (tmp_path / "notes.txt").write_text("not a session")
    assert FileStore.stored_profiles(tmp_path) == {"dev", "prod"}
    assert FileStore.stored_profiles(tmp_path / "missing") == set()


def _session_for_listing():
    from rcauth.session import Session

    return Session("https://rc.example", "cid", None, "AT-listing-1", 0.0, "RT-listing-1", None)

# -- issue 10 §7: an interrupted save keeps the old session --------------------------------------------
@pytest.mark.parametrize("failing", ["fsync", "replace"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_save_interrupted_mid_write_leaves_the_old_session_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str, error: BaseException
) -> None:
    store = FileStore("default", tmp_path / "data")
    store.save(SESSION)
    before = store.path.read_bytes()

    def fail(*args: object) -> None:
        raise error

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(type(error)):
        store.save(SESSION.with_updates(access_token="AT-new-2", refresh_token="RT-new-2"))
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert store.load() == SESSION
    assert [p.name for p in store.directory.iterdir()] == ["default.session.json"]


def test_a_save_whose_write_fails_halfway_leaves_the_old_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore("default", tmp_path / "data")
    store.save(SESSION)
    real_fdopen = os.fdopen

    class HalfWritten:
        def __init__(self, fh) -> None:
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, text: str) -> int:
            self.fh.write(text[: len(text) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWritten(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        store.save(SESSION.with_updates(access_token="AT-new-2"))
    monkeypatch.undo()
    assert store.load() == SESSION
    assert [p.name for p in store.directory.iterdir()] == ["default.session.json"]


def test_the_first_save_creates_a_private_directory_and_file(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b"
    store = FileStore("work", directory)
    assert store.load() is None and not store.delete()
    store.save(SESSION)
    assert store.path == directory / "work.session.json"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load() == SESSION
    assert store.delete() and not store.path.exists()


def test_a_file_that_is_not_text_is_damage_and_an_unreadable_one_is_unavailable(tmp_path: Path) -> None:
    store = FileStore("default", tmp_path)
    store.path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StoredSessionDamaged, match="is not text"):
        store.load()
    store.path.unlink()
    store.path.mkdir()
    with pytest.raises(StorageUnavailable, match="cannot read"):
        store.load()


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("1", True), ("true", True), (" YES ", True), ("on", True), ("0", False), ("", False)],
)
def test_insecure_storage_needs_the_flag_or_a_true_environment_value(
    monkeypatch: pytest.MonkeyPatch, value: str, allowed: bool
) -> None:
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", value)
    assert insecure_storage_allowed() is allowed
    assert insecure_storage_allowed(True) is True


# -- mutation testing: what the surviving mutants of store.py showed unpinned -----------------------------
@pytest.mark.parametrize("kind", ["memory", "keyring", "file"])
def test_a_loaded_session_registers_its_secrets_for_redaction(
    kind: str, tmp_path: Path, memory_keyring
) -> None:
    from rcauth.redact import redact

    store = {"memory": MemoryStore(), "keyring": KeyringStore(), "file": FileStore("default", tmp_path)}[kind]
    store.save(SESSION.with_updates(access_token="AT-loaded-123", refresh_token="RT-loaded-123"))
    assert redact("AT-loaded-123 RT-loaded-123") == "AT-loaded-123 RT-loaded-123"  # not known before loading
    store.load()
    assert redact("AT-loaded-123 RT-loaded-123 sec") == "*** *** sec"


def _failing_keyring(memory_keyring, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fail(*args: object) -> None:
        raise error

    for name in ("get_password", "set_password", "delete_password"):
        monkeypatch.setattr(memory_keyring, name, fail)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (keyring.errors.KeyringLocked("locked"), "the system keyring is locked (save the session)"),
        (keyring.errors.NoKeyringError("none"), "no system keyring is available"),
        (
            keyring.errors.PasswordSetError("RT-xyz-1 refused"),
            "the system keyring failed to save the session: *** refused",
        ),
        (
            keyring.errors.PasswordSetError(""),
            "the system keyring failed to save the session: PasswordSetError",
        ),
    ],
)
def test_a_failing_keyring_is_unavailable_storage_with_the_file_hint(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
) -> None:
    from rcauth.redact import register

    register("RT-xyz-1")
    _failing_keyring(memory_keyring, monkeypatch, error)
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().save(SESSION)
    assert str(caught.value) == message
    assert caught.value.hint == INSECURE_HINT


@pytest.mark.parametrize(("call", "what"), [("load", "read the session"), ("delete", "delete the session")])
def test_a_failing_keyring_says_what_it_was_asked_to_do(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, call: str, what: str
) -> None:
    _failing_keyring(memory_keyring, monkeypatch, keyring.errors.KeyringLocked("locked"))
    with pytest.raises(StorageUnavailable, match=rf"^the system keyring is locked \({what}\)$"):
        getattr(KeyringStore(), call)()


def test_a_hanging_keyring_points_to_the_file_fallback(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    monkeypatch.setattr(memory_keyring, "set_password", lambda *a: release.wait(10))
    try:
        with pytest.raises(StorageUnavailable) as caught:
            KeyringStore(timeout=0.2).save(SESSION)
    finally:
        release.set()
    assert str(caught.value) == (
        "the system keyring did not answer within 0.2 s while trying to save the session (is it locked?)"
    )
    assert caught.value.hint == INSECURE_HINT


def test_a_probe_reads_the_profiles_entry_once_for_the_next_load(memory_keyring) -> None:
    KeyringStore("work").save(SESSION)
    store = KeyringStore("work")
    store.probe()
    memory_keyring.entries.clear()  # a second read would find nothing
    assert store.load() == SESSION
    assert store.load() is None  # the probed value is used once


def test_without_a_keyring_the_consented_file_is_the_profiles(
    monkeypatch: pytest.MonkeyPatch, isolated
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store = open_store("work", insecure_storage=True)
    assert isinstance(store, FileStore)
    assert store.path == isolated / "data" / "work.session.json"
    assert store.fallback_reason == "no system keyring is available"
    assert open_store("work", insecure_storage=True).path == store.path


def test_a_save_writes_a_hidden_temp_file_beside_the_session_then_renames_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename is atomic only within one file system: the temp file must be in the store's directory."""
    store = FileStore("work", tmp_path / "data")
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(src, dst) -> None:
        renames.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    store.save(SESSION)
    ((src, dst),) = renames
    assert Path(src).parent == store.directory
    assert Path(src).name.startswith(".work.") and src.endswith(".tmp")
    assert dst == str(store.path)


def test_the_session_file_keeps_the_fallback_warning_for_its_creation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore("default", tmp_path, fallback_reason="the system keyring is locked")
    with caplog.at_level(logging.WARNING, logger="rcauth.store"):
        store.save(SESSION)
    assert caplog.messages == [f"the system keyring is locked; keeping the session in {store.path}"]


def test_the_keyring_timeout_defaults_to_20_s_and_takes_fractions(monkeypatch: pytest.MonkeyPatch) -> None:
    from rcauth.store import _keyring_timeout

    monkeypatch.delenv("RCAUTH_KEYRING_TIMEOUT", raising=False)
    assert _keyring_timeout() == 20.0
    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", "0.5")
    assert _keyring_timeout() == 0.5
    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", "inf")
    assert _keyring_timeout() == 20.0


def test_keyrings_fail_backend_switches_the_keyring_off_without_importing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """keyring's documented way to run without a keyring (CI): rcauth says so at once, without paying
    for importing keyring."""
    import sys

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", " keyring.backends.fail.Keyring ")
    monkeypatch.delitem(sys.modules, "keyring")
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().probe()
    assert "keyring" not in sys.modules
    assert str(caught.value) == "no system keyring is available" and caught.value.hint == INSECURE_HINT


def test_a_keyring_set_by_the_program_wins_over_the_fail_backend_variable(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    KeyringStore().save(SESSION)
    store = KeyringStore()
    store.probe()  # keyring is loaded and set (as the tests do): the variable no longer decides
    assert store.load() == SESSION


def test_a_save_or_delete_after_a_probe_reads_afresh(memory_keyring) -> None:
    store = KeyringStore("work")
    store.probe()  # found nothing
    store.save(SESSION)
    assert store.load() == SESSION
    store.probe()
    assert store.delete() is True
    assert store.load() is None


def test_open_store_uses_the_profiles_keyring_entry(memory_keyring) -> None:
    KeyringStore("work").save(SESSION)
    store = open_store("work")
    assert isinstance(store, KeyringStore) and store.load() == SESSION


def test_a_hung_keyring_call_is_left_on_a_daemon_thread(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process must be able to exit while a keyring call still hangs (a locked Secret Service)."""
    release = threading.Event()
    monkeypatch.setattr(memory_keyring, "get_password", lambda *a: release.wait(10))
    try:
        with pytest.raises(StorageUnavailable):
            KeyringStore(timeout=0.1).load()
        hung = [t for t in threading.enumerate() if t.name == "rcauth-keyring" and t.is_alive()]
        assert hung and all(t.daemon for t in hung)
    finally:
        release.set()


def test_a_damaged_or_unreadable_file_says_what_to_do(tmp_path: Path) -> None:
    store = FileStore("default", tmp_path)
    store.path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StoredSessionDamaged) as caught:
        store.load()
    assert caught.value.hint == "run `rcauth login` to sign in again (it overwrites the damaged file)"
    store.path.unlink()
    store.path.mkdir()
    with pytest.raises(StorageUnavailable) as unreadable:
        store.load()
    assert str(unreadable.value) == f"cannot read {store.path}: Is a directory"


def test_a_failing_probe_says_it_was_reading_the_session(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_keyring(memory_keyring, monkeypatch, keyring.errors.KeyringLocked("locked"))
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().probe()
    assert str(caught.value) == "the system keyring is locked (read the session)"
