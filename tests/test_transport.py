"""`rcauth.transport`: OS trust per session (not process-wide), redirects pinned to the origin,
failures named. End-to-end behaviour is in tests/reliability/test_network_trouble_explained.py and
test_token_stays_home.py; these pin the pieces."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock
from helpers import free_port, serving
from urllib3.exceptions import MaxRetryError

from rcauth import transport
from rcauth.errors import ForeignOrigin, TransportError
from rcauth.transport import OSTrustAdapter, mask_credentials

SERVER = "https://platform.ringcentral.com"


def pool_kwargs(url: str, verify: bool | str) -> dict[str, Any]:
    request = requests.Request("GET", url).prepare()
    return OSTrustAdapter().build_connection_pool_key_attributes(request, verify)[1]


def test_https_verifies_with_the_os_trust_store_and_leaves_the_process_alone() -> None:
    import truststore

    kwargs = pool_kwargs(SERVER + "/restapi", True)
    assert isinstance(kwargs["ssl_context"], truststore.SSLContext)
    assert kwargs["ssl_context"] is pool_kwargs(SERVER + "/other", True)["ssl_context"]  # pools reused
    # Scoped to rcauth's adapter: the ssl module (every other library's TLS) is untouched.
    assert ssl.SSLContext is not truststore.SSLContext
    assert not isinstance(ssl.create_default_context(), truststore.SSLContext)


def test_a_named_bundle_or_plain_http_or_no_verification_does_not_use_the_os_store() -> None:
    import truststore

    # requests may put its own (certifi) context there (2.32.3 does even for plain http): never the OS's.
    for url, verify in ((SERVER, "/some/bundle.pem"), (SERVER, False), ("http://127.0.0.1:5000/x", True)):
        assert not isinstance(pool_kwargs(url, verify).get("ssl_context"), truststore.SSLContext)


def test_ssl_cert_file_becomes_the_bundle_requests_verifies_with(monkeypatch, tmp_path) -> None:
    seen: list[Any] = []

    def send(self, request, **kwargs):
        seen.append(kwargs.get("verify"))
        raise requests.ConnectionError("stop here")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    corp, named = tmp_path / "corp-ca.pem", tmp_path / "named.pem"
    corp.write_text("")
    named.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(corp))
    request = requests.Request("GET", SERVER).prepare()
    for verify in (True, str(named), False):
        with pytest.raises(requests.ConnectionError):
            OSTrustAdapter().send(request, verify=verify)
    assert seen == [str(corp), str(named), False]


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("http://user:pa55@proxy.corp:3128", "http://***@proxy.corp:3128"),
        ("http://proxy.corp:3128", "http://proxy.corp:3128"),
        ("http://a@b:c@proxy:1", "http://***@proxy:1"),
        # Every spelling requests accepts for a proxy, the scheme-less ones included (urlsplit reads
        # `alice:pa55@host` as scheme "alice", which once left the password on show in doctor).
        ("alice:pa55@proxy.corp:3128", "***@proxy.corp:3128"),
        ("//alice:pa55@proxy.corp:3128", "//***@proxy.corp:3128"),
        ("socks5h://alice:pa55@proxy.corp:1080", "socks5h://***@proxy.corp:1080"),
        ("proxy.corp:3128", "proxy.corp:3128"),
        # A password holding an unencoded "/", "#" or "?", leading blanks, a full-width "＠": all masked.
        ("http://alice:pa/ss@proxy:1", "http://***@proxy:1"),
        ("http://alice:pa#ss?x@proxy:1", "http://***@proxy:1"),
        (" http://alice:pa55@proxy:1", "http://***@proxy:1"),
        ("http://alice:pa55\uff20proxy:1", "http://***@proxy:1"),
        ("https:/alice:pa55@proxy:1", "***@proxy:1"),
        # An "@" in a path is masked with what precedes it: more hidden than needed, never less.
        ("http://proxy.corp:3128/a@b", "http://***@b"),
    ],
)
def test_credentials_in_a_proxy_url_are_masked(given: str, shown: str) -> None:
    assert mask_credentials(given) == shown


def test_doctor_never_shows_the_password_of_a_scheme_less_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    from rcauth.transport import proxy_in_use

    for each in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "alice:s3cret@127.0.0.1:9")
    shown = proxy_in_use(SERVER)
    assert shown is not None and "s3cret" not in shown and "alice" not in shown


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_a_proxy_failure_names_the_variable_that_set_the_proxy(monkeypatch: pytest.MonkeyPatch, name) -> None:
    for each in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv(name, "http://u:secret@127.0.0.1:9")
    error = transport.failure(requests.exceptions.ProxyError("boom"), SERVER + "/restapi")
    assert f"could not reach the proxy {name}=http://***@127.0.0.1:9" in str(error)
    assert "secret" not in str(error) and "platform.ringcentral.com" in str(error)
    assert error.exit_code == 5


class _Redirecting(BaseHTTPRequestHandler):
    """/a redirects to /b on the same server; /b records the Authorization header it got."""

    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if self.path == "/a":
            self.send_response(302)
            self.send_header("Location", "/b")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def test_a_redirect_on_the_same_origin_is_still_followed_with_the_token() -> None:
    _Redirecting.seen = []  # this run's requests only (a runner may run the test twice in one process)
    with serving(_Redirecting) as url, transport.new_session() as http:
        response = http.get(f"{url}/a", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200 and _Redirecting.seen == ["Bearer t"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "location",
    ["https://evil.example/x", "http://platform.ringcentral.com/x", "https://platform.ringcentral.com:8443/"],
)
def test_a_redirect_to_another_origin_is_refused_before_it_is_sent(status: int, location: str) -> None:
    with requests_mock.Mocker() as m, transport.new_session() as http:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, json={})  # wherever it leads: answered
        m.post(SERVER + "/restapi/oauth/token", status_code=status, headers={"Location": location})
        with pytest.raises(ForeignOrigin) as caught:
            http.post(SERVER + "/restapi/oauth/token", data={"refresh_token": "RT-1"})
        assert [r.url.rstrip("/") for r in m.request_history] == [SERVER + "/restapi/oauth/token"]
    error = caught.value
    assert (
        error.target.rstrip("/") == location.rstrip("/") and error.server == SERVER + "/restapi/oauth/token"
    )
    assert str(error) == (
        f"refusing to send the session's token to {error.target!r}: the server at platform.ringcentral.com "
        "redirected there; rcauth does not follow a redirect to another server"
    )


def test_the_token_endpoints_session_keeps_redirects_on_the_server() -> None:
    from rcauth.oauth import RingCentralOAuth

    session = RingCentralOAuth(SERVER, "cid", "secret")._oauth_session()
    assert isinstance(session, transport.StayOnOrigin)
    assert isinstance(session.get_adapter(SERVER + "/restapi/oauth/token"), OSTrustAdapter)


def test_a_missing_ca_bundle_matters_to_https_only(monkeypatch, tmp_path) -> None:
    from rcauth.errors import ConfigError

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lambda self, request, **kw: "sent")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    plain = requests.Request("GET", "http://127.0.0.1:5000/x").prepare()
    assert OSTrustAdapter().send(plain, verify=str(tmp_path / "gone.pem")) == "sent"
    secure = requests.Request("GET", SERVER).prepare()
    with pytest.raises(ConfigError, match="named by REQUESTS_CA_BUNDLE does not exist"):
        OSTrustAdapter().send(secure, verify=str(tmp_path / "gone.pem"))


URL = SERVER + "/restapi/v1.0/account/~"


def test_a_refused_connection_is_one_line_naming_the_host() -> None:
    url = f"http://127.0.0.1:{free_port()}/restapi"
    with transport.new_session() as http, pytest.raises(requests.ConnectionError) as caught:
        http.get(url, timeout=30)
    error = transport.failure(caught.value, url)
    assert error.message == f"could not reach {urlsplit(url).netloc}: connection refused"
    assert error.hint is None and error.exit_code == 5


def test_a_server_that_never_answers_is_named_as_timed_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel completes the connection; nobody ever reads or answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        with transport.new_session() as http, pytest.raises(requests.Timeout) as caught:
            http.get(url, timeout=0.3)
    assert (
        transport.failure(caught.value, url).message == f"could not reach {urlsplit(url).netloc}: timed out"
    )


def test_rcauths_session_sends_a_request_once_and_leaves_retrying_to_rcauth_retry() -> None:
    """A server that hangs up: urllib3 would resend a GET on its own if asked to retry, unseen by
    rcauth.retry's rules (pacing, Retry-After, the refresh lock)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        hung_up: list[int] = []

        def hang_up_once() -> None:
            connection, _ = listener.accept()
            connection.close()
            hung_up.append(1)

        worker = threading.Thread(target=hang_up_once)
        worker.start()
        with transport.new_session() as http, pytest.raises(requests.ConnectionError):
            http.get(url, timeout=10)  # a second attempt would wait here for an answer that never comes
        worker.join()
        # A second attempt would be waiting in the backlog by now (it is made before the error is raised).
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()[0].close()
    assert hung_up == [1]


