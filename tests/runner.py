"""The one way the subprocess suites (tests/e2e, tests/reliability) run `python -m rcauth`: a real
process with a bounded wait, its stdout and stderr in files a test can watch while it runs, every
result kept (for leak checks), leftovers killed at teardown; and `run_on_terminal`, the same on a
pseudo-terminal.

Standard library only, no pytest: the reliability suite's keyring backends (`reliability_support`,
loaded inside the rcauth subprocesses) import it too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

WAIT = 30.0  # seconds: the bound on every subprocess and wait here, unless a test says otherwise


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
        self,
        *args: str,
        env: dict[str, str] | None = None,
        argv: list[str] | None = None,
        stdin: int = subprocess.DEVNULL,
    ) -> subprocess.Popen[str]:
        """Start `rcauth ARGS` (or `argv`); `stdin=subprocess.PIPE` to write to it (`proc.stdin`)."""
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
                stdin=stdin,
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
            if proc.stdin is not None:
                proc.stdin.close()
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
