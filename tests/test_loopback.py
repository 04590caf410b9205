"""The loopback receiver, fed real HTTP requests over real sockets (port 0, a timeout on every wait)."""

from __future__ import annotations

import contextlib
import errno
import http.client
import logging
import os
import socket
import struct
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from rcauth import loopback
from rcauth.errors import LoginFailed, PortInUse
from rcauth.loopback import (
    CallbackReceiver,
    CallbackResult,
    ForeignCallback,
    _bind_host,
    _port_in_use_message,
    parse_callback,
)

STATE = "expected-state-value"
WAIT = 5.0


def get(
    port: int, path: str, *, host: str | None = None, method: str = "GET", address: str = "127.0.0.1"
) -> tuple[int, str]:
    conn = http.client.HTTPConnection(address, port, timeout=WAIT)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", host or f"localhost:{port}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


@pytest.fixture
def receiver():
    with CallbackReceiver("http://localhost:0/oauth2callback", expected_state=STATE) as r:
        yield r


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def test_good_callback_delivers_code_and_success_page(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    answer: Future = pool.submit(
        get, receiver.port, f"/oauth2callback?code=the-code&state={STATE}&expires_in=60"
    )
    result = receiver.wait(WAIT)
    assert result is not None and result.ok and result.code == "the-code"
    receiver.finish(True, "Signed in to RingCentral", "You can close this tab.")
    status, body = answer.result(WAIT)
    assert status == 200
    assert "Signed in to RingCentral" in body and "You can close this tab." in body


def test_wrong_state_is_rejected_and_nothing_is_delivered(receiver: CallbackReceiver) -> None:
    status, body = get(receiver.port, "/oauth2callback?code=evil-code&state=forged")
    assert status == 400 and "state mismatch" in body
    assert receiver.wait(0.3) is None


def test_missing_state_is_rejected(receiver: CallbackReceiver) -> None:
    status, _ = get(receiver.port, "/oauth2callback?code=evil-code")
    assert status == 400
    assert receiver.wait(0.3) is None


def test_callback_without_code_is_an_error_result(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    answer = pool.submit(get, receiver.port, f"/oauth2callback?state={STATE}")
    result = receiver.wait(WAIT)
    assert result is not None and not result.ok and result.error == "invalid_request"
    receiver.finish(False, "Sign-in failed", "no code")
    assert answer.result(WAIT)[0] == 400


def test_access_denied_is_reported_with_description(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    answer = pool.submit(
        get,
        receiver.port,
        f"/oauth2callback?error=access_denied&error_description=User+said+no&state={STATE}",
    )
    result = receiver.wait(WAIT)
    assert result is not None
    assert (result.error, result.error_description, result.code) == ("access_denied", "User said no", None)
    receiver.finish(False, "Sign-in cancelled", "<script>alert(1)</script>")
    status, body = answer.result(WAIT)
    assert status == 400
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_stray_paths_get_404_and_the_real_callback_still_works(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    assert get(receiver.port, "/favicon.ico")[0] == 404
    assert get(receiver.port, "/")[0] == 404
    answer = pool.submit(get, receiver.port, f"/oauth2callback?code=c2&state={STATE}")
    result = receiver.wait(WAIT)
    assert result is not None and result.code == "c2"
    receiver.finish(True, "ok", "ok")
    assert answer.result(WAIT)[0] == 200


def test_foreign_host_header_is_refused(receiver: CallbackReceiver) -> None:
    status, _ = get(receiver.port, f"/oauth2callback?code=c&state={STATE}", host="evil.example:80")
    assert status == 400
    assert receiver.wait(0.3) is None


def test_only_get_is_accepted_on_the_callback(receiver: CallbackReceiver) -> None:
    assert get(receiver.port, f"/oauth2callback?code=c&state={STATE}", method="POST")[0] == 405
    assert receiver.wait(0.3) is None


def test_wait_returns_none_after_timeout(receiver: CallbackReceiver) -> None:
    assert receiver.wait(0.2) is None


def test_binds_loopback_only_and_frees_the_port_on_exit() -> None:
    with CallbackReceiver("http://localhost:0/cb", expected_state=STATE) as r:
        port = r.port
        assert r._servers[0].server_address[0] == "127.0.0.1"
        assert r.redirect_uri == f"http://localhost:{port}/cb"
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _refusal_when_taken(family: socket.AddressFamily, address: str) -> tuple[int, PortInUse]:
    """Another program listens on `address`:port; a login for http://localhost:port must refuse."""
    with socket.socket(family) as other_program:
        other_program.bind((address, 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        with pytest.raises(PortInUse) as caught:
            with CallbackReceiver(f"http://localhost:{port}/oauth2callback", expected_state=STATE):
                pass
    return port, caught.value


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


@needs_ipv6
def test_localhost_is_served_on_both_loopbacks(pool: ThreadPoolExecutor) -> None:
    """A browser may resolve localhost to ::1 first: the redirect must reach rcauth there too."""
    with CallbackReceiver("http://localhost:0/cb", expected_state=STATE) as r:
        bound = [server.server_address[:2] for server in r._servers]
        assert bound == [("127.0.0.1", r.port), ("::1", r.port)]
        answer: Future = pool.submit(get, r.port, f"/cb?code=via-ipv6&state={STATE}", address="::1")
        result = r.wait(WAIT)
        assert result is not None and result.code == "via-ipv6"
        r.finish(True, "Signed in", "You can close this tab.")
        assert answer.result(WAIT)[0] == 200
        port = r.port
    with socket.socket(socket.AF_INET6) as s:  # nobody listens there any more (TIME_WAIT aside)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::1", port))
        s.listen()


@needs_ipv6
def test_another_program_on_ipv6_localhost_is_refused_not_raced() -> None:
    """If [::1]:port belongs to another program, a browser trying ::1 first would hand it the code."""
    port, error = _refusal_when_taken(socket.AF_INET6, "::1")
    assert f"port {port} on [::1]" in str(error)
    assert port not in _ports_this_process_listens_on()  # the IPv4 side it had bound is closed again


def _ports_this_process_listens_on() -> set[int]:
    """The TCP ports a socket of this process listens on (Linux: /proc). Binding the port to see if it
    is free would race with every other process on a busy machine, which may take it meanwhile."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    mine = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                mine.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in mine:  # 0A: LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_a_loopback_literal_is_served_on_that_address_alone() -> None:
    with CallbackReceiver("http://127.0.0.1:0/cb", expected_state=STATE) as r:
        assert [server.server_address[0] for server in r._servers] == ["127.0.0.1"]


def test_port_in_use_names_redirect_uri_option() -> None:
    port, error = _refusal_when_taken(socket.AF_INET, "127.0.0.1")
    assert f"port {port}" in str(error) and "--redirect-uri" in str(error)


def test_port_5000_message_mentions_airplay() -> None:
    assert "AirPlay Receiver" in _port_in_use_message("localhost", 5000)
    assert "AirPlay" not in _port_in_use_message("localhost", 5001)


def test_second_callback_after_delivery_is_not_delivered_twice(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    first = pool.submit(get, receiver.port, f"/oauth2callback?code=one&state={STATE}")
    assert receiver.wait(WAIT).code == "one"  # type: ignore[union-attr]
    status, _ = get(receiver.port, f"/oauth2callback?code=two&state={STATE}")
    assert status == 409
    receiver.finish(True, "ok", "ok")
    assert first.result(WAIT)[0] == 200
    assert receiver.wait(0).code == "one"  # type: ignore[union-attr]


def test_silent_connection_does_not_block_the_real_callback(pool: ThreadPoolExecutor) -> None:
    with CallbackReceiver(
        "http://localhost:0/oauth2callback", expected_state=STATE, connection_timeout=1
    ) as r:
        idle = socket.create_connection(("127.0.0.1", r.port), timeout=WAIT)
        idle.sendall(b"GET /oauth2callback?code=x")  # never finishes its request line
        try:
            answer = pool.submit(get, r.port, f"/oauth2callback?code=real&state={STATE}")
            result = r.wait(WAIT)
            assert result is not None and result.code == "real"
            r.finish(True, "ok", "ok")
            assert answer.result(WAIT)[0] == 200
        finally:
            idle.close()


def test_leaving_without_finish_still_answers_the_browser(pool: ThreadPoolExecutor) -> None:
    with CallbackReceiver("http://localhost:0/oauth2callback", expected_state=STATE) as r:
        answer = pool.submit(get, r.port, f"/oauth2callback?code=c&state={STATE}")
        assert r.wait(WAIT) is not None
    status, body = answer.result(WAIT)
    assert status == 500 and "interrupted" in body.lower()


def test_wait_is_woken_by_the_callback_not_by_polling(receiver: CallbackReceiver) -> None:
    arrived = threading.Event()

    def browser() -> None:
        get(receiver.port, f"/oauth2callback?code=c&state={STATE}")
        arrived.set()

    thread = threading.Thread(target=browser, daemon=True)
    thread.start()
    assert receiver.wait(WAIT) is not None
    receiver.finish(True, "ok", "ok")
    assert arrived.wait(WAIT)


# -- issue 10 §7: the page's security headers, pinned ------------------------------------------------
def get_with_headers(port: int, path: str, *, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request(method, path, headers={"Host": f"localhost:{port}"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def assert_locked_down(headers: dict[str, str]) -> None:
    # The callback URL carries the code: no Referer may take it anywhere, no cache may keep the page,
    # and the page may load nothing and run nothing (it has inline styles only).
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["connection"] == "close"


def test_the_signed_in_page_carries_the_security_headers(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    answer = pool.submit(get_with_headers, receiver.port, f"/oauth2callback?code=the-code&state={STATE}")
    assert receiver.wait(WAIT) is not None
    receiver.finish(True, "Signed in to RingCentral", "You can close this tab.")
    status, headers, body = answer.result(WAIT)
    assert status == 200
    assert_locked_down(headers)
    assert int(headers["content-length"]) == len(body)
    assert "&#10003;" in body.decode("utf-8") and "#0a7d32" in body.decode("utf-8")


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/oauth2callback?code=evil&state=forged", "GET", 400),
        ("/favicon.ico", "GET", 404),
        (f"/oauth2callback?code=c&state={STATE}", "POST", 405),
    ],
)
def test_every_refusal_page_carries_the_security_headers(
    receiver: CallbackReceiver, path: str, method: str, status: int
) -> None:
    got, headers, body = get_with_headers(receiver.port, path, method=method)
    assert got == status
    assert_locked_down(headers)
    assert "&#9888;" in body.decode("utf-8") and "#b42318" in body.decode("utf-8")


def test_a_failed_sign_in_page_carries_the_security_headers(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    answer = pool.submit(get_with_headers, receiver.port, f"/oauth2callback?code=c&state={STATE}")
    assert receiver.wait(WAIT) is not None
    receiver.finish(False, "Sign-in not saved", "rcauth could not store the session")
    status, headers, body = answer.result(WAIT)
    assert status == 400
    assert_locked_down(headers)
    assert "Sign-in not saved" in body.decode("utf-8")


def test_a_head_request_gets_headers_and_no_body(receiver: CallbackReceiver) -> None:
    status, headers, body = get_with_headers(receiver.port, "/oauth2callback", method="HEAD")
    assert status == 405 and body == b""
    assert_locked_down(headers)


# -- mutation testing: what the surviving mutants of loopback.py showed unpinned --------------------------
@pytest.mark.parametrize(
    ("path", "method", "host", "status", "title", "detail"),
    [
        (
            "/oauth2callback?code=evil&state=forged",
            "GET",
            None,
            400,
            "Sign-in not accepted",
            "This redirect does not belong to the sign-in rcauth is waiting for (state mismatch). "
            "Start again from the terminal.",
        ),
        (
            "/favicon.ico",
            "GET",
            None,
            404,
            "Not found",
            "Nothing here. rcauth is waiting for RingCentral&#x27;s sign-in redirect.",
        ),
        (
            "/oauth2callback",
            "POST",
            None,
            405,
            "Method not allowed",
            "Only the browser&#x27;s GET redirect is accepted here.",
        ),
        (
            "/oauth2callback",
            "GET",
            "evil.example",
            400,
            "Bad request",
            "This address only accepts RingCentral&#x27;s sign-in redirect.",
        ),
    ],
)
def test_each_refusal_page_says_what_happened(
    receiver: CallbackReceiver, path: str, method: str, host: str | None, status: int, title: str, detail: str
) -> None:
    got, body = get(receiver.port, path, method=method, host=host)
    assert got == status
    assert f"<title>{title} - rcauth</title>" in body and f"<h1>{title}</h1>" in body
    assert f"<p>{detail}</p>" in body


def test_a_second_callback_is_told_the_sign_in_is_done(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    first = pool.submit(get, receiver.port, f"/oauth2callback?code=one&state={STATE}")
    assert receiver.wait(WAIT) is not None
    status, body = get(receiver.port, f"/oauth2callback?code=two&state={STATE}")
    receiver.finish(True, "ok", "ok")
    first.result(WAIT)
    assert status == 409
    assert "<h1>Already done</h1>" in body
    assert "This sign-in was already completed. You can close this tab." in body


def test_a_callback_without_a_code_says_so(receiver: CallbackReceiver, pool: ThreadPoolExecutor) -> None:
    answer = pool.submit(get, receiver.port, f"/oauth2callback?state={STATE}")
    result = receiver.wait(WAIT)
    receiver.finish(False, "x", "y")
    answer.result(WAIT)
    assert result == CallbackResult(error="invalid_request", error_description="the redirect carried no code")


def test_the_port_in_use_message_tells_how_to_pick_another_port() -> None:
    assert _port_in_use_message("localhost", 5001) == (
        "port 5001 on localhost is in use by another program, so rcauth cannot receive the sign-in redirect; "
        "stop that program or use another port with --redirect-uri http://localhost:PORT/oauth2callback "
        "(the URI must also be registered for your RingCentral app)"
    )
    assert _port_in_use_message("localhost", 5000) == (
        _port_in_use_message("localhost", 5001).replace("5001", "5000")
        + "; on macOS, port 5000 is held by the AirPlay Receiver"
        + " (System Settings > General > AirDrop & Handoff)"
    )


def test_the_debug_log_never_holds_the_code_or_state(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rcauth.loopback")
    answer = pool.submit(get, receiver.port, f"/oauth2callback?code=the-secret-code&state={STATE}")
    assert receiver.wait(WAIT) is not None
    receiver.finish(True, "ok", "ok")
    answer.result(WAIT)
    receiver.close()
    assert "loopback: GET /oauth2callback" in [record.getMessage() for record in caplog.records]
    assert "the-secret-code" not in caplog.text and STATE not in caplog.text


def test_localhost_and_bracketed_literals_bind_the_loopback_literal() -> None:
    # RFC 8252 §8.3: listen on the literal, not on "localhost" (which a hosts file may point elsewhere).
    assert _bind_host("localhost") == "127.0.0.1" and _bind_host("LocalHost") == "127.0.0.1"
    assert _bind_host("[::1]") == "::1" and _bind_host("127.0.0.2") == "127.0.0.2"


@needs_ipv6
def test_an_ipv6_literal_redirect_is_served_on_ipv6_alone(pool: ThreadPoolExecutor) -> None:
    with CallbackReceiver("http://[::1]:0/cb", expected_state=STATE) as r:
        assert [server.server_address[0] for server in r._servers] == ["::1"]
        assert r.redirect_uri == f"http://[::1]:{r.port}/cb"
        path = f"/cb?code=c6&state={STATE}"
        answer: Future = pool.submit(get, r.port, path, host=f"[::1]:{r.port}", address="::1")
        assert r.wait(WAIT).code == "c6"  # type: ignore[union-attr]
        r.finish(True, "ok", "ok")
        assert answer.result(WAIT)[0] == 200


@needs_ipv6
def test_another_program_on_ipv6_localhost_is_named_in_the_refusal() -> None:
    port, error = _refusal_when_taken(socket.AF_INET6, "::1")
    assert str(error).startswith(f"port {port} on [::1] (IPv6 localhost) is in use by another program")


def test_a_port_taken_on_the_requested_host_names_that_host() -> None:
    port, error = _refusal_when_taken(socket.AF_INET, "127.0.0.1")
    assert str(error).startswith(f"port {port} on localhost is in use by another program")


@pytest.mark.parametrize(
    ("redirect", "hosts"),
    [
        ("http://127.0.0.1:0/cb", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"]),
        ("http://localhost:0/cb", ["127.0.0.1", "localhost", "[::1]"]),
    ],
)
def test_every_name_of_the_loopback_is_an_accepted_host(
    pool: ThreadPoolExecutor, redirect: str, hosts: list[str]
) -> None:
    for host in hosts:
        with CallbackReceiver(redirect, expected_state=STATE) as r:
            answer: Future = pool.submit(get, r.port, f"/cb?code=c&state={STATE}", host=f"{host}:{r.port}")
            assert r.wait(WAIT) is not None, host
            r.finish(True, "ok", "ok")
            assert answer.result(WAIT)[0] == 200


def test_a_request_without_a_host_header_is_refused_with_a_page(receiver: CallbackReceiver) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=WAIT) as sock:
        sock.sendall(f"GET /oauth2callback?code=c&state={STATE} HTTP/1.0\r\n\r\n".encode())
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"<h1>Bad request</h1>" in answer
    assert receiver.wait(0.2) is None


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_head_answer_has_no_body_on_the_wire(receiver: CallbackReceiver) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=WAIT) as sock:
        sock.sendall(f"HEAD /oauth2callback HTTP/1.1\r\nHost: localhost:{receiver.port}\r\n\r\n".encode())
        answer = _read_all(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 ") and body == b""


def test_a_query_of_more_than_32_fields_is_refused(receiver: CallbackReceiver) -> None:
    fields = "&".join(f"f{i}=x" for i in range(31))
    status, body = get(receiver.port, f"/oauth2callback?{fields}&state=forged&code=c")
    assert status == 400 and "<h1>Bad request</h1>" in body
    assert "<p>The redirect&#x27;s query could not be read.</p>" in body


def test_a_redirect_uri_needs_a_host_and_a_port() -> None:
    with pytest.raises(LoginFailed) as caught:
        CallbackReceiver("http://localhost/oauth2callback", expected_state=STATE)
    assert str(caught.value) == "redirect URI 'http://localhost/oauth2callback' needs a host and a port"


def test_a_redirect_uri_without_a_path_is_served_at_the_root(pool: ThreadPoolExecutor) -> None:
    with CallbackReceiver("http://127.0.0.1:0", expected_state=STATE) as r:
        answer: Future = pool.submit(get, r.port, f"/?code=root&state={STATE}")
        assert r.wait(WAIT).code == "root"  # type: ignore[union-attr]
        r.finish(True, "ok", "ok")
        assert answer.result(WAIT)[0] == 200


def test_a_silent_connection_is_closed_after_the_connection_timeout() -> None:
    with CallbackReceiver("http://127.0.0.1:0/cb", expected_state=STATE, connection_timeout=0.2) as r:
        with socket.create_connection(("127.0.0.1", r.port), timeout=WAIT) as sock:
            assert sock.recv(1) == b""  # closed by the server long before WAIT


def test_a_receiver_never_entered_is_not_listening_and_closes_quietly() -> None:
    receiver = CallbackReceiver("http://127.0.0.1:0/cb", expected_state=STATE)
    receiver.close()
    with pytest.raises(RuntimeError, match="the receiver is not listening"):
        _ = receiver.port


def test_leaving_without_finish_tells_the_browser_rcauth_stopped(pool: ThreadPoolExecutor) -> None:
    with CallbackReceiver("http://localhost:0/oauth2callback", expected_state=STATE) as r:
        answer = pool.submit(get, r.port, f"/oauth2callback?code=c&state={STATE}")
        assert r.wait(WAIT) is not None
    status, body = answer.result(WAIT)
    assert status == 500
    assert "<h1>Sign-in interrupted</h1>" in body and "<p>rcauth stopped before finishing.</p>" in body
    assert '<div class="mark">&#9888;</div>' in body


def test_the_page_marks_success_and_failure_apart(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    from rcauth.loopback import _page

    good, bad = _page("t", "d", ok=True), _page("t", "d", ok=False)
    assert '<div class="mark">&#10003;</div>' in good and "color:#0a7d32}" in good
    assert '<div class="mark">&#9888;</div>' in bad and "color:#b42318}" in bad
    first = pool.submit(get, receiver.port, f"/oauth2callback?code=one&state={STATE}")
    assert receiver.wait(WAIT) is not None
    _status, body = get(receiver.port, f"/oauth2callback?code=two&state={STATE}")
    receiver.finish(True, "ok", "ok")
    first.result(WAIT)
    assert "<p>This sign-in was already completed. You can close this tab.</p>" in body


def test_an_empty_error_in_the_redirect_is_still_an_error(
    receiver: CallbackReceiver, pool: ThreadPoolExecutor
) -> None:
    answer = pool.submit(get, receiver.port, f"/oauth2callback?error=&code=c&state={STATE}")
    result = receiver.wait(WAIT)
    receiver.finish(False, "x", "y")
    answer.result(WAIT)
    assert result == CallbackResult(error="", error_description=None) and not result.ok


# -- mutation testing, session 4: what the surviving mutants of loopback.py still showed unpinned ---------
def test_parse_callback_says_why_it_refuses_a_redirect() -> None:
    """`parse_callback` is the one reading of a callback for library callers too: its refusals say why."""
    with pytest.raises(ForeignCallback) as foreign:
        parse_callback("code=c&state=forged", STATE)
    assert str(foreign.value) == "the redirect does not belong to this sign-in (state mismatch)"
    too_many = "&".join(f"f{i}=x" for i in range(40)) + f"&code=c&state={STATE}"
    with pytest.raises(LoginFailed) as unreadable:
        parse_callback(too_many, STATE)
    assert str(unreadable.value) == "the redirect's query could not be read"
    assert not isinstance(unreadable.value, ForeignCallback)


@pytest.mark.parametrize("state", ["\udcff", f"{STATE}\udce9"])
def test_a_state_that_is_not_valid_utf_8_is_a_state_mismatch_not_a_crash(state: str) -> None:
    """A pasted address read from a terminal with undecodable bytes carries lone surrogates (Python's
    surrogateescape): it must be refused as another sign-in's redirect, not raise UnicodeEncodeError."""
    with pytest.raises(ForeignCallback):
        parse_callback(f"code=c&state={state}", STATE)


def test_a_redirect_uri_on_an_address_this_machine_does_not_have_cannot_be_listened_on() -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
    receiver = CallbackReceiver("http://192.0.2.1:0/cb", expected_state=STATE)
    with pytest.raises(LoginFailed) as caught:
        receiver.__enter__()
    assert not isinstance(caught.value, PortInUse)
    assert str(caught.value) == f"cannot listen on 192.0.2.1:0: {os.strerror(errno.EADDRNOTAVAIL)}"


def test_a_machine_without_ipv6_signs_in_on_127_0_0_1_and_says_why_in_the_debug_log(
    monkeypatch: pytest.MonkeyPatch, pool: ThreadPoolExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    class NoIPv6(loopback._Server6):
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL))

    monkeypatch.setattr(loopback, "_Server6", NoIPv6)
    caplog.set_level(logging.DEBUG, logger="rcauth.loopback")
    with CallbackReceiver("http://localhost:0/oauth2callback", expected_state=STATE) as r:
        assert [server.server_address[0] for server in r._servers] == ["127.0.0.1"]
        answer = pool.submit(get, r.port, f"/oauth2callback?code=c4&state={STATE}")
        assert r.wait(WAIT) == CallbackResult(code="c4")
        r.finish(True, "ok", "ok")
        assert answer.result(WAIT)[0] == 200
        port = r.port
    messages = [record.getMessage() for record in caplog.records]
    assert f"loopback: cannot listen on ::1:{port}: {os.strerror(errno.EADDRNOTAVAIL)}" in messages


class _Records(logging.Handler):
    """Keeps the receiver's log records; `other` is set by the first that is not a request line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.other = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.msg != "loopback: %s %s":
            self.other.set()


def test_a_browser_that_hangs_up_before_its_page_is_logged_at_debug_and_printed_nowhere(
    receiver: CallbackReceiver, capfd: pytest.CaptureFixture[str]
) -> None:
    """--debug shows which connection failed, with the traceback; without it nothing reaches the terminal."""
    records = _Records()
    logger = logging.getLogger("rcauth.loopback")
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        browser = socket.create_connection(("127.0.0.1", receiver.port), timeout=WAIT)
        address = browser.getsockname()
        host = f"localhost:{receiver.port}"
        browser.sendall(f"GET /oauth2callback?code=c&state={STATE} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert receiver.wait(WAIT) == CallbackResult(code="c")
        # The browser's tab is closed: a reset, not a polite close, so writing the page fails.
        browser.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        browser.close()
        receiver.finish(True, "Signed in to RingCentral", "You can close this tab.")
        assert records.other.wait(WAIT)
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    (failure,) = [r for r in records.records if r.msg != "loopback: %s %s"]
    assert failure.levelno == logging.DEBUG
    assert failure.getMessage() == f"loopback: connection from {address!r} failed"
    assert failure.exc_info is not None and issubclass(failure.exc_info[0], ConnectionError)
    assert [r.getMessage() for r in records.records if r is not failure] == ["loopback: GET /oauth2callback"]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@needs_ipv6
def test_every_name_of_the_loopback_is_an_accepted_host_on_an_ipv6_literal_redirect(
    pool: ThreadPoolExecutor,
) -> None:
    for host in ["[::1]", "localhost", "127.0.0.1"]:
        with CallbackReceiver("http://[::1]:0/cb", expected_state=STATE) as r:
            path = f"/cb?code=c&state={STATE}"
            answer: Future = pool.submit(get, r.port, path, host=f"{host}:{r.port}", address="::1")
            assert r.wait(WAIT) is not None, host
            r.finish(True, "ok", "ok")
            assert answer.result(WAIT)[0] == 200


@pytest.mark.skipif(sys.platform == "win32", reason="Windows says EACCES for a port in use")
def test_a_port_only_a_privileged_program_may_use_is_said_so_in_login_and_doctor(monkeypatch) -> None:
    """As an ordinary user on Linux, port 80 answers EACCES: that is no other program holding it, and
    `stop that program` would send the user looking for one that is not there."""
    import errno as errnos

    from rcauth.diagnose import check_redirect_uri
    from rcauth.errors import ConfigError

    def refused(self: socket.socket, address: object) -> None:
        raise PermissionError(errnos.EACCES, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refused)
    with pytest.raises(ConfigError) as caught:
        with CallbackReceiver("http://localhost:80/oauth2callback", expected_state=STATE):
            pass
    assert "only a privileged program may listen on here (below 1024)" in caught.value.message
    assert not isinstance(caught.value, PortInUse) and "in use" not in caught.value.message
    check = check_redirect_uri("http://localhost:80/oauth2callback")
    assert check.status.value == "problem" and "only a privileged program may listen on" in check.detail
    assert "in use" not in check.detail and "port from 1024 up" in check.hint
