from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
import threading
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from helpers import FakeClock, make_session
from installed_keyring import install, programs_keyring

from rcauth.errors import KeyringUnreachable, StorageUnavailable, StoredSessionDamaged
from rcauth.session import Session
from rcauth.store import (
    INSECURE_HINT,
    PART_SIZE,
    UNREACHABLE_HINT,
    FileStore,
    KeyringStore,
    MemoryStore,
    insecure_storage_allowed,
    not_signed_in,
    open_store,
    refresh_lock,
    session_file_not_read,
)

# Made long ago (`created_at`): a copy refreshed since (`refreshed_at`) is the newer one.
SESSION = make_session(
    server="https://s.example.com", access_token="AT-xyz-1", refresh_token="RT-xyz-1", created_at=1.0
)


def test_keyring_store_keeps_one_entry_per_profile(memory_keyring) -> None:
    KeyringStore("default").save(SESSION)
    KeyringStore("dev").save(dataclasses.replace(SESSION, access_token="AT-dev-1"))
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
    install(monkeypatch, keyring.backends.fail.Keyring())
    with pytest.raises(StorageUnavailable) as caught:
        open_store().load()
    assert "--insecure-storage" in (caught.value.hint or "")
    with pytest.raises(StorageUnavailable):
        open_store().probe()  # what a sign-in asks before any grant


def test_no_keyring_with_consent_falls_back_to_a_file_named_once_when_it_is_created(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, isolated: Path
) -> None:
    install(monkeypatch, keyring.backends.fail.Keyring())
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", "1")
    with caplog.at_level(logging.WARNING):
        store = open_store()
        assert store.load() is None and store.kind == "file"
        assert caplog.text == ""  # reading (or finding nothing) is not worth a warning ...
        store.save(SESSION)
        path = FileStore().path
        assert store.location == f"file {path} (insecure storage)"
        assert f"no system keyring is available; keeping the session in {path}" in caplog.text
        caplog.clear()
        # ... nor is a refresh's write
        open_store().save(dataclasses.replace(SESSION, access_token="AT-xyz-2"))
        assert open_store().load().access_token == "AT-xyz-2"
    assert caplog.text == ""  # said once: when the file was created


def test_file_store_is_0600_in_a_0700_dir_and_atomic(tmp_path: Path) -> None:
    store = FileStore("default", tmp_path / "data" / "rcauth")
    store.save(SESSION)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    store.save(dataclasses.replace(SESSION, access_token="AT-2-abc"))
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


def _fails_at_once(profile: str) -> None:
    """`profile`'s read is refused without asking the keyring, an earlier call given up on still waiting."""
    with pytest.raises(KeyringUnreachable) as caught:
        KeyringStore(profile, timeout=0.3).load()
    assert caught.value.message == (
        "the system keyring has not answered an earlier call, given up on after 0.3 s, so rcauth "
        "did not ask it to read the session (is it locked?)"
    )
    assert caught.value.hint == INSECURE_HINT