def _refused() -> ConnectionRefusedError:
    return ConnectionRefusedError(111, "Connection refused")


def _caused(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        # What urllib3 and requests build, not raised: the cause is only in `reason` or in `args`.
        (requests.ConnectionError(MaxRetryError(None, URL, reason=_refused())), "connection refused"),  # type: ignore[arg-type]
        (requests.ConnectionError(MaxRetryError(None, URL, reason=TimeoutError())), "timed out"),  # type: ignore[arg-type]
        # The cause in a second branch of the chain, after an unrelated one.
        (_caused(requests.ConnectionError(OSError("while sending")), _refused()), "connection refused"),
        # Only the words say so.
        (
            requests.ConnectionError(
                "HTTPSConnectionPool(host='x', port=443): Read timed out. (read timeout=5)"
            ),
            "timed out",
        ),
        (requests.ConnectionError("Connection TIMED OUT"), "timed out"),
        # getaddrinfo's words on glibc and on macOS / BSD.
        (
            _caused(requests.ConnectionError("x"), socket.gaierror(-2, "Name or service not known")),
            "host name not found",
        ),
        (
            _caused(
                requests.ConnectionError("x"),
                socket.gaierror(8, "nodename nor servname provided, or not known"),
            ),
            "host name not found",
        ),
        (requests.ConnectionError("something else"), "ConnectionError"),
    ],
)
def test_a_failure_is_named_by_the_cause_anywhere_in_its_chain(
    exc: requests.RequestException, reason: str
) -> None:
    assert transport.failure(exc, URL).message == f"could not reach {HOST}: {reason}"


HOST = "platform.ringcentral.com"


def test_a_proxy_failure_says_why_and_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    for each in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    error = transport.failure(requests.exceptions.ProxyError(_refused()), URL)
    proxy = "HTTPS_PROXY=http://127.0.0.1:9"
    assert error.message == f"could not reach the proxy {proxy} (on the way to {HOST}): connection refused"
    assert error.hint == "check the proxy setting, or name the host in NO_PROXY to go direct"


