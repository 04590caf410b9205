"""Hostile traffic at the loopback receiver while a real login waits (property-based, real sockets).

Whatever arrives — arbitrary paths, query strings, headers, raw bytes — the receiver answers or
closes, never crashes, never delivers anything from a request without the right `state`, and the
real callback still succeeds afterwards.
"""

from __future__ import annotations

import http.client
import logging
import socket
import string
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcauth.loopback import CallbackReceiver

STATE = "the-real-state-0123456789"
TIMEOUT = 5.0
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver(
        "http://localhost:0/oauth2callback", expected_state=STATE, connection_timeout=0.5
    ) as r:
        yield r
        # After all the noise: nothing was delivered, and the real callback still works.
        assert r.wait(0) is None
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(send, r.port, f"/oauth2callback?code=real-code&state={STATE}")
            result = r.wait(TIMEOUT)
            assert result is not None and result.code == "real-code"
            r.finish(True, "ok", "ok")
            assert answer.result(TIMEOUT)[0] == 200


def send(
    port: int, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        all_headers = {"Host": f"localhost:{port}", **(headers or {})}
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def raw(port: int, data: bytes) -> bytes:
    """Send bytes, read until the server closes (or answers); never hangs past TIMEOUT."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return b""  # the server already closed on us: that is an answer too
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


query_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
params = st.dictionaries(
    st.sampled_from(["code", "state", "error", "error_description", "expires_in", "x", "code[]", ""]),
    query_values,
    max_size=5,
)


@PROPERTY
@given(params=params)
def test_arbitrary_callback_queries_without_the_state_are_never_delivered(receiver, params) -> None:
    if params.get("state") == STATE:
        params["state"] = STATE + "x"
    status, _ = send(receiver.port, "/oauth2callback?" + urlencode(params))
    assert status in (400, 404)
    assert receiver.wait(0) is None


@PROPERTY
@given(path=st.text(alphabet=string.printable.strip() + "é/", min_size=1, max_size=80))
def test_arbitrary_paths_get_an_answer(receiver, path) -> None:
    target = "/" + quote(path, safe="/?&=%")
    status, _ = send(receiver.port, target)
    assert 400 <= status < 500  # never a success page
    assert receiver.wait(0) is None


header_names = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20)
header_values = st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=100)


@PROPERTY
@given(
    headers=st.dictionaries(header_names, header_values, max_size=8),
    method=st.sampled_from(["GET", "POST", "PUT"]),
)
def test_arbitrary_headers_and_methods_are_answered(receiver, headers, method) -> None:
    status, _ = send(receiver.port, f"/oauth2callback?code=forged&state={STATE}x", headers, method)
    assert status in (400, 405, 501)
    assert receiver.wait(0) is None


@PROPERTY
@given(data=st.binary(max_size=2048))
def test_raw_bytes_are_answered_or_closed(receiver, data) -> None:
    reply = raw(receiver.port, data)
    # Closed, or an HTTP/1.1 answer: never http.server's own HTTP/0.9-style page (no status line).
    assert reply == b"" or reply.startswith(b"HTTP/1.1 "), reply[:80]
    assert receiver.wait(0) is None


def test_oversized_request_line_is_refused_with_its_page(receiver) -> None:
    # The line is refused before its path is read: the 414 answer must still be written (it once
    # was not: logging the request failed on the missing path and the connection just closed).
    reply = raw(receiver.port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    # The same status line on every Python (http.server's own phrase for 414 changed in 3.13).
    assert reply.split(b"\r\n", 1)[0] == b"HTTP/1.1 414 Request line too long"


@pytest.mark.parametrize(
    ("line", "status"),
    [(b"BOGUS", 400), (b"GET / HTTP/9.9", 505), (b"GET / HTTP/1.1 extra", 400), (b"GET /", 400)],
)
def test_a_malformed_request_line_gets_the_receivers_own_page(
    receiver, line: bytes, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    # http.server's own page for these differs between Python versions and (refused before the version
    # is read) has no status line or headers; the receiver answers with its page and headers on all.
    with caplog.at_level(logging.DEBUG, logger="rcauth.loopback"):
        reply = raw(receiver.port, line + b"\r\nHost: localhost\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n", 1)[0].startswith(b"HTTP/1.1 %d " % status), reply[:80]
    assert b"Content-Security-Policy: default-src 'none'" in head
    assert b"Referrer-Policy: no-referrer" in head and b"Cache-Control: no-store" in head
    assert b"<p>This address only accepts RingCentral&#x27;s sign-in redirect.</p>" in body
    assert b"BOGUS" not in body and b"9.9" not in body
    # Refused is the end of that request: no second answer after the page (as a request line that was
    # read anyway would get: `GET /` served as a path), and no failure in the handler thread.
    assert reply.count(b"HTTP/1.1 ") == 1, reply
    assert not [record for record in caplog.records if record.exc_info], caplog.text


def test_too_many_headers_are_refused(receiver) -> None:
    headers = b"".join(b"X-%d: y\r\n" % i for i in range(150))
    reply = raw(receiver.port, b"GET /oauth2callback HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n")
    assert b" 431 " in reply.split(b"\r\n", 1)[0] or b" 400 " in reply.split(b"\r\n", 1)[0]


def test_rebinding_host_header_is_refused_even_with_the_right_state(receiver) -> None:
    status, body = send(
        receiver.port, f"/oauth2callback?code=c&state={STATE}", {"Host": f"attacker.example:{receiver.port}"}
    )
    assert status == 400 and receiver.wait(0) is None
