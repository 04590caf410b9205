"""`rcauth.transport` over real TLS, in process: whose certificates a session trusts, that an
unverified connection is never reused for a verified request, and what a certificate failure says.
(The same through the CLI, in subprocesses: tests/reliability/test_network_trouble_explained.py.)"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rcauth import transport

HINT = (
    "behind a TLS-inspecting proxy, add its root certificate to the system's trust store "
    "or name a CA bundle in REQUESTS_CA_BUNDLE"
)


@dataclass(frozen=True)
class PrivateCA:
    ca_file: Path  # the CA's certificate (PEM): trusted by nobody unless named
    server_context: ssl.SSLContext  # a certificate for 127.0.0.1 signed by the CA
    client_cert: tuple[str, str]  # a client certificate and its key, signed by the CA


def _certificate(
    subject: str, issuer: str, key: Any, signer: Any, *, ca: bool, usage: x509.ObjectIdentifier | None = None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if ca:
        usage = dict.fromkeys(
            ["content_commitment", "key_encipherment", "data_encipherment", "key_agreement"], False
        )
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(
            x509.ExtendedKeyUsage([usage or x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    base = tmp_path_factory.mktemp("private-ca")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("rcauth test CA", "rcauth test CA", ca_key, ca_key, ca=True)
    cert = _certificate("127.0.0.1", "rcauth test CA", key, ca_key, ca=False)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate(
        "rcauth client",
        "rcauth test CA",
        client_key,
        ca_key,
        ca=False,
        usage=x509.ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    (base / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    for name, each_cert, each_key in (("server", cert, key), ("client", client, client_key)):
        (base / f"{name}.pem").write_bytes(each_cert.public_bytes(serialization.Encoding.PEM))
        (base / f"{name}.key").write_bytes(
            each_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(base / "server.pem", base / "server.key")
    context.verify_mode = ssl.CERT_OPTIONAL  # a client certificate if the client has one
    context.load_verify_locations(base / "ca.pem")
    return PrivateCA(base / "ca.pem", context, (str(base / "client.pem"), str(base / "client.key")))


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a connection can be reused

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        """`{}`, or `{"client": true}` when the client presented a certificate."""
        peer = getattr(self.connection, "getpeercert", lambda: None)()
        body = b'{"client": true}' if peer else b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(context: ssl.SSLContext | None) -> Iterator[str]:
    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> Any:
            sock, address = super().get_request()
            if context is not None:
                sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            return sock, address

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that refused the certificate hangs up mid-handshake: expected

    server = Server(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{'https' if context else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls_server(private_ca: PrivateCA) -> Iterator[str]:
    yield from _serve(private_ca.server_context)


@pytest.fixture
def plain_server() -> Iterator[str]:
    yield from _serve(None)


@pytest.fixture(autouse=True)
def no_bundle_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


def _refused_by(url: str, **kwargs: Any) -> requests.exceptions.SSLError:
    with transport.new_session() as http, pytest.raises(requests.exceptions.SSLError) as caught:
        http.get(url + "/restapi", timeout=30, **kwargs)
    return caught.value


def test_a_certificate_the_os_does_not_trust_fails_naming_the_host_and_the_problem(tls_server: str) -> None:
    error = transport.failure(_refused_by(tls_server), tls_server + "/restapi")
    host = tls_server.split("//")[1]
    assert error.message.startswith(
        f"could not verify the TLS certificate of {host}: certificate verify failed: "
    )
    problem = error.message.rpartition("certificate verify failed: ")[2]
    # OpenSSL's words for why (e.g. "self-signed certificate in certificate chain"), not its raw error text.
    assert problem.strip() and "[SSL" not in problem and "_ssl.c" not in problem
    assert error.hint == HINT and error.exit_code == 5


def test_a_named_ca_bundle_is_trusted(tls_server: str, private_ca: PrivateCA) -> None:
    with transport.new_session() as http:
        assert http.get(tls_server + "/restapi", timeout=30, verify=str(private_ca.ca_file)).json() == {}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_unverified_connection_is_never_reused_for_a_verified_request(tls_server: str) -> None:
    """CVE-2024-35195's shape: with verify=False first, a kept-alive connection to the same host must
    not carry a later request that asked for verification."""
    with transport.new_session() as http:
        assert http.get(tls_server + "/restapi", timeout=30, verify=False).json() == {}
        with pytest.raises(requests.exceptions.SSLError):
            http.get(tls_server + "/restapi", timeout=30, verify=certifi.where())
        with pytest.raises(requests.exceptions.SSLError):
            http.get(tls_server + "/restapi", timeout=30)


def test_a_connection_opened_without_a_client_certificate_is_not_reused_for_a_request_with_one(
    tls_server: str, private_ca: PrivateCA
) -> None:
    verify = str(private_ca.ca_file)
    with transport.new_session() as http:
        assert http.get(tls_server + "/restapi", timeout=30, verify=verify).json() == {}
        answer = http.get(tls_server + "/restapi", timeout=30, verify=verify, cert=private_ca.client_cert)
        assert answer.json() == {"client": True}


def test_the_os_trust_store_is_not_topped_up_with_requests_default_bundle(
    tls_server: str, private_ca: PrivateCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests would load its default (certifi's) bundle into every verified connection; with the
    OS trust store, a server only certifi's bundle vouches for is refused."""
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(private_ca.ca_file))
    _refused_by(tls_server)


def test_https_to_a_plain_http_server_names_openssls_reason(plain_server: str) -> None:
    https = plain_server.replace("http://", "https://")
    error = transport.failure(_refused_by(https), https + "/restapi")
    reason = error.message.rpartition(": ")[2]
    assert error.message == f"could not verify the TLS certificate of {https.split('//')[1]}: {reason}"
    assert reason.isupper() and " " not in reason  # OpenSSL's reason code, e.g. WRONG_VERSION_NUMBER
    assert error.hint == HINT


@pytest.mark.parametrize(
    ("exc", "problem"),
    [
        (requests.exceptions.SSLError(ssl.SSLError("the handshake failed")), "the handshake failed"),
        (
            requests.exceptions.SSLError(ssl.SSLCertVerificationError("Peer sent no certificates to verify")),
            "certificate verify failed: Peer sent no certificates to verify",
        ),
        (requests.exceptions.SSLError(ssl.SSLError(1, "bad record mac")), "bad record mac"),
        (requests.exceptions.SSLError(ssl.SSLEOFError()), "SSLEOFError"),
        (requests.exceptions.SSLError("no ssl error inside"), "SSLError"),
    ],
)
def test_a_tls_error_made_in_python_not_openssl_is_still_one_line_naming_it(
    exc: Exception, problem: str
) -> None:
    error = transport.failure(exc, "https://platform.ringcentral.com/restapi")  # type: ignore[arg-type]
    assert error.message == f"could not verify the TLS certificate of platform.ringcentral.com: {problem}"