def test_the_proxy_named_is_the_one_requests_used_when_several_variables_are_set(monkeypatch) -> None:
    for each in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv("ALL_PROXY", "http://all.corp:1")
    monkeypatch.setenv("HTTPS_PROXY", "http://https.corp:2")  # requests prefers the scheme's own
    assert transport.proxy_in_use(URL) == "HTTPS_PROXY=http://https.corp:2"
    assert transport.proxy_in_use("http://127.0.0.1:5000/x") == "ALL_PROXY=http://all.corp:1"


def test_a_proxy_from_the_system_settings_is_named_as_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and Windows give requests a proxy from the system's settings, set by no variable."""
    monkeypatch.setattr(
        requests.utils,
        "get_environ_proxies",
        lambda url, no_proxy=None: {"https": "http://u:pw@sys.corp:8080"},
    )
    assert transport.proxy_in_use(URL) == "proxy=http://***@sys.corp:8080"


def test_ssl_cert_file_applies_when_the_adapter_is_called_without_verify(monkeypatch, tmp_path) -> None:
    """HTTPAdapter.send's own default is verify=True: the same as requests passing it."""
    seen: list[Any] = []
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lambda self, request, **kw: seen.append(kw))
    corp = tmp_path / "corp-ca.pem"
    corp.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(corp))
    OSTrustAdapter().send(requests.Request("GET", SERVER).prepare())
    assert [kw["verify"] for kw in seen] == [str(corp)]


def test_a_missing_ca_bundle_passed_as_verify_is_named_as_such(monkeypatch, tmp_path) -> None:
    from rcauth.errors import ConfigError

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    gone = str(tmp_path / "gone.pem")
    with pytest.raises(ConfigError) as caught:
        OSTrustAdapter().send(requests.Request("GET", SERVER).prepare(), verify=gone)
    assert str(caught.value) == f"the CA bundle {gone!r} named by verify does not exist"


def test_an_adapter_mounted_for_one_server_leaves_the_others_alone() -> None:
    """The token endpoint's retry rule is mounted on its own server's prefix only."""
    from urllib3.util.retry import Retry

    with transport.new_session() as http:
        transport.mount(http, Retry(total=3), prefix=SERVER + "/")
        assert http.get_adapter(SERVER + "/restapi/oauth/token").max_retries.total == 3
        assert http.get_adapter("https://elsewhere.example/x").max_retries.total == 0
        assert http.get_adapter("http://127.0.0.1:5000/x").max_retries.total == 0


def test_a_proxy_failure_with_no_proxy_variable_says_the_proxy_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy given to requests directly (`proxies=`) is named by no variable."""
    for each in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(each, raising=False)
    error = transport.failure(requests.exceptions.ProxyError(_refused()), URL)
    assert error.message == f"could not reach the proxy (on the way to {HOST}): connection refused"


def test_the_bearer_token_is_sent_as_authorization_and_never_shown_by_repr() -> None:
    auth = transport.BearerToken("AT-s3cret")
    assert "s3cret" not in repr(auth) and repr(auth) == "BearerToken(...)"
    with requests_mock.Mocker() as m, transport.new_session() as http:
        m.get(URL, json={})
        http.get(URL, auth=auth)
        assert m.request_history[0].headers["Authorization"] == "Bearer AT-s3cret"


# -- every answer bounded in total, not per read ---------------------------------------------------------
class _Trickle(BaseHTTPRequestHandler):
    """A 200 whose body comes a byte every 0.2 s (or `?pause=` seconds), 100 bytes in all: each read is
    quick, the whole slow."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        pause = float(parse_qs(urlsplit(self.path).query).get("pause", ["0.2"])[0])
        try:
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                threading.Event().wait(pause)
        except OSError:
            pass  # the client hung up: what the bound is for

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def trickling() -> Any:
    with serving(_Trickle) as url:
        yield f"{url}/restapi/v1.0/account/~"


def test_an_answer_that_trickles_past_the_budget_is_hung_up_on(trickling: str, monkeypatch) -> None:
    """Each byte arrives well within the read timeout; the whole would take 20 s. RCAUTH_TIMEOUT=1 ends it
    after about a second with one line naming the host (were it not bounded, the 200 would come back)."""
    from rcauth.errors import TransportError

    monkeypatch.setenv("RCAUTH_TIMEOUT", "1")
    with transport.new_session() as http, pytest.raises(TransportError) as caught:
        http.get(trickling, timeout=(5, 5))
    assert str(caught.value) == f"{urlsplit(trickling).netloc} did not finish its answer within 1 s"


def test_an_answer_within_the_budget_is_read_whole(trickling: str, monkeypatch) -> None:
    """100 reads over about 2 s, each well within the read timeout, the whole within the 10 s budget."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "10")
    with transport.new_session() as http:
        assert http.get(f"{trickling}?pause=0.02", timeout=(5, 5)).content == b" " * 100


def test_a_streamed_answer_is_left_to_its_reader(trickling: str, monkeypatch) -> None:
    """A caller that streams (a download) reads at its own pace: the bound is for answers read whole."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "1")
    with transport.new_session() as http, http.get(trickling, timeout=(5, 5), stream=True) as response:
        assert next(response.iter_content(10)) == b" " * 10


