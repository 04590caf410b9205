"""Helpers for the reliability tests, importable both by pytest and by the `rcauth` subprocesses
(the runner puts this directory on their PYTHONPATH).

- keyring backends selected in a subprocess with `PYTHON_KEYRING_BACKEND=reliability_support.NAME`:
  `FileKeyring` (a working keyring kept in files, so several processes share it), `LockedKeyring`
  (a locked Secret Service), `ErroringKeyring` (a Secret Service that fails), `HangingKeyring`
  (a keyring waiting on an unlock prompt nobody answers), `WindowsLimitKeyring` (Windows Credential
  Manager's size limit and its error over the shared files), `NoWritesKeyring` (reads work, writes
  are refused);
- `Rcauth`, which runs `python -m rcauth ...` with a bounded wait and kills leftovers;
- `run_on_terminal`, which runs it on a pseudo-terminal and returns the raw bytes the terminal got.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keyring.backend
import keyring.errors

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WAIT = 30.0  # seconds: the bound on every subprocess and wait here, unless a test says otherwise
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


class NoWritesKeyring(FileKeyring):
    """A keyring that reads but refuses every write, as macOS Keychain does when its access rules say
    no: keyring's `PasswordSetError`."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("Can't store password on keychain: (-25244, 'Unknown Error')")


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


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------- running rcauth
@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"rcauth {' '.join(self.args)} -> {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


@dataclass
class Rcauth:
    """Runs `python -m rcauth` with `env`; every wait is bounded, leftovers are killed at teardown.

    stdout and stderr go to files under `logs`, so a test can watch them while the process runs.
    """

    env: dict[str, str]
    logs: Path
    results: list[Result] = field(default_factory=list)
    _running: list[subprocess.Popen[str]] = field(default_factory=list)
    _count: int = 0

    def start(
        self, *args: str, env: dict[str, str] | None = None, argv: list[str] | None = None
    ) -> subprocess.Popen[str]:
        self._count += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        out_path = self.logs / f"{self._count:03d}.stdout"
        err_path = self.logs / f"{self._count:03d}.stderr"
        # Files, not pipes: a test may watch stderr while the process runs, and a process writing
        # more than a pipe holds must never block on a reader that is not reading yet.
        with open(out_path, "w", encoding="utf-8") as out, open(err_path, "w", encoding="utf-8") as err:
            proc = subprocess.Popen(
                argv or [sys.executable, "-m", "rcauth", *args],
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
            )
        proc.out_path = out_path  # type: ignore[attr-defined]
        proc.err_path = err_path  # type: ignore[attr-defined]
        self._running.append(proc)
        return proc

    def finish(self, proc: subprocess.Popen[str], timeout: float = WAIT) -> Result:
        """Wait (bounded) for `proc`; on timeout kill it and raise with what it printed."""
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)
            raise AssertionError(
                f"{' '.join(map(str, proc.args))} still running after {timeout:g} s:\n"
                f"{stdout_of(proc)}\n{stderr_of(proc)}"
            ) from None
        finally:
            if proc in self._running:
                self._running.remove(proc)
        args = tuple(str(a) for a in proc.args[3:])
        result = Result(args, proc.returncode, stdout_of(proc), stderr_of(proc))
        self.results.append(result)
        return result

    def run(self, *args: str, timeout: float = WAIT, env: dict[str, str] | None = None) -> Result:
        return self.finish(self.start(*args, env=env), timeout=timeout)

    def interrupt(self, proc: subprocess.Popen[str], timeout: float = WAIT) -> Result:
        """Ctrl-C: SIGINT to the process, as a terminal sends it, then wait (bounded)."""
        proc.send_signal(signal.SIGINT)
        return self.finish(proc, timeout=timeout)

    def kill_all(self) -> None:
        for proc in self._running:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=WAIT)
        self._running.clear()


@dataclass(frozen=True)
class TerminalResult:
    """What a terminal received from `rcauth ARGS` (stdout and stderr, interleaved, as raw bytes)."""

    args: tuple[str, ...]
    code: int
    raw: bytes

    def __str__(self) -> str:
        return f"rcauth {' '.join(self.args)} -> {self.code}\n--- terminal\n{self.raw!r}"


def run_on_terminal(
    *args: str, env: dict[str, str], columns: int = 1000, timeout: float = WAIT
) -> TerminalResult:
    """Run `python -m rcauth ARGS` with stdout and stderr on a pseudo-terminal, as a person's terminal
    would hold them (so rich styles its output), and return every byte the terminal received.

    POSIX only (`os.openpty`). `columns` is the terminal's width (ioctl and COLUMNS), wide enough by
    default that no table cell is wrapped."""
    import fcntl
    import select
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rcauth", *args],
            env={**env, "COLUMNS": str(columns)},
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
        )
    finally:
        os.close(slave)  # the child holds the only other end: reading ends when it exits
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"rcauth {' '.join(args)} still running after {timeout:g} s: {chunks!r}")
            if not select.select([master], [], [], 0.5)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed (Linux)
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=WAIT)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT)
    return TerminalResult(tuple(args), code, b"".join(chunks))


def stdout_of(proc: subprocess.Popen[str]) -> str:
    return proc.out_path.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def stderr_of(proc: subprocess.Popen[str]) -> str:
    return proc.err_path.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def wait_for(
    condition: Callable[[], object],
    what: str,
    timeout: float = WAIT,
    proc: subprocess.Popen[str] | None = None,
) -> object:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds, or at once
    if `proc` (the process expected to bring it about) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) before {what}:\n{stderr_of(proc)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def wait_for_stderr(proc: subprocess.Popen[str], pattern: str, timeout: float = WAIT) -> re.Match[str]:
    """Wait until the running process's stderr matches `pattern` (a regex); return the match."""

    def matched() -> re.Match[str] | None:
        if proc.poll() is not None and not re.search(pattern, stderr_of(proc)):
            raise AssertionError(f"process exited ({proc.returncode}) first:\n{stderr_of(proc)}")
        return re.search(pattern, stderr_of(proc))

    return wait_for(matched, f"{pattern!r} on stderr", timeout)  # type: ignore[return-value]


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
