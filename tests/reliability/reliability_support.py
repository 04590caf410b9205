"""Helpers for the reliability tests, importable both by pytest and by the `rcauth` subprocesses
(the runner puts this directory on their PYTHONPATH).

- keyring backends selected in a subprocess with `PYTHON_KEYRING_BACKEND=reliability_support.NAME`:
  `FileKeyring` (a working keyring kept in files, so several processes share it), `LockedKeyring`
  (a locked Secret Service), `ErroringKeyring` (a Secret Service that fails), `HangingKeyring`
  (a keyring waiting on an unlock prompt nobody answers), `WindowsLimitKeyring` (Windows Credential
  Manager's size limit and its error over the shared files), `StuckPartKeyring` (that, and the first
  removal of a part refused), `NoWritesKeyring` (reads work, writes are refused), `PausingKeyring`
  (a working keyring whose writes and removals wait for the test);
- `Rcauth`, `run_on_terminal` and the waits, from tests/runner.py (the one runner both subprocess
  suites use), re-exported here for this suite's tests.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import keyring.backend
import keyring.errors
from runner import (  # noqa: F401 - re-exported: this suite's tests import them from here
    WAIT,
    Rcauth,
    Result,
    TerminalResult,
    run_on_terminal,
    stderr_of,
    stdout_of,
    wait_for,
    wait_for_stderr,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KEYRING_DIR_ENV = "RCAUTH_TEST_KEYRING_DIR"
BACKEND = "reliability_support.FileKeyring"
# The authorize URL `rcauth login` prints on stderr.
AUTHORIZE_URL = r"(http://\S+/restapi/oauth/authorize\?\S+)"


# ---------------------------------------------------------------------------------------- keyrings
class FileKeyring(keyring.backend.KeyringBackend):
    """A working keyring shared by processes: one file per entry under $RCAUTH_TEST_KEYRING_DIR,
    replaced atomically (what a real keyring guarantees: a reader sees the old value or the new one)."""

    priority = 1  # type: ignore[assignment]

    @staticmethod
    def entry(service: str, username: str, directory: str | os.PathLike[str] | None = None) -> Path:
        base = Path(directory or os.environ[KEYRING_DIR_ENV])
        return base / f"{service}@{username}.json"

    def get_password(self, service: str, username: str) -> str | None:
        try:
            return self.entry(service, username).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def set_password(self, service: str, username: str, password: str) -> None:
        write_atomically(self.entry(service, username), password)

    def delete_password(self, service: str, username: str) -> None:
        try:
            self.entry(service, username).unlink()
        except FileNotFoundError:
            raise keyring.errors.PasswordDeleteError("no such entry") from None


# Windows Credential Manager: CRED_MAX_CREDENTIAL_BLOB_SIZE, 5 * 512 bytes of UTF-16 (1280 characters).
WINDOWS_BLOB_LIMIT = 2560


class WindowsLimitKeyring(FileKeyring):
    """The shared file keyring with Windows Credential Manager's limit: a secret over 2560 bytes of UTF-16
    is refused with what keyring's Windows backend raises, pywin32's `pywintypes.error(1783, ...)`."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > WINDOWS_BLOB_LIMIT:
            from wincred import pywintypes

            raise pywintypes.error(1783, "CredWrite", "The stub received bad data.")
        super().set_password(service, username, password)


class StuckPartKeyring(WindowsLimitKeyring):
    """Windows Credential Manager's limit, and the first removal of a session's part 0 refused (what
    CredDelete says when another program holds the credential, access denied): once, remembered in a
    marker file beside the entries, so a second try succeeds."""

    def delete_password(self, service: str, username: str) -> None:
        marker = self.entry("test", "part-0-stuck-once")
        if username.endswith(":0") and not marker.exists():
            write_atomically(marker, "refused once")
            from wincred import pywintypes

            raise pywintypes.error(5, "CredDelete", "Access is denied.")
        super().delete_password(service, username)