def test_a_download_whose_body_trickles_is_hung_up_on_when_a_chunk_takes_past_the_budget(
    trickling: str, monkeypatch
) -> None:
    """A download (`body_chunks`, what `rcauth recordings download` and `api --output` read with) has no
    deadline as a whole, but each 64 KiB must come within RCAUTH_TIMEOUT: this body, a byte every
    0.05 s, would take 5 s (a real trickle forever), and is hung up on after 1."""
    from rcauth.client import body_chunks

    monkeypatch.setenv("RCAUTH_TIMEOUT", "1")
    started = time.monotonic()
    with transport.new_session() as http, http.get(f"{trickling}?pause=0.05", stream=True) as got:
        with pytest.raises(TransportError) as caught:
            list(body_chunks(got))
    assert time.monotonic() - started < 3
    assert str(caught.value) == (
        f"the answer from {urlsplit(trickling).netloc} stalled part-way: less than 64 KiB in 1 s"
    )


def test_a_download_that_keeps_coming_is_read_whole_however_long_it_takes(trickling: str) -> None:
    """10 bytes within each 1 s allowed, 2 s in all; and the time the reader spends on a chunk (writing
    it to disk) is not the server's."""
    from rcauth.client import _raw_chunks

    with transport.new_session() as http, http.get(f"{trickling}?pause=0.02", stream=True) as got:
        body = b""
        for chunk in transport.steady(_raw_chunks(got), got, 1.0, 10):
            body += chunk
            if len(body) == 50:
                time.sleep(1.5)
    assert body == b" " * 100


@pytest.mark.parametrize(("value", "budget"), [("7.5", 7.5), ("0", 120.0), ("-3", 120.0), ("inf", 120.0),
                                               ("nan", 120.0), ("soon", 120.0), ("", 120.0),
                                               ("1e10", 86400.0), ("1e308", 86400.0)])  # fmt: skip
def test_rcauth_timeout_is_a_positive_number_of_seconds_else_the_default(monkeypatch, value, budget) -> None:
    monkeypatch.setenv("RCAUTH_TIMEOUT", value)
    assert transport.answer_budget() == budget


def _trickling_server(
    listener: socket.socket, head: bytes, chunks: list[bytes], pause: float, noted: list[str] | None = None
) -> None:
    """Answers one request with `head`, then sends `chunks` one every `pause` seconds (until hung up on);
    notes in `noted` whether it was hung up on or sent everything."""
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        try:
            connection.sendall(head)
            for chunk in chunks:
                connection.sendall(chunk)
                threading.Event().wait(pause)
        except OSError:
            if noted is not None:
                noted.append("hung up on")  # the client hung up: what read_within is for
            return
        if noted is not None:
            noted.append("sent everything")


@pytest.mark.parametrize(
    ("head", "chunks"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", [b"x"] * 100),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", [b"1\r\nx\r\n"] * 100 + [b"0\r\n\r\n"]),
    ],
    ids=["content-length", "chunked"],
)
def test_an_answer_trickling_past_its_deadline_is_hung_up_on_and_named_as_too_slow(head, chunks) -> None:
    """A byte every 0.05 s keeps every read under its timeout; the whole answer would take 5 s. The
    deadline (0.4 s) shuts the socket down, which ends the blocked read at once."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        worker = threading.Thread(target=_trickling_server, args=(listener, head, chunks, 0.05), daemon=True)
        worker.start()
        with transport.new_session() as http:
            response = http.get(url, stream=True, timeout=10)
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                transport.read_within(response, 0.4, url)
            took = time.monotonic() - started
        worker.join(10)
    assert 0.3 < took < 3.0  # hung up on at the deadline, not when the server was done
    assert caught.value.message == f"{urlsplit(url).netloc} did not finish its answer within 0.4 s"
    assert caught.value.hint == "the server or a proxy on the way is sending it too slowly; try again later"
    assert caught.value.exit_code == 5


def _serving(head: bytes, chunks: list[bytes], pause: float, noted: list[str] | None = None) -> Any:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    trickle = (listener, head, chunks, pause, noted)
    threading.Thread(target=_trickling_server, args=trickle, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"


@pytest.mark.parametrize("stream", [False, True], ids=["read whole", "streamed"])
@pytest.mark.parametrize(
    ("head", "chunks"),
    [(b"HTTP/1.1 200 OK\r\nX-Slow: ", [b"a"] * 200), (b"", [b""] * 200)],
    ids=["headers a byte at a time", "no answer at all"],
)
def test_headers_that_never_finish_are_hung_up_on_at_the_deadline(monkeypatch, head, chunks, stream) -> None:
    """Every read of the status line and headers comes within the read timeout (or the server says
    nothing, within a read timeout longer than the budget): the deadline from the send still ends the
    wait, for a streamed answer too, with the one line of an answer that came too slowly."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.5")
    listener, url = _serving(head, chunks, 0.05)
    with listener, transport.new_session() as http:
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            http.get(url, timeout=(5, 30), stream=stream)
        took = time.monotonic() - started
    assert took < 4.0  # not the 10 s of the trickle, nor the 30 s read timeout
    assert caught.value.message == f"{urlsplit(url).netloc} did not finish its answer within 0.5 s"


