"""The public Python API (`rcauth.Client`, `rcauth.Auth`, `rcauth.token`, `rcauth.token_data`,
`rcauth.login`) against the real emulator over HTTP, with the session in the (in-memory) keyring
exactly where `rcauth login` puts it."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import keyring
import pytest
import requests
from cli_runner import cli_runner
from helpers import make_session, token_answer
from installed_keyring import MemoryKeyring, programs_keyring

import rcauth
from rcauth import profiles
from rcauth.cli import cli
from rcauth.session import Session
from rcauth.store import KeyringStore
from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig

EXT_PATH = "/restapi/v1.0/account/~/extension/~"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """Strict rotation: a refresh token spent twice would end the session (as RingCentral may)."""
    config = EmulatorConfig(
        apps=(App(redirect_uris=("http://127.0.0.1:5000/oauth2callback",)),),
        strict_rotation=True,
        rate_limits_enabled=False,
    )
    with Emulator(config, host="127.0.0.1", port=0) as emulator:
        yield emulator


def jwt_login(emu: Emulator, profile: str | None = None) -> rcauth.SessionInfo:
    app = emu.config.apps[0]
    return rcauth.login(
        jwt=DEMO_JWT,
        client_id=app.client_id,
        client_secret=app.client_secret,
        server=emu.base_url,
        profile=profile,
    )


@pytest.fixture
def signed_in(emu: Emulator) -> Emulator:
    jwt_login(emu)
    return emu


def stored(profile: str = "default") -> Session:
    session = KeyringStore(profile).load()
    assert session is not None
    return session


def make_due(profile: str = "default") -> Session:
    """The stored access token as if it expired a moment ago (the refresh token still good)."""
    session = dataclasses.replace(stored(profile), access_expires_at=time.time() - 5)
    KeyringStore(profile).save(session)
    return session


# -- rcauth.login --------------------------------------------------------------------------------
def test_login_with_jwt_stores_the_session_where_the_cli_finds_it(emu: Emulator) -> None:
    info = jwt_login(emu)
    assert (info.profile, info.server, info.client_id) == (
        "default",
        emu.base_url,
        emu.config.apps[0].client_id,
    )
    assert "token" not in repr(info).lower().replace("refresh_expires", "")  # no secret in the value
    session = stored()
    assert session.access_token not in repr(info) and session.refresh_token not in repr(info)
    result = cli_runner().invoke(cli, ["whoami", "--json"], catch_exceptions=False)
    assert result.exit_code == 0 and json.loads(result.stdout)["id"]
    assert profiles.known()["default"]["user"]  # listed by `rcauth profiles`, with whom it belongs to


def test_login_again_revokes_the_session_it_replaces(emu: Emulator) -> None:
    jwt_login(emu)
    first = stored()
    jwt_login(emu)
    assert stored().refresh_token != first.refresh_token
    assert emu.counters()["revokes"] == 1
    # The replaced session is over at RingCentral, not merely forgotten here.
    answer = requests.get(
        emu.base_url + EXT_PATH, headers={"Authorization": f"Bearer {first.access_token}"}, timeout=30
    )
    assert answer.status_code == 401


def test_login_checks_where_it_will_store_before_any_grant_is_made(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `rcauth login`: a grant this machine could not keep would hold one of RingCentral's
    concurrent-session places until it expired."""
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("", encoding="utf-8")
    monkeypatch.setenv("RCAUTH_STATE_DIR", str(in_the_way / "state"))
    with pytest.raises(rcauth.StorageUnavailable, match="state directory"):
        jwt_login(emu)
    assert emu.counters()["grants"] == {}


def test_login_refuses_a_browser_sign_in_nobody_would_see() -> None:
    with pytest.raises(ValueError, match="announce"):
        rcauth.login(open_browser=False, client_id="id")
    with pytest.raises(ValueError, match="either jwt or read_redirect"):
        rcauth.login(jwt="x", read_redirect=input)