def test_while_a_keyring_call_given_up_on_still_waits_the_next_fails_at_once(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing of N profiles over a hung keyring waits its timeout once, not N times: the calls
    after the first are not made while it still waits. Once it returns, the keyring is asked again."""
    release = threading.Event()
    asked: list[str] = []
    memory_keyring.entries[("rcauth", "dev")] = SESSION.to_json()
    real_get = memory_keyring.get_password

    def hung_get(service: str, username: str) -> str | None:
        asked.append(username)
        release.wait(10)
        return real_get(service, username)

    monkeypatch.setattr(memory_keyring, "get_password", hung_get)
    with pytest.raises(KeyringUnreachable, match="did not answer within 0.3 s"):
        KeyringStore("default", timeout=0.3).load()
    for profile in ("dev", "work", "home"):
        _fails_at_once(profile)
    assert asked == ["default"]
    monkeypatch.setattr(memory_keyring, "get_password", real_get)
    release.set()
    for _ in range(500):  # the stuck call's thread ends just after it returns
        try:
            assert KeyringStore("dev", timeout=0.3).load() == SESSION
            break
        except KeyringUnreachable:
            threading.Event().wait(0.01)
    else:
        pytest.fail("the keyring was not asked again once the stuck call returned")


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
    ("value", "expected"),
    [("1.5", 1.5), ("soon", 20.0), ("0", 20.0), ("-3", 20.0), ("inf", 20.0), ("1e10", 86400.0)],
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
    return dataclasses.replace(
        SESSION, access_token=f"AT{n}-" + "a" * 1200, refresh_token=f"RT{n}-" + "r" * 1200
    )


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
    store = open_store()
    assert limited_keyring.reads == 0  # opening the store reads nothing: a keyring's trouble shows at use
    assert store.load() == SESSION


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
    newer = dataclasses.replace(SESSION, access_token="AT-newer", refreshed_at=5.0)
    with pytest.raises(StorageUnavailable) as caught:
        open_store().save(newer)  # without consent: an error naming the way out, and no file
    assert "--insecure-storage" in (caught.value.hint or "")
    assert not FileStore("default").path.exists()
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", "1")
    with caplog.at_level(logging.WARNING):
        store = open_store()
        assert store.load() == SESSION and store.kind == "keyring"
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

    from rcauth.files import write_atomically

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
    for stray in ('"bad name"', ".hidden", "x" * 65):  # no profile is named so: a stray file
        (tmp_path / f"{stray}.session.json").write_text("{}")
    assert FileStore.stored_profiles(tmp_path) == {"dev", "prod"}
    assert FileStore.stored_profiles(tmp_path / "missing") == set()


def _session_for_listing() -> Session:
    return make_session(
        server="https://rc.example",
        client_secret=None,
        access_token="AT-listing-1",
        refresh_token="RT-listing-1",
    )


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
    # A full disk is a storage problem said in one line (exit 6); Ctrl-C stays Ctrl-C.
    with pytest.raises(StorageUnavailable if isinstance(error, OSError) else type(error)) as raised:
        store.save(dataclasses.replace(SESSION, access_token="AT-new-2", refresh_token="RT-new-2"))
    if isinstance(error, OSError):
        assert str(raised.value) == f"cannot write the session file {store.path}: No space left on device"
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
    with pytest.raises(StorageUnavailable, match="No space left"):
        store.save(dataclasses.replace(SESSION, access_token="AT-new-2"))
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
    store.save(dataclasses.replace(SESSION, access_token="AT-loaded-123", refresh_token="RT-loaded-123"))
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


def test_a_probe_keeps_nothing_of_what_it_read(memory_keyring) -> None:
    """No cache between a probe and a load: the load reads the keyring as it is then."""
    KeyringStore("work").save(SESSION)
    store = KeyringStore("work")
    store.probe()
    memory_keyring.entries.clear()
    assert store.load() is None


def test_without_a_keyring_the_consented_file_is_the_profiles(
    monkeypatch: pytest.MonkeyPatch, isolated
) -> None:
    install(monkeypatch, keyring.backends.fail.Keyring())
    store = open_store("work", insecure_storage=True)
    store.probe()
    assert store.kind == "file"
    assert store.location == f"file {isolated / 'data' / 'work.session.json'} (insecure storage)"
    assert store.refused == "no system keyring is available"


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


def test_keyrings_fail_backend_switches_the_keyring_off_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's documented way to run without a keyring (CI), spaces around the name and all: no
    keyring is available, and the hint names the file the user may consent to."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", " keyring.backends.fail.Keyring ")
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().probe()
    assert str(caught.value) == "no system keyring is available" and caught.value.hint == INSECURE_HINT


def test_the_fail_backend_variable_decides_whatever_the_program_set_in_keyring(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rcauth's choice is the user's (the variable), never the backend a program set in keyring."""
    KeyringStore().save(SESSION)
    with programs_keyring(memory_keyring):
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        with pytest.raises(StorageUnavailable, match="no system keyring is available"):
            KeyringStore().load()
        assert keyring.get_keyring() is memory_keyring


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


# -- mutation testing, session 4: what the survivors of store.py still showed unpinned ----------------------
def test_a_memory_store_keeps_the_profile_it_was_made_for() -> None:
    assert MemoryStore("demo").profile == "demo"
    assert MemoryStore().profile == "default"


def _index(entries: dict[tuple[str, str], str]) -> dict[str, object]:
    return json.loads(entries[("rcauth", "default")])


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ('{"rcauth_parts": 1, "generation": ', "the stored session's index is not readable"),
        ({"count": "3"}, "the stored session's index is malformed"),
        ({"count": True}, "the stored session's index is malformed"),
        ({"count": 0}, "the stored session's index is malformed"),
        ({"count": 65}, "the stored session's index is malformed"),
        ({"generation": "not-hex"}, "the stored session's index is malformed"),
    ],
    ids=["cut short", "count a string", "count a boolean", "no parts", "65 parts", "a foreign generation"],
)
def test_a_damaged_index_says_what_is_wrong_and_how_to_recover(
    limited_keyring, index: str | dict[str, object], message: str
) -> None:
    KeyringStore().save(big())
    entries = limited_keyring.entries
    entries[("rcauth", "default")] = (
        index if isinstance(index, str) else json.dumps({**_index(entries), **index})
    )
    with pytest.raises(StoredSessionDamaged) as caught:
        KeyringStore().load()
    assert str(caught.value) == message
    assert caught.value.hint == "run `rcauth login` to sign in again (it overwrites the damaged entry)"


def test_missing_parts_say_the_session_is_incomplete(limited_keyring) -> None:
    KeyringStore().save(big())
    entries = limited_keyring.entries
    del entries[next(key for key in entries if key[1].endswith(":0"))]
    with pytest.raises(StoredSessionDamaged) as caught:
        KeyringStore().load()
    assert str(caught.value) == "the stored session is incomplete (parts missing or altered)"


def _huge(characters: int) -> Session:
    """A session whose JSON is exactly `characters` long."""
    base = len(dataclasses.replace(SESSION, access_token="").to_json())
    return dataclasses.replace(SESSION, access_token="A" * (characters - base))


def test_the_largest_session_the_parts_can_hold_is_kept_and_one_part_more_is_refused(limited_keyring) -> None:
    largest = _huge(64 * 1000)
    KeyringStore().save(largest)
    assert _index(limited_keyring.entries)["count"] == 64
    assert KeyringStore().load() == largest

    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().save(_huge(64 * 1000 + 1))
    assert str(caught.value) == "the session is too large for the system keyring (64001 characters)"
    assert caught.value.hint == INSECURE_HINT
    assert KeyringStore().load() == largest  # the refused write changed nothing