def test_a_proxy_answering_connect_a_byte_at_a_time_is_hung_up_on_at_the_deadline(monkeypatch) -> None:
    """An HTTPS proxy's answer to CONNECT is read while the connection is made, before any answer:
    each byte comes in time, the deadline from the send still ends the wait, with the same one line."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.5")
    listener, proxy = _serving(b"HTTP/1.1 200 Connection established\r\nX-Slow: ", [b"a"] * 200, 0.05)
    target = "https://rc.example.com/restapi"
    with listener, transport.new_session() as http:
        http.trust_env = False
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            http.get(target, timeout=(5, 30), proxies={"https": proxy.removesuffix("/restapi")})
        took = time.monotonic() - started
    assert took < 4.0  # not the 10 s of the trickle, nor the 30 s read timeout
    assert caught.value.message == f"{urlsplit(target).netloc} did not finish its answer within 0.5 s"


def test_a_tls_handshake_that_trickles_ends_within_the_connect_timeout() -> None:
    """The handshake reads through the socket Python's ssl module wraps, out of the watch's reach; it
    is bounded in total all the same: CPython applies the socket's (connect) timeout to the whole
    handshake as one deadline, not to each read. A record announcing 16 KB, sent a byte every 0.05 s."""
    listener, url = _serving(b"\x16\x03\x03\x40\x00", [b"\x02"] * 200, 0.05)
    port = listener.getsockname()[1]
    with listener, transport.new_session() as http:
        started = time.monotonic()
        with pytest.raises(requests.Timeout):  # the handshake's timeout (a command names it in one line)
            http.get(f"https://127.0.0.1:{port}/restapi", timeout=(1, 30))
        took = time.monotonic() - started
    assert took < 4.0  # the 1 s connect timeout as a whole (and no retry), not the 10 s of the trickle


def test_headers_in_time_then_a_streamed_body_are_left_to_the_reader(monkeypatch) -> None:
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.5")
    listener, url = _serving(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", [b"x"] * 10, 0.1)
    with listener, transport.new_session() as http, http.get(url, timeout=(5, 5), stream=True) as response:
        assert response.raw.read(10) == b"x" * 10  # 1 s of body, past the 0.5 s the headers had


def test_a_proxy_managers_pools_are_watched_too() -> None:
    """Through an http(s) proxy the answer's headers are watched as they are without one; a SOCKS
    proxy's pools are its own (urllib3's SOCKS connections), and keep the per-read bound."""
    adapter = transport.OSTrustAdapter()
    assert adapter.poolmanager.pool_classes_by_scheme is transport.WATCHED_POOLS
    assert (
        adapter.proxy_manager_for("http://proxy.example:3128").pool_classes_by_scheme
        is transport.WATCHED_POOLS
    )


@pytest.mark.parametrize("body", [b"{}", b""], ids=["json", "empty"])
def test_an_answer_read_in_time_is_kept_whole_and_nothing_fires_later(body: bytes) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        worker = threading.Thread(target=_trickling_server, args=(listener, head, [body], 0.0), daemon=True)
        worker.start()
        with transport.new_session() as http:
            response = http.get(url, stream=True, timeout=10)
            transport.read_within(response, 0.3, url)
            threading.Event().wait(0.5)  # past the deadline: the timer was cancelled, the body stays
        worker.join(10)
    assert response.content == body


class _SlowRaw:
    """A body from another transport adapter: no connection or socket to find, and slow to read."""

    def __init__(self, body: bytes, pause: float) -> None:
        self._body, self._pause = body, pause

    def read(self, size: int = -1, **kwargs: Any) -> bytes:
        threading.Event().wait(self._pause)
        body, self._body = self._body, b""
        return body


def test_without_a_socket_to_hang_up_on_the_body_is_read_with_the_per_read_bound_only() -> None:
    response = requests.Response()
    response.raw = _SlowRaw(b"", 0.2)  # an empty body that takes longer than its 0 s budget
    transport.read_within(response, 0.0, SERVER + "/restapi")
    assert response.content == b""


def test_a_read_timing_out_before_the_deadline_is_named_as_the_failure_it_is_not_as_too_slow() -> None:
    """One read past requests' per-read timeout, the answer's own deadline still far: a network failure."""

    class Broken:
        def read(self, size: int = -1, **kwargs: Any) -> bytes:
            raise requests.exceptions.ConnectionError("HTTPSConnectionPool(...): Read timed out.")

    response = requests.Response()
    response.raw = Broken()
    with pytest.raises(TransportError) as caught:
        transport.read_within(response, 60.0, SERVER + "/restapi")
    assert caught.value.message == "the answer from platform.ringcentral.com stalled part-way (timed out)"


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
def test_an_answer_cut_off_after_its_headers_says_so_not_that_the_host_could_not_be_reached(head) -> None:
    """The headers came, so the host was reached: "could not reach" would send the user to check a
    network that worked."""
    body = [b"x" * 10] if b"Content-Length" in head else [b"a\r\n" + b"x" * 10 + b"\r\n"]
    listener, url = _serving(head, body, 0.0)
    with listener, transport.new_session() as http:
        response = http.get(url, stream=True, timeout=10)
        with pytest.raises(TransportError) as caught:
            transport.read_within(response, 10.0, url)
    assert caught.value.message.startswith(f"the answer from {urlsplit(url).netloc} was cut off part-way (")
    assert caught.value.exit_code == 5


def test_an_answer_whose_headers_used_up_the_budget_is_hung_up_on_at_once() -> None:
    """The client passes what is left of the budget after the headers: none left (or less than none)
    means the deadline is now, not a second or the whole per-read timeout later."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        trickle = (listener, head, [b"x"] * 100, 0.05)
        worker = threading.Thread(target=_trickling_server, args=trickle, daemon=True)
        worker.start()
        with transport.new_session() as http:
            response = http.get(url, stream=True, timeout=10)
            started = time.monotonic()
            with pytest.raises(TransportError, match="did not finish its answer within"):
                transport.read_within(response, -2.0, url)
            took = time.monotonic() - started
        worker.join(10)
    assert took < 0.8