def test_login_without_a_display_or_announce_fails_at_once_instead_of_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("rcauth.browser.is_wsl", lambda: False)
    with pytest.raises(rcauth.LoginFailed, match="no browser can be opened here"):
        rcauth.login(client_id="id", server="http://127.0.0.1:9")


def test_login_without_a_client_id_is_a_config_error() -> None:
    with pytest.raises(rcauth.ConfigError, match="no RingCentral client id"):
        rcauth.login(jwt=DEMO_JWT)


def test_the_library_leaves_the_programs_keyring_alone_and_keeps_to_its_own_choice(
    emu: Emulator, memory_keyring
) -> None:
    """A program that imports rcauth and sets its own keyring (`keyring.set_keyring`) keeps it:
    `rcauth.login()`, `Client` and `token` neither change it nor use it, but the backend rcauth's
    own rules choose (here the user's, PYTHON_KEYRING_BACKEND: the in-memory one)."""
    programs = MemoryKeyring()
    with programs_keyring(programs):
        jwt_login(emu)
        access = rcauth.token()
        with rcauth.Client() as rc:
            assert rc.whoami()["id"]
        assert keyring.get_keyring() is programs
    assert programs.entries == {}
    assert json.loads(memory_keyring.entries[("rcauth", "default")])["access_token"] == access


# -- rcauth.Client -------------------------------------------------------------------------------
def test_client_whoami_and_call_log_read_the_signed_in_users_data(signed_in: Emulator) -> None:
    with rcauth.Client() as rc:
        me = rc.whoami()
        assert me["id"] and me["extensionNumber"]
        calls = list(rc.call_log(date_from="30d", directions="inbound", types=["Voice"], limit=7))
        assert len(calls) == 7
        assert {(c["direction"], c["type"]) for c in calls} == {("Inbound", "Voice")}
        starts = [c["startTime"] for c in calls]
        assert starts == sorted(starts, reverse=True)  # newest first
        assert rc.session.owner_id and rc.session.server == signed_in.base_url


def test_client_call_log_follows_pages(signed_in: Emulator) -> None:
    calls_before = signed_in.counters()["api_calls"]
    with rcauth.Client() as rc:
        everything = list(
            rc.paginate("/restapi/v1.0/account/~/extension/~/call-log", {"perPage": 5}, limit=12)
        )
        assert len(everything) == 12
        assert len({c["id"] for c in everything}) == 12
    assert signed_in.counters()["api_calls"] - calls_before == 3  # 5 + 5 + 2 of a page of 5


CALL_LOG_PATH = "/restapi/v1.0/account/~/extension/~/call-log"


@pytest.mark.parametrize(
    ("limit", "error", "message"),
    [
        ("5", TypeError, "limit must be an int, or None for every record, not str"),
        (True, TypeError, "limit must be an int, or None for every record, not bool"),
        (False, TypeError, "limit must be an int, or None for every record, not bool"),
        (1.5, TypeError, "limit must be an int, or None for every record, not float"),
        (2.0, TypeError, "limit must be an int, or None for every record, not float"),
        (float("nan"), TypeError, "limit must be an int, or None for every record, not float"),
        (-1, ValueError, "limit must be 0 or more, or None for every record, not -1"),
    ],
)
@pytest.mark.parametrize("listing", ["paginate", "call_log"])
def test_a_limit_that_is_not_a_count_is_refused_at_the_call_before_any_request(
    signed_in: Emulator, listing: str, limit: object, error: type[Exception], message: str
) -> None:
    """Before, `limit=True`, 1.5 or nan were sent as `perPage` and came back as a 400, 2.5 listed 3
    records, "5" failed with a TypeError of its own: each is the caller's mistake, said at the call."""
    requests_before = signed_in.counters()["requests"]
    with rcauth.Client() as rc:
        with pytest.raises(error) as caught:
            if listing == "paginate":
                rc.paginate(CALL_LOG_PATH, limit=limit)  # type: ignore[arg-type]
            else:
                rc.call_log(limit=limit)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert signed_in.counters()["requests"] == requests_before


