"""The RingCentral emulator over real HTTP on loopback: OAuth, rotation, REST, paging, limits, faults."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import os
import re
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cli_runner import cli_runner
from helpers import jwt_token

from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig
from ringcentral_emulator.cli import emulator_command
from tests.contract import contract

CLIENT_ID = "rcauth-emulator-client"
CLIENT_SECRET = "rcauth-emulator-secret"  # noqa: S105 - the emulator's published demo secret
BASIC = (CLIENT_ID, CLIENT_SECRET)
REDIRECT = "http://localhost:5000/oauth2callback"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FAR_PAST = "2000-01-01T00:00:00.000Z"
REPO = Path(__file__).resolve().parents[1]


# -- helpers ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def running(**switches: Any) -> Iterator[tuple[Emulator, requests.Session]]:
    """An emulator with rate limits off unless the test asks for them, and a session to talk to it."""
    switches.setdefault("rate_limits_enabled", False)
    with Emulator(EmulatorConfig(**switches), host="127.0.0.1", port=0) as emu, requests.Session() as http:
        yield emu, http


@pytest.fixture
def emu_http() -> Iterator[tuple[Emulator, requests.Session]]:
    with running() as pair:
        yield pair


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(emu: Emulator, http: requests.Session, **params: str) -> requests.Response:
    """The authorize request, and the sign-in/consent page when it redirects there (as a browser would)."""
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, **params}
    query = {k: v for k, v in query.items() if v is not None}
    url = f"{emu.base_url}/restapi/oauth/authorize"
    answer = http.get(url, params=query, allow_redirects=False, timeout=5)
    location = answer.headers.get("Location", "")
    if answer.status_code == 302 and location.startswith(f"{emu.base_url}/login/"):
        return http.get(location, allow_redirects=False, timeout=5)
    return answer


def submit(emu: Emulator, http: requests.Session, page: requests.Response, action: str) -> requests.Response:
    """Press a button on the consent page: post its form the way a browser would."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    fields["action"] = action
    return http.post(f"{emu.base_url}/login/consent", data=fields, allow_redirects=False, timeout=5)


def callback_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def get_code(emu: Emulator, http: requests.Session, challenge: str | None = None, **params: str) -> str:
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}
    page = authorize(emu, http, **extra, **params)
    return callback_params(submit(emu, http, page, "approve"))["code"]


def token(emu: Emulator, http: requests.Session, auth: Any = BASIC, **form: str) -> requests.Response:
    return http.post(f"{emu.base_url}/restapi/oauth/token", data=form, auth=auth, timeout=5)


