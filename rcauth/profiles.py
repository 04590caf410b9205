"""Which profiles exist, and which one `rcauth profiles use NAME` made the default.

A keyring cannot list its entries, so profile names are kept in a small index file in the user state
dir, with the signed-in user's display name. It never holds a token, a secret, a server or a client
id: those live only in the session's store.

The chosen default is rcauth's own state too, in a file of its own beside the index (the user's
`config.toml` is never edited): the index is best effort (a damaged one counts as empty and the next
login rewrites it), but the default decides which session `logout` ends, so a damaged record is an
error, never a guess.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from rcauth.config import check_profile_name, state_dir
from rcauth.errors import ConfigError, InvalidProfileName, StorageUnavailable
from rcauth.files import write_atomically
from rcauth.store import FileStore

log = logging.getLogger(__name__)


INDEX_NAME = "profiles.json"
DEFAULT_RECORD_NAME = "default-profile.json"


def _index_path() -> Path:
    return state_dir() / INDEX_NAME


def _default_record_path() -> Path:
    return state_dir() / DEFAULT_RECORD_NAME


def known() -> dict[str, dict[str, str]]:
    """Profile name -> {"user": display name}; an unreadable index counts as empty."""
    try:
        data = json.loads(_index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v if isinstance(v, dict) else {} for k, v in data.items()}


def _write(index: dict[str, dict[str, str]]) -> None:
    """Best effort: the index only names profiles (`names` also finds file sessions), so a state
    directory that cannot be written costs a line in `rcauth profiles`, never a signed-in session."""
    path = _index_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, json.dumps(index, indent=2, sort_keys=True))
    except OSError as exc:
        log.warning("could not update the profile index %s: %s", path, exc.strerror or exc)


def names() -> set[str]:
    """Every profile that may hold a session: those in the index, and those the file store holds
    (a file session written by a login whose index update was lost still shows)."""
    return set(known()) | FileStore.stored_profiles()


def remember(profile: str, user: str | None = None) -> None:
    index = known()
    index[profile] = {"user": user} if user else index.get(profile, {})
    _write(index)


def forget(profile: str) -> None:
    index = known()
    if index.pop(profile, None) is not None:
        _write(index)


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
