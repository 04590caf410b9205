"""`rcauth.login_logout.login`, the one way a sign-in ends (stored under the lock, the replaced session
revoked, who signed in read and listed), for `rcauth login` and `rcauth.login()` alike. The HTTP
exchanges are requests-mock's; the keyring is the in-memory one."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from urllib.parse import parse_qs

import keyring.backends.fail
import pytest
import requests_mock
from helpers import token_answer
from installed_keyring import install

from rcauth import profiles
from rcauth.config import Settings
from rcauth.errors import StorageUnavailable
from rcauth.flow import Jwt
from rcauth.login_logout import login, logout
from rcauth.session import Session
from rcauth.store import FileStore, KeyringStore, open_store

SERVER = "https://platform.ringcentral.com"
TOKEN_URL = SERVER + "/restapi/oauth/token"
REVOKE_URL = SERVER + "/restapi/oauth/revoke"
EXT_URL = SERVER + "/restapi/v1.0/account/~/extension/~"
SETTINGS = Settings("cid", "sec", SERVER, "http://127.0.0.1:5000/oauth2callback")
JWT = Jwt("eyJ.jwt.credential")
EXT = {"id": 101, "extensionNumber": "101", "name": "Alex Doe", "contact": {"email": "alex@example.com"}}


def answer(number: int) -> dict[str, object]:
    return token_answer(f"AT-sign-in-{number}", f"RT-sign-in-{number}", owner_id="101")


def test_a_sign_in_stores_the_session_reads_who_signed_in_and_lists_the_profile() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        m.get(EXT_URL, json=EXT)
        logged_in = login(SETTINGS, JWT, open_store("work"))
    assert logged_in.session == KeyringStore("work").load()
    assert logged_in.user == "Alex Doe (extension 101, alex@example.com)" and logged_in.user_error is None
    assert profiles.known()["work"] == {"user": logged_in.user}
    assert m.request_history[1].headers["Authorization"] == "Bearer AT-sign-in-1"  # the new session's


def test_a_sign_in_whose_user_cannot_be_read_stands_and_says_why() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        m.get(EXT_URL, status_code=403, json={"errorCode": "CMN-401", "message": "In order to call this API"})
        logged_in = login(SETTINGS, JWT, open_store())
    assert logged_in.session.access_token == "AT-sign-in-1" and KeyringStore().load() == logged_in.session
    assert logged_in.user is None and "CMN-401" in str(logged_in.user_error)
    assert "default" in profiles.known()  # listed all the same, without a name


def test_a_sign_in_replaces_and_revokes_the_stored_session_and_warns_when_ringcentral_cannot_be_told() -> (
    None
):
    old = Session.from_token_response(answer(0), server=SERVER, client_id="cid", client_secret="sec")
    KeyringStore().save(old)
    warned: list[str] = []
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        m.post(REVOKE_URL, status_code=503, text="busy")
        m.get(EXT_URL, json=EXT)
        logged_in = login(SETTINGS, JWT, open_store(), warn=warned.append)
    assert KeyringStore().load() == logged_in.session
    assert [parse_qs(r.text)["token"] for r in m.request_history if r.url == REVOKE_URL] == [["RT-sign-in-0"]]
    assert len(warned) == 1 and warned[0].startswith(
        f"could not revoke the session this sign-in replaced at {SERVER} ("
    )


def test_a_store_that_cannot_keep_the_session_stops_the_sign_in_before_any_grant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch, keyring.backends.fail.Keyring())
    with requests_mock.Mocker() as m, pytest.raises(StorageUnavailable, match="no system keyring"):
        login(SETTINGS, JWT, open_store())
    assert m.call_count == 0


def test_with_consent_and_no_keyring_the_sign_in_goes_to_the_file(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    install(monkeypatch, keyring.backends.fail.Keyring())
    store = open_store(insecure_storage=True)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        m.get(EXT_URL, json=EXT)
        logged_in = login(SETTINGS, JWT, store)
    stored = json.loads((isolated / "data" / "default.session.json").read_text(encoding="utf-8"))
    assert stored["access_token"] == logged_in.session.access_token and store.kind == "file"


def stored(number: int) -> Session:
    return Session.from_token_response(answer(number), server=SERVER, client_id="cid", client_secret="sec")


def revoked(m: requests_mock.Mocker) -> list[str]:
    return [parse_qs(r.text)["token"][0] for r in m.request_history if r.url == REVOKE_URL]


def test_a_sign_in_without_consent_ends_the_session_an_earlier_one_left_in_the_file() -> None:
    FileStore("default").save(stored(0))  # a sign-in made with --insecure-storage
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        m.post(REVOKE_URL, status_code=200)
        m.get(EXT_URL, json=EXT)
        logged_in = login(SETTINGS, JWT, open_store())
    assert KeyringStore().load() == logged_in.session
    assert not FileStore("default").path.exists() and revoked(m) == ["RT-sign-in-0"]


@pytest.mark.parametrize("in_keyring", [True, False])
def test_logout_without_consent_ends_the_session_left_in_the_file_too(in_keyring: bool) -> None:
    """Signing out ends the profile's sessions wherever rcauth kept them; reading the file to end
    and remove its session keeps nothing in plain text."""
    FileStore("default").save(stored(0))
    if in_keyring:
        KeyringStore().save(stored(1))
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, status_code=200)
        result = logout(open_store())
    assert result.removed and result.revoked and not result.kept
    assert sorted(revoked(m)) == (["RT-sign-in-0", "RT-sign-in-1"] if in_keyring else ["RT-sign-in-0"])
    assert not FileStore("default").path.exists() and KeyringStore().load() is None


def test_logout_keeps_the_files_session_when_ringcentral_cannot_be_told() -> None:
    FileStore("default").save(stored(0))
    KeyringStore().save(stored(1))
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, [{"status_code": 200}, {"status_code": 503, "text": "busy"}])
        result = logout(open_store())
    assert result.kept and revoked(m) == ["RT-sign-in-1", "RT-sign-in-0"]
    assert KeyringStore().load() is None and FileStore("default").load().refresh_token == "RT-sign-in-0"


RCAUTH = Path(__file__).resolve().parent.parent / "rcauth"


@pytest.mark.parametrize("module", ["commands/login.py", "library.py"])
def test_rcauth_login_and_rcauth_login_end_a_sign_in_only_through_login_logout(module: str) -> None:
    """ARCHITECTURE.md's "one way to end a sign-in": the command and the Python API call
    `login_logout.login` and only print (or not) what it returns; neither runs the flow, stores,
    revokes or lists itself."""
    tree = ast.parse((RCAUTH / module).read_text(encoding="utf-8"))
    (function,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "login"]
    called = [ast.unparse(node.func) for node in ast.walk(function) if isinstance(node, ast.Call)]
    assert called.count("login_logout.login") == 1
    assert not {name.rsplit(".", 1)[-1] for name in called if name != "login_logout.login"} & {
        "LoginFlow",
        "login",
        "run",
        "run_local_server",
        "run_paste",
        "run_jwt",
        "save",
        "remember",
        "describe_user",
        "extension_info",
        "revoke_session",
        "check_login_dirs",
        "refresh_lock",
    }
