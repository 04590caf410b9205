"""Which profiles exist, and which one `rcauth profiles use NAME` made the default.

A keyring cannot list its entries, so profile names are kept in a small index file in the user state
dir, with the signed-in user's display name. It never holds a token, a secret, a server or a client
id: those live only in the session's store.

Every change to the index is a read-modify-write, so it is made under a file lock beside the index
(`profiles.json.lock`, an OS lock its holder's death releases) and written atomically: eight logins at
once must leave eight entries, not the last writer's view of the file.

A damaged index (not UTF-8, not JSON, not the object rcauth writes, unreadable) is never taken for "no
profiles": `read` says it is damaged, with the entries it could still read. A writer that finds it
damaged keeps those entries, and moves the file aside as `profiles.json.damaged-<UTC time>` with a
warning naming both, rather than rewriting it in place: the names of profiles signed in only to the
keyring exist nowhere else on this machine, and bytes rcauth cannot parse may still show them to a
person, so they are kept rather than dropped for good.

The chosen default is rcauth's own state too, in a file of its own beside the index (the user's
`config.toml` is never edited). It is written whole (one name, never a change to what was read), so it
needs no lock: of two `profiles use` at once, the last one wins, as it would one after the other. The
default decides which session `logout` ends, so a damaged record is an error, never a guess.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rcauth.config import check_profile_name, state_dir
from rcauth.errors import ConfigError, InvalidProfileName, StorageUnavailable
from rcauth.files import write_atomically
from rcauth.store import FileStore

log = logging.getLogger(__name__)


INDEX_NAME = "profiles.json"
INDEX_LOCK_NAME = "profiles.json.lock"
DEFAULT_RECORD_NAME = "default-profile.json"
# A writer holds the index lock for one small read and write; one that waits this long is stuck, and
# the index is best effort (see `_update`), so the wait ends with a warning, not a failed login.
INDEX_LOCK_TIMEOUT = 10.0

Entries = dict[str, dict[str, str]]


def _index_path() -> Path:
    return state_dir() / INDEX_NAME


def _default_record_path() -> Path:
    return state_dir() / DEFAULT_RECORD_NAME


@dataclass(frozen=True)
class Index:
    """The index as read: `entries` (profile name -> {"user": display name}) are those that could be
    read; `damage` says why the file is not what rcauth writes (None when it is, or when there is none
    yet), so a caller can say the list may be missing profiles."""

    path: Path
    entries: Entries = field(default_factory=dict)
    damage: str | None = None

    def problem(self) -> StorageUnavailable | None:
        """The damage as the error `rcauth profiles` ends with (exit 6: damaged stored data)."""
        if self.damage is None:
            return None
        return StorageUnavailable(
            f"the profile index {str(self.path)!r} is damaged ({self.damage}): profiles signed in "
            "only to the keyring may be missing from the list",
            hint="the next login moves it aside and starts a new one with the profiles it could read",
        )


def read() -> Index:
    """The index, never raising: a missing one is empty, a damaged one says so (`Index.damage`)."""
    path = _index_path()
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # none yet, or no state directory to hold one
        return Index(path)
    except OSError as exc:
        return Index(path, damage=f"it cannot be read: {exc.strerror or exc}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Index(path, damage="it is not UTF-8")
    except ValueError:
        return Index(path, damage="it is not JSON")
    if not isinstance(data, dict):
        return Index(path, damage="it is not a JSON object")
    entries: Entries = {}
    bad = 0
    for name, entry in data.items():
        try:
            check_profile_name(name)
        except InvalidProfileName:
            bad += 1
            continue
        user = entry.get("user") if isinstance(entry, dict) else None
        # A name whose entry is damaged is still a profile: listed without its user's name.
        entries[name] = {"user": user} if isinstance(user, str) else {}
        if not isinstance(entry, dict) or (user is not None and not isinstance(user, str)):
            bad += 1
    damage = f"{bad} of its entries are not what rcauth writes" if bad else None
    return Index(path, entries, damage)


def known() -> Entries:
    """Profile name -> {"user": display name}: the entries that could be read (to show whom a profile
    belongs to). Whether the index is damaged is `read`'s to say."""
    return read().entries


