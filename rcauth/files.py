"""Writing files: one atomic writer for every file rcauth keeps, and for what a download saves.

A session file, the profile index, the chosen default profile and the remembered keyring choice all hold
something a half-written file would lose or garble, and a crash, a full disk or a second rcauth process
can come at any moment: so each is written beside itself and renamed over, never edited in place. A
download (`rcauth api --output`) is written the same way, so a body cut off part-way leaves no half
file under the name asked for.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: a sibling temp file, created 0600 (by `mkstemp`: what rcauth writes may
    hold a token), flushed to disk and renamed over, so a reader (or a crash) sees the old content or the
    new, never half of either."""
    write_chunks_atomically(path, [text.encode("utf-8")])


def write_chunks_atomically(path: Path, chunks: Iterable[bytes], *, replace: bool = True) -> int:
    """Write `chunks` (consumed one at a time: a download is never held whole) to a 0600 sibling temp
    file, flush it to disk and rename it to `path`; returns the bytes written. Whatever stops the
    writing (an error while the chunks are produced, a full disk, Ctrl-C) removes the temp file and
    leaves `path` as it was. With `replace=False` an existing `path` is not replaced: `FileExistsError`
    (checked before the rename; a file made at that very moment can still be replaced)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