class _RawOnASocket(_SlowRaw):
    """A body whose read is not ended by the hang-up (it returns when it is done, after the deadline):
    what read_within sees when the deadline and the body's end cross."""

    def __init__(self, body: bytes, pause: float, sock: socket.socket) -> None:
        super().__init__(body, pause)
        self.connection = type("Connection", (), {"sock": sock})()


@pytest.mark.parametrize(("body", "too_slow"), [(b'{"id": 1}', False), (b"", True)], ids=["whole", "nothing"])
def test_a_body_ending_as_the_deadline_passes_is_kept_unless_the_hang_up_left_nothing(body, too_slow) -> None:
    mine, theirs = socket.socketpair()
    with mine, theirs:
        response = requests.Response()
        response.raw = _RawOnASocket(body, 0.4, mine)
        if too_slow:
            with pytest.raises(TransportError) as caught:
                transport.read_within(response, 0.05, SERVER + "/restapi")
            assert caught.value.message == "platform.ringcentral.com did not finish its answer within 0.05 s"
        else:
            transport.read_within(response, 0.05, SERVER + "/restapi")
            assert response.content == body


def test_the_deadlines_timer_never_holds_the_process_open() -> None:
    """A read may run on a daemon thread its program does not wait for at exit (a host program's
    worker calling `rcauth.Client`): its timer must not be a thread the interpreter waits for either,
    which would hold the process open until the deadline (up to RCAUTH_TIMEOUT, 120 s by default)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    timers: list[object] = []

    def look() -> None:
        threading.Event().wait(0.15)
        timers.extend(t.daemon for t in threading.enumerate() if isinstance(t, threading.Timer))

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        trickle = (listener, head, [b"x"] * 100, 0.05)
        worker = threading.Thread(target=_trickling_server, args=trickle, daemon=True)
        worker.start()
        with transport.new_session() as http:
            response = http.get(url, stream=True, timeout=10)
            looker = threading.Thread(target=look)
            looker.start()
            with pytest.raises(TransportError):
                transport.read_within(response, 0.6, url)
            looker.join(10)
        worker.join(10)
    assert timers == [True]


@pytest.mark.parametrize("encoding", ["gzip", None], ids=["a decompression bomb", "a huge body"])
def test_an_answer_larger_than_any_ringcentral_sends_is_refused_as_it_is_read(monkeypatch, encoding) -> None:
    """4 MiB of zeros (gzip makes them 4 KB on the wire) against a 1 MiB cap: one line (exit 5), and
    the body is never held whole in memory; within the cap the same answer is read as usual."""
    import gzip

    monkeypatch.setattr(transport, "ANSWER_MAX_BYTES", 2**20)
    inflated = b"0" * (4 * 2**20)
    body = gzip.compress(inflated) if encoding else inflated
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    head += (b"Content-Encoding: gzip\r\n" if encoding else b"") + b"\r\n"
    listener, url = _serving(head, [body], 0.0)
    with listener, transport.new_session() as http, pytest.raises(TransportError) as caught:
        http.get(url, timeout=(5, 5))
    assert caught.value.message == (
        f"{urlsplit(url).netloc} sent an answer larger than 1 MiB, more than RingCentral ever sends; "
        "it was not read"
    )
    assert caught.value.hint == "a proxy or server in the way may be misbehaving"
    assert caught.value.exit_code == 5

    monkeypatch.setattr(transport, "ANSWER_MAX_BYTES", 8 * 2**20)
    listener, url = _serving(head, [body], 0.0)
    with listener, transport.new_session() as http:
        assert http.get(url, timeout=(5, 5)).content == inflated


def test_no_new_try_starts_once_the_answers_deadline_has_passed(monkeypatch) -> None:
    """Retries sit inside the answer's deadline: a server refusing connections, retried with backoff
    (here for up to a minute), ends at the first try due after RCAUTH_TIMEOUT, as an answer too slow."""
    from rcauth.retry import BoundedRetry

    monkeypatch.setenv("RCAUTH_TIMEOUT", "1")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/restapi"  # bound, never listening: refused
        retry = BoundedRetry(total=20, connect=20, backoff_factor=0.5, budget=60.0)
        with transport.new_session(retry) as http:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                http.get(url, timeout=(5, 5))
            took = time.monotonic() - started
    assert took < 4.0  # the deadline and at most one backoff pause, not the minute of retries
    assert caught.value.message == f"{urlsplit(url).netloc} did not finish its answer within 1 s"


def test_an_answer_of_exactly_the_cap_is_read_and_one_byte_more_is_refused(monkeypatch) -> None:
    """The cap is the most an answer may hold: that many bytes are read as usual, one more is refused."""
    monkeypatch.setattr(transport, "ANSWER_MAX_BYTES", 2**20)
    for size in (2**20, 2**20 + 1):
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
        listener, url = _serving(head, [b"x" * size], 0.0)
        with listener, transport.new_session() as http:
            if size == 2**20:
                assert http.get(url, timeout=(5, 5)).content == b"x" * size
            else:
                with pytest.raises(TransportError, match="sent an answer larger than 1 MiB"):
                    http.get(url, timeout=(5, 5))


def _sending_then_silent(listener: socket.socket, head: bytes, body: bytes) -> None:
    """Answers one request with `head` and `body`, then sends nothing more until the client hangs up."""
    connection, _ = listener.accept()
    with connection:
        connection.settimeout(60)
        connection.recv(65536)
        try:
            connection.sendall(head + body)
            while connection.recv(65536):
                pass
        except OSError:
            pass


def test_an_answer_past_the_cap_is_refused_as_it_passes_even_if_the_sender_then_stalls(monkeypatch) -> None:
    """A server (or a proxy) promises 8 MiB, sends a little more than the cap, then nothing: the answer is
    refused as soon as what was read passes the cap, in requests' own reads of 10 KiB, not after waiting
    for more until the deadline (30 s here) or for a whole body that never comes."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "30")
    monkeypatch.setattr(transport, "ANSWER_MAX_BYTES", 2**20)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (8 * 2**20)
    body = b"x" * (2**20 + requests.models.CONTENT_CHUNK_SIZE)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/restapi"
        threading.Thread(target=_sending_then_silent, args=(listener, head, body), daemon=True).start()
        with transport.new_session() as http:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                http.get(url, timeout=(5, 60))
            took = time.monotonic() - started
    assert took < 10.0  # not the 30 s deadline
    assert caught.value.message == (
        f"{urlsplit(url).netloc} sent an answer larger than 1 MiB, more than RingCentral ever sends; "
        "it was not read"
    )


