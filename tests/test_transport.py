"""`rcauth.transport`: OS trust per session (not process-wide), redirects pinned to the origin,
failures named. End-to-end behaviour is in tests/reliability/test_network_trouble_explained.py and
test_token_stays_home.py; these pin the pieces."""

from __future__ import annotations

import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import requests_mock

from rcauth import transport
from rcauth.origin import ForeignOrigin
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
    assert "ssl_context" not in pool_kwargs(SERVER, "/some/bundle.pem")
    assert "ssl_context" not in pool_kwargs(SERVER, False)
    assert "ssl_context" not in pool_kwargs("http://127.0.0.1:5000/x", True)


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


def test_credentials_in_a_proxy_url_are_masked() -> None:
    assert mask_credentials("http://user:pa55@proxy.corp:3128") == "http://***@proxy.corp:3128"
    assert mask_credentials("http://proxy.corp:3128") == "http://proxy.corp:3128"
    assert mask_credentials("http://a@b:c@proxy:1") == "http://***@proxy:1"


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with transport.new_session() as http:
            response = http.get(
                f"http://127.0.0.1:{server.server_address[1]}/a", headers={"Authorization": "Bearer t"}
            )
        assert response.status_code == 200 and _Redirecting.seen == ["Bearer t"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "location", ["https://evil.example/x", "http://platform.ringcentral.com/x", "https://platform.ringcentral.com:8443/"]
)
def test_a_redirect_to_another_origin_is_refused_before_it_is_sent(status: int, location: str) -> None:
    with requests_mock.Mocker() as m, transport.new_session() as http:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, json={})  # wherever it leads: answered
        m.post(SERVER + "/restapi/oauth/token", status_code=status, headers={"Location": location})
        with pytest.raises(ForeignOrigin, match="does not follow a redirect"):
            http.post(SERVER + "/restapi/oauth/token", data={"refresh_token": "RT-1"})
        assert [r.url.rstrip("/") for r in m.request_history] == [SERVER + "/restapi/oauth/token"]


def test_the_token_endpoints_session_keeps_redirects_on_the_server() -> None:
    from rcauth.oauth import RingCentralOAuth

    session = RingCentralOAuth(SERVER, "cid", "secret")._oauth_session()
    assert isinstance(session, transport.StayOnOrigin)
    assert isinstance(session.get_adapter(SERVER + "/restapi/oauth/token"), OSTrustAdapter)


def test_importing_rcauth_transport_does_not_import_truststore() -> None:
    import subprocess

    code = "import sys, rcauth.client, rcauth.oauth; print('truststore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_a_missing_ca_bundle_matters_to_https_only(monkeypatch, tmp_path) -> None:
    from rcauth.errors import ConfigError

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lambda self, request, **kw: "sent")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    plain = requests.Request("GET", "http://127.0.0.1:5000/x").prepare()
    assert OSTrustAdapter().send(plain, verify=str(tmp_path / "gone.pem")) == "sent"
    secure = requests.Request("GET", SERVER).prepare()
    with pytest.raises(ConfigError, match="named by REQUESTS_CA_BUNDLE does not exist"):
        OSTrustAdapter().send(secure, verify=str(tmp_path / "gone.pem"))
