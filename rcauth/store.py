"""Where a session lives: the OS keyring, an opt-in file, or memory; and the cross-process refresh lock.

The keyring is the only default home of a session. A file is used only with the user's consent
(`--insecure-storage` / `RCAUTH_INSECURE_STORAGE=1`) when no keyring works, because a file is only as
safe as the account's file permissions and backups. `open_store` chooses: `KeyringStore` (the keyring
only), or with consent `KeyringOrFile` (the keyring while it works, the file where it does not).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from rcauth import keyring_choice, redact
from rcauth.config import (
    DEFAULT_PROFILE,
    check_profile_name,
    config_dir,
    data_dir,
    seconds_from_env,
    state_dir,
)
from rcauth.errors import (
    KeyringUnreachable,
    NotLoggedIn,
    RcauthError,
    StorageUnavailable,
    StoredSessionDamaged,
)
from rcauth.files import write_atomically
from rcauth.session import Session

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

KEYRING_SERVICE = "rcauth"


def _keyring_timeout(default: float = 20.0) -> float:
    """`RCAUTH_KEYRING_TIMEOUT` seconds if it is a positive number, else `default`: how long a keyring
    call may take. A keyring that hangs (a locked Secret Service waiting on a prompt no one sees) must
    not hang rcauth. Read when a store is made, not at import: a library user may set it later."""
    return seconds_from_env("RCAUTH_KEYRING_TIMEOUT", default)


# Longer than any refresh (connect + read timeouts, plus retries), shorter than a user's patience.
LOCK_TIMEOUT = 120.0
INSECURE_HINT = "pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1) to keep it in a 0600 file instead"
PLAINTEXT_HINT = (
    "name a keyring that encrypts with PYTHON_KEYRING_BACKEND, or pass --insecure-storage "
    "(or set RCAUTH_INSECURE_STORAGE=1) to keep the session in rcauth's own 0600 file"
)
UNREACHABLE_HINT = "unlock the keyring (or wait until it answers) and try again"

T = TypeVar("T")


class SessionStore(Protocol):
    """What the CLI and client need of a place that keeps a session."""

    @property
    def profile(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def location(self) -> str: ...

    def probe(self) -> None:
        """Raise `StorageUnavailable` unless a session can be kept here: called before a grant is
        made (`login_logout.login`) and by `rcauth doctor`; a command just loads, which finds the same."""

    def load(self) -> Session | None: ...

    def save(self, session: Session) -> None: ...

    def delete(self) -> bool: ...


def _keyring_switched_off() -> bool:
    """`PYTHON_KEYRING_BACKEND` names keyring's `fail` backend (keyring's documented way to run without
    one, as on CI): every keyring call would fail, and importing keyring to find that out costs about
    15 ms a command. (rcauth makes its backend from that variable whatever a program set in keyring:
    `keyring_choice`.)"""
    return os.environ.get("PYTHON_KEYRING_BACKEND", "").strip() == "keyring.backends.fail.Keyring"


def _register(session: Session) -> Session:
    redact.register(*session.secrets)
    redact.register_client(session.client_id, session.client_secret)
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

    def probe(self) -> None:
        pass

    def load(self) -> Session | None:
        return _register(Session.from_json(self._value)) if self._value is not None else None

    def save(self, session: Session) -> None:
        self._value = session.to_json()

    def delete(self) -> bool:
        existed, self._value = self._value is not None, None
        return existed


def _timed_out(what: str, timeout: float, *, still_waiting: bool = False) -> KeyringUnreachable:
    if still_waiting:
        return KeyringUnreachable(
            f"the system keyring has not answered an earlier call, given up on after {timeout:g} s, so "
            f"rcauth did not ask it to {what} (is it locked?)",
            hint=INSECURE_HINT,
        )
    return KeyringUnreachable(
        f"the system keyring did not answer within {timeout:g} s while trying to {what} (is it locked?)",
        hint=INSECURE_HINT,
    )


# Keyring calls given up on that are still waiting for their answer. While one is, a new call would
# wait on the same hung backend (a listing of N profiles N times the timeout): it fails at once,
# saying so. Once the stuck call returns, its thread ends and the next call asks the keyring again.
_stuck: set[threading.Thread] = set()
# The same for the Secret Service fast read, which has no thread left waiting: when it last gave up
# (time.monotonic()); for as long as its timeout again, a read fails at once.
_fast_read_gave_up: list[float] = []


def _bounded(call: Callable[[], T], what: str, timeout: float) -> T:
    """Run a keyring call on a daemon thread and give up after `timeout` seconds."""
    for waiting in list(_stuck):
        if waiting.is_alive():
            raise _timed_out(what, timeout, still_waiting=True)
        _stuck.discard(waiting)
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
        _stuck.add(thread)
        raise _timed_out(what, timeout)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")  # type: ignore[return-value]


# -- the keyring's layout ----------------------------------------------------------------------------
# A session that fits is one entry (username = the profile, value = its JSON): one read per command.
# One that does not (Windows Credential Manager refuses a secret over 2560 bytes of UTF-16, i.e. 1280
# characters, and RingCentral's tokens can be long) is split into parts, each its own entry named for
# a generation of this session, and the profile's entry holds an index naming that generation. The
# index is written last and the old generation's parts removed after it, so a reader that follows the
# index it read never joins parts of two sessions.
PART_SIZE = 1000  # characters; the JSON is ASCII (json.dumps escapes the rest), so 2000 bytes of UTF-16
MAX_PARTS = 64  # bounds what a damaged or hostile index can make a reader fetch
INDEX_MARK = '{"rcauth_parts": '  # how an index begins; a session's JSON begins with its sorted keys
_GENERATION = re.compile(r"[0-9a-f]{16}")
# RPC_X_BAD_STUB_DATA ("The stub received bad data"): what CredWrite says of a blob over
# CRED_MAX_CREDENTIAL_BLOB_SIZE (5 * 512 bytes).
_WINDOWS_TOO_BIG = 1783
_DAMAGED_HINT = "run `rcauth login` to sign in again (it overwrites the damaged entry)"


def _not_text(exc: UnicodeDecodeError) -> StoredSessionDamaged:
    """What an entry whose bytes are not UTF-8 is (keyring's backends decode what they read and raise
    this): damage to report, which `login` overwrites and `logout` removes, never a crash."""
    return StoredSessionDamaged(
        f"the stored session is not text (byte {exc.start} is not UTF-8)", hint=_DAMAGED_HINT
    )


def _stamp(session: Session) -> float:
    return session.refreshed_at if session.refreshed_at is not None else session.created_at


def _part_name(profile: str, generation: str, number: int) -> str:
    # ":" is outside the profile-name alphabet, so a part never collides with a profile's entry.
    return f"{profile}:{generation}:{number}"


class _Index(NamedTuple):
    """What a split session's entry holds: which generation of parts, how many, their digest. (A
    NamedTuple: every command imports this module, and making a dataclass costs about a millisecond.)"""

    generation: str
    parts: int  # written as "count"
    sha256: str

    def to_text(self) -> str:
        return json.dumps(
            {"rcauth_parts": 1, "generation": self.generation, "count": self.parts, "sha256": self.sha256}
        )

    @classmethod
    def parse(cls, text: str) -> _Index:
        try:
            data = json.loads(text)
            index = cls(str(data["generation"]), data["count"], str(data["sha256"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise StoredSessionDamaged(
                "the stored session's index is not readable", hint=_DAMAGED_HINT
            ) from exc
        count_ok = isinstance(index.parts, int) and not isinstance(index.parts, bool)
        if not (_GENERATION.fullmatch(index.generation) and count_ok and 1 <= index.parts <= MAX_PARTS):
            raise StoredSessionDamaged("the stored session's index is malformed", hint=_DAMAGED_HINT)
        return index


def _error_code(exc: BaseException) -> object:
    """The OS error number a keyring backend's exception carries: pywin32's `pywintypes.error` (what
    keyring's Windows backend lets through from CredWrite) has `winerror` and args[0]; OSError `errno`."""
    for name in ("winerror", "errno"):
        if (code := getattr(exc, name, None)) is not None:
            return code
    return exc.args[0] if exc.args else None


def _refused_as_too_big(exc: BaseException) -> bool:
    """A write the backend refused in a way a smaller value may avoid: keyring's `PasswordSetError`
    (macOS and others say no more than that), or Windows' 1783 for a blob over its limit."""
    import keyring.errors

    return isinstance(exc, keyring.errors.PasswordSetError) or _error_code(exc) == _WINDOWS_TOO_BIG


def _backend_failure(exc: BaseException) -> bool:
    """An exception from the backend's OS layer rather than keyring's own classes (pywintypes.error
    is not a KeyringError): a storage failure to report, not a bug in rcauth."""
    return isinstance(exc, OSError) or getattr(exc, "winerror", None) is not None


class KeyringStore:
    """One keyring entry per profile (service `rcauth`, username = the profile name, value = JSON),
    split into parts under an index when the backend refuses it whole (see PART_SIZE above).

    The keyring only: with consent to a file, `KeyringOrFile` puts the file beside it, and makes this
    store with `plaintext_reads` (see `_check_backend`).
    """

    def __init__(
        self,
        profile: str = DEFAULT_PROFILE,
        *,
        timeout: float | None = None,
        plaintext_reads: bool = False,
    ) -> None:
        self.profile = profile
        self.timeout = timeout if timeout is not None else _keyring_timeout()
        self.plaintext_reads = plaintext_reads
        # The keyring backend and why it was chosen (`keyring_choice.choose`), once needed.
        self._choice: tuple[KeyringBackend, str] | None = None
        # Why no session may be written here although it may be read (`_check_backend`): keyring's
        # discovery chose a backend that keeps secrets in plain text, and the user consented to a file.
        self._refused: StorageUnavailable | None = None

    @property
    def kind(self) -> str:
        return "keyring (plain text)" if self._plaintext() else "keyring"

    @property
    def location(self) -> str:
        backend, reason = self._backend()
        entry = f"service {KEYRING_SERVICE!r}, entry {self.profile!r}"
        kept = self._plaintext()
        if kept:
            # Never "system keyring": the session is readable by anyone who can read the file.
            return f"plain-text keyring ({kept}, {reason}: {entry})"
        return f"system keyring ({type(backend).__module__.split('.')[-1]}: {entry})"

    @property
    def refused(self) -> str | None:
        """Why sessions may not be written here although this keyring reads (a backend keyring's
        discovery chose that keeps secrets in plain text), once a call has found it."""
        return self._refused.message if self._refused is not None else None

    def _plaintext(self) -> str | None:
        """The backend keeping this profile's entry in plain text ("module.Class"), if it does."""
        if self._choice is None:
            return None  # nothing chosen yet: the fast path read the Secret Service, which encrypts
        return keyring_choice.plaintext(self._choice[0])

    def _backend(self) -> tuple[KeyringBackend, str]:
        if self._choice is None:
            self._choice = keyring_choice.choose()
        return self._choice

    def _use(self, op: Callable[[KeyringBackend], T], *, write: bool = False) -> T:
        """Run `op` with the chosen backend (on the keyring thread), once `_check_backend` allows it
        (`write`: `op` writes); one keyring's discovery chose is remembered once it has worked.

        A remembered backend that fails (a Secret Service whose bus is gone over SSH, a daemon down)
        is reported as the keyring failing (`_call`: exit 6), and stays remembered: the sessions
        rcauth stored are there, so another backend's "no such entry" would say nothing about them,
        and with consent to a file, "not signed in" would be a guess. A backend that can no longer
        be made at all is discovered again (`keyring_choice.choose`)."""
        backend, reason = self._backend()
        self._check_backend(backend, reason, write=write)
        result = op(backend)
        if reason == keyring_choice.DISCOVERED:
            keyring_choice.remember(backend)
            self._choice = (backend, keyring_choice.REMEMBERED_PREFIX)
        return result

    def _call(self, what: str, call: Callable[[], T]) -> T:
        if _keyring_switched_off():
            raise StorageUnavailable("no system keyring is available", hint=INSECURE_HINT)
        import keyring.errors

        try:
            return _bounded(call, what, self.timeout)
        except keyring.errors.KeyringLocked as exc:
            raise KeyringUnreachable(f"the system keyring is locked ({what})", hint=INSECURE_HINT) from exc
        except keyring.errors.NoKeyringError as exc:
            raise StorageUnavailable("no system keyring is available", hint=INSECURE_HINT) from exc
        except keyring.errors.KeyringError as exc:
            raise KeyringUnreachable(
                f"the system keyring failed to {what}: {redact.redact(str(exc)) or type(exc).__name__}",
                hint=INSECURE_HINT,
            ) from exc
        except RcauthError:
            raise
        except Exception as exc:
            if isinstance(exc, UnicodeDecodeError) and what == "read the session":
                raise _not_text(exc) from None  # the backend could not decode the entry it read
            # Writing or removing, an entry's bytes that will not decode are the backend's own storage
            # (keyrings.alt's file), which a new login would meet again: the keyring failing, below.
            # Anything else a backend raises (a RuntimeError, a parser's error over its own damaged
            # file) is the keyring failing, not rcauth: exit 6, named by its type only. Its text may
            # quote what the backend read, which can be the session itself (keyrings.alt's parser
            # quotes the line it choked on: base64 of the session's JSON).
            said = redact.redact(str(exc)) if _backend_failure(exc) else ""
            raise KeyringUnreachable(
                f"the system keyring failed to {what}: {said or type(exc).__name__}",
                hint=INSECURE_HINT,
            ) from None

    def probe(self) -> None:
        """Raise `StorageUnavailable` unless the keyring can be read: the profile's session is read
        (the same read as `load`; nothing is kept of it). A damaged entry is a keyring that answers:
        `load` reports it, `login` overwrites it, `logout` removes it."""
        with contextlib.suppress(StoredSessionDamaged):
            self.load()

    def _check_backend(self, keyring: KeyringBackend, reason: str, *, write: bool) -> None:
        """Refuse a backend no session may go to (on the keyring thread: choosing one may take
        keyring's discovery, bounded as every keyring call is).

        One that keeps nothing (keyring's null backend) is no keyring. One that keeps secrets in
        plain text (`keyring_choice.plaintext`) is used only if the user chose it; if keyring's
        discovery chose it, it is no keyring either, except that with consent to a file
        (`plaintext_reads`) it is still read and cleared (a session an older rcauth stored there is
        found, used, revoked by logout) while every write is refused (`KeyringOrFile` then writes
        the file)."""
        name = keyring_choice.backend_name(keyring)
        if keyring_choice.keeps_nothing(keyring):
            raise StorageUnavailable(
                f"no system keyring is available ({name} keeps nothing)", hint=INSECURE_HINT
            )
        kept = keyring_choice.plaintext(keyring)
        if kept is None or keyring_choice.users_choice(reason):
            return
        refusal = StorageUnavailable(
            f"no secure keyring is available: keyring chose {kept}, which keeps secrets in plain text",
            hint=PLAINTEXT_HINT,
        )
        if write or not self.plaintext_reads:
            raise refusal
        self._refused = refusal

    def _read_fast(self) -> tuple[str | None] | None:
        """The profile's entry read straight from the Secret Service (`rcauth.secret_service`) where
        keyring would read it there with its defaults; None where keyring must answer instead."""
        if keyring_choice.fast_path_backend() != keyring_choice.SECRET_SERVICE:
            return None
        from rcauth.secret_service import NotHere, SecretServiceReader, TimedOut

        if _fast_read_gave_up and time.monotonic() - _fast_read_gave_up[-1] < self.timeout:
            raise _timed_out("read the session", self.timeout, still_waiting=True)
        try:
            with SecretServiceReader(self.timeout) as reader:
                return (reader.get(KEYRING_SERVICE, self.profile),)
        except UnicodeDecodeError as exc:
            raise _not_text(exc) from None
        except NotHere as exc:
            log.debug("reading the Secret Service through keyring: %s", exc)
            return None
        except TimedOut:
            _fast_read_gave_up[:] = [time.monotonic()]
            raise _timed_out("read the session", self.timeout) from None

    def load(self) -> Session | None:
        fast = self._read_fast()
        if fast is not None and (fast[0] is None or not fast[0].startswith(INDEX_MARK)):
            text = fast[0]  # the whole answer (an index names parts only keyring reads)
        else:
            text = self._call("read the session", lambda: self._use(lambda kr: self._read(kr, fast)))
        if text is None:
            self._check_chain_whole()
            return None
        return _register(Session.from_json(text))

    def _check_chain_whole(self) -> None:
        """Raise `KeyringUnreachable` when the remembered backend is keyring's chainer and a backend it
        chained then is missing from it now (`keyring_choice.missing_members`): the session may be
        there, so the chain's empty answer is not "not signed in"."""
        if self._choice is None or not self._choice[1].startswith(keyring_choice.REMEMBERED_PREFIX):
            return
        missing = keyring_choice.missing_members(self._choice[0])
        if missing:
            raise KeyringUnreachable(
                f"the keyring backend {', '.join(missing)}, one of keyring's chainer's when rcauth "
                "began using it, is not available now",
                hint=UNREACHABLE_HINT,
            )

    def _read(self, keyring: KeyringBackend, fast: tuple[str | None] | None) -> str | None:
        """The session's JSON: the profile's entry (unless `_read_fast` read it already), or the parts
        its index names (on the keyring thread)."""
        value = fast[0] if fast is not None else keyring.get_password(KEYRING_SERVICE, self.profile)
        for _ in range(3):
            if value is None or not value.startswith(INDEX_MARK):
                return value
            index = _Index.parse(value)
            parts = [
                keyring.get_password(KEYRING_SERVICE, _part_name(self.profile, index.generation, n))
                for n in range(index.parts)
            ]
            if all(part is not None for part in parts):
                text = "".join(parts)  # type: ignore[arg-type]
                if hashlib.sha256(text.encode()).hexdigest() == index.sha256:
                    return text
            # A writer may have replaced the session between our reads (and removed the parts this
            # index names): follow the index it wrote. The same index twice means real damage.
            again = keyring.get_password(KEYRING_SERVICE, self.profile)
            if again == value:
                break
            value = again
        raise StoredSessionDamaged(
            "the stored session is incomplete (parts missing or altered)", hint=_DAMAGED_HINT
        )

    def save(self, session: Session) -> None:
        text = session.to_json()
        self._call("save the session", lambda: self._use(lambda kr: self._write(kr, text), write=True))

    def _write(self, keyring: KeyringBackend, text: str) -> None:
        """Store `text` whole if the backend takes it, else in parts (on the keyring thread)."""
        try:
            old = keyring.get_password(KEYRING_SERVICE, self.profile)  # beside a token request: no cost
        except UnicodeDecodeError:
            old = None  # a damaged entry, overwritten here; it names no parts to remove
        try:
            keyring.set_password(KEYRING_SERVICE, self.profile, text)
        except Exception as exc:
            if not _refused_as_too_big(exc) or len(text) <= PART_SIZE:
                raise
            log.debug("the keyring refused the session whole (%s); storing it in parts", type(exc).__name__)
            self._write_parts(keyring, text)
        self._remove_parts(keyring, old)

    def _write_parts(self, keyring: KeyringBackend, text: str) -> None:
        chunks = [text[i : i + PART_SIZE] for i in range(0, len(text), PART_SIZE)]
        if len(chunks) > MAX_PARTS:
            raise StorageUnavailable(
                f"the session is too large for the system keyring ({len(text)} characters)",
                hint=INSECURE_HINT,
            )
        index = _Index(secrets.token_hex(8), len(chunks), hashlib.sha256(text.encode()).hexdigest())
        names = [_part_name(self.profile, index.generation, n) for n in range(len(chunks))]
        try:
            for name, chunk in zip(names, chunks, strict=True):
                keyring.set_password(KEYRING_SERVICE, name, chunk)
            if [keyring.get_password(KEYRING_SERVICE, name) for name in names] != chunks:
                raise StorageUnavailable(
                    "the system keyring did not keep the session intact", hint=INSECURE_HINT
                )
            # Last, and inside the `try`: refused (macOS refuses an item whose access list does not
            # name this program, whatever its size), it would leave parts no index names.
            keyring.set_password(KEYRING_SERVICE, self.profile, index.to_text())
        except BaseException:
            self._remove_parts(keyring, index.to_text())  # nothing names them: leave nothing behind
            raise

    def _remove_parts(self, keyring: KeyringBackend, value: str | None) -> list[tuple[int, Exception]]:
        """Remove the parts `value` (an index, else nothing) names, every one even when one fails;
        returns the parts that could not be removed, with why (a part already gone is removed)."""
        if value is None or not value.startswith(INDEX_MARK):
            return []
        try:
            index = _Index.parse(value)
        except StoredSessionDamaged:
            return []
        failed: list[tuple[int, Exception]] = []
        for number in range(index.parts):
            name = _part_name(self.profile, index.generation, number)
            try:
                keyring.delete_password(KEYRING_SERVICE, name)
            except Exception as exc:  # noqa: BLE001 - reported by the caller that needs them gone
                log.debug("could not remove part %d of the stored session: %s", number, type(exc).__name__)
                # keyring's backends say "not found" with PasswordDeleteError, and some say other
                # failures with it too (libsecret): whether the part is still there decides.
                with contextlib.suppress(Exception):
                    if keyring.get_password(KEYRING_SERVICE, name) is None:
                        continue
                failed.append((number, exc))
        return failed

    def delete(self) -> bool:
        return self._call("delete the session", lambda: self._use(self._remove))

    def _remove(self, keyring: KeyringBackend) -> bool:
        """Remove the parts the profile's entry names, then the entry (on the keyring thread).

        In that order: a part that cannot be removed (it holds part of a token) keeps the entry that
        names it, so the next `logout` finds it again; removed first, the entry would leave parts no
        one could ever name. Such a failure is raised after every other part is removed."""
        from keyring.errors import PasswordDeleteError

        try:
            value = keyring.get_password(KEYRING_SERVICE, self.profile)
        except UnicodeDecodeError:
            value = ""  # not even text: damaged, removed all the same (it names no parts)
        if value is None:
            return False
        failed = self._remove_parts(keyring, value)
        if failed:
            numbers = ", ".join(str(number) for number, _ in failed)
            error = failed[0][1]
            raise KeyringUnreachable(
                f"the system keyring failed to remove part {numbers} of the stored session: "
                f"{redact.redact(str(error)) or type(error).__name__}",
                hint="try again: the entry naming the rest is kept until every part is gone",
            )
        try:
            keyring.delete_password(KEYRING_SERVICE, self.profile)
        except PasswordDeleteError:
            return False
        return True


def keyring_backend_choice() -> tuple[KeyringBackend, str]:
    """The keyring backend a command would use now, and why: "user's choice (...)"
    (PYTHON_KEYRING_BACKEND or keyring's config file), "remembered (record)" or "discovered (...)".
    For `rcauth doctor`; it may run keyring's discovery, and does not remember its answer (only a
    backend that has worked for a store is remembered)."""
    return keyring_choice.choose()


SESSION_FILE_SUFFIX = ".session.json"


class FileStore:
    """The opt-in fallback: one JSON file per profile, mode 0600 in a 0700 directory, replaced atomically."""

    kind = "file"

    def __init__(
        self,
        profile: str = DEFAULT_PROFILE,
        directory: Path | None = None,
        *,
        fallback_reason: str | None = None,
        keyring_error: KeyringUnreachable | None = None,
    ) -> None:
        self.profile = profile
        self.directory = directory if directory is not None else data_dir()
        # Why the keyring was passed over (`open_store`): said once, when this store creates the
        # file, so the user learns where the tokens went without a warning on every later command.
        self.fallback_reason = fallback_reason
        # The keyring is there but could not be looked in (locked, hung, failing): it may hold the
        # profile's session, so an empty file is not "not signed in" (`load`).
        self.keyring_error = keyring_error

    @property
    def path(self) -> Path:
        return self.directory / f"{self.profile}{SESSION_FILE_SUFFIX}"

    @staticmethod
    def stored_profiles(directory: Path | None = None) -> set[str]:
        """The profiles that have a session file (a keyring cannot list its entries; a directory can)."""
        directory = directory if directory is not None else data_dir()
        names = {p.name.removesuffix(SESSION_FILE_SUFFIX) for p in directory.glob(f"*{SESSION_FILE_SUFFIX}")}
        return {name for name in names if _profile_name_ok(name)}  # not a stray file's name

    @property
    def location(self) -> str:
        return f"file {self.path} (insecure storage)"

    def probe(self) -> None:
        pass  # what the directory allows is `check_login_dirs`'s to say, before a grant

    def load(self) -> Session | None:
        """The file's session; None when there is none, unless the keyring could not be looked in
        (`keyring_error`): then that is raised, naming the keyring, rather than "not signed in"."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if self.keyring_error is not None:
                raise self.keyring_error from None
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
        try:
            exists = self.path.exists()
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            write_atomically(self.path, session.to_json())
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot write the session file {self.path}: {exc.strerror or exc}",
                hint="set RCAUTH_DATA_DIR to a directory rcauth can write to",
            ) from None
        if self.fallback_reason and not exists:
            log.warning("%s; keeping the session in %s", self.fallback_reason, self.path)

    def delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot remove the session file {self.path}: {exc.strerror or exc}"
            ) from None
        return True


def insecure_storage_allowed(flag: bool = False) -> bool:
    """Consent to the file fallback: the flag, or `RCAUTH_INSECURE_STORAGE` set to a true value."""
    return flag or os.environ.get("RCAUTH_INSECURE_STORAGE", "").strip().lower() in ("1", "true", "yes", "on")


class KeyringOrFile:
    """With the user's consent to insecure storage: the keyring while it works, rcauth's 0600 file
    (`FileStore`) where it does not.

    The first read decides (a command's first call is its load, a sign-in's its probe: no read is
    added for it): a keyring that cannot be used then (none, one that keeps nothing, locked, hung,
    failing) hands every later call to the file. One that could not be looked in is named when the
    file holds no session (`FileStore.keyring_error`): it may hold one, so that is not "not signed
    in". A keyring that works but refuses a write (or refuses every write: a plain-text backend
    keyring's discovery chose, `KeyringStore.refused`) sends that session to the file, and the
    keyring's copy is removed so it cannot shadow the newer file; reads then take the newer of the two.
    """

    def __init__(self, keyring: KeyringStore, file: FileStore) -> None:
        self.keyring = keyring
        self.file = file
        self._decided = False  # the first read has been made
        self._unusable: StorageUnavailable | None = None  # why the keyring is not used at all
        self._in_file = False  # the session in use is the file's (read from it, or written to it)
        # The older of two sessions found in both (a sign-in made while the keyring was locked went to
        # the file; the keyring's was left there): a grant too, which `delete` removes with the other.
        self.shadowed: Session | None = None

    @property
    def profile(self) -> str:
        return self.keyring.profile

    @property
    def kind(self) -> str:
        """Says "file" once the session in use is the file's, or when every write goes there; else
        what the keyring is (plain text, where it is)."""
        if self._unusable is not None or self._in_file or self.keyring.refused is not None:
            return "file"
        return self.keyring.kind

    @property
    def location(self) -> str:
        if self._unusable is not None or self._in_file:
            return self.file.location
        return self.keyring.location

    @property
    def refused(self) -> str | None:
        """Why sessions are written to the file: the keyring could not be used, or it refuses every
        write (`KeyringStore.refused`); None while the keyring keeps them."""
        return self._unusable.message if self._unusable is not None else self.keyring.refused

    @property
    def keyring_error(self) -> KeyringUnreachable | None:
        """The keyring could not be looked in: it may still hold this profile's session."""
        return self.file.keyring_error

    def _first_read(self, read: Callable[[], T]) -> tuple[T] | None:
        """`read` on the keyring, in a 1-tuple; None when this is the first read and the keyring
        cannot be used (every later call then goes to the file)."""
        first, self._decided = not self._decided, True
        try:
            return (read(),)
        except StorageUnavailable as exc:
            if not first:
                raise
            self._unusable = exc
            self.file.fallback_reason = exc.message
            if isinstance(exc, KeyringUnreachable):
                self.file.keyring_error = KeyringUnreachable(
                    f"{exc.message}, so whether it holds this profile's session is unknown",
                    hint=UNREACHABLE_HINT,
                )
            return None

    def probe(self) -> None:
        if not self._decided:
            self._first_read(self.keyring.probe)

    def load(self) -> Session | None:
        if self._unusable is not None or self._in_file:
            return self.file.load()
        read = self._first_read(self.keyring.load)
        if read is None:
            return self.file.load()
        session = read[0]
        # Both hold a session only when the keyring refused a write and then its copy could not be
        # removed: the newer one is the live one (the other's refresh token may be spent).
        if session is None or self.file.path.exists():
            in_file = self.file.load()
            if in_file is not None and (session is None or _stamp(in_file) > _stamp(session)):
                self._in_file = True
                self.shadowed = session
                return in_file
            self.shadowed = in_file
        return session

    def save(self, session: Session) -> None:
        if self._unusable is not None or self._in_file:
            self.file.save(session)
            return
        try:
            self.keyring.save(session)
        except StorageUnavailable as exc:
            # Consent to a file was given: keep the session rather than lose it, say why once (when the
            # file is created), and take the keyring's copy away so it cannot shadow the newer file.
            self.file.fallback_reason = exc.message
            self.file.save(session)
            self._in_file = True
            with contextlib.suppress(StorageUnavailable):
                self.keyring.delete()

    def remove_shadowed(self) -> Session | None:
        """Remove the older of two sessions the stores held (`shadowed`) from its store, and return it
        for the caller to end: a sign-in replaces both. (A refresh does not: it rotates the one in
        use, and the other stays stored, for `logout` to end, until a sign-in replaces it.)"""
        shadowed = self.shadowed
        if shadowed is not None:
            (self.keyring if self._in_file else self.file).delete()
            self.shadowed = None
        return shadowed

    def delete(self) -> bool:
        if self._unusable is not None:
            return self.file.delete()
        existed = self.keyring.delete()
        return self.file.delete() or existed


def open_store(
    profile: str = DEFAULT_PROFILE, *, insecure_storage: bool = False
) -> KeyringStore | KeyringOrFile:
    """The store for a profile: the keyring; with consent to insecure storage, the keyring or, where
    it cannot be used, the 0600 file (`KeyringOrFile`). Nothing is read here: a keyring that cannot
    be used says so at the store's first call (a command's load; `login_logout.login` and `rcauth
    doctor` probe first), and without consent that is the command's error."""
    profile = check_profile_name(profile)
    if not insecure_storage_allowed(insecure_storage):
        return KeyringStore(profile)
    return KeyringOrFile(KeyringStore(profile, plaintext_reads=True), FileStore(profile))


def _profile_name_ok(name: str) -> bool:
    try:
        check_profile_name(name)
    except RcauthError:
        return False
    return True


def session_file_not_read(store: SessionStore) -> FileStore | None:
    """The profile's 0600 session file when `store` does not read it: a sign-in made with
    `--insecure-storage` left it, and a command run without that consent reads the keyring only. Such
    a session is live: it is never reported as if nothing were stored."""
    if not isinstance(store, KeyringStore):
        return None
    file = FileStore(store.profile)
    try:
        return file if file.path.is_file() else None
    except OSError:
        return None


def not_signed_in(store: SessionStore) -> NotLoggedIn:
    """The error for a store with no session: naming the session file it does not read, if there is one."""
    file = session_file_not_read(store)
    if file is None:
        named = "" if store.profile == DEFAULT_PROFILE else f" --profile {store.profile}"
        login = f"rcauth{named} login"
        return NotLoggedIn("not signed in", hint=f"run `{login}` first")
    return NotLoggedIn(
        f"no session in the keyring; the session in {file.path} is kept in plain text and read only with "
        "consent to insecure storage",
        hint="pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1; insecure_storage=True in Python) "
        "to use it; `rcauth login` replaces it with a session kept in the keyring, `rcauth logout` ends it",
    )


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
        raise _lock_problem(lock, exc) from None


def _lock_problem(lock: Path, exc: OSError) -> StorageUnavailable:
    return StorageUnavailable(
        f"cannot use the lock file {lock}: {exc.strerror or exc}",
        hint="set RCAUTH_STATE_DIR to a directory rcauth can write to",
    )


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
def refresh_lock(
    profile: str = DEFAULT_PROFILE,
    timeout: float = LOCK_TIMEOUT,
    *,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Only one process refreshes a profile's tokens at a time (RingCentral's refresh tokens are single-use).

    An OS file lock (flock): a process that dies holding it releases it with its file descriptors,
    so a killed rcauth never leaves a lock that blocks the next one. The lock file holds nothing.
    `on_wait` is called once if another process holds the lock, before waiting for it (up to `timeout`).
    """
    from filelock import FileLock, Timeout

    directory = state_dir()
    lock_path = directory / f"{check_profile_name(profile)}.refresh.lock"
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if on_wait is not None:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                on_wait()
                lock.acquire()
        else:
            lock.acquire()
    except Timeout as exc:
        raise StorageUnavailable(
            f"another rcauth has been refreshing the session for over {timeout:g} s; try again"
        ) from exc
    except OSError as exc:
        raise state_lock_problem(lock_path, exc) from None
    try:
        yield
    finally:
        lock.release()


def state_lock_problem(lock_path: Path, exc: OSError) -> StorageUnavailable:
    """The error for a lock file in the state directory that cannot be made or locked (exit 6): a state
    directory that is a file, or that this user cannot write (left root-owned by a `sudo rcauth ...`),
    said as `login` says it, naming the directory where that is the cause; else the lock file."""
    try:
        _check_dir(state_dir(), "state", "RCAUTH_STATE_DIR", write=True)
    except StorageUnavailable as named:
        return named
    return _lock_problem(lock_path, exc)


PROBE_ENTRY = "rcauth-doctor-probe"


def probe_keyring(timeout: float | None = None, *, monotonic: Callable[[], float] = time.monotonic) -> float:
    """Write, read back and delete a test entry (service `rcauth`, username `rcauth-doctor-probe-...`)
    in the system keyring; returns the seconds it took (on `monotonic`, a test's clock if it gives one).
    `rcauth doctor` proves the keyring this way: a backend can read and still refuse writes (a locked
    collection, macOS access rules). Raises `StorageUnavailable` as a session's own read or write would."""
    probe = KeyringStore(f"{PROBE_ENTRY}-{secrets.token_hex(4)}", timeout=timeout)
    value = secrets.token_hex(8)

    def step(what: str, op: Callable[[KeyringBackend], T], *, write: bool = False) -> T:
        return probe._call(what, lambda: probe._use(op, write=write))

    started = monotonic()
    step("write a test entry", lambda kr: kr.set_password(KEYRING_SERVICE, probe.profile, value), write=True)
    try:
        read = step("read a test entry", lambda kr: kr.get_password(KEYRING_SERVICE, probe.profile))
    finally:
        step("delete a test entry", lambda kr: kr.delete_password(KEYRING_SERVICE, probe.profile))
    if read != value:
        raise StorageUnavailable("the system keyring did not give back the test entry it was given")
    return monotonic() - started