def test_a_cookie_the_server_sets_is_kept_by_the_session_as_requests_keeps_it() -> None:
    """The answer read whole is handed back as requests' own (its urllib3 answer in `raw`), so the session
    keeps the server's cookies (a load balancer's sticky one) as any requests session does."""
    head = b"HTTP/1.1 200 OK\r\nSet-Cookie: lb=node-7; Path=/\r\nContent-Length: 2\r\n\r\n{}"
    listener, url = _serving(head, [], 0.0)
    with listener, transport.new_session() as http:
        response = http.get(url, timeout=(5, 5))
        assert response.content == b"{}" and response.raw.status == 200
        assert http.cookies.get("lb") == "node-7"


def test_the_adapter_takes_the_arguments_of_requests_own_adapter() -> None:
    """OSTrustAdapter stands in for requests' HTTPAdapter: its arguments, by position or by name, reach
    the pools as they would there (pool sizes, retries, and whether to wait for a free connection)."""
    from requests.adapters import HTTPAdapter

    by_position, theirs = OSTrustAdapter(3, 7, 2, True), HTTPAdapter(3, 7, 2, True)
    assert by_position.poolmanager.connection_pool_kw == theirs.poolmanager.connection_pool_kw
    assert by_position.poolmanager.connection_pool_kw == {"maxsize": 7, "block": True}
    assert by_position.max_retries.total == 2 and by_position.poolmanager.pools._maxsize == 3
    assert OSTrustAdapter(pool_block=True).poolmanager.connection_pool_kw["block"] is True


def test_a_socks_proxys_own_pools_are_left_to_it(monkeypatch) -> None:
    """With requests[socks] installed, a socks proxy gets urllib3's SOCKSProxyManager, whose own pools
    are what connect through the proxy: they stay (urllib3's plain connections, watched, would be handed
    the SOCKS options and fail). PySocks is no dependency of rcauth: a stand-in manager with pools of its
    own takes its place here, as requests would make it."""
    from urllib3 import PoolManager
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    own = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}

    class SocksManager(PoolManager):
        def __init__(self, proxy_url: str, username: Any = None, password: Any = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.pool_classes_by_scheme = own  # as urllib3's SOCKSProxyManager.__init__ does

    monkeypatch.setattr(requests.adapters, "SOCKSProxyManager", SocksManager)
    adapter = transport.OSTrustAdapter()
    for proxy in ("socks5h://127.0.0.1:1080", "SOCKS5://alice:pw@127.0.0.1:1081"):
        manager = adapter.proxy_manager_for(proxy)
        assert isinstance(manager, SocksManager) and manager.pool_classes_by_scheme is own
    plain = adapter.proxy_manager_for("http://proxy.example:3128")
    assert plain.pool_classes_by_scheme is transport.WATCHED_POOLS


# -- the headers' deadline (_Watch), seen from outside ----------------------------------------------------
TRICKLING_HEADERS = (b"HTTP/1.1 200 OK\r\nX-Slow: ", [b"a"] * 300, 0.05)  # 15 s of headers, a byte at a time


def _noted(noted: list[str], within: float = 10.0) -> list[str]:
    """`noted` once the server has noted how its answer ended (or after `within` seconds)."""
    until = time.monotonic() + within
    while not noted and time.monotonic() < until:
        threading.Event().wait(0.02)
    return noted


def _timers_still_running(within: float = 5.0) -> list[threading.Thread]:
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    for timer in timers:
        timer.join(within)
    return [t for t in timers if t.is_alive()]


def test_headers_trickling_on_a_threads_first_request_are_hung_up_on_and_leave_no_timer_running(
    monkeypatch,
) -> None:
    """rcauth fetches pages ahead on threads of their own: a thread's very first request is watched as
    any other. Its headers trickling past RCAUTH_TIMEOUT, the user gets the one line of an answer too
    slow (a TransportError, exit 5) within the deadline and a moment, not the 15 s of the trickle; the
    server sees the connection closed, and no timer is left running afterwards."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.5")
    noted: list[str] = []
    listener, url = _serving(*TRICKLING_HEADERS, noted)
    raised: list[BaseException] = []

    def fetch() -> None:
        with transport.new_session() as http:
            try:
                http.get(url, timeout=(5, 30))
            except BaseException as exc:  # whatever it is, the test shows it
                raised.append(exc)

    with listener:
        started = time.monotonic()
        worker = threading.Thread(target=fetch)
        worker.start()
        worker.join(30)
        took = time.monotonic() - started
    assert [type(exc) for exc in raised] == [TransportError], raised
    error = raised[0]
    assert isinstance(error, TransportError)
    assert error.message == f"{urlsplit(url).netloc} did not finish its answer within 0.5 s"
    assert error.hint == "the server or a proxy on the way is sending it too slowly; try again later"
    assert error.exit_code == 5
    assert took < 5.0  # the 0.5 s deadline and a moment, not the 15 s of the trickle
    assert _noted(noted) == ["hung up on"]
    assert _timers_still_running() == []


def test_the_headers_deadline_timer_never_holds_the_process_open(monkeypatch) -> None:
    """As read_within's timer: a page fetched ahead waits for its headers on a daemon thread an exiting
    rcauth does not wait for, and the deadline's timer must not be a thread the interpreter waits for."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.6")
    timers: list[object] = []

    def look() -> None:
        threading.Event().wait(0.15)
        timers.extend(t.daemon for t in threading.enumerate() if isinstance(t, threading.Timer))

    listener, url = _serving(*TRICKLING_HEADERS)
    with listener, transport.new_session() as http:
        looker = threading.Thread(target=look)
        looker.start()
        with pytest.raises(TransportError):
            http.get(url, timeout=(5, 30))
        looker.join(10)
    assert timers == [True]


def _resolving_late(
    monkeypatch: pytest.MonkeyPatch, name: str, seconds: float, *, found: bool = True
) -> None:
    """`name` resolves to 127.0.0.1 (or, not `found`, to nothing) after `seconds`, as from a slow name
    server; every other name as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            threading.Event().wait(seconds)
            if not found:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_proxy_whose_name_resolves_after_the_deadline_is_hung_up_on_once_reached(monkeypatch) -> None:
    """The deadline passes while the proxy's name is still being looked up: the connection has no socket
    to shut yet. It is looked at again until it has one, and the proxy, answering CONNECT a byte at a
    time, is hung up on as soon as it is reached, not left to trickle for 15 s."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.5")
    _resolving_late(monkeypatch, "slow-dns.proxy.test", 1.5)
    noted: list[str] = []
    head = b"HTTP/1.1 200 Connection established\r\nX-Slow: "
    listener, proxy = _serving(head, [b"a"] * 300, 0.05, noted)
    proxy = f"http://slow-dns.proxy.test:{listener.getsockname()[1]}"
    target = "https://rc.example.com/restapi"
    with listener, transport.new_session() as http:
        http.trust_env = False
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            http.get(target, timeout=(5, 30), proxies={"https": proxy})
        took = time.monotonic() - started
    assert took < 6.0  # the name's 1.5 s and a moment, not the proxy's 15 s
    assert caught.value.message == "rc.example.com did not finish its answer within 0.5 s"
    assert _noted(noted) == ["hung up on"]