def test_a_keyring_that_loses_parts_silently_is_not_trusted_with_the_session(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_password = limited_keyring.set_password

    def truncate_parts(service: str, username: str, password: str) -> None:
        set_password(service, username, password[:-1] if ":" in username else password)

    monkeypatch.setattr(limited_keyring, "set_password", truncate_parts)
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().save(big())
    assert str(caught.value) == "the system keyring did not keep the session intact"
    assert caught.value.hint == INSECURE_HINT
    assert limited_keyring.entries == {}  # no parts left behind


def test_a_chunked_session_is_read_as_its_index_then_its_parts(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(big(1))
    parts = sorted(name for _, name in limited_keyring.entries if ":" in name)
    read: list[str] = []
    get_password = limited_keyring.get_password

    def recorded(service: str, username: str) -> str | None:
        read.append(username)
        return get_password(service, username)

    monkeypatch.setattr(limited_keyring, "get_password", recorded)
    assert open_store().load() == big(1)
    assert read[0] == "default" and sorted(set(read[1:])) == parts  # the index, then the parts it names


class WindowsOSError(OSError):
    """What ctypes.WinError(1783) raises on Windows: errno EINVAL, the Windows code in `winerror`."""

    def __init__(self) -> None:
        super().__init__(22, "The stub received bad data.")
        self.winerror = 1783


class OldStyleWindowsError(Exception):
    """An error that carries the Windows code only as its first argument."""


@pytest.mark.parametrize(
    "refusal",
    [WindowsOSError, lambda: OldStyleWindowsError(1783, "CredWrite", "The stub received bad data.")],
    ids=["OSError with winerror", "code in args only"],
)
def test_windows_size_refusals_in_other_shapes_also_split_the_session(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, refusal
) -> None:
    set_password = memory_keyring.set_password

    def limited(service: str, username: str, password: str) -> None:
        if len(password) > 1280:
            raise refusal()
        set_password(service, username, password)

    monkeypatch.setattr(memory_keyring, "set_password", limited)
    KeyringStore().save(big())
    assert len(memory_keyring.entries) == 4
    assert KeyringStore().load() == big()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (keyring.errors.KeyringError(), "the system keyring failed to save the session: KeyringError"),
        (
            keyring.errors.KeyringError("org.freedesktop.DBus.Error.NoReply"),
            "the system keyring failed to save the session: org.freedesktop.DBus.Error.NoReply",
        ),
        (OSError(), "the system keyring failed to save the session: OSError"),
        (
            WindowsError1783(5, "CredWrite", ""),
            "the system keyring failed to save the session: (5, 'CredWrite', '')",
        ),
    ],
    ids=["KeyringError without text", "KeyringError", "bare OSError", "Windows access denied"],
)
def test_a_keyring_failure_that_is_not_about_size_is_reported_not_split(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
) -> None:
    def refuse(*_: object) -> None:
        raise error

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    for session in (SESSION, big()):  # small or too big for one entry: the failure is not the size
        with pytest.raises(StorageUnavailable) as caught:
            KeyringStore().save(session)
        assert str(caught.value) == message
        assert caught.value.hint == INSECURE_HINT
    assert memory_keyring.entries == {}


