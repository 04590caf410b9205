"""Downloads against hostile servers and odd outputs: failures an outside review found (each test fails
on the code it was written against)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import make_session

from rcauth.client import ApiClient, body_chunks
from rcauth.errors import TransportError
from rcauth.store import MemoryStore


def _answer_once(head: bytes, body: bytes, pause: float) -> tuple[str, threading.Thread]:
    """A loopback server answering one request with `head`, then `body` a byte every `pause` s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                try:
                    connection.sendall(head)
                    for i in range(len(body)):
                        connection.sendall(body[i : i + 1])
                        time.sleep(pause)
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/content", thread


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",  # close-delimited, no length
        b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n",
    ],
    ids=["connection-close", "close-delimited", "http-1.0"],
)
def test_a_trickling_body_is_hung_up_on_when_the_server_says_it_will_close(head: bytes) -> None:
    """http.client hands a will-close connection's socket to the response and sets `connection.sock`
    to None: `steady` then finds no socket and watches nothing, so a byte every 50 ms (well within each
    read's timeout) holds the download as long as the server likes. The 64 KiB rule must hold whatever
    the server says about the connection."""
    url, _ = _answer_once(head, b"x" * 200, 0.05)
    started = time.monotonic()
    with requests.get(url, stream=True, timeout=30) as response:
        with pytest.raises(TransportError, match=r"stalled part-way"):
            for _ in body_chunks(response, stall_after=0.4):
                pass
    assert time.monotonic() - started < 3  # at the window's end, not the body's (10 s)


def _serving_body(body: bytes) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(65536)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: {len(body)}\r\n\r\n"
                try:
                    connection.sendall(head.encode() + body)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture
def media() -> Iterator[str]:
    yield from _serving_body(os.urandom(300_000))


def test_a_library_download_whose_part_is_a_fifo_fails_instead_of_hanging(media: str, tmp_path: Path) -> None:
    """`Client.download` resumes `NAME.part`: one that is a FIFO (made by anyone who can write in the
    directory, /tmp) is opened for writing before it is checked to be a regular file, and the open
    waits for a reader for ever, with the answer open. `recordings download` checks the part first;
    the library's download must refuse it too, without hanging (and, better, before the request)."""
    store = MemoryStore()
    store.save(make_session(server=media))
    destination = tmp_path / "a.mp3"
    fifo = tmp_path / "a.mp3.part"
    os.mkfifo(fifo)
    outcome: list[BaseException | int] = []

    def run() -> None:
        with ApiClient(store) as client:
            try:
                outcome.append(client.download(f"{media}/content", destination, resume=True))
            except BaseException as exc:  # noqa: BLE001 - reported to the test's thread
                outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    hung = thread.is_alive()
    if hung:  # let the blocked open go, so the thread ends
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(5)
        os.close(fd)
    assert not hung, "Client.download blocked opening the FIFO at NAME.part"
    assert fifo.is_fifo()
    assert isinstance(outcome[0], OSError)


_CHILD = """
import sys
from pathlib import Path
from rcauth.commands.recordings import _write_manifest
from rcauth.files import output_target
print(output_target(Path("/dev/stdout"))[1], file=sys.stderr)
_write_manifest(Path("/dev/stdout"), [])
"""


@pytest.mark.skipif(not Path("/dev/stdout").is_symlink(), reason="a /dev/stdout that is a link (Linux)")
def test_dev_stdout_redirected_to_a_file_is_written_into_not_replaced(tmp_path: Path) -> None:
    """`rcauth recordings download --manifest /dev/stdout >> log` (or `api GET URL --output
    /dev/stdout > file`): /dev/stdout leads through /proc/self/fd/1 to the shell's file, so
    `output_target` takes it for a symbolic link to a regular file and renames a temp file over the
    shell's file: an appended log loses what it held, `api --output` is refused ("exists", exit 2)
    unless --force, and whatever the process writes on that descriptor afterwards goes to the unlinked
    file. /dev/stdout must be written into, as the shell's `>>`, curl's `-o /dev/stdout` do."""
    log = tmp_path / "log.txt"
    log.write_text("earlier line\n")
    inode = log.stat().st_ino
    with log.open("ab") as out:
        done = subprocess.run([sys.executable, "-c", _CHILD], stdout=out, stderr=subprocess.PIPE, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().strip() == "True"  # `into`
    assert log.stat().st_ino == inode
    assert log.read_text().startswith("earlier line\n[")


def test_a_socket_named_as_the_output_is_refused_before_any_request(tmp_path: Path) -> None:
    import errno

    from rcauth.files import output_target

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(OSError) as caught:
            output_target(path)
    assert caught.value.errno == errno.ENXIO
