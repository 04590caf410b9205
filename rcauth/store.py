"""Where a session lives: the OS keyring, an opt-in file, or memory; and the cross-process refresh lock.

The keyring is the only default home of a session. A file is used only with the user's consent
(`--insecure-storage` / `RCAUTH_INSECURE_STORAGE=1`) when no keyring works, because a file is only as
safe as the account's file permissions and backups.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from rcauth import redact
from rcauth.config import DEFAULT_PROFILE, check_profile_name, config_dir, data_dir, state_dir
from rcauth.errors import StorageUnavailable, StoredSessionDamaged
from rcauth.session import Session

log = logging.getLogger(__name__)

KEYRING_SERVICE = "rcauth"


def _keyring_timeout(default: float = 20.0) -> float:
    """`RCAUTH_KEYRING_TIMEOUT` seconds if it is a positive number, else `default`."""
    try:
        value = float(os.environ.get("RCAUTH_KEYRING_TIMEOUT", default))
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


# A keyring that hangs (a locked Secret Service waiting on a prompt no one sees) must not hang rcauth.
KEYRING_TIMEOUT = _keyring_timeout()
# Longer than any refresh (connect + read timeouts, plus retries), shorter than a user's patience.
LOCK_TIMEOUT = 120.0
INSECURE_HINT = "pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1) to keep it in a 0600 file instead"

T = TypeVar("T")


class SessionStore(Protocol):
    """What the CLI and client need of a place that keeps a session."""

    kind: str

    @property
    def location(self) -> str: ...

    def load(self) -> Session | None: ...

    def save(self, session: Session) -> None: ...

    def delete(self) -> bool: ...


def _keyring_switched_off() -> bool:
    """`PYTHON_KEYRING_BACKEND` names keyring's `fail` backend (keyring's documented way to run without
    one, as on CI) and keyring is not loaded yet (so no `keyring.set_keyring` overrides it): every keyring
    call would fail, and importing keyring to find that out costs about 15 ms a command."""
    backend = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    return backend == "keyring.backends.fail.Keyring" and "keyring" not in sys.modules


def _register(session: Session | None) -> Session | None:
    if session is not None:
        redact.register(*session.secrets)
    return session


class MemoryStore:
    """Keeps the session in this process only: the demo (never touches the user's real session) and tests."""

    kind = "memory"

    def __init__(self, profile: str = DEFAULT_PROFILE) -> None:
        self.profile = profile
        self._value: str | None = None

    @property
    def location(self) -> str:
        return "memory (this process only)"

    def load(self) -> Session | None:
        return _register(Session.from_json(self._value)) if self._value is not None else None

    def save(self, session: Session) -> None:
        self._value = session.to_json()

    def delete(self) -> bool:
        existed, self._value = self._value is not None, None
        return existed


def _bounded(call: Callable[[], T], what: str, timeout: float) -> T:
    """Run a keyring call on a daemon thread and give up after `timeout` seconds."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="rcauth-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise StorageUnavailable(
            f"the system keyring did not answer within {timeout:g} s while trying to {what} (is it locked?)",
            hint=INSECURE_HINT,
        )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")  # type: ignore[return-value]


class KeyringStore:
    """One keyring entry per profile: service `rcauth`, username = the profile name, value = JSON."""

    kind = "keyring"

    def __init__(self, profile: str = DEFAULT_PROFILE, *, timeout: float = KEYRING_TIMEOUT) -> None:
        self.profile = profile
        self.timeout = timeout
        # What `probe()` read, handed to the next `load()` once: every command loads right after
        # probing, and a Secret Service read costs a D-Bus session and a key exchange (about 20 ms).
        self._probed: tuple[str | None] | None = None

    @property
    def location(self) -> str:
        import keyring

        backend = type(keyring.get_keyring()).__module__.split(".")[-1]
        return f"system keyring ({backend}: service {KEYRING_SERVICE!r}, entry {self.profile!r})"

    def _call(self, what: str, call: Callable[[], T]) -> T:
        import keyring.errors

        try:
            return _bounded(call, what, self.timeout)
        except keyring.errors.KeyringLocked as exc:
            raise StorageUnavailable(f"the system keyring is locked ({what})", hint=INSECURE_HINT) from exc
        except keyring.errors.NoKeyringError as exc:
            raise StorageUnavailable("no system keyring is available", hint=INSECURE_HINT) from exc
        except keyring.errors.KeyringError as exc:
            raise StorageUnavailable(
                f"the system keyring failed to {what}: {redact.redact(str(exc)) or type(exc).__name__}",
                hint=INSECURE_HINT,
            ) from exc

    def probe(self) -> None:
        """Raise `StorageUnavailable` unless a keyring backend can actually be read."""
        if _keyring_switched_off():
            raise StorageUnavailable("no system keyring is available", hint=INSECURE_HINT)
        import keyring

        value = self._call("read the session", lambda: keyring.get_password(KEYRING_SERVICE, self.profile))
        self._probed = (value,)

    def load(self) -> Session | None:
        if self._probed is not None:
            (value,), self._probed = self._probed, None
        else:
            import keyring

            value = self._call(
                "read the session", lambda: keyring.get_password(KEYRING_SERVICE, self.profile)
            )
        return _register(Session.from_json(value)) if value is not None else None

    def save(self, session: Session) -> None:
        import keyring

        self._probed = None
        text = session.to_json()
        self._call("save the session", lambda: keyring.set_password(KEYRING_SERVICE, self.profile, text))

    def delete(self) -> bool:
        import keyring
        import keyring.errors

        self._probed = None

        def remove() -> bool:
            try:
                keyring.delete_password(KEYRING_SERVICE, self.profile)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._call("delete the session", remove)


class FileStore:
    """The opt-in fallback: one JSON file per profile, mode 0600 in a 0700 directory, replaced atomically."""

    kind = "file"

    def __init__(
        self,
        profile: str = DEFAULT_PROFILE,
        directory: Path | None = None,
        *,
        fallback_reason: str | None = None,
    ) -> None:
        self.profile = profile
        self.directory = directory if directory is not None else data_dir()
        # Why the keyring was passed over (`open_store`): said once, when this store creates the
        # file, so the user learns where the tokens went without a warning on every later command.
        self.fallback_reason = fallback_reason

    @property
    def path(self) -> Path:
        return self.directory / f"{self.profile}.session.json"

    @property
    def location(self) -> str:
        return f"file {self.path} (insecure storage)"

    def load(self) -> Session | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as exc:
            raise StoredSessionDamaged(
                f"the stored session in {self.path} is not text",
                hint="run `rcauth login` to sign in again (it overwrites the damaged file)",
            ) from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        return _register(Session.from_json(text))

    def save(self, session: Session) -> None:
        if self.fallback_reason and not self.path.exists():
            log.warning("%s; keeping the session in %s", self.fallback_reason, self.path)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        # Write a sibling temp file created 0600 and rename it over: a reader (or a crash) sees the
        # old session or the new one, never half of one.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.profile}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(session.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


def insecure_storage_allowed(flag: bool = False) -> bool:
    """Consent to the file fallback: the flag, or `RCAUTH_INSECURE_STORAGE` set to a true value."""
    return flag or os.environ.get("RCAUTH_INSECURE_STORAGE", "").strip().lower() in ("1", "true", "yes", "on")


def open_store(profile: str = DEFAULT_PROFILE, *, insecure_storage: bool = False) -> KeyringStore | FileStore:
    """The store for a profile: the keyring when it works; else the file, with consent; else an error."""
    keyring_store = KeyringStore(check_profile_name(profile))
    try:
        keyring_store.probe()
    except StorageUnavailable as exc:
        if not insecure_storage_allowed(insecure_storage):
            raise
        return FileStore(profile, fallback_reason=exc.message)
    return keyring_store


def check_login_dirs(profile: str, *, session_file: bool) -> None:
    """Prove, before a login makes a grant, that the directories it will need are usable: the
    config dir readable, the state dir (lock files, the profile index) writable, and the data dir
    writable when the session goes to a file. Found after the grant, the problem would leave a
    session RingCentral counts against the user's limit and this machine cannot keep.

    Each directory is created if missing and written to (a file is created and removed), as the
    login will: permission bits alone say nothing to root, a read-only mount or a file in the way.
    """
    from filelock import FileLock, Timeout

    _check_dir(config_dir(), "config", "RCAUTH_CONFIG_DIR", write=False)
    _check_dir(state_dir(), "state", "RCAUTH_STATE_DIR", write=True)
    if session_file:
        _check_dir(data_dir(), "data", "RCAUTH_DATA_DIR", write=True)
    # The login stores its session under the profile's refresh lock: that file must open too.
    lock = state_dir() / f"{check_profile_name(profile)}.refresh.lock"
    try:
        with FileLock(str(lock), timeout=0):
            pass
    except Timeout:
        pass  # a refresh holds it right now: it works
    except OSError as exc:
        raise StorageUnavailable(
            f"cannot use the lock file {lock}: {exc.strerror or exc}",
            hint="set RCAUTH_STATE_DIR to a directory rcauth can write to",
        ) from None


def _check_dir(directory: Path, kind: str, override_env: str, *, write: bool) -> None:
    in_the_way = next((p for p in (directory, *directory.parents) if p.exists()), None)
    try:
        if in_the_way is not None and not in_the_way.is_dir():
            raise NotADirectoryError(0, f"{in_the_way} is not a directory")
        if write:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".rcauth-probe.", dir=directory)
            os.close(fd)
            os.unlink(probe)
        elif directory.is_dir() and not os.access(directory, os.R_OK | os.X_OK):
            raise PermissionError(0, "it cannot be read")
    except OSError as exc:
        raise StorageUnavailable(
            f"cannot use the {kind} directory {directory}: {exc.strerror or exc}",
            hint=f"set {override_env} to a directory rcauth can {'write to' if write else 'read'}",
        ) from None


@contextlib.contextmanager
def refresh_lock(profile: str = DEFAULT_PROFILE, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Only one process refreshes a profile's tokens at a time (RingCentral's refresh tokens are single-use).

    An OS file lock (flock): a process that dies holding it releases it with its file descriptors,
    so a killed rcauth never leaves a lock that blocks the next one. The lock file holds nothing.
    """
    from filelock import FileLock, Timeout

    directory = state_dir()
    lock_path = directory / f"{check_profile_name(profile)}.refresh.lock"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise StorageUnavailable(
            f"another rcauth has been refreshing the session for over {timeout:g} s; try again"
        ) from exc
