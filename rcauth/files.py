"""Writing rcauth's own files: one atomic writer for every file rcauth keeps.

A session file, the profile index, the remembered keyring choice and the config file all hold something
a half-written file would lose or garble, and a crash, a full disk or a second rcauth process can come
at any moment: so each is written beside itself and renamed over, never edited in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace `path` with `text`: a sibling temp file, created with `mode` (0600 unless told: what rcauth
    writes may hold a client secret), flushed to disk and renamed over, so a reader (or a crash) sees the
    old content or the new, never half of either."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if mode != 0o600:  # mkstemp creates 0600
                os.fchmod(fh.fileno(), mode)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
