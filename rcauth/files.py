"""Writing rcauth's own files: one atomic writer for every file rcauth keeps.

A session file, the profile index, the chosen default profile and the remembered keyring choice all hold
something a half-written file would lose or garble, and a crash, a full disk or a second rcauth process
can come at any moment: so each is written beside itself and renamed over, never edited in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: a sibling temp file, created 0600 (by `mkstemp`: what rcauth writes may
    hold a token), flushed to disk and renamed over, so a reader (or a crash) sees the old content or the
    new, never half of either."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
