"""The `rcauth` program's own stdout and stderr, guarded once for every command (`guard_std_streams`,
called by `rcauth.cli.main`): a full disk (ENOSPC), an I/O error or a stream closed at start is one
plain error, not a traceback, and a closed fd 0, 1 or 2 is never handed to a file rcauth opens.

Only the program's streams are touched: tests and programs that call `rcauth.cli.cli` keep theirs.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from rcauth.errors import OutputFailed


class GuardedRaw(io.RawIOBase):
    """The bottom layer of rcauth's own stdout and stderr: the only place a write reaches the OS, so
    the only place a failed one is caught (once per buffer, not once per record).

    On stdout a failure becomes `OutputFailed` (one line, exit 1), each time a write fails, except a
    reader that went away (`BrokenPipeError`: click ends that quietly). On stderr it is dropped:
    there is nowhere left to report it, and the exit code still tells. Once rcauth is done (`main`),
    what a failed write left buffered is discarded, so the interpreter's last flush cannot fail
    again with a traceback and exit 120.
    """

    def __init__(self, raw: Any, *, report: bool) -> None:
        super().__init__()
        self._raw = raw
        self._report = report
        self.failed = False
        self.discard = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return int(self._raw.fileno())

    def isatty(self) -> bool:
        return bool(self._raw.isatty())

    @property
    def name(self) -> Any:
        """The stream's name as the OS layer gives it (`<stdout>`): `sys.stdout.name` keeps working."""
        return self._raw.name

    def write(self, data: Any) -> int | None:
        # Nothing to write never reaches the OS: click probes streams with empty writes, and on
        # /dev/full even an empty write fails.
        if self.discard or not data:
            return len(data)
        try:
            written: int | None = self._raw.write(data)
            return written
        except OSError as exc:
            self.failed = True
            if not self._report:
                self.discard = True
                return len(data)
            if isinstance(exc, BrokenPipeError):
                raise
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise OutputFailed(f"{reason[:1].lower()}{reason[1:]} while writing the output") from None


class _ClosedOutput(io.TextIOBase):
    """sys.stdout when the process started with fd 1 closed (`rcauth token >&-`): Python sets it to
    None, and click then drops what is echoed, so `token` exited 0 having printed nothing."""

    encoding = "utf-8"
    errors = "strict"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            raise OutputFailed("cannot write the output: standard output is closed")
        return 0


def _occupy_if_closed(fd: int) -> None:
    """Point a closed fd 0, 1 or 2 at the null device, so no file or socket opened later (the
    session file, a lock, a connection) is given that number and a child process's input or output."""
    try:
        os.fstat(fd)
        return
    except OSError:
        pass
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def guard_std_streams() -> GuardedRaw | None:
    """Guard the process's own stdin, stdout and stderr (a stream someone else put in their place is
    left alone); returns stdout's guard, if it has one, for `main` to settle once rcauth is done."""
    stdout_guard = None
    if sys.stdin is None:  # started with fd 0 closed (`<&-`): reading it reads nothing, as from /dev/null
        _occupy_if_closed(0)
        sys.stdin = open(os.devnull, encoding="utf-8")
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        if stream is None:
            _occupy_if_closed(fd)
            setattr(sys, name, _ClosedOutput() if fd == 1 else open(os.devnull, "w", encoding="utf-8"))
            continue
        buffer = getattr(stream, "buffer", None)
        raw = getattr(buffer, "raw", buffer)
        if stream is not getattr(sys, f"__{name}__") or raw is None:
            continue
        stream.flush()
        guarded_raw = GuardedRaw(raw, report=fd == 1)
        # Buffered as Python buffered it: unbuffered (-u, PYTHONUNBUFFERED) stays so.
        guarded = io.TextIOWrapper(
            guarded_raw if raw is buffer else io.BufferedWriter(guarded_raw),
            encoding=stream.encoding,
            errors=stream.errors,
            line_buffering=stream.line_buffering,
            write_through=stream.write_through,
        )
        setattr(sys, name, guarded)
        if fd == 1:
            stdout_guard = guarded_raw
    return stdout_guard
