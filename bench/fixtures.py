"""Sessions for the benchmarks: tokens from the emulator, stored where rcauth and the baselines read them.

Each client gets its own RingCentral session (its own JWT grant), so a refresh measured for one never
invalidates another's tokens.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from rcauth.oauth import JWT_BEARER
from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT
from ringcentral_emulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

CLIENT_ID = DEFAULT_CLIENT_ID
CLIENT_SECRET = DEFAULT_CLIENT_SECRET


def grant(server: str) -> dict[str, Any]:
    """A fresh session's token answer, by RingCentral's JWT bearer grant."""
    response = requests.post(
        server + "/restapi/oauth/token",
        data={"grant_type": JWT_BEARER, "assertion": DEMO_JWT},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def store_session(data_dir: Path, profile: str, server: str, media_server: str | None = None) -> Session:
    """Sign `profile` in, as `rcauth login --jwt --insecure-storage [--media-server URL]` would store it."""
    session = Session.from_token_response(
        grant(server),
        server=server,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        media_server=media_server,
    )
    FileStore(profile, data_dir).save(session)
    return session


def make_access_token_stale(data_dir: Path, profile: str) -> None:
    """Rewrite the stored session so its access token is already expired: the next call must refresh."""
    store = FileStore(profile, data_dir)
    session = store.load()
    if session is None:
        raise RuntimeError(f"no stored session for {profile!r}")
    store.save(replace(session, access_expires_at=time.time() - 1))


def token_file(path: Path, server: str) -> Path:
    """A token answer with absolute expiry times, as the SDK's `auth().data()` keeps it."""
    token = grant(server)
    now = time.time()
    token["expire_time"] = now + float(token["expires_in"])
    token["refresh_token_expire_time"] = now + float(token.get("refresh_token_expires_in") or 0)
    path.write_text(json.dumps(token), encoding="utf-8")
    path.chmod(0o600)
    return path


def bearer_header_file(path: Path, access_token: str) -> Path:
    """The `Authorization` header in a 0600 file, for `curl -H @FILE`: the token stays out of every
    command line (which any local user can read in `/proc`) and out of a failed child's error message."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"Authorization: Bearer {access_token}\n")
    return path


def client_env(home: Path, server: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for every child: a private HOME and rcauth dirs, the file store, the emulator's app."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith(("RCAUTH_", "RC_"))}
    for name in ("config", "data", "state"):
        (home / name).mkdir(mode=0o700, parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_STATE_HOME=str(home / "xdg-state"),
        RCAUTH_CONFIG_DIR=str(home / "config"),
        RCAUTH_DATA_DIR=str(home / "data"),
        RCAUTH_STATE_DIR=str(home / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        RCAUTH_INSECURE_STORAGE="1",
        RC_APP_CLIENT_ID=CLIENT_ID,
        RC_APP_CLIENT_SECRET=CLIENT_SECRET,
        RC_SERVER_URL=server,
        NO_COLOR="1",
    )
    return env