def test_debug_output_says_why_a_session_went_into_parts_and_what_could_not_be_removed(
    limited_keyring, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What `--debug` shows: the keyring's refusal behind a chunked session, parts it could not remove."""
    with caplog.at_level(logging.DEBUG, logger="rcauth.store"):
        KeyringStore().save(big(1))
        delete_password = limited_keyring.delete_password

        def part_1_stuck(service: str, username: str) -> None:
            if username.endswith(":1"):
                raise keyring.errors.PasswordDeleteError("busy")
            delete_password(service, username)

        monkeypatch.setattr(limited_keyring, "delete_password", part_1_stuck)
        KeyringStore().save(big(2))
    messages = [r.getMessage() for r in caplog.records if r.name == "rcauth.store"]
    assert messages[0] in {
        f"the keyring refused the session whole ({name}); storing it in parts"
        for name in ("WindowsError1783", "PasswordSetError")
    }
    assert "could not remove part 1 of the stored session: PasswordDeleteError" in messages


def test_a_write_the_keyring_refuses_moves_the_store_to_the_file_for_good(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_password = memory_keyring.set_password
    monkeypatch.setattr(memory_keyring, "set_password", refusing)
    store = open_store(insecure_storage=True)
    store.save(SESSION)
    assert store.kind == "file" and store.location == FileStore("default").location
    monkeypatch.setattr(memory_keyring, "set_password", set_password)  # the keyring takes writes again
    refreshed = dataclasses.replace(SESSION, access_token="AT-refreshed", refreshed_at=9.0)
    store.save(refreshed)  # the same session stays in one place: the file
    assert memory_keyring.entries == {}
    assert FileStore("default").load() == refreshed and store.load() == refreshed


def test_a_refused_write_is_kept_in_the_file_even_when_the_keyring_copy_cannot_be_removed(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()

    def locked(*_: object) -> None:
        raise keyring.errors.KeyringLocked("locked")

    monkeypatch.setattr(memory_keyring, "set_password", refusing)
    monkeypatch.setattr(memory_keyring, "delete_password", locked)
    newer = dataclasses.replace(SESSION, access_token="AT-newer", refreshed_at=5.0)
    store = open_store(insecure_storage=True)
    store.save(newer)
    assert FileStore("default").load() == newer
    assert open_store(insecure_storage=True).load() == newer  # the newer copy wins


def test_a_newer_file_copy_wins_and_the_store_then_says_it_is_the_file(memory_keyring) -> None:
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()
    newer = dataclasses.replace(SESSION, access_token="AT-in-file", refreshed_at=5.0)
    FileStore("default").save(newer)
    store = open_store(insecure_storage=True)
    assert store.load() == newer
    assert store.kind == "file" and store.location == FileStore("default").location


def test_a_file_copy_as_old_as_the_keyrings_does_not_replace_it(memory_keyring) -> None:
    """The keyring is the session's home: a file copy wins only when it is newer."""
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()
    FileStore("default").save(dataclasses.replace(SESSION, access_token="AT-same-age"))
    store = open_store(insecure_storage=True)
    assert store.load() == SESSION and store.kind == "keyring"


def test_logout_with_the_file_fallback_allowed_reports_a_keyring_session_removed(memory_keyring) -> None:
    KeyringStore().save(SESSION)
    assert open_store(insecure_storage=True).delete() is True
    assert memory_keyring.entries == {}


def test_a_session_removed_by_another_logout_meanwhile_was_not_this_logouts(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(SESSION)
    delete_password = memory_keyring.delete_password

    def removed_meanwhile(service: str, username: str) -> None:
        delete_password(service, username)  # another rcauth's logout got there first
        delete_password(service, username)

    monkeypatch.setattr(memory_keyring, "delete_password", removed_meanwhile)
    assert KeyringStore().delete() is False


def test_a_failed_save_reports_the_write_error_even_when_the_temp_file_cannot_be_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcauth.files import write_atomically

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    monkeypatch.setattr(os, "unlink", lambda *_: (_ for _ in ()).throw(PermissionError(13, "denied")))
    with pytest.raises(OSError, match="No space left on device"):
        write_atomically(tmp_path / "index.json", "{}")


def test_the_file_store_lists_the_profiles_in_the_data_directory_by_default(isolated: Path) -> None:
    FileStore("work").save(SESSION)
    assert FileStore.stored_profiles() == {"work"}


# -- the Secret Service read without keyring (rcauth.secret_service) ------------------------------------
class FakeSecretService:
    """rcauth.secret_service.SecretServiceReader's interface over a dict, or an answer of `fails`."""

    entries: dict[tuple[str, str], str | None] = {}
    fails: type[Exception] | None = None
    timeouts: list[float] = []

    def __init__(self, timeout: float) -> None:
        self.timeouts.append(timeout)

    def __enter__(self) -> FakeSecretService:
        if self.fails is not None:
            raise self.fails("no Secret Service on this bus")
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def get(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))


@pytest.fixture
def secret_service(memory_keyring, monkeypatch: pytest.MonkeyPatch) -> type[FakeSecretService]:
    """keyring would use the Secret Service with its defaults, so rcauth reads it directly."""
    from rcauth import keyring_choice, secret_service

    monkeypatch.setattr(keyring_choice, "fast_path_backend", lambda: keyring_choice.SECRET_SERVICE)
    monkeypatch.setattr(secret_service, "SecretServiceReader", FakeSecretService)
    monkeypatch.setattr(FakeSecretService, "entries", {})
    monkeypatch.setattr(FakeSecretService, "fails", None)
    monkeypatch.setattr(FakeSecretService, "timeouts", [])
    return FakeSecretService


def _keyring_must_not_be_asked(memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_keyring(memory_keyring, monkeypatch, AssertionError("keyring asked"))


def test_the_secret_service_is_read_directly_when_keyring_would_read_it_there(
    secret_service, memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_service.entries[("rcauth", "work")] = SESSION.to_json()
    _keyring_must_not_be_asked(memory_keyring, monkeypatch)
    monkeypatch.setenv("RCAUTH_KEYRING_TIMEOUT", "3.5")
    assert open_store("work").load() == SESSION
    assert secret_service.timeouts == [3.5]  # one read, bounded by the keyring timeout


def test_a_hung_secret_service_is_a_timeout_not_a_hang(
    secret_service, memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcauth.secret_service import TimedOut

    secret_service.fails = TimedOut
    _keyring_must_not_be_asked(memory_keyring, monkeypatch)  # keyring would hang on it too
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore(timeout=0.5).probe()
    assert str(caught.value) == (
        "the system keyring did not answer within 0.5 s while trying to read the session (is it locked?)"
    )
    assert caught.value.hint == INSECURE_HINT


def test_where_the_direct_read_cannot_answer_keyring_does_and_debug_output_says_why(
    secret_service, memory_keyring, caplog: pytest.LogCaptureFixture
) -> None:
    from rcauth.secret_service import NotHere

    secret_service.fails = NotHere
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()
    store = KeyringStore()
    with caplog.at_level(logging.DEBUG, logger="rcauth.store"):
        store.probe()
    assert store.load() == SESSION
    assert caplog.messages == ["reading the Secret Service through keyring: no Secret Service on this bus"]


# -- rcauth doctor's keyring probe -------------------------------------------------------------------------
def test_the_keyring_probe_writes_reads_back_and_removes_a_test_entry(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from rcauth.store import probe_keyring

    calls: list[tuple[str, ...]] = []
    clock = FakeClock(100.0)
    real = {
        name: getattr(memory_keyring, name) for name in ("get_password", "set_password", "delete_password")
    }

    def recorded(name: str):
        def call(*args: str):
            calls.append((name, *args))
            clock.now += 0.25
            return real[name](*args)

        return call

    for name in real:
        monkeypatch.setattr(memory_keyring, name, recorded(name))
    assert probe_keyring(timeout=5, monotonic=clock.monotonic) == 0.75  # the three calls' time
    (set_call, get_call, delete_call) = calls
    assert set_call[0:2] == ("set_password", "rcauth")
    assert re.fullmatch(r"rcauth-doctor-probe-[0-9a-f]+", set_call[2]) and set_call[3]
    assert get_call == ("get_password", "rcauth", set_call[2])
    assert delete_call == ("delete_password", "rcauth", set_call[2])
    assert memory_keyring.entries == {}  # nothing left behind
    calls.clear()
    probe_keyring()
    assert calls[0][2] != set_call[2]  # each probe its own entry: two doctors never collide


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ("set_password", "the system keyring is locked (write a test entry)"),
        ("get_password", "the system keyring is locked (read a test entry)"),
        ("delete_password", "the system keyring is locked (delete a test entry)"),
    ],
)
def test_the_keyring_probe_says_which_step_failed(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, failing: str, message: str
) -> None:
    from rcauth.store import probe_keyring

    def locked(*_: object) -> None:
        raise keyring.errors.KeyringLocked("locked")

    monkeypatch.setattr(memory_keyring, failing, locked)
    with pytest.raises(StorageUnavailable) as caught:
        probe_keyring()
    assert str(caught.value) == message and caught.value.hint == INSECURE_HINT
    if failing == "get_password":
        assert memory_keyring.entries == {}  # the test entry is removed even so


def test_a_keyring_that_gives_back_another_value_fails_the_probe(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcauth.store import probe_keyring

    monkeypatch.setattr(memory_keyring, "get_password", lambda *_: "something else")
    with pytest.raises(StorageUnavailable) as caught:
        probe_keyring()
    assert str(caught.value) == "the system keyring did not give back the test entry it was given"
    assert memory_keyring.entries == {}


def test_the_keyring_probe_is_bounded_by_its_timeout(memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    from rcauth.store import probe_keyring

    release = threading.Event()
    monkeypatch.setattr(memory_keyring, "set_password", lambda *a: release.wait(10))
    try:
        with pytest.raises(StorageUnavailable) as caught:
            probe_keyring(timeout=0.2)
    finally:
        release.set()
    assert str(caught.value) == (
        "the system keyring did not answer within 0.2 s while trying to write a test entry (is it locked?)"
    )


def test_the_keyring_probe_with_keyring_switched_off_says_so_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from rcauth.store import probe_keyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delitem(sys.modules, "keyring")
    with pytest.raises(StorageUnavailable) as caught:
        probe_keyring()
    assert str(caught.value) == "no system keyring is available" and caught.value.hint == INSECURE_HINT


# -- the directories a login needs, checked before the grant ------------------------------------------
def test_a_login_check_creates_the_private_directories_it_needs_and_leaves_nothing_in_them(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from rcauth.store import check_login_dirs

    # The probes write in the directories themselves, never the system's temp directory.
    monkeypatch.setattr(tempfile, "tempdir", str(isolated / "no-such-tmp"))
    check_login_dirs("default", session_file=False)
    assert not (isolated / "config").exists()  # only read: never created
    assert stat.S_IMODE((isolated / "state").stat().st_mode) == 0o700
    assert not (isolated / "data").exists()  # the session goes to the keyring
    check_login_dirs("work", session_file=True)  # the state directory exists now: fine
    assert stat.S_IMODE((isolated / "data").stat().st_mode) == 0o700
    assert [p.name for p in (isolated / "data").iterdir()] == []
    assert not [p for p in (isolated / "state").iterdir() if p.name.startswith(".")]
    (isolated / "config").mkdir()
    check_login_dirs("work", session_file=True)  # every directory there already: fine


@pytest.mark.parametrize(
    ("kind", "env", "hint"),
    [
        ("config", "RCAUTH_CONFIG_DIR", "read"),
        ("state", "RCAUTH_STATE_DIR", "write to"),
        ("data", "RCAUTH_DATA_DIR", "write to"),
    ],
)
def test_a_file_in_the_way_of_a_login_directory_is_named_with_the_variable_to_set(
    isolated: Path, kind: str, env: str, hint: str
) -> None:
    from rcauth.store import check_login_dirs

    isolated.mkdir(parents=True, exist_ok=True)
    (isolated / kind).write_text("a file")
    directory = isolated / kind / "rcauth"
    os.environ[env] = str(directory)  # restored by the isolated fixture's monkeypatch
    with pytest.raises(StorageUnavailable) as caught:
        check_login_dirs("default", session_file=True)
    assert str(caught.value) == (
        f"cannot use the {kind} directory {directory}: {isolated / kind} is not a directory"
    )
    assert caught.value.hint == f"set {env} to a directory rcauth can {hint}"


def test_a_config_directory_that_cannot_be_read_stops_a_login(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcauth.store import check_login_dirs

    config = isolated / "config"
    config.mkdir(parents=True)
    real_access = os.access

    def access(
        path: os.PathLike[str], mode: int
    ) -> bool:  # a 0300 directory, as the OS answers a non-root user
        return not (mode & os.R_OK) if Path(path) == config else real_access(path, mode)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(StorageUnavailable) as caught:
        check_login_dirs("default", session_file=False)
    assert str(caught.value) == f"cannot use the config directory {config}: it cannot be read"
    assert caught.value.hint == "set RCAUTH_CONFIG_DIR to a directory rcauth can read"


def test_a_directory_that_cannot_be_written_stops_a_login(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from rcauth.store import check_login_dirs

    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: object, dir: str | None = None, **kwargs: object):  # noqa: A002 - mkstemp's name
        if Path(str(dir)) == isolated / "data":  # a read-only mount, as even root meets it
            raise OSError(30, "Read-only file system")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    check_login_dirs("default", session_file=False)  # the data directory is not needed
    with pytest.raises(StorageUnavailable) as caught:
        check_login_dirs("default", session_file=True)
    assert str(caught.value) == f"cannot use the data directory {isolated / 'data'}: Read-only file system"
    assert caught.value.hint == "set RCAUTH_DATA_DIR to a directory rcauth can write to"


def test_a_lock_file_that_cannot_be_opened_stops_a_login(isolated: Path) -> None:
    from rcauth.store import check_login_dirs

    lock = isolated / "state" / "work.refresh.lock"
    lock.mkdir(parents=True)  # something in the way of the lock file
    with pytest.raises(StorageUnavailable) as caught:
        check_login_dirs("work", session_file=False)
    assert str(caught.value) == f"cannot use the lock file {lock}: Is a directory"
    assert caught.value.hint == "set RCAUTH_STATE_DIR to a directory rcauth can write to"


def test_a_lock_held_by_a_refresh_does_not_stop_or_hold_up_a_login_check(isolated: Path) -> None:
    from filelock import FileLock

    from rcauth.config import state_dir
    from rcauth.store import check_login_dirs

    state_dir().mkdir(parents=True)
    held, release, still_held = threading.Event(), threading.Event(), threading.Event()

    def refresh() -> None:  # another rcauth's refresh, holding the lock until told (at most 20 s)
        with FileLock(str(state_dir() / "default.refresh.lock")):
            still_held.set()
            held.set()
            release.wait(20)
            still_held.clear()

    thread = threading.Thread(target=refresh, daemon=True)
    thread.start()
    assert held.wait(10)
    try:
        check_login_dirs("default", session_file=False)
        assert still_held.is_set()  # the check did not wait for the refresh to end
    finally:
        release.set()
        thread.join(30)


def test_a_keyring_failure_on_the_whole_entry_is_reported_even_where_parts_would_fit(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts are the answer to a size refusal only: any other failure (a D-Bus call that got no
    reply) is the keyring's to report, not a reason to write the session another way."""
    set_password = memory_keyring.set_password
    failed: list[str] = []

    def no_reply_once(service: str, username: str, password: str) -> None:
        if not failed:
            failed.append(username)
            raise keyring.errors.KeyringError("org.freedesktop.DBus.Error.NoReply")
        set_password(service, username, password)

    monkeypatch.setattr(memory_keyring, "set_password", no_reply_once)
    with pytest.raises(StorageUnavailable, match="NoReply"):
        KeyringStore().save(big())
    assert memory_keyring.entries == {}


def test_a_store_whose_session_moved_to_the_file_does_not_ask_the_keyring_again(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_keyring, "set_password", refusing)
    store = open_store(insecure_storage=True)
    store.save(SESSION)

    def locked(*_: object) -> None:
        raise keyring.errors.KeyringLocked("locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)  # the keyring has locked since
    assert store.load() == SESSION


# -- issue 20 (session 8): what the store's mutants showed unpinned by the fast tests --------------------
def _refusing_the_profiles_entry(memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyring that refuses every write to the profile's own entry, whatever its size, as macOS does
    (PasswordSetError, -25244) for an item whose access list does not name this program."""
    set_password = memory_keyring.set_password

    def refuse_the_entry(service: str, username: str, password: str) -> None:
        if username == "default":
            raise refuse_like_keyring()
        set_password(service, username, password)

    monkeypatch.setattr(memory_keyring, "set_password", refuse_the_entry)


@pytest.mark.parametrize("characters", [PART_SIZE, 3 * PART_SIZE])
def test_a_keyring_that_refuses_the_profiles_entry_is_reported_and_no_part_is_left_behind(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, characters: int
) -> None:
    """The parts of a session are named only by the entry written last: if that write is refused,
    parts left behind would hold a live refresh token that no logout could ever find."""
    session = _exactly(characters)
    _refusing_the_profiles_entry(memory_keyring, monkeypatch)
    with pytest.raises(StorageUnavailable) as caught:
        KeyringStore().save(session)
    assert str(caught.value) == (
        "the system keyring failed to save the session: "
        "Can't store password on keychain: (-25244, 'Unknown Error')"
    )
    assert memory_keyring.entries == {}


def _exactly(characters: int) -> Session:
    """A session whose stored JSON is exactly `characters` long."""
    padding = characters - len(SESSION.to_json())
    session = dataclasses.replace(SESSION, access_token=SESSION.access_token + "a" * padding)
    assert len(session.to_json()) == characters
    return session


def _entries_as_bytes(memory_keyring, monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    """The profile's entry holds `raw`, which the backend decodes as UTF-8 when it reads it."""
    get_password = memory_keyring.get_password

    def decoding(service: str, username: str) -> str | None:
        if username == "default" and ("rcauth", "default") in memory_keyring.entries:
            value = memory_keyring.entries[("rcauth", "default")]
            return raw.decode("utf-8") if value == "<raw>" else value
        return get_password(service, username)

    memory_keyring.entries[("rcauth", "default")] = "<raw>"
    monkeypatch.setattr(memory_keyring, "get_password", decoding)


def test_an_entry_that_is_not_utf8_is_damage_saying_where_and_logout_removes_it(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    _entries_as_bytes(memory_keyring, monkeypatch, b'{"access_token": "\xff')
    store = open_store("default")  # the keyring answers: the store is usable, its entry damaged
    with pytest.raises(StoredSessionDamaged) as caught:
        store.load()
    assert str(caught.value) == "the stored session is not text (byte 18 is not UTF-8)"
    assert caught.value.hint == "run `rcauth login` to sign in again (it overwrites the damaged entry)"
    assert KeyringStore().delete() is True
    assert memory_keyring.entries == {}


def test_an_entry_the_secret_service_cannot_decode_is_damage_not_a_crash(
    secret_service, memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    def undecodable(self: object, service: str, username: str) -> str:
        return b"\x80".decode("utf-8")

    monkeypatch.setattr(secret_service, "get", undecodable)
    _entries_as_bytes(memory_keyring, monkeypatch, b"\x80")
    store = open_store("default")
    with pytest.raises(StoredSessionDamaged) as caught:
        store.load()
    assert str(caught.value) == "the stored session is not text (byte 0 is not UTF-8)"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (RuntimeError("could not parse line: eyJhY2Nlc3NfdG9rZW4iOiAiQVQteHl6LTEi"), "RuntimeError"),
        (OSError(5, "Input/output error"), "[Errno 5] Input/output error"),
        (WindowsError1783(1312, "CredRead", "A specified logon session does not exist."), "(1312, "),
    ],
)
def test_a_backend_failure_outside_keyrings_classes_is_named_by_its_type_unless_it_is_the_os(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, error: Exception, said: str
) -> None:
    """A backend's own exception may quote what it read (keyrings.alt's parser quotes the line it
    choked on: base64 of the session): only an OS-level error's text is shown."""
    _failing_keyring(memory_keyring, monkeypatch, error)
    with pytest.raises(KeyringUnreachable) as caught:
        KeyringStore().load()
    assert str(caught.value).startswith(f"the system keyring failed to read the session: {said}")
    assert "eyJ" not in str(caught.value)
    assert caught.value.hint == INSECURE_HINT


@pytest.mark.parametrize("store_kind", ["keyring", "file", "memory"])
def test_a_loaded_session_masks_its_apps_basic_credential(store_kind: str, tmp_path: Path) -> None:
    """A server that echoes the request's `Authorization: Basic base64(id:secret)` must not show it."""
    import base64

    from rcauth.redact import redact

    session = dataclasses.replace(
        SESSION, client_id=f"cid-{store_kind}-basic", client_secret="app-secret-basic-1"
    )
    store = {"keyring": KeyringStore(), "file": FileStore("default", tmp_path), "memory": MemoryStore()}[
        store_kind
    ]
    store.save(session)
    store.load()
    basic = base64.b64encode(f"cid-{store_kind}-basic:app-secret-basic-1".encode()).decode()
    assert redact(f"echoed {basic}") == "echoed ***"


def test_with_consent_a_locked_keyring_is_not_taken_for_not_signed_in(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_keyring(memory_keyring, monkeypatch, keyring.errors.KeyringLocked("locked"))
    store = open_store("default", insecure_storage=True)
    with pytest.raises(KeyringUnreachable) as caught:
        store.load()
    assert str(caught.value) == (
        "the system keyring is locked (read the session), "
        "so whether it holds this profile's session is unknown"
    )
    assert caught.value.hint == UNREACHABLE_HINT
    assert store.kind == "file"
    store.save(SESSION)  # the file is used all the same, and its session found
    assert open_store("default", insecure_storage=True).load() == SESSION


def test_with_consent_and_no_keyring_at_all_an_empty_file_is_not_signed_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch, keyring.backends.fail.Keyring())
    store = open_store("default", insecure_storage=True)
    assert store.load() is None and store.kind == "file"


def test_a_session_file_that_cannot_be_written_or_removed_says_which_and_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(StorageUnavailable) as caught:
        FileStore("default", blocker / "rcauth").save(SESSION)
    path = blocker / "rcauth" / "default.session.json"
    assert str(caught.value) == f"cannot write the session file {path}: Not a directory"
    assert caught.value.hint == "set RCAUTH_DATA_DIR to a directory rcauth can write to"

    store = FileStore("default", tmp_path)
    store.path.mkdir()  # a directory where the file should be
    with pytest.raises(StorageUnavailable) as caught:
        store.delete()
    assert str(caught.value) == f"cannot remove the session file {store.path}: Is a directory"


def _stuck(memory_keyring, monkeypatch: pytest.MonkeyPatch, stuck: dict[int, Exception], gone: bool = False):
    """The in-memory keyring's part removals: part n fails with `stuck[n]` (and stays, unless `gone`:
    then it is removed all the same, as libsecret does when it says a failure)."""
    delete_password = memory_keyring.delete_password

    def delete(service: str, username: str) -> None:
        number = int(username.rsplit(":", 1)[1]) if ":" in username else None
        if number in stuck:
            if gone:
                delete_password(service, username)
            raise stuck[number]
        delete_password(service, username)

    monkeypatch.setattr(memory_keyring, "delete_password", delete)


def test_logout_names_every_part_it_could_not_remove_with_the_first_ones_reason(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(big())
    parts = sorted(u for (_, u) in limited_keyring.entries if u != "default")
    assert len(parts) == 3
    _stuck(limited_keyring, monkeypatch, {0: keyring.errors.KeyringError("busy"), 2: OSError("gone away")})
    with pytest.raises(KeyringUnreachable) as caught:
        KeyringStore().delete()
    assert str(caught.value) == "the system keyring failed to remove part 0, 2 of the stored session: busy"
    assert caught.value.hint == "try again: the entry naming the rest is kept until every part is gone"
    assert sorted(u for (_, u) in limited_keyring.entries) == ["default", parts[0], parts[2]]


def test_a_part_that_could_not_be_removed_is_named_by_type_when_its_error_says_nothing(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(big())
    _stuck(limited_keyring, monkeypatch, {1: keyring.errors.KeyringError("")})
    with pytest.raises(KeyringUnreachable, match=r"remove part 1 of the stored session: KeyringError$"):
        KeyringStore().delete()


def test_a_part_whose_removal_is_refused_but_which_is_gone_counts_as_removed(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(big())
    _stuck(limited_keyring, monkeypatch, {0: keyring.errors.PasswordDeleteError("not found")}, gone=True)
    assert KeyringStore().delete() is True
    assert limited_keyring.entries == {}


def test_a_part_that_cannot_be_removed_or_looked_at_is_still_named(
    limited_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringStore().save(big())
    _stuck(limited_keyring, monkeypatch, {1: keyring.errors.KeyringError("busy")})
    get_password = limited_keyring.get_password

    def not_now(service: str, username: str) -> str | None:
        if username.endswith(":1"):
            raise keyring.errors.KeyringLocked("locked")
        return get_password(service, username)

    monkeypatch.setattr(limited_keyring, "get_password", not_now)
    with pytest.raises(KeyringUnreachable) as caught:
        KeyringStore().delete()
    assert str(caught.value) == "the system keyring failed to remove part 1 of the stored session: busy"
    assert ("rcauth", "default") in limited_keyring.entries


class _UndecodableStorage(keyring.backend.KeyringBackend):
    """keyrings.alt over a file of garbage bytes: every operation fails decoding the backend's own file."""

    priority = 1  # type: ignore[assignment]

    def _fail(self) -> None:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    def get_password(self, service: str, username: str) -> str | None:
        self._fail()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._fail()

    def delete_password(self, service: str, username: str) -> None:
        self._fail()


def test_a_keyring_that_cannot_decode_its_own_storage_on_a_write_is_a_keyring_failure_not_damage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read that cannot be decoded is a damaged entry, which login overwrites; a write or a removal
    that cannot be is the keyring's own storage failing, and sending the user to `rcauth login` (which
    would meet it again) would be a dead end."""
    install(monkeypatch, _UndecodableStorage())
    store = KeyringStore("default", timeout=5)
    with pytest.raises(StoredSessionDamaged):
        store.load()
    for attempt in (lambda: store.save(SESSION), store.delete):
        with pytest.raises(KeyringUnreachable) as caught:
            attempt()
        assert caught.value.message.startswith("the system keyring failed to ")
        assert caught.value.message.endswith(": UnicodeDecodeError")


def test_a_session_file_a_consented_sign_in_left_is_named_when_the_keyring_has_none(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without consent the file is not read, but its session is live: "not signed in" would be false."""
    store = open_store()
    assert session_file_not_read(store) is None
    assert not_signed_in(store).message == "not signed in"
    FileStore("default").save(SESSION)
    assert store.load() is None  # the keyring is empty, and the file is not read without consent
    path = FileStore("default").path
    assert session_file_not_read(store).path == path
    error = not_signed_in(store)
    assert error.message == (
        f"no session in the keyring; the session in {path} is kept in plain text and read only with "
        "consent to insecure storage"
    )
    assert error.hint == (
        "pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1; insecure_storage=True in Python) to "
        "use it; `rcauth login` replaces it with a session kept in the keyring, `rcauth logout` ends it"
    )
    assert session_file_not_read(open_store("dev")) is None  # another profile's file is its own
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", "1")
    consented = open_store()
    assert session_file_not_read(consented) is None and consented.load() == SESSION


@pytest.mark.parametrize("newer_in", ["keyring", "file"])
def test_a_sign_in_takes_the_older_of_two_stored_sessions_out_of_its_store(
    memory_keyring, monkeypatch: pytest.MonkeyPatch, newer_in: str
) -> None:
    """The older session is a live grant too: handed back, once removed, for the sign-in to end."""
    monkeypatch.setenv("RCAUTH_INSECURE_STORAGE", "1")
    newer = dataclasses.replace(SESSION, refresh_token="RT-newer", refreshed_at=5.0)
    in_keyring, in_file = (newer, SESSION) if newer_in == "keyring" else (SESSION, newer)
    memory_keyring.entries[("rcauth", "default")] = in_keyring.to_json()
    FileStore("default").save(in_file)
    store = open_store()
    assert store.load() == newer and store.shadowed == SESSION
    assert store.remove_shadowed() == SESSION
    assert store.shadowed is None and store.remove_shadowed() is None
    if newer_in == "keyring":
        assert not FileStore("default").path.exists()
        assert Session.from_json(memory_keyring.entries[("rcauth", "default")]) == newer
    else:
        assert memory_keyring.entries == {} and FileStore("default").load() == newer


# -- session 10 (issue 20): what the store's rerun after the outside review showed unpinned --------------
def test_after_a_hung_secret_service_read_the_next_fails_at_once_until_its_timeout_has_passed(
    secret_service, memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct read leaves no thread waiting, so what it last gave up on is remembered for as long
    as its timeout: a listing of N profiles over a hung Secret Service waits once, not N times."""
    from rcauth.secret_service import TimedOut

    secret_service.fails = TimedOut
    _keyring_must_not_be_asked(memory_keyring, monkeypatch)
    with pytest.raises(KeyringUnreachable, match="did not answer within 0.3 s"):
        KeyringStore("default", timeout=0.3).load()
    for profile in ("dev", "work"):
        _fails_at_once(profile)
    assert secret_service.timeouts == [0.3]  # asked once
    secret_service.fails = None
    secret_service.entries[("rcauth", "dev")] = SESSION.to_json()
    threading.Event().wait(0.4)  # its timeout has passed: the Secret Service is asked again
    assert KeyringStore("dev", timeout=0.3).load() == SESSION


def test_with_the_secret_service_read_directly_no_entry_is_not_signed_in_and_an_index_is_followed(
    secret_service, limited_keyring
) -> None:
    assert KeyringStore("default").load() is None
    KeyringStore("default").save(big(1))  # split: the profile's entry is an index
    # The Secret Service is the keyring keyring writes to: the direct read finds the same index.
    secret_service.entries[("rcauth", "default")] = limited_keyring.entries[("rcauth", "default")]
    assert KeyringStore("default").load() == big(1)


def test_with_consent_and_no_keyring_every_later_call_goes_to_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sign-in probes, saves, and the next command loads: none of them asks the keyring again."""
    install(monkeypatch, keyring.backends.fail.Keyring())
    store = open_store("default", insecure_storage=True)
    store.probe()
    store.save(SESSION)
    assert store.load() == SESSION and store.load() == SESSION
    assert FileStore("default").load() == SESSION and store.kind == "file"


def test_with_consent_a_keyring_that_fails_after_its_first_read_is_reported_not_swapped_for_the_file(
    memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the first read decides on the file: a keyring that worked then and fails later may hold
    the session, so the file's "nothing here" would be a guess."""
    store = open_store("default", insecure_storage=True)
    store.probe()  # the keyring answers: the store keeps to it

    def locked(*_: object) -> None:
        raise keyring.errors.KeyringLocked("locked")

    monkeypatch.setattr(memory_keyring, "get_password", locked)
    with pytest.raises(KeyringUnreachable) as caught:
        store.load()
    assert caught.value.message == "the system keyring is locked (read the session)"
    assert store.kind == "keyring" and store.refused is None  # the file was not taken up


def test_a_store_that_holds_one_session_has_no_older_one_to_end(memory_keyring) -> None:
    store = open_store("default", insecure_storage=True)
    assert store.remove_shadowed() is None  # nothing read yet
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()
    assert store.load() == SESSION
    assert store.shadowed is None and store.remove_shadowed() is None
    assert Session.from_json(memory_keyring.entries[("rcauth", "default")]) == SESSION


def test_with_consent_each_profile_reads_its_own_keyring_entry(memory_keyring) -> None:
    memory_keyring.entries[("rcauth", "default")] = SESSION.to_json()
    dev = dataclasses.replace(SESSION, access_token="AT-dev-2")
    memory_keyring.entries[("rcauth", "dev")] = dev.to_json()
    assert open_store("dev", insecure_storage=True).load() == dev
    assert open_store("work", insecure_storage=True).load() is None


def test_not_signed_in_to_another_profile_says_how_to_sign_in_to_that_one() -> None:
    from rcauth.store import not_signed_in

    assert not_signed_in(MemoryStore()).hint == "run `rcauth login` first"
    assert not_signed_in(MemoryStore("work")).hint == "run `rcauth --profile work login` first"
