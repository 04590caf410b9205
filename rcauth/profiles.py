"""Which profiles exist. A keyring cannot list its entries, so profile names are kept in a small
index file in the user state dir, with the signed-in user's display name. It never holds a token,
a secret, a server or a client id: those live only in the session's store."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from rcauth.config import state_dir
from rcauth.files import write_atomically
from rcauth.store import FileStore

log = logging.getLogger(__name__)


def _index_path() -> Path:
    return state_dir() / "profiles.json"


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
