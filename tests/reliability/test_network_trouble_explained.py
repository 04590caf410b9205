"""Network trouble explained (issue 10, point 6), through real `rcauth` processes.

- TLS: a server on a real socket with a certificate from a private CA made here (the `cryptography`
  package, a test-only use). Trusted by nothing: one line naming the host and the reason, exit 5.
  Trusted through `SSL_CERT_FILE` or `REQUESTS_CA_BUNDLE`: it works, and a named bundle wins over
  the OS store. Trusted through `SSL_CERT_DIR` only, which OpenSSL's default verify paths (the OS
  trust store truststore uses on Linux) read and certifi's bundle does not: it works, so the OS
  store is what rcauth verifies with.
- Proxy: `HTTPS_PROXY` at a port nothing listens on: one line naming the proxy (credentials masked)
  and that it could not be reached, for the API and the token endpoint. That it is tried once, not
  retried through the budget, is counted in tests/test_transport.py.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from helpers import free_port
from stub_servers import StubServer, json_answer

ACCOUNT = "/restapi/v1.0/account/~"
TLS_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(frozen=True)
class PrivateCA:
    ca_file: Path  # the CA certificate alone (PEM)
    ca_dir: Path  # the same, as OpenSSL's hashed directory (what SSL_CERT_DIR names)
    server_context: ssl.SSLContext  # a server certificate for 127.0.0.1 signed by the CA


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    base = tmp_path_factory.mktemp("private-ca")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("rcauth test private CA"))
        .issuer_name(_name("rcauth test private CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = base / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (base / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (base / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    # OpenSSL finds a CA in a directory by the hash of its subject name (`openssl rehash`).
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()
    ca_dir = base / "certs"
    ca_dir.mkdir()
    shutil.copy(ca_file, ca_dir / f"{subject_hash}.0")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(base / "server.pem", base / "server.key")
    return PrivateCA(ca_file, ca_dir, context)


@pytest.fixture
def tls_server(private_ca: PrivateCA) -> Iterator[StubServer]:
    """RingCentral's account endpoint and token endpoint over TLS, with the private CA's certificate."""

    def answer(seen):
        if seen.path.startswith("/restapi/oauth/token"):
            return json_answer({"error": "invalid_request", "error_description": "stub"}, 400)
        return json_answer({"id": 42, "uri": f"https://127.0.0.1{ACCOUNT}"})

    with StubServer(answer, tls=private_ca.server_context) as server:
        yield server


@pytest.fixture
def clean_env(env: dict[str, str]) -> dict[str, str]:
    """No CA bundle and no proxy from the machine running the tests: each test sets its own."""
    for name in list(env):
        if name in TLS_ENV or name.lower().endswith("_proxy"):
            del env[name]
    return env


def one_line_error(result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result
    assert "Traceback" not in result.err
    return lines[0]


def test_an_untrusted_certificate_is_one_line_naming_the_host_and_the_reason(
    clean_env, sign_in, rcauth, tls_server
) -> None:
    sign_in(server=tls_server.base_url)
    result = rcauth.run("api", "GET", ACCOUNT)
    assert result.code == 5, result
    line = one_line_error(result)
    assert f"could not verify the TLS certificate of 127.0.0.1:{tls_server.port}" in line
    assert "certificate verify failed: unable to get local issuer certificate" in line


def test_the_token_endpoint_names_the_certificate_problem_too(clean_env, sign_in, rcauth, tls_server, stored):
    session = sign_in(server=tls_server.base_url, access_expires_at=0)
    result = rcauth.run("token")
    assert result.code == 5, result
    line = one_line_error(result)
    assert f"127.0.0.1:{tls_server.port}" in line and "certificate verify failed" in line
    assert stored() == session


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_a_ca_bundle_named_in_the_environment_is_trusted(
    clean_env, sign_in, rcauth, tls_server, private_ca, variable
) -> None:
    sign_in(server=tls_server.base_url)
    result = rcauth.run("api", "GET", ACCOUNT, env={variable: str(private_ca.ca_file)})
    assert result.code == 0, result
    assert json.loads(result.out)["id"] == 42


def test_the_os_trust_store_is_used_by_default(clean_env, sign_in, rcauth, tls_server, private_ca) -> None:
    """SSL_CERT_DIR reaches only OpenSSL's default verify paths, the OS store truststore loads on
    Linux: certifi's bundle (requests' default) would refuse this server."""
    sign_in(server=tls_server.base_url)
    result = rcauth.run("api", "GET", ACCOUNT, env={"SSL_CERT_DIR": str(private_ca.ca_dir)})
    assert result.code == 0, result
    assert json.loads(result.out)["id"] == 42


def test_a_named_ca_bundle_wins_over_the_os_trust_store(
    clean_env, sign_in, rcauth, tls_server, private_ca
) -> None:
    import certifi

    sign_in(server=tls_server.base_url)
    env = {"SSL_CERT_DIR": str(private_ca.ca_dir), "REQUESTS_CA_BUNDLE": certifi.where()}
    result = rcauth.run("api", "GET", ACCOUNT, env=env)
    assert result.code == 5 and "certificate verify failed" in result.err, result


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_a_ca_bundle_that_does_not_exist_is_a_config_error(
    clean_env, sign_in, rcauth, tls_server, tmp_path, variable
) -> None:
    sign_in(server=tls_server.base_url)
    missing = tmp_path / "gone.pem"
    result = rcauth.run("api", "GET", ACCOUNT, env={variable: str(missing)})
    assert result.code == 3, result
    line = one_line_error(result)
    assert str(missing) in line and variable in line


@pytest.mark.parametrize("command", [("api", "GET", ACCOUNT), ("token",)])
def test_an_unreachable_proxy_is_named_with_its_credentials_masked(
    clean_env, sign_in, rcauth, tls_server, command
) -> None:
    due = {"access_expires_at": 0} if command == ("token",) else {}
    session = sign_in(server=tls_server.base_url, **due)
    port = free_port()  # nothing listens there
    proxy = {"HTTPS_PROXY": f"http://proxy-user:pr0xy-s3cret@127.0.0.1:{port}"}
    result = rcauth.run(*command, env=proxy)
    assert result.code == 5, result
    line = one_line_error(result)
    assert f"could not reach the proxy HTTPS_PROXY=http://***@127.0.0.1:{port}" in line
    assert "connection refused" in line
    assert "pr0xy-s3cret" not in result.err and "proxy-user" not in result.err
    assert session.access_token not in result.err
    assert tls_server.connections == 0


def test_stub_server_really_is_tls(private_ca: PrivateCA, tls_server: StubServer) -> None:
    """Guard for the tests above: the stub speaks TLS and presents the private CA's certificate."""
    context = ssl.create_default_context(cafile=str(private_ca.ca_file))
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() is not None
    assert os.path.exists(private_ca.ca_dir)
