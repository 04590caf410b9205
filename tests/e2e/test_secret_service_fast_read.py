"""The Secret Service read fast path (rcauth.secret_service) against a real gnome-keyring on the private
D-Bus `bash scripts/test` starts: it reads exactly what keyring's SecretService backend wrote, leaves
anything it cannot vouch for (a foreign or doubled entry, a locked collection) to keyring, and lets
`rcauth token` print a fresh token with neither keyring nor an HTTP stack loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring.backends.SecretService
import pytest
from helpers import make_session

from rcauth import keyring_choice
from rcauth.errors import StoredSessionDamaged
from rcauth.secret_service import NotHere, SecretServiceReader
from rcauth.store import KeyringStore

from .support import SecretService, wait_until_read_directly

pytestmark = [pytest.mark.e2e, pytest.mark.secret_service]

REPO = Path(__file__).resolve().parents[2]
# The password scripts/test unlocks its throwaway "login" keyring with.
TEST_KEYRING_PASSWORD = b"rcauth-test-keyring"
SERVICE = "rcauth-fast-read-test"


@pytest.fixture
def backend(secret_service: SecretService) -> Iterator[keyring.backends.SecretService.Keyring]:
    """keyring's own SecretService backend on the private bus; this test's entries removed after."""
    secret_service.clear(SERVICE)
    yield keyring.backends.SecretService.Keyring()
    secret_service.clear(SERVICE)


@pytest.mark.parametrize(
    "value",
    [
        '{"access_token": "AT"}',
        "x" * 5000,  # longer than one AES block many times over
        "sixteen bytes!!!",  # a whole block: PKCS#7 pads a full block more
        "ünïcødé ☎ 電話",
        "",
    ],
    ids=["json", "long", "one-block", "unicode", "empty"],
)
def test_reads_exactly_what_keyring_wrote(backend, value: str) -> None:
    user = uuid.uuid4().hex
    backend.set_password(SERVICE, user, value)
    with SecretServiceReader(10) as reader:
        assert reader.get(SERVICE, user) == value == backend.get_password(SERVICE, user)
        assert reader.get(SERVICE, "nobody-" + user) is None


def test_an_entry_keyring_did_not_write_is_left_to_keyring(backend) -> None:
    user = uuid.uuid4().hex
    subprocess.run(
        ["secret-tool", "store", "--label=foreign", "service", SERVICE, "username", user],
        input="foreign",
        text=True,
        check=True,
        timeout=20,
    )
    with SecretServiceReader(10) as reader, pytest.raises(NotHere, match="not written by keyring"):
        reader.get(SERVICE, user)
    backend.set_password(SERVICE, user, "mine")  # now two entries match keyring's query
    with SecretServiceReader(10) as reader, pytest.raises(NotHere, match="more than one"):
        reader.get(SERVICE, user)


def test_rcauth_token_reads_the_secret_service_with_no_keyring_and_no_http_stack(
    backend, isolated: Path
) -> None:
    session = make_session(access_token="AT-fast-" + uuid.uuid4().hex, refresh_token="RT-fast-1")
    profile = "fast-" + uuid.uuid4().hex[:8]
    backend.set_password("rcauth", profile, session.to_json())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON_KEYRING", "KEYRING_PROPERTY"))}
    env["PYTHONPATH"] = str(REPO)
    code = (
        "import sys, runpy\n"
        "sys.argv = ['rcauth', '--profile', sys.argv[1], 'token']\n"
        "try:\n"
        "    runpy.run_module('rcauth', run_name='__main__')\n"
        "finally:\n"
        "    heavy = ('keyring', 'secretstorage', 'requests', 'urllib3', 'oauthlib', 'rich')\n"
        "    print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}), file=sys.stderr)\n"
    )
    try:
        runs = []
        for _ in range(2):
            # This test is about what a direct read imports: it waits until one can answer.
            wait_until_read_directly(profile)
            runs.append(
                subprocess.run(
                    [sys.executable, "-c", code, profile], env=env, capture_output=True, text=True, timeout=60
                )
            )
    finally:
        subprocess.run(["secret-tool", "clear", "service", "rcauth", "username", profile], timeout=20)
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stdout == session.access_token + "\n"
    # The first run had keyring discover its backend (and remembered it); the second read directly.
    assert keyring_choice.remembered() == keyring_choice.SECRET_SERVICE
    assert runs[0].stderr.splitlines()[-1] != "[]"
    assert runs[1].stderr.splitlines()[-1] == "[]"


def _call(bus: object, path: str, interface: str, method: str, signature: str, body: tuple) -> tuple:
    from jeepney import DBusAddress, MessageType, new_method_call

    address = DBusAddress(path, bus_name="org.freedesktop.secrets", interface=interface)
    reply = bus.send_and_get_reply(new_method_call(address, method, signature, body), timeout=20)  # type: ignore[attr-defined]
    assert reply.header.message_type != MessageType.error, reply.body
    return reply.body


@pytest.fixture
def locked_default_collection(backend) -> Iterator[None]:
    """The default collection locked (locking needs no prompt), then unlocked with its password through
    gnome-keyring's internal interface (what its own test tools use: unlocking otherwise prompts)."""
    from jeepney.io.blocking import open_dbus_connection

    service = "/org/freedesktop/secrets"
    with open_dbus_connection(bus="SESSION") as bus:
        (path,) = _call(bus, service, "org.freedesktop.Secret.Service", "ReadAlias", "s", ("default",))
        _call(bus, service, "org.freedesktop.Secret.Service", "Lock", "ao", ([path],))
    try:
        yield
    finally:
        with open_dbus_connection(bus="SESSION") as bus:
            _, session = _call(
                bus, service, "org.freedesktop.Secret.Service", "OpenSession", "sv", ("plain", ("s", ""))
            )
            _call(
                bus,
                service,
                "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
                "UnlockWithMasterPassword",
                "o(oayays)",
                (path, (session, b"", TEST_KEYRING_PASSWORD, "text/plain")),
            )
        with SecretServiceReader(20) as reader:  # raises NotHere if the collection stayed locked
            reader.get("rcauth", "default")


def test_a_locked_collection_is_left_to_keyring(
    backend, locked_default_collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SecretServiceReader(10) as reader, pytest.raises(NotHere, match="locked"):
        reader.get("rcauth", "default")
    # The store, on the fast path's conditions (keyring's SecretService named, its defaults), asks keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", keyring_choice.SECRET_SERVICE)
    asked: list[tuple[str, str]] = []

    def keyring_get_password(self: object, service: str, username: str) -> str:
        asked.append((service, username))
        return "what keyring answered"

    monkeypatch.setattr(keyring.backends.SecretService.Keyring, "get_password", keyring_get_password)
    with pytest.raises(StoredSessionDamaged):  # keyring's answer, which is no session
        KeyringStore("default", timeout=20).load()
    assert asked == [("rcauth", "default")]
