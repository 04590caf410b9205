"""What `--output` and `--manifest` do to a name that is not a plain file (found by an outside review of
recordings and binary downloads), and a download's lock, which is the folder's, not the state directory's.

`/dev/stdout` is a symbolic link to `/proc/self/fd/1`. When stdout is a regular file, following the
link finds a regular file, so `rcauth api -o /dev/stdout --force` renames its temp file over the
link itself: as root, the machine's `/dev/stdout` is gone until reboot. The same holds for
`recordings download --manifest /dev/stdout` (or `/dev/null`, a device) with no `--force` at all.
These tests use a link of their own to `/proc/self/fd/1` and a FIFO in a temp directory, never `/dev`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from helpers import serving
from reliability_support import Rcauth

from rcauth.session import Session
from ringcentral_emulator import Emulator

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/proc/self/fd and FIFOs as Linux has them"
)

CONTENT = "/restapi/v1.0/account/37439510/recording/401/content"
AUDIO = b"ID3\x04\x00" + bytes(range(256)) * 64


@pytest.fixture
def media() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(AUDIO)))
            self.end_headers()
            self.wfile.write(AUDIO)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def test_output_force_onto_a_link_to_stdout_writes_through_it_and_keeps_the_link(
    rcauth: Rcauth, sign_in: Callable[..., Session], media: str, tmp_path: Path
) -> None:
    sign_in(media_server=media)
    link = tmp_path / "stdout"  # what /dev/stdout is
    link.symlink_to("/proc/self/fd/1")
    proc = rcauth.start("api", "GET", media + CONTENT, "-o", str(link), "--force")
    result = rcauth.finish(proc)
    assert link.is_symlink(), f"the link was replaced by a regular file ({result})"
    assert proc.out_path.read_bytes() == AUDIO, str(result)  # type: ignore[attr-defined]


def test_manifest_onto_a_link_to_stdout_writes_through_it_and_keeps_the_link(
    rcauth: Rcauth, sign_in: Callable[..., Session], emu: Emulator, tmp_path: Path
) -> None:
    sign_in(media_server=emu.media_url)
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    folder = tmp_path / "calls"
    proc = rcauth.start(
        "recordings",
        "download",
        "--from",
        "30d",
        "--limit",
        "1",
        "--dir",
        str(folder),
        "--manifest",
        str(link),
    )
    result = rcauth.finish(proc)
    assert link.is_symlink(), f"the link was replaced by a regular file ({result})"
    assert proc.out_path.read_text(encoding="utf-8").lstrip().startswith("["), str(result)  # type: ignore[attr-defined]


def test_manifest_onto_a_fifo_writes_into_it_and_keeps_the_fifo(
    rcauth: Rcauth, sign_in: Callable[..., Session], emu: Emulator, tmp_path: Path
) -> None:
    sign_in(media_server=emu.media_url)
    fifo = tmp_path / "manifest.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so a writer's open does not block

    def drain() -> None:
        import select

        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                return
            data = os.read(fd, 65536)
            if data:
                received.append(data)
            elif received:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = rcauth.run(
            "recordings",
            "download",
            "--from",
            "30d",
            "--limit",
            "1",
            "--dir",
            str(tmp_path / "calls"),
            "--manifest",
            str(fifo),
        )
    finally:
        reader.join(5)
        os.close(fd)
    import stat

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), f"the FIFO was replaced by a regular file ({result})"


def test_a_download_needs_nothing_of_the_state_directorys_downloads_folder(
    rcauth: Rcauth, sign_in: Callable[..., Session], emu: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    """The one-run-per-folder lock is on the folder itself: a file where an older rcauth kept its
    lock files (it once made the run an "unexpected error") is of no concern."""
    sign_in(media_server=emu.media_url)
    state = Path(env["RCAUTH_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    (state / "downloads").write_text("a file where rcauth kept its download locks\n")
    result = rcauth.run(
        "recordings", "download", "--from", "30d", "--limit", "1", "--dir", str(tmp_path / "c")
    )
    assert result.code == 0 and "saved 1 recording" in result.err, str(result)
