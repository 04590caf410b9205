"""Writing files: one atomic writer for every file rcauth keeps, and for what a download saves.

A session file, the profile index, the chosen default profile and the remembered keyring choice all hold
something a half-written file would lose or garble, and a crash, a full disk or a second rcauth process
can come at any moment: so each is written beside itself and renamed over, never edited in place. A
download (`rcauth api --output`) is written the same way, so a body cut off part-way leaves no half
file under the name asked for. A resumable download (`rcauth recordings download`) keeps its bytes in
a `.part` file instead (`write_part`), given its final name once verified whole (`place`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: a sibling temp file, created 0600 (by `mkstemp`: what rcauth writes may
    hold a token), flushed to disk and renamed over, so a reader (or a crash) sees the old content or the
    new, never half of either."""
    write_chunks_atomically(path, [text.encode("utf-8")])


def check_writable_directory(path: Path) -> None:
    """Raise the `OSError` writing a file at `path` would meet in its directory (missing, not a
    directory, on a read-only file system, not writable), before anything is asked of a server for it:
    a download refused only after its body came would have spent a request of a rate-limited budget
    for nothing."""
    parent = path.parent
    if not parent.is_dir():
        code = errno.ENOTDIR if parent.exists() else errno.ENOENT
        raise OSError(code, os.strerror(code), str(parent))
    read_only = getattr(os, "ST_RDONLY", 0)
    if read_only and hasattr(os, "statvfs") and os.statvfs(parent).f_flag & read_only:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(parent))


def output_target(path: Path) -> tuple[Path, bool]:
    """Where writing a file the user named goes, as `(target, into)`. `into` is True when `path` is
    something other than a regular file or a directory (a device, a FIFO, a socket, `/dev/stdout` or a
    link to it): it is written into as it is, as a shell's `>` or curl's `-o` would, never replaced (a
    temp file renamed over it would replace the node itself: as root, `/dev/null`). Otherwise `target`
    is the file to write whole and rename: `path`, or, for a symbolic link, the file it leads to (the
    link is kept, and what it names is written; a link is never replaced by a file)."""
    try:
        info = os.stat(path)  # follows links: /dev/stdout leads to the process's own stdout
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISSOCK(info.st_mode):
        raise OSError(errno.ENXIO, "a socket cannot be written as a file", str(path))
    if info is not None and not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        return path, True
    if info is not None and _standard_stream(info) is not None:
        return path, True  # /dev/stdout when stdout is a file (`> file`, `>> log`): that file, as opened
    if os.path.islink(path):
        return Path(os.path.realpath(path)), False
    return path, False


def _standard_stream(info: os.stat_result) -> int | None:
    """1 or 2 when `info` is the file this process's stdout or stderr is (`/dev/stdout` redirected to a
    file): written through that descriptor, which the shell opened (appending, for `>>`)."""
    for fd in (1, 2):
        try:
            mine = os.fstat(fd)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (info.st_dev, info.st_ino):
            return fd
    return None


def write_into(path: Path, chunks: Iterable[bytes]) -> int:
    """Write `chunks` into `path` as it is (a device, a FIFO, this process's own stdout or stderr:
    `output_target`'s `into`), never replaced; returns the bytes written. The process's own stream is
    written through its descriptor, as the shell opened it (`>>` appends); anything else is opened as
    a shell's `>` opens it."""
    fd = _standard_stream(os.stat(path))
    written = 0
    with os.fdopen(os.dup(fd), "wb") if fd is not None else open(path, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            written += len(chunk)
    return written


def write_chunks_atomically(path: Path, chunks: Iterable[bytes], *, replace: bool = True) -> int:
    """Write `chunks` (consumed one at a time: a download is never held whole) to a 0600 sibling temp
    file, flush it to disk and rename it to `path`; returns the bytes written. Whatever stops the
    writing (an error while the chunks are produced, a full disk, Ctrl-C) removes the temp file and
    leaves `path` as it was. With `replace=False` an existing `path` is not replaced: `FileExistsError`
    (checked before the rename; a file made at that very moment can still be replaced)."""
    # The temp name is bounded (a 250-byte final name is valid; `.{name}.XXXXXXXX.tmp` would not be).
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    written = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                written += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if not replace and os.path.lexists(path):
            raise FileExistsError(f"{path} exists")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return written


# Flags that make `open` refuse a symbolic link at the path itself (POSIX; Windows has no such flag,
# and making a symlink there needs a privilege ordinary users lack).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def open_no_follow(path: Path) -> BinaryIO:
    """`path` opened for reading, never through a symbolic link put in its place (O_NOFOLLOW), and only
    if it is a regular file."""
    fh = os.fdopen(os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK), "rb")
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fh


def write_part(path: Path, chunks: Iterable[bytes], *, append: bool) -> int:
    """Write `chunks` to the partial download `path`: appended to what it holds (`append`, a download
    resumed) or in place of it, created 0600; returns the bytes written. Never through a symbolic link
    at `path` (O_NOFOLLOW), never into anything but a regular file. What was written before an error
    stays (flushed to disk): it is what the next try resumes."""
    # O_NONBLOCK: a FIFO put at the part's name fails to open (no reader) instead of waiting for one;
    # on a regular file it changes nothing. O_TRUNC waits until the file is known to be regular.
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO with no reader
            raise OSError(errno.EINVAL, "not a regular file", str(path)) from None
        raise
    written = 0
    with os.fdopen(fd, "ab" if append else "wb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if not append:
            fh.truncate(0)
        try:
            for chunk in chunks:
                fh.write(chunk)
                written += len(chunk)
        finally:
            fh.flush()
            os.fsync(fh.fileno())
    return written


def place(part: Path, final: Path) -> None:
    """Give the finished `part` its final name, never replacing a file there (`FileExistsError`, even
    for a file made a moment before): a hard link (which fails on any existing name, a symbolic link
    included) then the part removed; where the file system has no hard links, a check and a rename."""
    try:
        os.link(part, final, follow_symlinks=False)
    except FileExistsError:
        raise
    except (OSError, NotImplementedError):
        if os.path.lexists(final):
            raise FileExistsError(f"{final} exists") from None
        os.replace(part, final)
        return
    os.unlink(part)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's content, read in chunks (a recording is not held whole)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