def test_a_float_limit_never_lists_more_records_than_asked(signed_in: Emulator) -> None:
    with rcauth.Client() as rc, pytest.raises(TypeError):
        list(rc.paginate(CALL_LOG_PATH, {"perPage": 5}, limit=2.5))  # type: ignore[arg-type]
    with rcauth.Client() as rc:
        assert len(list(rc.paginate(CALL_LOG_PATH, {"perPage": 5}, limit=2))) == 2
        assert list(rc.call_log(limit=0)) == []


def test_client_call_log_takes_datetimes_and_the_clis_strings_alike(signed_in: Emulator) -> None:
    end = datetime.now(timezone.utc)
    with rcauth.Client() as rc:
        by_datetime = list(rc.call_log(date_from=end - timedelta(days=10), date_to=end, limit=1000))
        by_text = list(rc.call_log(date_from="10d", limit=1000))
    assert by_datetime and {c["id"] for c in by_datetime} <= {c["id"] for c in by_text}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"types": "sms"}, "type must be one of"),
        ({"directions": ["sideways"]}, "direction must be one of"),
        ({"view": "full"}, "view must be one of"),
        ({"date_from": "yesterday"}, "date_from: 'yesterday' is not a date"),
        ({"date_from": datetime(2026, 1, 1)}, "timezone-aware"),  # noqa: DTZ001 - the point
        ({"date_from": "1d", "date_to": "2d"}, "later than date_to"),
        ({"date_from": datetime.now(timezone.utc) + timedelta(days=1)}, "later than now"),
    ],
)
def test_client_call_log_refuses_a_bad_filter_before_any_request(
    signed_in: Emulator, filters: dict[str, object], message: str
) -> None:
    calls_before = signed_in.counters()["api_calls"]
    with rcauth.Client() as rc, pytest.raises(ValueError, match=message):
        rc.call_log(**filters)  # type: ignore[arg-type]
    assert signed_in.counters()["api_calls"] == calls_before


def test_client_refreshes_a_due_token_ahead_and_stores_the_new_pair(signed_in: Emulator) -> None:
    before = make_due()
    with rcauth.Client() as rc:
        rc.whoami()
        rc.whoami()
    assert signed_in.counters()["refreshes"] == 1
    assert stored().refresh_token != before.refresh_token


def test_client_refreshes_once_when_ringcentral_ends_the_access_token_early(signed_in: Emulator) -> None:
    signed_in.expire_access_tokens()
    with rcauth.Client() as rc:
        assert rc.get(EXT_PATH).status_code == 200
    assert signed_in.counters()["refreshes"] == 1


def test_client_raises_api_error_with_ringcentrals_error_code(signed_in: Emulator) -> None:
    with rcauth.Client() as rc, pytest.raises(rcauth.ApiError) as caught:
        rc.get_json("/restapi/v1.0/account/~/extension/999999999")
    assert (caught.value.status, caught.value.error_code) == (404, "CMN-102")


def test_client_refuses_a_url_on_another_origin(signed_in: Emulator, bystander: socket.socket) -> None:
    with rcauth.Client() as rc, pytest.raises(rcauth.ForeignOrigin):
        rc.get(f"http://127.0.0.1:{bystander.getsockname()[1]}/restapi/v1.0/account/~")
    assert nobody_connected(bystander)


def test_client_without_a_session_says_not_logged_in() -> None:
    with pytest.raises(rcauth.NotLoggedIn, match="not signed in") as caught:
        rcauth.Client()
    assert "rcauth login" in (caught.value.hint or "")