def test_a_name_still_being_looked_up_at_the_deadline_leaves_no_timer_running_once_the_send_ends(
    monkeypatch,
) -> None:
    """The deadline passes while the server's name is looked up, and the name is then not found: the
    connection never has a socket to shut. The send ends when the look-up does, as an answer that did
    not come in time, and the watch stops looking for a socket with it: no thread is left running."""
    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.3")
    _resolving_late(monkeypatch, "slow-dns.test", 1.0, found=False)
    with transport.new_session() as http:
        http.trust_env = False
        with pytest.raises(TransportError) as caught:
            http.get("http://slow-dns.test:8080/restapi", timeout=(5, 5))
    assert caught.value.message == "slow-dns.test:8080 did not finish its answer within 0.3 s"
    assert _timers_still_running() == []


def test_a_request_sent_mid_send_on_the_same_thread_leaves_the_first_answers_deadline_in_force(
    monkeypatch,
) -> None:
    """A second request made on the same thread while the first is being sent (here by a log handler
    posting urllib3's debug lines through rcauth, as an app logging to a chat might) has a deadline of
    its own; once it is answered, the first answer's deadline still holds: its trickling headers are
    hung up on, not left to trickle for 15 s."""
    import logging

    monkeypatch.setenv("RCAUTH_TIMEOUT", "0.5")
    listener, url = _serving(*TRICKLING_HEADERS)
    quick, quick_url = _serving(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", [], 0.0)
    posted: list[object] = []

    class Posting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if posted:
                return  # once: the post itself logs a connection of its own
            posted.append(record.getMessage())
            with transport.new_session() as chat:
                posted.append(chat.get(quick_url, timeout=(5, 5)).content)

    log = logging.getLogger("urllib3")
    handler, level = Posting(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        with listener, quick, transport.new_session() as http:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                http.get(url, timeout=(5, 30))
            took = time.monotonic() - started
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    assert posted[1:] == [b"{}"]  # the second request was made, and answered, mid-send
    assert took < 6.0  # the 0.5 s deadline and a moment, not the 15 s of the trickle
    assert caught.value.message == f"{urlsplit(url).netloc} did not finish its answer within 0.5 s"


def test_a_proxy_refusing_under_the_deadline_is_named_as_the_proxy_not_as_an_answer_too_slow(
    monkeypatch,
) -> None:
    """A failure before the deadline is what it is: the proxy that refused, named by the variable that
    set it, not "did not finish its answer"."""
    for each in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(each, raising=False)
    monkeypatch.setenv("RCAUTH_TIMEOUT", "30")
    port = free_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    target = "https://rc.example.com/restapi"
    with transport.new_session() as http, pytest.raises(requests.exceptions.ProxyError) as caught:
        http.get(target, timeout=(5, 5))
    assert transport.failure(caught.value, target).message == (
        f"could not reach the proxy HTTPS_PROXY=http://127.0.0.1:{port} (on the way to rc.example.com): "
        "connection refused"
    )