def names() -> set[str]:
    """Every profile that may hold a session: those in the index (those that could be read; `read`
    says whether it is damaged), and those the file store holds (a file session whose index entry was
    lost still shows)."""
    return set(known()) | FileStore.stored_profiles()


def remember(profile: str, user: str | None = None) -> None:
    def add(entries: Entries) -> bool:
        entries[profile] = {"user": user} if user else entries.get(profile, {})
        return True

    _update(add)


def forget(profile: str) -> None:
    _update(lambda entries: entries.pop(profile, None) is not None)


def _update(change: Callable[[Entries], bool]) -> None:
    """Read the index, `change` its entries (returning whether it did) and write it, all under the
    index lock, so a concurrent writer's entry is never lost.

    Best effort: the index only names profiles (`names` also finds file sessions, `rcauth profiles`
    looks for the profile in use), so a state directory that cannot be written, or a lock held too
    long, costs a warning, never a signed-in session."""
    from filelock import FileLock, Timeout

    path = _index_path()
    lock = FileLock(str(path.with_name(INDEX_LOCK_NAME)), timeout=INDEX_LOCK_TIMEOUT)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with lock:
            index = read()
            entries = dict(index.entries)
            if not change(entries):
                return
            if index.damage is not None:
                aside = _move_aside(path)
                kept = ", ".join(sorted(index.entries)) or "none"
                log.warning(
                    "the profile index %s was damaged (%s): moved it to %s; profiles kept from it: %s",
                    path,
                    index.damage,
                    aside,
                    kept,
                )
            write_atomically(path, json.dumps(entries, indent=2, sort_keys=True))
    except Timeout:
        log.warning(
            "could not update the profile index %s: another rcauth held its lock for %g s",
            path,
            INDEX_LOCK_TIMEOUT,
        )
    except OSError as exc:
        log.warning("could not update the profile index %s: %s", path, exc.strerror or exc)


def _move_aside(path: Path) -> Path:
    """Rename the damaged index to `profiles.json.damaged-<UTC time>` (under the index lock, so no
    other writer races for the name); a later damage never replaces an earlier one's copy."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    count = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{count}")
        count += 1
    os.replace(path, aside)
    return aside


def chosen_default() -> str | None:
    """The profile `rcauth profiles use NAME` chose, or None when none was.

    Raises `StorageUnavailable` when the record cannot be read, and `ConfigError` when it names no
    profile (not JSON, another shape, an invalid name): acting on another profile than the one chosen,
    logging it out, would be worse than stopping."""
    path = _default_record_path()
    try:
        text = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # none chosen, or no state directory to hold one
        return None
    except OSError as exc:
        raise StorageUnavailable(
            f"cannot read the default profile record {str(path)!r}: {exc.strerror or exc}",
            hint="set RCAUTH_STATE_DIR to a directory rcauth can read",
        ) from None
    try:
        data = json.loads(text)
        return check_profile_name(data["profile"])
    except (ValueError, TypeError, KeyError, InvalidProfileName):
        raise ConfigError(
            f"the default profile record {str(path)!r} is damaged: it names no profile",
            hint="run `rcauth profiles use NAME` to choose the default again, or remove the file",
        ) from None


def choose_default(name: str) -> Path:
    """Record `name` as the default profile (`rcauth profiles use NAME`); returns the record's path.

    Raises `StorageUnavailable` when the state directory cannot be written (left root-owned by
    `sudo rcauth ...`, a read-only mount, a full disk): the choice was not kept."""
    check_profile_name(name)
    path = _default_record_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"profile": name}) + "\n")
    except OSError as exc:
        raise StorageUnavailable(
            f"cannot write the default profile record {str(path)!r}: {exc.strerror or exc}",
            hint="set RCAUTH_STATE_DIR to a directory rcauth can write to",
        ) from None
    return path