class NoWritesKeyring(FileKeyring):
    """A keyring that reads but refuses every write, as macOS Keychain does when its access rules say
    no: keyring's `PasswordSetError`."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("Can't store password on keychain: (-25244, 'Unknown Error')")


PAUSED = "paused"  # created in the keyring directory as a `PausingKeyring` write or removal starts
RESUME = "resume"  # created there by the test: the paused call, and every later one, goes on


class PausingKeyring(FileKeyring):
    """The shared file keyring, slow to write and to remove: each `set_password` and `delete_password`
    creates `PAUSED` in the keyring directory (holding "set" or "delete"), then waits until the test
    creates `RESUME` there (at most `WAIT` seconds), so a test knows rcauth is storing or removing
    a session at the moment it acts (sends a signal)."""

    @staticmethod
    def _pause(operation: str) -> None:
        directory = Path(os.environ[KEYRING_DIR_ENV])
        write_atomically(directory / PAUSED, operation)
        deadline = time.monotonic() + WAIT
        while not (directory / RESUME).exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._pause("set")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._pause("delete")
        super().delete_password(service, username)


def stored_grants(keyring_dir: Path) -> list[str]:
    """The token naming each session the test keyring holds, of every profile (its refresh token,
    else its access token: what RingCentral's revoke is given), to compare with what the emulator
    holds alive (`Emulator.live_grants()`)."""
    from rcauth.oauth import grant_of
    from rcauth.session import Session

    return [
        grant_of(Session.from_json(entry.read_text(encoding="utf-8")))
        for entry in sorted(keyring_dir.glob("rcauth@*.json"))
    ]


class LockedKeyring(keyring.backend.KeyringBackend):
    """A Secret Service whose collection is locked (keyring raises KeyringLocked)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class ErroringKeyring(keyring.backend.KeyringBackend):
    """A Secret Service that is gone from the bus (keyring raises KeyringError)."""

    priority = 1  # type: ignore[assignment]
    MESSAGE = "org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable"

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError(self.MESSAGE)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringError(self.MESSAGE)

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringError(self.MESSAGE)


class BuggyKeyring(FileKeyring):
    """A backend failing with an exception no keyring class names, as keyrings.alt's does over its own
    damaged file (configparser's error, quoting the line it choked on: the stored entry itself). Here
    the message quotes the entry it read, so a message shown whole would show the session's tokens."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError(
            f"File contains no section headers. line: 1 {super().get_password(service, username)!r}"
        )

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot write {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("cannot delete")


class HangingKeyring(keyring.backend.KeyringBackend):
    """A keyring that never answers (an unlock prompt on a display nobody sees)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(3600)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(3600)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(3600)


# ---------------------------------------------------------------------------------------- discovery
PLUGINS = HERE / "keyring_plugins"
PLAINTEXT_FILE = Path("xdg-data", "python_keyring", "keyring_pass.cfg")


def discovery_env(env: dict[str, str], home: Path, *plugins: str) -> dict[str, str]:
    """`env` with no keyring named anywhere (no PYTHON_KEYRING_BACKEND, no keyringrc.cfg under the
    isolated XDG_CONFIG_HOME): keyring's discovery chooses, among what it finds installed and the
    plugin directories `plugins` (keyring_plugins/NAME) put on the path. Without a D-Bus address no
    Secret Service is among them, wherever the suite runs."""
    base = {k: v for k, v in env.items() if k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")}
    base.update(
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        PYTHONPATH=os.pathsep.join([*(str(PLUGINS / name) for name in plugins), env["PYTHONPATH"]]),
    )
    return base


def plaintext_entries(home: Path) -> dict[tuple[str, str], str]:
    """What the keyrings.alt stand-in (keyring_plugins/plaintext) keeps: (service, username) -> value,
    decoded as anyone who can read the file decodes it."""
    import base64
    import configparser

    config = configparser.RawConfigParser()
    config.read(home / PLAINTEXT_FILE, encoding="utf-8")
    return {
        (service, username): base64.b64decode(value).decode("utf-8")
        for service in config.sections()
        for username, value in config.items(service)
    }


def write_plaintext_entry(home: Path, service: str, username: str, value: str) -> None:
    """Put an entry where the keyrings.alt stand-in keeps it (as an older rcauth would have)."""
    import base64
    import configparser

    config = configparser.RawConfigParser()
    config.add_section(service)
    config.set(service, username, base64.b64encode(value.encode("utf-8")).decode("ascii"))
    path = home / PLAINTEXT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        config.write(handle)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------- rcauth demo
def run_recording_emulator_secrets(secrets_file: str, argv: list[str]) -> None:
    """Run rcauth's CLI (`argv`); when an emulator it started stops, write every code and token that
    emulator issued, and every PKCE verifier it was shown, to `secrets_file` (JSON). For `rcauth demo`,
    whose emulator lives inside the rcauth process:

        python -m reliability_support SECRETS_FILE --debug demo --headless
    """
    import json

    from rcauth.cli import main
    from ringcentral_emulator.server import Emulator

    stop = Emulator.stop

    def recording_stop(self: Emulator) -> None:
        if self._server is not None:  # running: its secrets are still there to read
            write_atomically(Path(secrets_file), json.dumps(self.secrets_seen()))
        stop(self)

    Emulator.stop = recording_stop  # type: ignore[method-assign]
    main(argv)


if __name__ == "__main__":
    run_recording_emulator_secrets(sys.argv[1], sys.argv[2:])
