"""Hostile traffic at the callback port while a real `rcauth login` waits (issue 4, point 7).

tests/test_loopback.py and tests/test_loopback_hostile.py drive `CallbackReceiver` in-process; here
the receiver is the one a real `rcauth login --no-browser` subprocess listens with, against the
emulator. Forged callbacks, a DNS-rebinding Host, wrong methods and paths, raw garbage, a silent
connection and a flood arrive first; then the real approval (as a browser would do it) still signs
in, and only that session is stored.
"""

from __future__ import annotations

import http.client
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit

from reliability_support import AUTHORIZE_URL, FileKeyring, wait_for_stderr

from rcauth.demo import HeadlessApprover

TIMEOUT = 10.0


def get(port: int, target: str, host: str | None = None, method: str = "GET") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{port}")
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def raw(port: int, data: bytes) -> bytes:
    """Send bytes and read until the server answers or closes (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return b""
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_forged_callbacks_while_login_waits_are_refused_and_the_real_approval_signs_in(
    emu, rcauth, stored, keyring_dir
) -> None:
    proc = rcauth.start("login", "--no-browser")
    url = wait_for_stderr(proc, AUTHORIZE_URL).group(1)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    redirect = urlsplit(query["redirect_uri"])
    port, path, state = redirect.port, redirect.path, query["state"]
    assert port is not None

    silent = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)  # says nothing, stays open
    try:
        forged = {
            "a forged code with a wrong state": (
                f"{path}?{urlencode({'code': 'forged', 'state': 'x' * 43})}",
                None,
            ),
            "a forged code with no state": (f"{path}?code=forged", None),
            "a forged denial with a wrong state": (f"{path}?error=access_denied&state=nope", None),
            "the right state via a rebinding Host": (
                f"{path}?{urlencode({'code': 'forged', 'state': state})}",
                f"attacker.example:{port}",
            ),
            "the right state on another path": (
                f"/favicon.ico?{urlencode({'code': 'x', 'state': state})}",
                None,
            ),
            "a state one character off": (
                f"{path}?{urlencode({'code': 'forged', 'state': state[:-1] + '~'})}",
                None,
            ),
        }
        for what, (target, host) in forged.items():
            assert get(port, target, host) in (400, 404), what
        assert get(port, f"{path}?{urlencode({'code': 'forged', 'state': state})}", method="POST") == 405
        for garbage in (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello at a plain-HTTP port
            b"GET /" + b"A" * 70_000 + b" HTTP/1.1\r\n\r\n",
            b"GET "
            + path.encode()
            + b" HTTP/1.1\r\n"
            + b"".join(b"X-%d: y\r\n" % i for i in range(200))
            + b"\r\n",
            b"\r\n\r\n\r\n",
        ):
            reply = raw(port, garbage)
            # Closed, or an HTTP/1.1 answer with the receiver's page: even a line refused before its
            # version is read (the TLS hello) gets a status line, on every Python version.
            assert reply == b"" or reply.startswith(b"HTTP/1.1 "), reply[:80]
            assert b" 200 " not in reply.split(b"\r\n", 1)[0]
        with ThreadPoolExecutor(16) as pool:  # a flood of forged callbacks at once
            statuses = list(pool.map(lambda i: get(port, f"{path}?code=forged{i}&state=guess{i}"), range(64)))
        assert set(statuses) == {400}

        assert proc.poll() is None  # still waiting for the real redirect
        assert emu.counters()["grants"] == {}  # nothing was ever sent to the token endpoint

        page = HeadlessApprover("Approve").approve(url)  # the user approves, the browser follows
        assert page.status_code == 200 and "Signed in" in page.text
        result = rcauth.finish(proc)
    finally:
        silent.close()

    assert result.code == 0, result
    assert result.out.startswith("Signed in as ")
    counters = emu.counters()
    assert counters["grants"] == {"authorization_code": 1}
    assert counters["code_reuses"] == 0 and counters["sessions_created"] == 1
    session = stored()
    assert session is not None and session.access_token in emu.secrets_seen()
    assert sorted(p.name for p in keyring_dir.iterdir()) == [
        FileKeyring.entry("rcauth", "default", keyring_dir).name
    ]
    assert rcauth.run("whoami").code == 0
