"""Recording content through `rcauth api`, from real processes: a media host on loopback (the session's
configured media server) serving audio, the terminal refusing it, a pipe and `--output` getting it
byte for byte, and Ctrl-C part-way leaving no file under the name asked for.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from helpers import serving
from reliability_support import Rcauth, run_on_terminal

from rcauth.session import Session

CONTENT = "/restapi/v1.0/account/37439510/recording/401/content"
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 512  # 128 KiB, NULs and ESCs included


class _Media:
    """What the media host saw, and a switch that holds the second half of the body back."""

    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        self.hold = threading.Event()
        self.release = threading.Event()


@pytest.fixture
def media() -> Iterator[tuple[str, _Media]]:
    state = _Media()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.authorizations.append(self.headers.get("Authorization"))
            self.send_response(200)
            if not self.path.endswith("/untyped"):
                self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(AUDIO)))
            self.end_headers()
            half = len(AUDIO) // 2
            self.wfile.write(AUDIO[:half])
            self.wfile.flush()
            if state.hold.is_set():
                state.release.wait(20)
                return  # the connection closes with half the body sent
            self.wfile.write(AUDIO[half:])

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url, state
        state.release.set()


@pytest.fixture
def signed_in(sign_in: Callable[..., Session], media: tuple[str, _Media]) -> Session:
    return sign_in(media_server=media[0])


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_binary_content_is_never_written_to_a_terminal(
    env: dict[str, str], signed_in: Session, media: tuple[str, _Media]
) -> None:
    url, state = media
    shown = run_on_terminal("api", "GET", url + CONTENT, env=env)
    assert shown.code == 2, str(shown)
    refusal = (
        f"Error: the answer is audio/mpeg ({len(AUDIO)} bytes), not text: not written to the terminal; "
        "use --output FILE (or --output - to write it here anyway)"
    )
    assert shown.raw.strip() == refusal.encode(), str(shown)
    assert state.authorizations == [f"Bearer {signed_in.access_token}"]
    untyped = run_on_terminal("api", "GET", url + "/untyped", env=env)  # no type: its NULs say binary
    assert untyped.code == 2, str(untyped)
    assert untyped.raw.startswith(b"Error: the answer is binary content ("), str(untyped)


def test_binary_content_goes_to_a_pipe_and_to_output_byte_for_byte(
    rcauth: Rcauth, signed_in: Session, media: tuple[str, _Media], tmp_path: Path
) -> None:
    url, _ = media
    proc = rcauth.start("api", "GET", url + CONTENT)
    piped = rcauth.finish(proc)
    assert piped.code == 0 and piped.err == "", str(piped)
    assert proc.out_path.read_bytes() == AUDIO  # type: ignore[attr-defined]
    target = tmp_path / "out" / "call.mp3"
    target.parent.mkdir()
    saved = rcauth.run("api", "GET", url + CONTENT, "--output", str(target))
    assert (saved.code, saved.out, saved.err) == (0, "", ""), str(saved)
    assert target.read_bytes() == AUDIO and [p.name for p in target.parent.iterdir()] == ["call.mp3"]


def test_ctrl_c_part_way_through_a_download_leaves_no_file(
    rcauth: Rcauth, signed_in: Session, media: tuple[str, _Media], tmp_path: Path
) -> None:
    url, state = media
    state.hold.set()
    folder = tmp_path / "out"
    folder.mkdir()
    proc = rcauth.start("api", "GET", url + CONTENT, "-o", str(folder / "call.mp3"))
    deadline = time.monotonic() + 20
    while not any(p.stat().st_size > 0 for p in folder.iterdir()):  # half the body is in the temp file
        assert time.monotonic() < deadline and proc.poll() is None, str(rcauth.finish(proc))
        time.sleep(0.05)
    interrupted = rcauth.interrupt(proc)
    assert interrupted.code == 130, str(interrupted)
    assert list(folder.iterdir()) == []