def login(emu: Emulator, http: requests.Session) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = get_code(emu, http, challenge)
    response = token(
        emu, http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert response.status_code == 200, response.text
    return response.json()


def refresh(emu: Emulator, http: requests.Session, refresh_token: str, **form: str) -> requests.Response:
    return token(emu, http, grant_type="refresh_token", refresh_token=refresh_token, **form)


def api(
    emu: Emulator, http: requests.Session, access: str | None, path: str, **params: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {access}"} if access is not None else {}
    url = path if path.startswith("http") else f"{emu.base_url}/restapi/v1.0{path}"
    response = http.get(url, headers=headers, params=params, timeout=10)
    _check_contract(response)
    return response


# The vendored spec's REST operations, by the request path that reaches them.
_SPEC_OPERATIONS = (
    (re.compile(r"/restapi/v1\.0/account/[^/]+"), "/restapi/v1.0/account/{accountId}"),
    (re.compile(r"/restapi/v1\.0/account/[^/]+/extension"), "/restapi/v1.0/account/{accountId}/extension"),
    (
        re.compile(r"/restapi/v1\.0/account/[^/]+/extension/[^/]+"),
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}",
    ),
    (re.compile(r"/restapi/v1\.0/account/[^/]+/call-log"), "/restapi/v1.0/account/{accountId}/call-log"),
    (
        re.compile(r"/restapi/v1\.0/account/[^/]+/call-log/[^/]+"),
        "/restapi/v1.0/account/{accountId}/call-log/{callRecordId}",
    ),
    (
        re.compile(r"/restapi/v1\.0/account/[^/]+/extension/[^/]+/call-log/[^/]+"),
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log/{callRecordId}",
    ),
    (
        re.compile(r"/restapi/v1\.0/account/[^/]+/extension/[^/]+/call-log"),
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log",
    ),
)


def _check_contract(response: requests.Response) -> None:
    """Every answer the tests here receive from an operation in the vendored spec must match the schema
    the spec documents for its status (tests/contract/contract.py)."""
    request_path = urlsplit(response.url).path
    for pattern, spec_path in _SPEC_OPERATIONS:
        if pattern.fullmatch(request_path):
            if response.headers.get("Content-Type", "").startswith("application/json"):
                assert (
                    contract.errors_for_response(response.json(), spec_path, "get", response.status_code)
                    == []
                )
            return


def error_code(response: requests.Response) -> str:
    return response.json()["errors"][0]["errorCode"]


CALL_LOG = "/account/~/extension/~/call-log"


# -- authorize ----------------------------------------------------------------------------------------


def test_authorize_page_shows_app_permissions_user_and_approve_and_deny(emu_http):
    emu, http = emu_http
    page = authorize(emu, http, state="s1")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert re.search(r"<title>[^<]*RingCentral[^<]*</title>", page.text)
    for text in ("rcauth", "Read Accounts", "Read Call Log", "Alex Morgan"):
        assert text in page.text
    buttons = re.findall(r"<button[^>]*>([^<]*)</button>", page.text)
    assert sorted(buttons) == ["Approve", "Deny"]
    assert 'name="state" value="s1"' in page.text


def test_approve_redirects_to_the_registered_uri_with_code_state_and_expires_in(emu_http):
    emu, http = emu_http
    response = submit(emu, http, authorize(emu, http, state="a b&c=d"), "approve")
    assert response.headers["Location"].startswith(REDIRECT + "?code=")
    params = callback_params(response)
    assert params["state"] == "a b&c=d"
    assert params["expires_in"] == "60"
    assert len(params["code"]) > 20
    assert emu.counters()["authorize_approved"] == 1


def test_approve_without_state_omits_it_and_appends_to_a_redirect_uri_with_a_query():
    uri = "http://127.0.0.1:9/cb?tenant=x"
    with running(apps=(App(redirect_uris=(uri,)),)) as (emu, http):
        response = submit(emu, http, authorize(emu, http, redirect_uri=uri), "approve")
        location = response.headers["Location"]
        assert location.startswith(uri + "&code=")
        assert "state" not in callback_params(response)


def test_deny_redirects_with_access_denied_and_the_state(emu_http):
    emu, http = emu_http
    params = callback_params(submit(emu, http, authorize(emu, http, state="xyz"), "deny"))
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == "xyz"
    assert "code" not in params
    assert emu.counters()["authorize_denied"] == 1


def test_authorize_answers_302_to_the_login_page_not_a_page_at_the_authorize_url(emu_http):
    emu, http = emu_http
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "s"}
    url = f"{emu.base_url}/restapi/oauth/authorize"
    answer = http.get(url, params=query, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{emu.base_url}/login/consent?nonce=")
    page = http.get(location, allow_redirects=False, timeout=5)
    assert page.status_code == 200 and 'value="approve"' in page.text
    assert http.get(location, timeout=5).status_code == 200  # a reload shows the same page


def test_unregistered_redirect_uri_gets_an_error_page_and_never_a_redirect(emu_http):
    emu, http = emu_http
    for uri in (
        "http://evil.example/cb",
        REDIRECT + "/",
        REDIRECT.upper(),
        "http://127.0.0.1:5000/oauth2callback",
    ):
        response = authorize(emu, http, redirect_uri=uri, state="s")
        assert response.status_code == 400
        assert "Location" not in response.headers
        # The spec's OauthInvalidRequest: a JSON body, not an HTML page.
        assert response.json()["error"] == "invalid_request" and error_code(response) == "OAU-109"


def test_unknown_client_id_gets_an_error_page_and_never_a_redirect(emu_http):
    emu, http = emu_http
    response = authorize(emu, http, client_id="nobody")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_client"


def test_consent_page_can_be_answered_only_once(emu_http):
    emu, http = emu_http
    page = authorize(emu, http)
    assert submit(emu, http, page, "approve").status_code == 302
    again = submit(emu, http, page, "approve")
    assert again.status_code == 400
    assert "Location" not in again.headers


def test_bad_response_type_and_pkce_method_are_reported_to_the_redirect_uri(emu_http):
    emu, http = emu_http
    assert (
        callback_params(authorize(emu, http, response_type="token"))["error"] == "unsupported_response_type"
    )
    _, challenge = pkce()
    bad = authorize(emu, http, code_challenge=challenge, code_challenge_method="S512", state="q")
    assert callback_params(bad) == {
        "error": "invalid_request",
        "error_description": callback_params(bad)["error_description"],
        "state": "q",
    }


def test_public_app_must_send_a_code_challenge():
    with running(apps=(App(public=True),)) as (emu, http):
        assert callback_params(authorize(emu, http))["error"] == "invalid_request"


def test_auto_approve_redirects_without_showing_the_page():
    with running(auto_approve=True) as (emu, http):
        params = callback_params(authorize(emu, http, state="z"))
        assert params["state"] == "z" and params["code"]


# -- token: authorization code ------------------------------------------------------------------------


def test_code_exchange_with_basic_auth_and_s256_verifier_returns_a_token_pair(emu_http):
    emu, http = emu_http
    verifier, challenge = pkce()
    code = get_code(emu, http, challenge)
    response = token(
        emu, http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"  # noqa: S105
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 604800
    assert body["scope"] == "ReadAccounts ReadCallLog ReadCallRecording"
    assert body["owner_id"] == "2071360004"
    assert body["endpoint_id"] and body["session_id"]
    assert len(body["access_token"]) > 100 and body["access_token"] != body["refresh_token"]
    assert emu.counters()["grants"] == {"authorization_code": 1}


def test_plain_pkce_and_no_pkce_both_work_for_a_confidential_app(emu_http):
    emu, http = emu_http
    verifier = secrets.token_urlsafe(48)
    code = get_code(emu, http, None, code_challenge=verifier)  # method defaults to plain
    assert (
        token(
            emu,
            http,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=verifier,
        ).status_code
        == 200
    )
    code = get_code(emu, http)
    assert (
        token(emu, http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).status_code == 200
    )


def test_wrong_code_verifier_is_refused_with_invalid_grant_and_burns_the_code(emu_http):
    emu, http = emu_http
    verifier, challenge = pkce()
    code = get_code(emu, http, challenge)
    wrong = token(
        emu, http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=pkce()[0]
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    right = token(
        emu, http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert right.status_code == 403 and error_code(right) == "OAU-106"


def test_missing_code_verifier_is_refused_when_a_challenge_was_sent(emu_http):
    emu, http = emu_http
    code = get_code(emu, http, pkce()[1])
    response = token(emu, http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_reused_code_is_refused_with_oau_106(emu_http):
    emu, http = emu_http
    verifier, challenge = pkce()
    code = get_code(emu, http, challenge)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    assert token(emu, http, **form).status_code == 200
    again = token(emu, http, **form)
    assert again.status_code == 403
    assert again.json()["error"] == "invalid_grant" and error_code(again) == "OAU-106"
    assert emu.counters()["code_reuses"] == 1


def test_unknown_code_is_refused_with_oau_106(emu_http):
    emu, http = emu_http
    response = token(emu, http, grant_type="authorization_code", code="nope", redirect_uri=REDIRECT)
    assert response.status_code == 403 and error_code(response) == "OAU-106"


def test_expired_code_is_refused_with_oau_108():
    with running(code_ttl=0.2) as (emu, http):
        page = authorize(emu, http)
        params = callback_params(submit(emu, http, page, "approve"))
        assert params["expires_in"] == "1"
        time.sleep(0.3)
        response = token(
            emu, http, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT
        )
        assert response.status_code == 403
        assert response.json()["error"] == "invalid_grant" and error_code(response) == "OAU-108"


def test_redirect_uri_at_the_token_endpoint_must_repeat_the_authorize_one(emu_http):
    emu, http = emu_http
    for sent in ("http://localhost:5000/other", None):
        code = get_code(emu, http)
        form = {"grant_type": "authorization_code", "code": code}
        if sent:
            form["redirect_uri"] = sent
        response = token(emu, http, **form)
        assert response.status_code == 403 and error_code(response) == "OAU-109"


def test_wrong_client_secret_is_refused_with_oau_146(emu_http):
    emu, http = emu_http
    response = token(emu, http, auth=(CLIENT_ID, "wrong"), grant_type=JWT_GRANT, assertion=DEMO_JWT)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client" and error_code(response) == "OAU-146"


def test_missing_or_malformed_client_authentication_is_refused_with_oau_123(emu_http):
    emu, http = emu_http
    missing = token(emu, http, auth=None, grant_type=JWT_GRANT, assertion=DEMO_JWT, client_id=CLIENT_ID)
    assert missing.status_code == 401 and error_code(missing) == "OAU-123"
    assert missing.json()["error"] == "invalid_client"
    garbled = http.post(
        f"{emu.base_url}/restapi/oauth/token",
        data={"grant_type": JWT_GRANT},
        headers={"Authorization": "Basic !!!"},
        timeout=5,
    )
    assert garbled.status_code == 401 and error_code(garbled) == "OAU-123"


def test_public_client_uses_client_id_in_the_body_and_pkce_for_code_and_refresh():
    with running(apps=(App(public=True),)) as (emu, http):
        verifier, challenge = pkce()
        code = get_code(emu, http, challenge)
        response = token(
            emu,
            http,
            auth=None,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=verifier,
            client_id=CLIENT_ID,
        )
        assert response.status_code == 200, response.text
        renewed = token(
            emu,
            http,
            auth=None,
            grant_type="refresh_token",
            refresh_token=response.json()["refresh_token"],
            client_id=CLIENT_ID,
        )
        assert renewed.status_code == 200


def test_password_grant_is_unsupported_and_disabled_grants_get_oau_112():
    app = App(grant_types=("authorization_code", "refresh_token"))
    with running(apps=(app,)) as (emu, http):
        password = token(emu, http, grant_type="password", username="u", password="p")  # noqa: S106
        assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"
        jwt = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT)
        assert jwt.status_code == 403
        assert jwt.json()["error"] == "unauthorized_client" and error_code(jwt) == "OAU-112"


def test_requested_token_lifetimes_are_honoured_within_ringcentral_ranges(emu_http):
    emu, http = emu_http
    lifetimes = {"access_token_ttl": "600", "refresh_token_ttl": "86400"}
    body = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT, **lifetimes).json()
    assert body["expires_in"] == 600 and body["refresh_token_expires_in"] == 86400


@pytest.mark.parametrize(
    ("asked", "expires_in", "refresh_expires_in"),
    [
        ({"access_token_ttl": "599"}, 600, 604_800),
        ({"access_token_ttl": "-1"}, 600, 604_800),  # what the JavaScript SDK sends after a 401
        ({"access_token_ttl": "0"}, 600, 604_800),
        ({"access_token_ttl": "3601"}, 3600, 604_800),
        ({"access_token_ttl": "999999999"}, 3600, 604_800),
        ({"access_token_ttl": "2147483647"}, 3600, 604_800),
        ({"access_token_ttl": "00000000000700"}, 700, 604_800),  # leading zeros: still 700
        ({"refresh_token_ttl": "604801"}, 3600, 604_800),
        ({"refresh_token_ttl": "2592000"}, 3600, 604_800),
    ],
)
def test_token_lifetimes_out_of_range_are_clamped_as_ringcentral_documents(
    emu_http, asked, expires_in, refresh_expires_in
):
    emu, http = emu_http
    response = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT, **asked)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == expires_in and body["refresh_token_expires_in"] == refresh_expires_in


def test_the_access_lifetime_asked_for_is_clamped_to_a_short_configured_default():
    # A TTL configured below 600 s (tests) stays the ceiling: the clamp never lengthens it to 600.
    with running(access_token_ttl=5) as (emu, http):
        body = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT, access_token_ttl="-1").json()
        assert body["expires_in"] == 5
        renewed = refresh(emu, http, body["refresh_token"], access_token_ttl="3600")
        assert renewed.status_code == 200 and renewed.json()["expires_in"] == 5


@pytest.mark.parametrize("switch", [{"access_token_ttl": 3601}, {"refresh_token_ttl": 2_592_001}])
def test_an_app_lifetime_above_ringcentrals_maximum_is_refused_as_configuration(switch):
    with pytest.raises(ValueError, match="must be <="):
        EmulatorConfig(**switch)


def test_refresh_token_ttl_zero_or_less_issues_no_refresh_token_on_any_grant(emu_http):
    emu, http = emu_http
    first = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT).json()
    renewed = refresh(emu, http, first["refresh_token"], refresh_token_ttl="0")
    assert renewed.status_code == 200
    body = renewed.json()
    assert "refresh_token" not in body and "refresh_token_expires_in" not in body
    assert api(emu, http, body["access_token"], "/account/~/extension/~").status_code == 200
    for asked in ("0", "-1"):  # "refresh_token_ttl<=0": no refresh token
        without = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT, refresh_token_ttl=asked).json()
        assert "refresh_token" not in without and without["expires_in"] == 3600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("access_token_ttl", "ten"),
        ("access_token_ttl", "600.5"),
        ("access_token_ttl", "NaN"),
        ("refresh_token_ttl", "1e6"),
        ("access_token_ttl", "1" * 40),
        ("access_token_ttl", "2147483648"),  # one past int32, the spec's type
        ("refresh_token_ttl", "-2147483649"),
    ],
)
def test_token_lifetimes_that_are_not_integers_are_refused(emu_http, name, value):
    emu, http = emu_http
    response = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT, **{name: value})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert response.json()["errors"][0]["parameterName"] == name