def test_client_profile_comes_from_rcauth_profile_then_default(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    jwt_login(emu, profile="work")
    with pytest.raises(rcauth.NotLoggedIn):
        rcauth.Client()
    monkeypatch.setenv("RCAUTH_PROFILE", "work")
    with rcauth.Client() as rc:
        assert rc.profile == "work" and rc.whoami()["id"]
    with pytest.raises(rcauth.InvalidProfileName):
        rcauth.Client("../etc")


def test_client_session_ended_at_ringcentral_is_session_expired(signed_in: Emulator) -> None:
    make_due()
    signed_in.revoke_all()
    with rcauth.Client() as rc, pytest.raises(rcauth.SessionExpired):
        rc.whoami()
    assert KeyringStore("default").load() is None  # as the CLI: an ended session is removed


# -- rcauth.Auth ---------------------------------------------------------------------------------
def test_auth_signs_plain_requests(signed_in: Emulator) -> None:
    answer = requests.get(signed_in.base_url + EXT_PATH, auth=rcauth.Auth(), timeout=30)
    assert answer.status_code == 200 and answer.json()["id"]
    assert answer.request.headers["Authorization"] == f"Bearer {stored().access_token}"


def test_auth_made_before_login_works_after_it(emu: Emulator) -> None:
    auth = rcauth.Auth()
    jwt_login(emu)
    assert requests.get(emu.base_url + EXT_PATH, auth=auth, timeout=30).status_code == 200


def test_auth_refreshes_a_due_token_before_sending(signed_in: Emulator) -> None:
    before = make_due()
    with requests.Session() as http:
        http.auth = rcauth.Auth()
        assert http.get(signed_in.base_url + EXT_PATH, timeout=30).status_code == 200
        assert http.get(signed_in.base_url + EXT_PATH, timeout=30).status_code == 200
    assert signed_in.counters()["refreshes"] == 1
    assert stored().refresh_token != before.refresh_token


def test_auth_refreshes_once_and_resends_once_on_a_401(signed_in: Emulator) -> None:
    signed_in.expire_access_tokens()
    answer = requests.get(signed_in.base_url + EXT_PATH, auth=rcauth.Auth(), timeout=30)
    assert answer.status_code == 200
    assert [r.status_code for r in answer.history] == [401]
    assert signed_in.counters()["refreshes"] == 1
    assert answer.request.headers["Authorization"] == f"Bearer {stored().access_token}"


def test_auth_resends_a_post_body_after_a_401(signed_in: Emulator) -> None:
    """The emulator answers POST on the API with 405 once authenticated: what matters is that the
    resent request carried the body and the new token (a 401 is answered before any work)."""
    signed_in.expire_access_tokens()
    answer = requests.post(signed_in.base_url + EXT_PATH, json={"a": 1}, auth=rcauth.Auth(), timeout=30)
    assert [r.status_code for r in answer.history] == [401]
    assert answer.status_code != 401 and answer.request.body == b'{"a": 1}'


def test_auth_returns_the_401_of_a_streamed_body_it_cannot_send_again(signed_in: Emulator) -> None:
    signed_in.expire_access_tokens()
    body = (chunk for chunk in (b'{"a"', b": 1}"))
    answer = requests.post(signed_in.base_url + EXT_PATH, data=body, auth=rcauth.Auth(), timeout=30)
    assert answer.status_code == 401 and answer.history == []
    assert signed_in.counters()["refreshes"] == 0


UPLOAD = "https://platform.ringcentral.com/restapi/v1.0/account/~/upload"
TOKEN_URL = "https://platform.ringcentral.com/restapi/oauth/token"


def _ends_early_then_answers(requests_mock: Any) -> list[tuple[str, bytes]]:
    """The production session, stored; RingCentral refreshes it, and answers the first upload with
    401 (the access token ended early) and the next with 200. Returns what each upload carried:
    its token and its body, read as a socket would read it."""
    KeyringStore("default").save(_production_session())
    requests_mock.post(TOKEN_URL, json=_refreshed_answer())
    seen: list[tuple[str, bytes]] = []

    def answer(request: Any, context: Any) -> str:
        body = request.body
        sent = body.read() if hasattr(body, "read") else body
        seen.append((request.headers["Authorization"], sent.encode() if isinstance(sent, str) else sent))
        context.status_code = 401 if len(seen) == 1 else 200
        return "{}"

    requests_mock.post(UPLOAD, text=answer)
    return seen


@pytest.mark.parametrize(
    "body",
    [lambda: b"\x00payload", lambda: "payload", lambda: io.BytesIO(b"payload")],
    ids=["bytes", "text", "a file"],
)
def test_auth_sends_the_same_body_again_after_a_401_with_the_refreshed_token(requests_mock, body) -> None:
    seen = _ends_early_then_answers(requests_mock)
    answer = requests.post(UPLOAD, data=body(), auth=rcauth.Auth(), timeout=30)
    assert answer.status_code == 200 and [r.status_code for r in answer.history] == [401]
    (first_token, first_body), (second_token, second_body) = seen
    assert first_body == second_body != b""
    assert (first_token, second_token) == ("Bearer U0pDMDFQMDFQQVMwMXxBQUE", "Bearer U0pDMDFQMDFQQVMwMXxORVc")


def test_auth_sends_a_file_again_from_where_it_began_not_from_its_start(requests_mock) -> None:
    seen = _ends_early_then_answers(requests_mock)
    upload = io.BytesIO(b"skipped:payload")
    upload.seek(len(b"skipped:"))
    assert requests.post(UPLOAD, data=upload, auth=rcauth.Auth(), timeout=30).status_code == 200
    assert [body for _, body in seen] == [b"payload", b"payload"]


def test_auth_never_sends_a_body_it_cannot_rewind_again_empty(requests_mock) -> None:
    """A pipe cannot be read twice: its 401 is the answer, and nothing is refreshed or re-sent."""
    seen = _ends_early_then_answers(requests_mock)
    read_end, write_end = os.pipe()
    os.write(write_end, b"payload")
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = requests.post(UPLOAD, data=pipe, auth=rcauth.Auth(), timeout=30)
    assert answer.status_code == 401 and answer.history == []
    assert [body for _, body in seen] == [b"payload"]
    assert TOKEN_URL not in [r.url for r in requests_mock.request_history]


def _refreshed_answer() -> dict[str, Any]:
    return token_answer(
        "U0pDMDFQMDFQQVMwMXxORVc", "U0pDMDFQMDFQQVMwMXxSRUYy", scope="ReadAccounts", owner_id="101"
    )


def test_auth_gives_up_when_the_session_has_ended(signed_in: Emulator) -> None:
    signed_in.revoke_all()
    with pytest.raises(rcauth.SessionExpired):
        requests.get(signed_in.base_url + EXT_PATH, auth=rcauth.Auth(), timeout=30)
    assert signed_in.counters()["refreshes"] == 0  # the refresh was refused, not spent


@pytest.fixture
def bystander() -> Iterator[socket.socket]:
    """Another server on loopback: a listening socket that must see no connection."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def nobody_connected(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/restapi/v1.0/account/~",  # another port
        "http://localhost:{other}/restapi/v1.0/account/~",
        "https://127.0.0.1:{port}/restapi/v1.0/account/~",  # another scheme
        "http://user@127.0.0.1:{other}/",
    ],
)
def test_auth_refuses_to_send_the_token_to_another_origin(
    signed_in: Emulator, bystander: socket.socket, target: str
) -> None:
    url = target.format(other=bystander.getsockname()[1], port=signed_in.port)
    with pytest.raises(rcauth.ForeignOrigin, match="refusing to send the session's token"):
        requests.get(url, auth=rcauth.Auth(), timeout=30)
    assert nobody_connected(bystander)


PRODUCTION = "https://platform.ringcentral.com"
ANY_URL = re.compile(".*")


@pytest.mark.parametrize(
    "target",
    [
        "https://platform.ringcentral.com.evil.example/restapi/v1.0/account/~",  # the host extended
        "https://platform.ringcentral.com@evil.example/restapi/v1.0/account/~",  # the text as userinfo
        "https://platform.ringcentral.com:8443/restapi/v1.0/account/~",  # another port
        "https://platform.ringcentral.comevil.example/x",
        "http://platform.ringcentral.com/restapi/v1.0/account/~",  # the same host in clear
    ],
)
def test_auth_refuses_an_origin_that_merely_starts_with_the_servers_text(
    requests_mock: Any, target: str
) -> None:
    """A comparison by text prefix would attach the token to each of these; the origin rule must not."""
    KeyringStore("default").save(_production_session())
    requests_mock.get(ANY_URL, text="{}")
    with pytest.raises(rcauth.ForeignOrigin):
        requests.get(target, auth=rcauth.Auth(), timeout=30)
    with rcauth.Client() as rc, pytest.raises(rcauth.ForeignOrigin):
        rc.get(target)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "target",
    [
        "https://platform.ringcentral.com/restapi/v1.0/account/~",
        "https://PLATFORM.RingCentral.com:443/restapi/v1.0/account/~",  # the same origin, spelled otherwise
        "https://platform.ringcentral.com./restapi/v1.0/account/~",
    ],
)
def test_auth_signs_the_servers_own_origin_however_it_is_spelled(requests_mock: Any, target: str) -> None:
    session = _production_session()
    KeyringStore("default").save(session)
    requests_mock.get(ANY_URL, text="{}")
    requests.get(target, auth=rcauth.Auth(), timeout=30)
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {session.access_token}"


def _production_session() -> Session:
    return make_session(
        server=PRODUCTION,
        client_id="client-id",
        client_secret=None,
        access_token="U0pDMDFQMDFQQVMwMXxBQUE",  # a made-up token for a mocked server
        refresh_token="U0pDMDFQMDFQQVMwMXxSRUY",
    )


# -- rcauth.token, rcauth.token_data, `rcauth token --json` --------------------------------------
def test_token_is_valid_and_refreshed_when_due(signed_in: Emulator) -> None:
    make_due()
    access = rcauth.token()
    assert access == stored().access_token
    assert signed_in.counters()["refreshes"] == 1
    answer = requests.get(
        signed_in.base_url + EXT_PATH, headers={"Authorization": f"Bearer {access}"}, timeout=30
    )
    assert answer.status_code == 200


def test_token_without_a_session_says_not_logged_in() -> None:
    with pytest.raises(rcauth.NotLoggedIn):
        rcauth.token()


# One shape for every SDK: no expire_time (seconds in Python, milliseconds in JavaScript; each SDK works
# it out from expires_in), no refresh token.
SDK_FIELDS = {"access_token", "token_type", "expires_in", "scope", "owner_id"}


def test_token_data_hands_the_session_to_ringcentrals_sdk_without_the_refresh_token(
    signed_in: Emulator,
) -> None:
    from ringcentral import SDK

    data = rcauth.token_data()
    session = stored()
    assert set(data) == SDK_FIELDS
    assert session.refresh_token not in json.dumps(data)
    platform = SDK(session.client_id, "", session.server).platform()
    platform.auth().set_data(data)
    known = platform.auth().data()
    assert {k: known[k] for k in SDK_FIELDS} == data  # every field is one the SDK keeps
    # The SDK works out expire_time itself, in its own unit (epoch seconds), from expires_in.
    assert abs(known["expire_time"] - session.access_expires_at) <= 2
    assert platform.auth().access_token_valid()
    assert not platform.auth().refresh_token_valid()  # so the SDK never spends rcauth's refresh token
    me = platform.get(EXT_PATH).json_dict()
    assert me["id"] == requests.get(session.server + EXT_PATH, auth=rcauth.Auth(), timeout=30).json()["id"]
    assert signed_in.counters()["refreshes"] == 0


def test_token_json_command_prints_the_sdk_data_and_plain_token_stays_plain(signed_in: Emulator) -> None:
    runner = cli_runner()
    result = runner.invoke(cli, ["token", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    session = stored()
    assert set(data) == SDK_FIELDS and data["access_token"] == session.access_token
    assert "expire_time" not in data
    assert 0 <= session.access_expires_at - time.time() - data["expires_in"] <= 2
    assert session.refresh_token not in result.stdout + result.stderr
    plain = runner.invoke(cli, ["token"], catch_exceptions=False)
    assert plain.stdout == f"{session.access_token}\n"


def _expiring_in(seconds: float, *, refresh_token: bool = True) -> Session:
    session = dataclasses.replace(stored(), access_expires_at=time.time() + seconds)
    if not refresh_token:
        session = dataclasses.replace(session, refresh_token=None, refresh_expires_at=None)
    KeyringStore("default").save(session)
    return session


def test_a_token_handed_to_an_sdk_is_refreshed_first_unless_it_has_five_minutes_left(
    signed_in: Emulator,
) -> None:
    # The JavaScript SDK refuses a token in its last minute, and any rcauth command refreshes (so ends)
    # the token in its last minute: 4 minutes left is too little to hand over, enough for `token`.
    old = _expiring_in(240)
    plain = cli_runner().invoke(cli, ["token"], catch_exceptions=False)
    assert plain.exit_code == 0 and plain.stdout == f"{old.access_token}\n"
    assert signed_in.counters()["refreshes"] == 0
    result = cli_runner().invoke(cli, ["token", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["access_token"] != old.access_token and data["expires_in"] >= 3590
    assert signed_in.counters()["refreshes"] == 1
    _expiring_in(240)
    assert rcauth.token_data()["expires_in"] >= 3590
    assert signed_in.counters()["refreshes"] == 2
    _expiring_in(400)
    assert 390 <= rcauth.token_data()["expires_in"] <= 400  # enough left: no refresh spent
    assert signed_in.counters()["refreshes"] == 2


def test_a_token_without_a_refresh_token_is_handed_over_with_a_warning_when_it_is_nearly_over(
    signed_in: Emulator,
) -> None:
    old = _expiring_in(100, refresh_token=False)
    result = cli_runner().invoke(cli, ["token", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["access_token"] == old.access_token and 95 <= data["expires_in"] <= 100
    warning = " ".join(result.stderr.split())
    assert warning.startswith("warning: this token expires in ")
    assert "this app issues no refresh token" in warning and "rcauth login" in warning
    _expiring_in(1000, refresh_token=False)
    quiet = cli_runner().invoke(cli, ["token", "--json"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_token_help_says_the_refresh_token_is_never_printed() -> None:
    result = cli_runner().invoke(cli, ["token", "--help"], terminal_width=200)
    assert "Never the refresh token" in " ".join(result.stdout.split())


# -- the package surface -------------------------------------------------------------------------
def test_every_public_name_resolves_and_is_listed() -> None:
    for name in rcauth.__all__:
        assert getattr(rcauth, name) is not None, name
    assert set(rcauth.__all__) <= set(dir(rcauth))
    assert issubclass(rcauth.SessionExpired, rcauth.NotLoggedIn)
    assert issubclass(rcauth.TransportError, rcauth.ApiError)
    assert issubclass(rcauth.ForeignOrigin, rcauth.ApiError)
    with pytest.raises(AttributeError):
        rcauth.no_such_name  # noqa: B018


def test_import_rcauth_loads_nothing_heavy_until_a_name_is_used() -> None:
    code = (
        "import sys\n"
        "import rcauth\n"
        "heavy = ('requests', 'keyring', 'oauthlib', 'rich', 'click', 'urllib3', 'rcauth.')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
        "rcauth.Client\n"
        "print('rcauth.library' in sys.modules, 'click' in sys.modules, 'rich' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True False False"]


def test_the_package_is_marked_typed() -> None:
    from importlib.resources import files

    assert files("rcauth").joinpath("py.typed").is_file()


def test_rcauth_sets_no_keyring_and_reads_no_private_part_of_keyring_requests_or_oauthlib() -> None:
    """ARCHITECTURE.md's "public APIs of dependencies only", for the parts issue 21 took out: keyring's
    process-wide backend is the program's (never set, never read privately), and requests' private
    body position and content are not rcauth's to touch."""
    import ast

    banned = {"set_keyring", "init_backend", "_keyring_backend", "_config_path", "_body_position", "_content"}
    found = [
        f"{path.relative_to(path.parents[1])}:{node.lineno} {node.attr}"
        for path in Path(rcauth.__file__).parent.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in banned
    ]
    assert found == []


def test_client_uses_the_default_profile_the_cli_would_use(emu: Emulator, monkeypatch, tmp_path) -> None:
    """After `rcauth profiles use work`, a script reaches the session `rcauth whoami` reaches; a
    `default_profile` the user wrote in config.toml wins over that choice, as for the commands."""
    from rcauth import profiles
    from rcauth.config import config_file_path

    jwt_login(emu, profile="work")
    profiles.choose_default("work")
    with rcauth.Client() as rc:
        assert rc.profile == "work"
    config_file_path().parent.mkdir(parents=True, exist_ok=True)
    config_file_path().write_text('default_profile = "home"\n', encoding="utf-8")
    with pytest.raises(rcauth.NotLoggedIn):
        rcauth.Client()  # "home" has no session
    monkeypatch.setenv("RCAUTH_PROFILE", "work")
    with rcauth.Client() as rc:
        assert rc.profile == "work"


MEDIA_CONTENT = "https://media.ringcentral.com/restapi/v1.0/account/37439510/recording/401/content"


def test_auth_and_client_send_the_token_to_productions_media_host(requests_mock: Any) -> None:
    """`recording.contentUri` is on media.ringcentral.com: a script fetching it with `requests` and
    `rcauth.Auth()` (or `Client.get`) gets the content, for a session stored without a media server."""
    KeyringStore("default").save(_production_session())
    requests_mock.get(MEDIA_CONTENT, content=b"ID3audio", headers={"Content-Type": "audio/mpeg"})
    assert requests.get(MEDIA_CONTENT, auth=rcauth.Auth(), timeout=30).content == b"ID3audio"
    with rcauth.Client() as rc:
        assert rc.get(MEDIA_CONTENT).content == b"ID3audio"
        assert rc.session.media_server == "https://media.ringcentral.com"
    assert [r.headers["Authorization"] for r in requests_mock.request_history] == [
        "Bearer U0pDMDFQMDFQQVMwMXxBQUE"
    ] * 2


@pytest.mark.parametrize(
    "target",
    [
        "https://media.ringcentral.com.evil.example/x",
        "https://media.ringcentral.com@evil.example/x",
        "https://MEDIA.RINGCENTRAL.COM.:8443/x",
        "http://media.ringcentral.com/x",
        "https://m\u0435dia.ringcentral.com/x",  # a Cyrillic "е"
    ],
)
def test_auth_refuses_look_alikes_of_the_media_host(requests_mock: Any, target: str) -> None:
    KeyringStore("default").save(_production_session())
    requests_mock.get(ANY_URL, text="{}")
    with pytest.raises(rcauth.ForeignOrigin) as caught:
        requests.get(target, auth=rcauth.Auth(), timeout=30)
    assert requests_mock.call_count == 0
    assert "user information" in caught.value.why or caught.value.why.endswith(
        "not the session's https://platform.ringcentral.com or its media server https://media.ringcentral.com"
    )


def test_auth_sends_nothing_to_a_media_host_another_server_was_not_configured_with(
    requests_mock: Any,
) -> None:
    sandbox = "https://platform.devtest.ringcentral.com"
    KeyringStore("default").save(dataclasses.replace(_production_session(), server=sandbox))
    requests_mock.get(ANY_URL, text="{}")
    with pytest.raises(rcauth.ForeignOrigin):
        requests.get(MEDIA_CONTENT, auth=rcauth.Auth(), timeout=30)
    assert requests_mock.call_count == 0
    media = "https://media.devtest.example"
    KeyringStore("default").save(
        dataclasses.replace(_production_session(), server=sandbox, media_server=media)
    )
    assert requests.get(media + "/x", auth=rcauth.Auth(), timeout=30).status_code == 200
    assert requests_mock.call_count == 1