def test_token_endpoint_refuses_json_bodies_and_repeated_parameters(emu_http):
    emu, http = emu_http
    as_json = http.post(
        f"{emu.base_url}/restapi/oauth/token", json={"grant_type": JWT_GRANT}, auth=BASIC, timeout=5
    )
    assert as_json.status_code == 415  # form-urlencoded only (RingCentral's docs and spec)
    repeated = token(emu, http, grant_type=[JWT_GRANT, JWT_GRANT], assertion=DEMO_JWT)
    assert repeated.status_code == 400 and repeated.json()["error"] == "invalid_request"


# -- refresh rotation ---------------------------------------------------------------------------------


def test_refresh_rotates_both_tokens_and_the_old_access_token_dies_at_once(emu_http):
    emu, http = emu_http
    first = login(emu, http)
    assert api(emu, http, first["access_token"], "/account/~/extension/~").status_code == 200
    second = refresh(emu, http, first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["access_token"] != first["access_token"] and new["refresh_token"] != first["refresh_token"]
    assert new["session_id"] == first["session_id"]
    old = api(emu, http, first["access_token"], "/account/~/extension/~")
    assert old.status_code == 401
    assert api(emu, http, new["access_token"], "/account/~/extension/~").status_code == 200
    counters = emu.counters()
    assert counters["refreshes"] == 1 and counters["grants"]["refresh_token"] == 1


def test_spent_refresh_token_is_refused_in_strict_mode():
    with running(strict_rotation=True) as (emu, http):
        first = jwt_token(emu, http)
        assert refresh(emu, http, first["refresh_token"]).status_code == 200
        replay = refresh(emu, http, first["refresh_token"])
        assert replay.status_code == 400
        assert replay.json()["error"] == "invalid_grant"
        assert emu.counters()["refresh_reuses"] == 1


def test_spent_refresh_token_replay_returns_the_same_pair_during_the_grace(emu_http):
    emu, http = emu_http
    first = jwt_token(emu, http)
    new = refresh(emu, http, first["refresh_token"]).json()
    replay = refresh(emu, http, first["refresh_token"])
    assert replay.status_code == 200
    assert replay.json()["access_token"] == new["access_token"]
    assert replay.json()["refresh_token"] == new["refresh_token"]
    counters = emu.counters()
    assert counters["refresh_reuses"] == 1 and counters["refresh_grace_replays"] == 1
    assert counters["refreshes"] == 1


def test_grace_ends_shortly_after_the_new_access_token_is_first_used():
    with running(rotation_grace_after_use=0.3) as (emu, http):
        first = jwt_token(emu, http)
        new = refresh(emu, http, first["refresh_token"]).json()
        assert api(emu, http, new["access_token"], "/account/~").status_code == 200
        assert refresh(emu, http, first["refresh_token"]).status_code == 200  # still within 0.3 s of use
        time.sleep(0.4)
        late = refresh(emu, http, first["refresh_token"])
        assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
        assert refresh(emu, http, new["refresh_token"]).status_code == 200  # the new one is fine


def test_grace_ends_once_the_new_pair_is_itself_rotated(emu_http):
    emu, http = emu_http
    first = jwt_token(emu, http)
    second = refresh(emu, http, first["refresh_token"]).json()
    assert refresh(emu, http, second["refresh_token"]).status_code == 200
    stale = refresh(emu, http, first["refresh_token"])
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"


def test_concurrent_refreshes_of_one_token_in_strict_mode_let_exactly_one_win():
    with running(strict_rotation=True) as (emu, _):
        with requests.Session() as http:
            refresh_token = jwt_token(emu, http)["refresh_token"]
        statuses: list[int] = []
        barrier = threading.Barrier(8)

        def race() -> None:
            with requests.Session() as own:
                barrier.wait(timeout=5)
                statuses.append(refresh(emu, own, refresh_token).status_code)

        threads = [threading.Thread(target=race) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert sorted(statuses) == [200] + [400] * 7
        assert emu.counters()["refresh_reuses"] == 7


def test_unknown_refresh_token_is_refused_with_invalid_grant(emu_http):
    emu, http = emu_http
    response = refresh(emu, http, "not-a-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant" and error_code(response) == "OAU-213"


def test_app_without_refresh_tokens_gets_only_an_access_token():
    with running(apps=(App(issue_refresh_tokens=False),)) as (emu, http):
        body = jwt_token(emu, http)
        assert "refresh_token" not in body and "refresh_token_expires_in" not in body


# -- JWT, sessions, revoke ----------------------------------------------------------------------------


def test_jwt_grant_starts_a_session_and_an_unknown_assertion_is_refused(emu_http):
    emu, http = emu_http
    body = jwt_token(emu, http)
    assert api(emu, http, body["access_token"], "/account/~/extension/~").status_code == 200
    bad = token(emu, http, grant_type=JWT_GRANT, assertion="eyJhbGciOiJub25lIn0.e30.")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert emu.counters()["grants"] == {JWT_GRANT: 1}


def test_a_sixth_parallel_session_ends_the_oldest(emu_http):
    emu, http = emu_http
    sessions = [jwt_token(emu, http) for _ in range(6)]
    assert api(emu, http, sessions[0]["access_token"], "/account/~").status_code == 401
    assert all(api(emu, http, s["access_token"], "/account/~").status_code == 200 for s in sessions[1:])
    assert emu.counters()["sessions_evicted"] == 1


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_ends_both(emu_http, which):
    emu, http = emu_http
    body = jwt_token(emu, http)
    response = http.post(
        f"{emu.base_url}/restapi/oauth/revoke", data={"token": body[which]}, auth=BASIC, timeout=5
    )
    assert response.status_code == 200 and response.content == b""
    assert api(emu, http, body["access_token"], "/account/~").status_code == 401
    assert refresh(emu, http, body["refresh_token"]).status_code == 400
    assert emu.counters()["revokes"] == 1


def test_revoke_takes_the_token_from_the_query_string_too(emu_http):
    emu, http = emu_http
    body = jwt_token(emu, http)
    url = f"{emu.base_url}/restapi/oauth/revoke"
    assert http.post(url, params={"token": body["access_token"]}, auth=BASIC, timeout=5).status_code == 200
    assert api(emu, http, body["access_token"], "/account/~").status_code == 401


def test_revoke_of_an_unknown_token_succeeds_but_requires_client_authentication(emu_http):
    emu, http = emu_http
    url = f"{emu.base_url}/restapi/oauth/revoke"
    assert http.post(url, data={"token": "whatever"}, auth=BASIC, timeout=5).status_code == 200
    anonymous = http.post(url, data={"token": "whatever"}, timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"


def test_revoke_all_ends_every_session(emu_http):
    emu, http = emu_http
    a, b = jwt_token(emu, http), login(emu, http)
    assert emu.revoke_all() == 2
    for body in (a, b):
        assert api(emu, http, body["access_token"], "/account/~").status_code == 401
        assert refresh(emu, http, body["refresh_token"]).status_code == 400


def test_live_grants_name_each_live_session_by_its_current_refresh_token(emu_http):
    """What a test compares with what a client stored: rotation moves the name to the new refresh
    token, revocation and expiry take it away."""
    emu, http = emu_http
    kept, revoked, rotated = jwt_token(emu, http), jwt_token(emu, http), jwt_token(emu, http)
    url = f"{emu.base_url}/restapi/oauth/revoke"
    assert http.post(url, data={"token": revoked["access_token"]}, auth=BASIC, timeout=5).status_code == 200
    new = refresh(emu, http, rotated["refresh_token"]).json()
    assert sorted(emu.live_grants()) == sorted([kept["refresh_token"], new["refresh_token"]])
    emu.revoke_all()
    assert emu.live_grants() == []


def test_live_grants_name_a_session_without_a_refresh_token_by_its_access_token() -> None:
    config = EmulatorConfig(apps=(App(client_id="c", client_secret="s", issue_refresh_tokens=False),))
    with Emulator(config, host="127.0.0.1", port=0) as emu, requests.Session() as http:
        body = token(emu, http, auth=("c", "s"), grant_type=JWT_GRANT, assertion=DEMO_JWT).json()
        assert "refresh_token" not in body
        assert emu.live_grants() == [body["access_token"]]
        emu.expire_access_tokens()
        assert emu.live_grants() == []


def test_revoke_delay_holds_a_revocation_before_it_takes_effect_until_lowered(emu_http):
    """A slow revoke endpoint: while the request is held (and counted in `held`) the session is still
    live; lowering `revoke_delay` lets the revocation happen and be answered."""
    emu, http = emu_http
    body = jwt_token(emu, http)
    emu.set(revoke_delay=60)
    answers: list[requests.Response] = []

    def revoke_elsewhere() -> None:
        with requests.Session() as other:
            url = f"{emu.base_url}/restapi/oauth/revoke"
            answers.append(other.post(url, data={"token": body["refresh_token"]}, auth=BASIC, timeout=30))

    worker = threading.Thread(target=revoke_elsewhere)
    worker.start()
    deadline = time.monotonic() + 10
    while emu.counters()["held"].get("revoke", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emu.counters()["held"] == {"revoke": 1} and answers == []
    assert emu.live_grants() == [body["refresh_token"]]  # not revoked yet
    assert api(emu, http, body["access_token"], "/account/~").status_code == 200
    emu.set(revoke_delay=0)
    worker.join(10)
    assert answers and answers[0].status_code == 200
    assert emu.live_grants() == [] and emu.counters()["revokes"] == 1
    with pytest.raises(ValueError, match="revoke_delay"):
        emu.set(revoke_delay=-1)


def test_expired_access_token_gets_oau_128_and_refresh_still_works(emu_http):
    emu, http = emu_http
    body = jwt_token(emu, http)
    assert emu.expire_access_tokens() == 1
    expired = api(emu, http, body["access_token"], "/account/~")
    assert expired.status_code == 401 and error_code(expired) == "OAU-128"
    new = refresh(emu, http, body["refresh_token"]).json()
    assert api(emu, http, new["access_token"], "/account/~").status_code == 200


def test_short_access_token_ttl_expires_on_its_own():
    with running(access_token_ttl=0.3) as (emu, http):
        body = jwt_token(emu, http)
        assert body["expires_in"] == 1
        time.sleep(0.35)
        assert error_code(api(emu, http, body["access_token"], "/account/~")) == "OAU-128"


# -- REST API -----------------------------------------------------------------------------------------


def test_bearer_errors_name_the_problem(emu_http):
    emu, http = emu_http
    missing = api(emu, http, None, "/account/~")
    assert missing.status_code == 401 and missing.json()["errorCode"] == "AGW-401"
    basic = http.get(f"{emu.base_url}/restapi/v1.0/account/~", auth=BASIC, timeout=5)
    assert basic.status_code == 401 and error_code(basic) == "AGW-402"
    garbage = api(emu, http, "garbage", "/account/~")
    assert garbage.status_code == 401 and error_code(garbage) == "OAU-129"
    refresh_token = jwt_token(emu, http)["refresh_token"]
    assert api(emu, http, refresh_token, "/account/~").status_code == 401
    assert emu.counters()["unauthorized"] == 4


def test_extension_and_account_have_ringcentral_shapes_and_accept_numeric_ids(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    ext = api(emu, http, access, "/account/~/extension/~").json()
    assert ext["id"] == 2071360004 and isinstance(ext["id"], int)
    assert ext["extensionNumber"] == "101" and ext["status"] == "Enabled" and ext["type"] == "User"
    assert ext["contact"]["firstName"] == "Alex" and ext["contact"]["email"] == "alex.morgan@example.com"
    assert ext["account"]["id"] == "37439510" and ext["permissions"]["admin"]["enabled"] is True
    assert ext["regionalSettings"]["timezone"]["name"]
    account = api(emu, http, access, "/account/~").json()
    # The spec's GetAccountInfoResponse.id is an integer; the extension's account.id is a string.
    assert account["id"] == 37439510 and isinstance(account["id"], int)
    assert account["status"] == "Confirmed" and account["mainNumber"].startswith("+1")
    assert account["uri"].startswith(emu.base_url)
    same = api(emu, http, access, "/account/37439510/extension/2071360004").json()
    assert same["id"] == ext["id"]
    missing = api(emu, http, access, "/account/999/extension/~")
    assert missing.status_code == 404 and error_code(missing) == "CMN-102"


def test_unknown_uri_is_404_cmn_120_invalid_uri(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    for response in (
        api(emu, http, access, "/account/~/nothing-here"),
        http.get(f"{emu.base_url}/restapi/nowhere", timeout=5),
    ):
        assert response.status_code == 404
        assert response.json()["errorCode"] == "CMN-120" and response.json()["message"] == "Invalid URI"


def test_app_without_read_call_log_gets_insufficient_permissions():
    with running(apps=(App(scopes=("ReadAccounts",)),)) as (emu, http):
        access = jwt_token(emu, http)["access_token"]
        response = api(emu, http, access, CALL_LOG)
        assert response.status_code == 403
        body = response.json()
        assert body["errorCode"] == "InsufficientPermissions"
        assert (
            body["errors"][0]["errorCode"] == "CMN-401"
            and body["errors"][0]["permissionName"] == "ReadCallLog"
        )


def test_company_call_log_needs_full_company_call_log_permission():
    with running(admin=False) as (emu, http):
        access = jwt_token(emu, http)["access_token"]
        response = api(emu, http, access, "/account/~/call-log")
        assert response.status_code == 403
        body = response.json()
        assert body["errorCode"] == "InsufficientPermissions"
        assert body["errors"][0]["errorCode"] == "CMN-408"
        assert body["errors"][0]["permissionName"] == "FullCompanyCallLog"


def test_company_call_log_holds_colleagues_records_too(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    mine = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST).json()["paging"]["totalElements"]
    company = api(emu, http, access, "/account/~/call-log", dateFrom=FAR_PAST, perPage=1000).json()
    assert mine == 1000 and company["paging"]["totalElements"] == 2000
    owners = {r["extension"]["id"] for r in company["records"]}
    assert 2071360004 in owners and len(owners) > 5


def test_following_next_page_visits_every_record_once_newest_first():
    with running(call_records=250) as (emu, http):
        access = jwt_token(emu, http)["access_token"]
        page = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=40).json()
        assert page["paging"]["totalElements"] == 250 and page["paging"]["totalPages"] == 7
        assert "previousPage" not in page["navigation"]
        ids, times, pages = [], [], 0
        while True:
            pages += 1
            ids += [r["id"] for r in page["records"]]
            times += [r["startTime"] for r in page["records"]]
            nxt = page["navigation"].get("nextPage")
            if nxt is None:
                break
            assert nxt["uri"].startswith(emu.base_url + "/restapi/v1.0/")
            page = api(emu, http, access, nxt["uri"]).json()
        assert pages == 7 and page["paging"]["page"] == 7
        assert page["navigation"]["lastPage"]["uri"].endswith("page=7&perPage=40")
        assert "previousPage" in page["navigation"]
        assert len(ids) == 250 and len(set(ids)) == 250
        assert times == sorted(times, reverse=True) and len(set(times)) == 250


def test_call_log_defaults_to_the_last_24_hours_and_100_per_page(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    body = api(emu, http, access, CALL_LOG).json()
    total = body["paging"]["totalElements"]
    assert 100 <= total <= 400
    assert body["paging"]["perPage"] == 100 and len(body["records"]) == 100
    newest = body["records"][0]
    assert newest["startTime"].endswith("Z")
    for field in (
        "id",
        "uri",
        "sessionId",
        "telephonySessionId",
        "startTime",
        "duration",
        "durationMs",
        "type",
        "direction",
        "action",
        "result",
        "from",
        "to",
    ):
        assert field in newest


def test_per_page_above_1000_is_clamped_and_max_means_1000(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    for per_page in ("1000", "1001", "5000", "max"):
        body = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=per_page).json()
        assert len(body["records"]) == 1000 and body["paging"]["perPage"] == 1000
    for bad in ("0", "ten", "-5", "MAX"):
        response = api(emu, http, access, CALL_LOG, perPage=bad)
        assert response.status_code == 400
        assert (
            error_code(response) == "CMN-101" and response.json()["errors"][0]["parameterName"] == "perPage"
        )


def test_date_range_includes_date_from_and_excludes_date_to(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    records = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=50).json()["records"]
    newer, older = records[10]["startTime"], records[30]["startTime"]
    window = api(emu, http, access, CALL_LOG, dateFrom=older, dateTo=newer, perPage=1000).json()["records"]
    assert [r["id"] for r in window] == [r["id"] for r in records[11:31]]
    bad = api(emu, http, access, CALL_LOG, dateFrom="yesterday")
    assert bad.status_code == 400 and error_code(bad) == "CMN-101"


def test_type_and_direction_filters_select_matching_records(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    everything = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000).json()["records"]
    faxes = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000, type="Fax").json()["records"]
    assert faxes and all(r["type"] == "Fax" for r in faxes)
    assert [r["id"] for r in faxes] == [r["id"] for r in everything if r["type"] == "Fax"]
    inbound_voice = api(
        emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000, type="Voice", direction="Inbound"
    ).json()["records"]
    assert [r["id"] for r in inbound_voice] == [
        r["id"] for r in everything if r["type"] == "Voice" and r["direction"] == "Inbound"
    ]
    both = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000, type=["Voice", "Fax"]).json()
    assert len(both["records"]) == 1000
    assert api(emu, http, access, CALL_LOG, type="Sms").status_code == 400
    results = {r["result"] for r in everything}
    assert {"Accepted", "Missed", "Voicemail", "Call connected"} <= results
    assert any("recording" in r for r in everything)


def test_detailed_view_adds_legs_and_last_modified_time(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    simple = api(emu, http, access, CALL_LOG, perPage=5).json()["records"][0]
    assert "legs" not in simple and "lastModifiedTime" not in simple
    detailed = api(emu, http, access, CALL_LOG, perPage=5, view="Detailed").json()["records"][0]
    assert detailed["legs"] and detailed["legs"][0]["legType"] and detailed["lastModifiedTime"]
    assert detailed["id"] == simple["id"]


def test_a_record_uri_resolves_to_the_record(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    record = api(emu, http, access, CALL_LOG, perPage=1).json()["records"][0]
    assert api(emu, http, access, record["uri"]).json() == record


def test_million_record_log_serves_full_pages_from_either_end():
    with running(call_records=1_000_000) as (emu, http):
        access = jwt_token(emu, http)["access_token"]
        first = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000).json()
        assert first["paging"]["totalElements"] == 1_000_000 and first["paging"]["totalPages"] == 1000
        assert len(first["records"]) == 1000
        last = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000, page=1000).json()
        assert len(last["records"]) == 1000 and "nextPage" not in last["navigation"]
        assert last["paging"]["pageEnd"] == 999_999
        assert first["records"][-1]["startTime"] > last["records"][0]["startTime"]
        faxes = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, perPage=1000, type="Fax", page=30).json()
        assert len(faxes["records"]) == 1000 and all(r["type"] == "Fax" for r in faxes["records"])
        assert 40_000 < faxes["paging"]["totalElements"] < 90_000


def test_same_seed_and_anchor_give_the_same_records_and_another_seed_differs():
    def first_ids(seed: int) -> list[str]:
        with running(seed=seed, anchor_time=1_750_000_000.0) as (emu, http):
            access = jwt_token(emu, http)["access_token"]
            body = api(emu, http, access, CALL_LOG, dateFrom=FAR_PAST, dateTo="2030-01-01", perPage=20).json()
            return [(r["id"], r["startTime"], r["result"]) for r in body["records"]]

    assert first_ids(7) == first_ids(7)
    assert first_ids(7) != first_ids(8)


# -- rate limits --------------------------------------------------------------------------------------


def test_heavy_group_answers_429_with_retry_after_and_each_request_restarts_the_penalty():
    with running() as (emu, http):
        access = jwt_token(emu, http)["access_token"]
        emu.set(rate_limits_enabled=True, rate_limits={"Heavy": 10}, rate_window=2.0, rate_penalty=1.0)
        for expected_remaining in range(9, -1, -1):
            ok = api(emu, http, access, CALL_LOG, perPage=1)
            assert ok.status_code == 200
            assert ok.headers["X-Rate-Limit-Group"] == "Heavy"
            assert ok.headers["X-Rate-Limit-Limit"] == "10"
            assert ok.headers["X-Rate-Limit-Window"] == "2"
            assert ok.headers["X-Rate-Limit-Remaining"] == str(expected_remaining)
        refused = api(emu, http, access, CALL_LOG, perPage=1)
        assert refused.status_code == 429
        assert refused.json()["errorCode"] == "CMN-301" and error_code(refused) == "CMN-301"
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["X-Rate-Limit-Remaining"] == "0"
        assert api(emu, http, access, "/account/~").headers["X-Rate-Limit-Group"] == "Light"  # other group
        time.sleep(0.6)
        assert api(emu, http, access, CALL_LOG).status_code == 429  # restarts the 1 s penalty
        time.sleep(0.6)
        assert api(emu, http, access, CALL_LOG).status_code == 429  # 1.2 s after the first 429: still boxed
        time.sleep(1.1)
        assert api(emu, http, access, CALL_LOG, perPage=1).status_code == 200
        assert emu.counters()["rate_limited"] == 3


def test_auth_group_allows_five_requests_a_minute_by_default():
    with Emulator(EmulatorConfig()) as emu, requests.Session() as http:
        for _ in range(5):
            response = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT)
            assert response.status_code == 200 and response.headers["X-Rate-Limit-Group"] == "Auth"
        refused = token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert refused.json()["errorCode"] == "CMN-301"


def _auth_remaining(response: requests.Response) -> str | None:
    """What the Auth group has left after `response`, None when it was not counted in that group."""
    if response.headers.get("X-Rate-Limit-Group") != "Auth":
        assert "X-Rate-Limit-Remaining" not in response.headers
        return None
    return response.headers["X-Rate-Limit-Remaining"]


def test_a_browser_sign_in_a_refresh_and_a_logout_fit_in_one_minute_of_the_auth_group():
    # RingCentral's spec gives `x-throttling-group: Auth` to authorize, token and revoke; the sign-in and
    # consent pages the authorize 302 leads to are its login host's and count in no group.
    with running(rate_limits_enabled=True) as (emu, http):
        verifier, challenge = pkce()
        query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT}
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        url = f"{emu.base_url}/restapi/oauth/authorize"
        sent = http.get(url, params=query, allow_redirects=False, timeout=5)
        page = http.get(sent.headers["Location"], allow_redirects=False, timeout=5)
        approved = submit(emu, http, page, "approve")
        code = callback_params(approved)["code"]
        exchange = {"code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        signed_in = token(emu, http, grant_type="authorization_code", **exchange)
        refresh = signed_in.json()["refresh_token"]
        refreshed = token(emu, http, grant_type="refresh_token", refresh_token=refresh)
        revoked = http.post(
            f"{emu.base_url}/restapi/oauth/revoke",
            data={"token": refreshed.json()["refresh_token"]},
            auth=BASIC,
            timeout=5,
        )
        answers = [sent, page, approved, signed_in, refreshed, revoked]
        assert [a.status_code for a in answers] == [302, 200, 302, 200, 200, 200]
        assert [_auth_remaining(a) for a in answers] == ["4", None, None, "3", "2", "1"]
        assert emu.counters()["rate_limited"] == 0


def test_the_authorize_request_counts_in_the_auth_group_and_the_consent_page_is_never_refused():
    with running(rate_limits_enabled=True) as (emu, http):
        page = authorize(emu, http, state="s")  # authorize: 1 of the 5
        for _ in range(4):
            assert token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT).status_code == 200
        approved = submit(emu, http, page, "approve")  # the group is spent; the page still answers
        assert approved.status_code == 302 and "code" in callback_params(approved)
        assert _auth_remaining(approved) is None
        url = f"{emu.base_url}/restapi/oauth/authorize"
        fields = {"client_id": CLIENT_ID, "response_type": "code"}
        # The spec gives the Auth group to both forms of the authorize request, GET and POST.
        for refused in (
            http.get(url, params=fields, allow_redirects=False, timeout=5),
            http.post(url, data=fields, allow_redirects=False, timeout=5),
        ):
            assert refused.status_code == 429 and error_code(refused) == "CMN-301"
            assert refused.headers["X-Rate-Limit-Group"] == "Auth"


# -- faults -------------------------------------------------------------------------------------------


def test_fault_injection_answers_503_at_roughly_the_configured_rate(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    emu.set(fault_rate=0.3, fault_kinds=("503",))
    statuses = [api(emu, http, access, "/account/~").status_code for _ in range(200)]
    unavailable = statuses.count(503)
    assert 35 <= unavailable <= 85 and statuses.count(200) == 200 - unavailable
    assert emu.counters()["faults"] == unavailable == emu.counters()["faults_by_kind"]["503"]
    assert token(emu, http, grant_type=JWT_GRANT, assertion=DEMO_JWT).status_code == 200  # scope "api"


def test_fault_injection_drops_connections_at_roughly_the_configured_rate(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    emu.set(fault_rate=0.3, fault_kinds=("drop",))
    dropped = 0
    for _ in range(200):
        try:
            assert api(emu, http, access, "/account/~").status_code == 200
        except requests.ConnectionError:
            dropped += 1
    assert 35 <= dropped <= 85
    assert emu.counters()["faults_by_kind"]["drop"] == dropped


def test_a_dropped_request_has_no_effect(emu_http):
    emu, http = emu_http
    body = jwt_token(emu, http)
    emu.set(fault_rate=1.0, fault_kinds=("drop",), fault_scope="all")
    with pytest.raises(requests.ConnectionError):
        http.post(
            f"{emu.base_url}/restapi/oauth/revoke",
            data={"token": body["access_token"]},
            auth=BASIC,
            timeout=5,
        )
    emu.set(fault_rate=0.0)
    assert api(emu, http, body["access_token"], "/account/~").status_code == 200
    assert emu.counters()["revokes"] == 0


def test_slow_fault_delays_the_answer(emu_http):
    emu, http = emu_http
    access = jwt_token(emu, http)["access_token"]
    emu.set(fault_rate=1.0, fault_kinds=("slow",), slow_seconds=0.3)
    started = time.monotonic()
    assert api(emu, http, access, "/account/~").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_tokens_are_issued_at_the_length_asked_for_and_work(emu_http):
    """RingCentral's tokens can be long: `token_length` makes the emulator issue such tokens, for the
    client's storage to meet them (a keyring's size limit)."""
    emu, http = emu_http
    emu.set(token_length=1000)
    first = jwt_token(emu, http)
    assert (len(first["access_token"]), len(first["refresh_token"])) == (1000, 1000)
    assert api(emu, http, first["access_token"], "/account/~").status_code == 200
    second = refresh(emu, http, first["refresh_token"]).json()
    assert (len(second["access_token"]), len(second["refresh_token"])) == (1000, 1000)
    assert api(emu, http, second["access_token"], "/account/~").status_code == 200
    token = second["access_token"]
    tampered = token[:-1] + ("y" if token.endswith("x") else "x")  # a token ending in "x" stays itself
    assert api(emu, http, tampered, "/account/~").status_code == 401
    with pytest.raises(ValueError, match="token_length"):
        emu.set(token_length=8)


def test_token_delay_holds_token_answers_after_the_work_until_lowered(emu_http):
    """A slow token endpoint: the refresh has rotated the pair (counted) while its answer is held;
    lowering `token_delay` releases it at once. API calls are not held."""
    emu, http = emu_http
    first = jwt_token(emu, http)
    emu.set(token_delay=60)
    assert api(emu, http, first["access_token"], "/account/~").status_code == 200
    answers: list[requests.Response] = []

    def refresh_elsewhere() -> None:  # its own connection, as another process would have
        with requests.Session() as other:
            answers.append(refresh(emu, other, first["refresh_token"]))

    worker = threading.Thread(target=refresh_elsewhere)
    worker.start()
    deadline = time.monotonic() + 10
    while emu.counters()["refreshes"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emu.counters()["refreshes"] == 1 and answers == []  # rotated, answer held
    assert emu.counters()["held"] == {"token": 1}
    emu.set(token_delay=0)
    worker.join(10)
    assert answers and answers[0].status_code == 200
    with pytest.raises(ValueError, match="token_delay"):
        emu.set(token_delay=-1)


# -- server, control, CLI -----------------------------------------------------------------------------


def test_one_keep_alive_connection_serves_many_requests(emu_http):
    emu, _ = emu_http
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        conn.request("GET", "/restapi/v1.0/account/~")
        first = conn.getresponse()
        assert first.status == 401 and first.read()
        sock = conn.sock
        for path in ("/__emulator/counters", "/restapi/v1.0/account/~", "/"):
            conn.request("GET", path)
            response = conn.getresponse()
            assert int(response.headers["Content-Length"]) == len(response.read())
            assert conn.sock is sock
    finally:
        conn.close()


def test_stop_hangs_up_open_connections_and_frees_the_port():
    emu = Emulator(EmulatorConfig()).start()
    port = emu.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200 and response.read()
    idle: socket.socket = conn.sock  # kept alive, waiting for a next request
    emu.stop()
    emu.stop()  # idempotent
    assert idle.recv(1) == b""  # the server hung up
    conn.close()
    with Emulator(EmulatorConfig(), port=port) as again:
        assert again.port == port


def test_control_endpoints_drive_the_emulator_over_http(emu_http):
    emu, http = emu_http
    body = jwt_token(emu, http)
    control = f"{emu.base_url}/__emulator"
    counters = http.get(f"{control}/counters", timeout=5).json()
    assert counters["grants"] == {JWT_GRANT: 1} and counters["requests"] == 1
    changed = http.post(
        f"{control}/config", json={"strict_rotation": True, "rate_limits": {"Heavy": 3}}, timeout=5
    )
    assert changed.status_code == 200 and changed.json()["rate_limits"]["Heavy"] == 3
    assert emu.config.strict_rotation is True and emu.config.rate_limits["Light"] == 50
    assert http.post(f"{control}/config", json={"bogus": 1}, timeout=5).status_code == 400
    assert http.post(f"{control}/config", json={"fault_rate": 2}, timeout=5).status_code == 400
    assert http.post(f"{control}/expire-access-tokens", timeout=5).json() == {"expired": 1}
    assert error_code(api(emu, http, body["access_token"], "/account/~")) == "OAU-128"
    assert http.post(f"{control}/revoke-all", timeout=5).json() == {"ended": 1}
    assert emu.counters()["requests"] == 2  # control calls are not counted


def test_counters_are_a_snapshot_and_set_rejects_unknown_switches(emu_http):
    emu, _ = emu_http
    snapshot = emu.counters()
    snapshot["grants"]["x"] = 1
    assert emu.counters()["grants"] == {}
    with pytest.raises(ValueError, match="unknown switch"):
        emu.set(no_such_switch=True)


def test_emulator_refuses_to_bind_a_non_loopback_address():
    with pytest.raises(ValueError, match="loopback"):
        Emulator(EmulatorConfig(), host="0.0.0.0")  # noqa: S104
    result = cli_runner().invoke(emulator_command, ["--host", "192.0.2.1"])
    assert result.exit_code == 2 and "not a loopback address" in result.stderr


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_python_m_ringcentral_emulator_prints_the_listening_line_serves_and_exits_cleanly_on_a_signal(
    stop_signal,
):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ringcentral_emulator", "--port", "0", "--no-rate-limits"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=15), "no listening line within 15 s"
        line = proc.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        base = match.group(1)
        media = re.fullmatch(r"media on (http://127\.0\.0\.1:\d+)\n", proc.stdout.readline())
        assert media and media.group(1) != base
        response = requests.post(
            f"{base}/restapi/oauth/token",
            data={"grant_type": JWT_GRANT, "assertion": DEMO_JWT},
            auth=BASIC,
            timeout=5,
        )
        assert response.status_code == 200
        proc.send_signal(stop_signal)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert stdout == ""
    assert "Traceback" not in stderr and CLIENT_ID in stderr and CLIENT_SECRET in stderr
    assert response.json()["access_token"] not in stderr
