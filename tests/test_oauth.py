from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock
from helpers import make_session, serving, token_answer

from rcauth.errors import ForeignOrigin, OAuthError, TransportError, UnexpectedAnswer
from rcauth.oauth import KEPT_HINT, RingCentralOAuth, new_pkce, new_state, pkce_challenge

SERVER = "https://platform.ringcentral.com"
TOKEN_URL = SERVER + "/restapi/oauth/token"
REDIRECT = "http://localhost:5000/oauth2callback"
TOKEN = token_answer(
    "AT-abcdef-1", "RT-abcdef-1", scope="ReadAccounts ReadCallLog", owner_id="101", endpoint_id="e1"
)


# requests-mock's `json=` sets no Content-Type; RingCentral's answers carry this one.
JSON_TYPE = {"Content-Type": "application/json"}


def form(request) -> dict[str, list[str]]:
    return parse_qs(request.text)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_pkce_challenge_is_base64url_sha256_of_verifier() -> None:
    pkce = new_pkce()
    expected = base64.urlsafe_b64encode(hashlib.sha256(pkce.verifier.encode()).digest()).rstrip(b"=").decode()
    assert pkce.challenge == expected
    assert pkce.method == "S256"
    assert 43 <= len(pkce.verifier) <= 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]+", pkce.verifier)


def test_pkce_challenge_matches_rfc7636_appendix_b() -> None:
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_pkce_and_state_are_fresh_every_time() -> None:
    assert new_pkce().verifier != new_pkce().verifier
    assert new_state() != new_state()
    assert len(new_state()) >= 43


def test_authorization_url_carries_pkce_state_and_exact_redirect() -> None:
    pkce = new_pkce()
    url = RingCentralOAuth(SERVER, "cid", "secret").authorization_url(
        redirect_uri=REDIRECT, state="st-1", pkce=pkce
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SERVER + "/restapi/oauth/authorize"
    query = parse_qs(parts.query)
    assert query == {
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": [REDIRECT],
        "state": ["st-1"],
        "code_challenge": [pkce.challenge],
        "code_challenge_method": ["S256"],
    }


def test_code_exchange_uses_basic_auth_and_sends_verifier() -> None:
    oauth = RingCentralOAuth(SERVER, "cid", "s3cret")
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        token = oauth.exchange_code("the-code", redirect_uri=REDIRECT, code_verifier="v" * 50)
    request = m.request_history[0]
    assert request.headers["Authorization"] == basic("cid", "s3cret")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(request) == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": [REDIRECT],
        "code_verifier": ["v" * 50],
    }
    assert token["access_token"] == "AT-abcdef-1"


def test_public_client_sends_client_id_in_body_and_no_authorization() -> None:
    oauth = RingCentralOAuth(SERVER, "public-id", None)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        oauth.exchange_code("c0de-123", redirect_uri=REDIRECT, code_verifier="v" * 43)
        oauth.refresh("RT-old-123")
    exchange, refresh = m.request_history
    assert "Authorization" not in exchange.headers
    assert form(exchange)["client_id"] == ["public-id"]
    assert "Authorization" not in refresh.headers
    assert form(refresh) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["RT-old-123"],
        "client_id": ["public-id"],
    }


def test_refresh_sends_refresh_grant_with_basic_auth() -> None:
    oauth = RingCentralOAuth(SERVER, "cid", "s3cret")
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        token = oauth.refresh("RT-old-123")
    request = m.request_history[0]
    assert request.headers["Authorization"] == basic("cid", "s3cret")
    assert form(request) == {"grant_type": ["refresh_token"], "refresh_token": ["RT-old-123"]}
    assert token["refresh_token"] == "RT-abcdef-1"


def test_invalid_grant_keeps_ringcentral_error_code() -> None:
    body = {
        "error": "invalid_grant",
        "error_description": "Token is expired",
        "errors": [{"errorCode": "OAU-211", "message": "Token is revoked"}],
    }
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-dead-123")
    error = caught.value
    assert (error.oauth_error, error.error_code, error.status) == ("invalid_grant", "OAU-211", 400)
    assert error.session_is_dead
    assert str(error) == "OAU-211: Token is expired (HTTP 400)"


def test_rotated_client_secret_means_session_is_dead() -> None:
    body = {"error": "invalid_client", "errors": [{"errorCode": "OAU-146", "message": "Invalid client"}]}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=401, json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "old-secret").refresh("RT-1234567")
    assert caught.value.session_is_dead and caught.value.error_code == "OAU-146"


def test_server_error_on_refresh_is_not_a_dead_session() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=503, text="busy")
        with pytest.raises(TransportError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert not isinstance(caught.value, OAuthError)


def test_unreachable_server_is_a_transport_error_without_secrets() -> None:
    import requests

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, exc=requests.ConnectionError("boom RT-secret-xyz"))
        with pytest.raises(TransportError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-secret-xyz")
    assert "RT-secret-xyz" not in str(caught.value)


def test_revoke_posts_token_with_basic_auth() -> None:
    with requests_mock.Mocker() as m:
        m.post(SERVER + "/restapi/oauth/revoke", status_code=200, text="")
        RingCentralOAuth(SERVER, "cid", "s3cret").revoke("RT-abc-123")
    request = m.request_history[0]
    assert request.headers["Authorization"] == basic("cid", "s3cret")
    assert form(request) == {"token": ["RT-abc-123"]}


def test_jwt_bearer_grant_sends_assertion() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        RingCentralOAuth(SERVER, "cid", "s3cret").jwt_bearer("eyJhbGciOi.jwt.cred")
    assert form(m.request_history[0]) == {
        "grant_type": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "assertion": ["eyJhbGciOi.jwt.cred"],
    }


@pytest.mark.parametrize("before", [None, "0"])
def test_insecure_transport_is_allowed_only_during_a_loopback_token_call(
    monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    """oauthlib's http switch is on for the length of a call to the loopback emulator (the calls
    succeed over http) and back as it was after: never left on for the rest of the process."""
    import os

    from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig

    if before is None:
        monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    else:
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", before)
    app = App()
    with Emulator(EmulatorConfig(apps=(app,)), host="127.0.0.1", port=0) as emu:
        oauth = RingCentralOAuth(emu.base_url, app.client_id, app.client_secret)
        assert os.environ.get("OAUTHLIB_INSECURE_TRANSPORT") == before
        url = oauth.authorization_url(redirect_uri=app.redirect_uris[0], state=new_state(), pkce=new_pkce())
        assert url.startswith(emu.base_url) and os.environ.get("OAUTHLIB_INSECURE_TRANSPORT") == before
        token = oauth.jwt_bearer(DEMO_JWT)
        assert os.environ.get("OAUTHLIB_INSECURE_TRANSPORT") == before
        oauth.refresh(token["refresh_token"])
        assert os.environ.get("OAUTHLIB_INSECURE_TRANSPORT") == before


def test_insecure_transport_is_never_switched_on_for_a_remote_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    seen: list[str | None] = []

    def token(request, context):
        seen.append(os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"))
        return TOKEN

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=token)
        RingCentralOAuth(SERVER, "cid", "s").jwt_bearer("eyJhbGciOi.jwt.cred")
    assert seen == [None] and "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


@pytest.mark.parametrize(
    ("refresh_token", "named_by"), [("RT-abcdef-1", "RT-abcdef-1"), (None, "AT-abcdef-1")]
)
def test_revoke_session_ends_the_grant_with_the_app_that_made_it(
    refresh_token: str | None, named_by: str
) -> None:
    from rcauth.oauth import revoke_session

    session = make_session(
        server=SERVER, client_secret="s3cret", access_token="AT-abcdef-1", refresh_token=refresh_token
    )
    with requests_mock.Mocker() as m:
        m.post(SERVER + "/restapi/oauth/revoke", status_code=200)
        revoke_session(session)
    assert form(m.request_history[0]) == {"token": [named_by]}
    assert m.request_history[0].headers["Authorization"] == basic("cid", "s3cret")


def test_revoke_session_raises_what_refused_it() -> None:
    from rcauth.oauth import revoke_session

    session = make_session(
        server=SERVER, client_secret=None, access_token="AT-abcdef-1", refresh_token="RT-abcdef-1"
    )
    with requests_mock.Mocker() as m:
        m.post(SERVER + "/restapi/oauth/revoke", status_code=400, json={"error": "invalid_request"})
        with pytest.raises(OAuthError) as caught:
            revoke_session(session)
    assert caught.value.oauth_error == "invalid_request"
    assert form(m.request_history[0]) == {"token": ["RT-abcdef-1"], "client_id": ["cid"]}


# -- issue 10 §7: what ends a session, pinned --------------------------------------------------------
def test_a_400_unauthorized_client_is_a_dead_session() -> None:
    """RingCentral answers 400 `unauthorized_client` when the app may no longer use this grant (its
    auth flow changed, the app was disabled): refreshing again cannot help, log in again."""
    body = {
        "error": "unauthorized_client",
        "error_description": "Unauthorized for this grant type",
        "errors": [{"errorCode": "OAU-251", "message": "Unauthorized for this grant type"}],
    }
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert caught.value.oauth_error == "unauthorized_client"
    assert caught.value.session_is_dead
    assert m.call_count == 1  # a 400 is never retried


@pytest.mark.parametrize("oauth_error", ["invalid_grant", "invalid_client", "unauthorized_client"])
def test_each_oauth_verdict_that_ends_a_session_is_dead_whatever_the_status(oauth_error: str) -> None:
    assert OAuthError("refused", oauth_error=oauth_error, status=400).session_is_dead
    assert OAuthError("refused", oauth_error=oauth_error, status=401).session_is_dead


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_busy_or_failing_token_endpoint_is_not_a_dead_session(status: int) -> None:
    assert not OAuthError("busy", status=status).session_is_dead
    assert not OAuthError("busy", oauth_error="temporarily_unavailable", status=status).session_is_dead


def test_a_registered_token_echoed_in_an_oauth_error_is_masked() -> None:
    body = {"error": "invalid_grant", "error_description": "Token RT-echoed-123456 is revoked"}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-echoed-123456")
    assert "RT-echoed-123456" not in str(caught.value)
    assert "Token *** is revoked" in str(caught.value)


def test_refresh_of_a_public_client_sends_its_id_in_the_body_and_no_authorization() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        RingCentralOAuth(SERVER, "cid").refresh("RT-old-123")
    request = m.request_history[0]
    assert "Authorization" not in request.headers
    assert form(request) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["RT-old-123"],
        "client_id": ["cid"],
    }


def test_revoke_of_a_public_client_sends_its_id_and_a_refusal_is_an_error() -> None:
    with requests_mock.Mocker() as m:
        m.post(SERVER + "/restapi/oauth/revoke", status_code=400, json={"error": "invalid_request"})
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid").revoke("RT-abc-123")
    assert form(m.request_history[0]) == {"token": ["RT-abc-123"], "client_id": ["cid"]}
    assert "Authorization" not in m.request_history[0].headers
    assert caught.value.status == 400


# -- mutation testing: what the surviving mutants of oauth.py showed unpinned ----------------------------
@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        ({"error": "invalid_grant", "error_description": "Revoked"}, "Revoked", "invalid_grant"),
        (
            {"error": "invalid_grant", "errors": [{"errorCode": "OAU-213", "message": "Token not found"}]},
            "Token not found",
            "OAU-213",
        ),
        (
            {
                "error": "invalid_request",
                "error_description": "Rate",
                "errorCode": "CMN-301",
                "message": "Request rate exceeded",
                "errors": [{"errorCode": "OAU-1", "message": "first cause"}],
            },
            "Request rate exceeded",
            "CMN-301",
        ),
        ({"error": "invalid_request", "errorCode": "OAU-101"}, "Bad Request", "OAU-101"),
    ],
)
def test_an_oauth_refusal_keeps_ringcentrals_message_and_code(body: dict, message: str, code) -> None:
    """The top level is the answer's summary and `errors[0]` its first cause (`errors.ErrorBody`):
    `errorCode` / `message` win, then `errors[0]`, then the OAuth `error`; the HTTP reason last."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, reason="Bad Request", json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert (caught.value.message, caught.value.error_code, caught.value.status) == (message, code, 400)
    assert caught.value.oauth_error == body.get("error")


@pytest.mark.parametrize(
    ("body", "said", "code"),
    [
        (
            {"errors": [{"errorCode": "OAU-213", "message": "Token not found"}]},
            ": OAU-213: Token not found",
            "OAU-213",
        ),
        (
            {"errorCode": "CMN-301", "message": "Request rate exceeded"},
            ": CMN-301: Request rate exceeded",
            "CMN-301",
        ),
        ({"message": "no code"}, "", None),
        ({}, ", not with RingCentral's JSON (a proxy, captive portal or web filter may be in the way)", None),
    ],
)
def test_a_json_refusal_without_an_oauth_error_is_an_unexpected_answer_that_keeps_its_code(
    body: dict, said: str, code
) -> None:
    """Only an OAuth `error` is RingCentral's verdict on a grant; any other JSON is reported as what
    answered (exit 5, the session kept), still naming RingCentral's errorCode and message."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, reason="Bad Request", json=body, headers=JSON_TYPE)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert not isinstance(caught.value, OAuthError)
    assert str(caught.value) == f"the token endpoint answered HTTP 400 (application/json){said}"
    assert (caught.value.error_code, caught.value.status) == (code, 400)
    assert caught.value.hint == KEPT_HINT


def test_an_oauth_refusal_without_any_text_still_says_it_failed() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, reason="", json={"error": "invalid_request"})
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert caught.value.message == "request failed" and caught.value.error_code == "invalid_request"
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, reason="", text="")
        with pytest.raises(UnexpectedAnswer) as unexpected:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert str(unexpected.value) == (
        "the token endpoint answered HTTP 400 (no content type), not with RingCentral's JSON "
        "(a proxy, captive portal or web filter may be in the way)"
    )
    assert unexpected.value.error_code is None


def test_an_oauth_refusal_keeps_ringcentrals_details() -> None:
    body = {"error": "invalid_request", "errors": [{"errorCode": "OAU-250", "parameterName": "p"}]}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert caught.value.details


def test_the_token_endpoint_retries_only_what_did_not_spend_the_grant() -> None:
    """RingCentral's policy: 429/503 wait for Retry-After, 408/500 retry with a pause, 400 never;
    a read error after sending is not retried (the grant may be spent); 4 tries, 90 s budget."""
    from rcauth.oauth import _token_retry

    policy = _token_retry()
    assert (policy.total, policy.connect, policy.read, policy.status, policy.other) == (3, 3, 0, 3, 0)
    for status in (408, 429, 500, 503):
        assert policy.is_retry("POST", status)
    for status in (400, 401, 403, 404, 409, 501, 502, 504):
        assert not policy.is_retry("POST", status)
    assert (policy.backoff_factor, policy.backoff_jitter, policy.backoff_max) == (0.5, 0.25, 10)
    assert (policy.respect_retry_after_header, policy.retry_after_max) == (True, 60)
    assert policy.raise_on_status is False and policy.budget == 90.0


def test_a_code_exchange_does_not_outwait_a_429_that_would_outlive_the_code() -> None:
    from rcauth.oauth import _token_retry

    policy = _token_retry(short_lived_grant=True)
    assert not policy.is_retry("POST", 429) and policy.is_retry("POST", 503)
    assert policy.retry_after_max == 10 and policy.budget == 20.0


def _rate_limited_token_endpoint(answers: list[int]) -> type[http.server.BaseHTTPRequestHandler]:
    """A token endpoint over a real socket: 429 (RingCentral's CMN-301, Retry-After 60) for each 429 in
    `answers`, then a token."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = answers.pop(0) if answers else 200
            body = TOKEN if status == 200 else {"errorCode": "CMN-301", "message": "Request rate exceeded"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "60")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def test_a_rate_limited_code_exchange_says_so_at_once_and_a_refresh_waits_it_out() -> None:
    # A code lives 60 s: waiting out the Auth group's 60 s penalty would only end in "code expired"
    # a minute later. A refresh token lives for days: its exchange waits (here on a fake clock).
    waits: list[float] = []
    answers = [429, 429]
    with serving(_rate_limited_token_endpoint(answers)) as url:
        oauth = RingCentralOAuth(url, "cid", "s", sleep=waits.append)
        with pytest.raises(UnexpectedAnswer) as caught:
            oauth.exchange_code("code-12345", redirect_uri=REDIRECT, code_verifier="v-12345")
        assert answers == [429] and waits == []  # one request, no wait
        assert str(caught.value) == (
            "the token endpoint answered HTTP 429 (application/json): CMN-301: Request rate exceeded; "
            "RingCentral allows a few sign-in and token requests a minute (its Auth rate-limit group): "
            "try again in 60 s"
        )
        assert oauth.refresh("RT-1234567")["access_token"] == TOKEN["access_token"]
        assert answers == [] and waits == [60]


def test_every_secret_of_a_grant_is_registered_for_redaction_as_soon_as_it_is_known() -> None:
    from rcauth.redact import redact

    answer = {**TOKEN, "id_token": "ID-abcdef-1"}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer)
        oauth = RingCentralOAuth(SERVER, "cid", "the-app-secret")
        oauth.exchange_code("the-auth-code", redirect_uri=REDIRECT, code_verifier="the-verifier-1")
        oauth.jwt_bearer("the-jwt-assertion")
        oauth.refresh("the-old-refresh-token")
    shown = "the-app-secret the-auth-code the-verifier-1 the-jwt-assertion the-old-refresh-token"
    assert redact(shown) == "*** *** *** *** ***"
    assert redact("AT-abcdef-1 RT-abcdef-1 ID-abcdef-1") == "*** *** ***"


@pytest.mark.parametrize("call", ["exchange", "jwt", "refresh", "revoke"])
def test_every_token_request_has_a_timeout_and_an_unreachable_server_is_named(call: str) -> None:
    import requests

    oauth = RingCentralOAuth(SERVER + "/", "cid", "s", timeout=(2.0, 3.0))
    run = {
        "exchange": lambda: oauth.exchange_code("code-12345", redirect_uri=REDIRECT, code_verifier="v-12345"),
        "jwt": lambda: oauth.jwt_bearer("eyJ.jwt.cred"),
        "refresh": lambda: oauth.refresh("RT-1234567"),
        "revoke": lambda: oauth.revoke("RT-1234567"),
    }[call]
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        m.post(SERVER + "/restapi/oauth/revoke", text="")
        run()
        assert m.request_history[0].timeout == (2.0, 3.0)
        assert m.request_history[0].url.startswith(SERVER + "/restapi/oauth/")  # no "//restapi"
        m.post(TOKEN_URL, exc=requests.ConnectionError("refused"))
        m.post(SERVER + "/restapi/oauth/revoke", exc=requests.ConnectionError("refused"))
        with pytest.raises(TransportError) as caught:
            run()
    assert str(caught.value) == "could not reach platform.ringcentral.com: ConnectionError"  # the host
    assert RingCentralOAuth(SERVER, "cid").timeout == (10.0, 30.0)


def test_insecure_transport_is_never_allowed_for_plain_http_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    RingCentralOAuth("http://platform.example.com", "cid", "s")
    RingCentralOAuth("https://127.0.0.1:8443", "cid", "s")
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_a_new_verifier_is_registered_for_redaction_at_once() -> None:
    from rcauth.redact import redact

    pkce = new_pkce()
    assert redact(pkce.verifier) == "***"


@pytest.mark.parametrize("error", [{"code": 7}, ["invalid_grant"], 400])
def test_an_error_that_is_not_a_string_is_no_oauth_error(error) -> None:
    """RFC 6749 §5.2: `error` is a string; anything else is no verdict, so it cannot end a session."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, json={"error": error, "message": "odd"}, headers=JSON_TYPE)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert not isinstance(caught.value, OAuthError)
    assert str(caught.value) == "the token endpoint answered HTTP 400 (application/json)"
    assert caught.value.error_code is None


def test_a_public_apps_jwt_grant_names_the_app_in_the_body() -> None:
    """RFC 6749 §3.2.1: a client without a secret sends its client_id; with Basic auth it does not."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        RingCentralOAuth(SERVER, "public-id").jwt_bearer("eyJhbGciOi.jwt.cred")
        RingCentralOAuth(SERVER, "cid", "s3cret").jwt_bearer("eyJhbGciOi.jwt.cred")
    public, confidential = m.request_history
    assert "Authorization" not in public.headers
    assert form(public) == {
        "grant_type": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "assertion": ["eyJhbGciOi.jwt.cred"],
        "client_id": ["public-id"],
    }
    assert "client_id" not in form(confidential)


# -- mutation testing, session 4: what the surviving mutants of oauth.py showed unpinned ------------------
def test_the_verifier_and_state_carry_the_documented_entropy() -> None:
    """RFC 7636 §4.1 / RFC 6749 §10.10: 64 random octets for the verifier (86 characters), 32 for state."""
    assert {len(new_pkce().verifier) for _ in range(5)} == {86}
    assert {len(new_state()) for _ in range(5)} == {43}


def test_an_oauth_error_body_on_a_5xx_is_no_verdict() -> None:
    """A 500 is the server failing, whatever its body says: never RingCentral's verdict on a grant."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=500, json={"error": "invalid_grant"}, headers=JSON_TYPE)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert not isinstance(caught.value, OAuthError)
    assert (
        str(caught.value)
        == "the token endpoint answered HTTP 500 (application/json): invalid_grant: request failed"
    )
    assert caught.value.status == 500


HTML_TYPE = {"Content-Type": "text/html"}
NOT_JSON = ", not with RingCentral's JSON (a proxy, captive portal or web filter may be in the way)"


def test_a_redirect_on_the_same_server_is_not_reported_as_one() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=307, headers={"Location": SERVER + "/restapi/oauth/token/v2"})
        m.post(TOKEN_URL + "/v2", status_code=400, text="<html>", headers=HTML_TYPE)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert m.call_count == 2
    assert str(caught.value) == "the token endpoint answered HTTP 400 (text/html)" + NOT_JSON


def hand_made_answer(status: int, content_type: str, url: str, request_url: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = content_type
    response.url = url
    response._content = b"<html>"
    if request_url is not None:
        response.request = requests.Request("POST", request_url).prepare()
        response.history = [requests.Response()]
    return response


def test_what_answered_names_the_host_a_redirect_led_to_and_the_proxy_of_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """rcauth's own sessions refuse a redirect to another server (`transport.StayOnOrigin`), but
    `what_answered` reads any response: one that ended elsewhere says where, and the proxy named is
    the one the request went through."""
    from rcauth.oauth import what_answered

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "portal.example")
    answer = hand_made_answer(200, "text/html", "https://portal.example/login", TOKEN_URL)
    assert what_answered(answer) == (
        "HTTP 200 (text/html) after a redirect to portal.example"
        " via proxy HTTPS_PROXY=http://proxy.corp.example:3128"
    )
    bare = hand_made_answer(502, "text/plain", "https://portal.example/x", None)  # no request: its own URL
    assert what_answered(bare) == "HTTP 502 (text/plain)"


def test_a_content_type_is_shown_printable_and_bounded() -> None:
    """A proxy's header is shown as printable ASCII (no terminal escapes), at most 100 characters."""
    from rcauth.oauth import what_answered

    hostile = "text/html\x1b[2J\u00e9" + "x" * 200
    answer = hand_made_answer(400, "placeholder", TOKEN_URL, None)
    answer.headers["Content-Type"] = hostile
    assert what_answered(answer) == "HTTP 400 (" + ("text/html?[2J?" + "x" * 200)[:100] + ")"


@pytest.mark.parametrize("revocation", [200, 503])
def test_a_usable_token_in_an_answer_that_also_carries_an_oauth_error_is_refused(revocation) -> None:
    """A 200 that also carries `error` is an unexpected answer naming why (not a crash). Which half to
    believe is unknowable, so its token, a grant all the same, is revoked; if that fails, the stored
    session is kept for when it can be refreshed (only an error status from RingCentral ends one)."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={**TOKEN, "error": "invalid_grant"}, headers=JSON_TYPE)
        m.post(SERVER + "/restapi/oauth/revoke", status_code=revocation, text="")
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").refresh("RT-1234567")
    assert str(caught.value) == (
        "the token endpoint answered HTTP 200 (application/json) with no usable token: "
        "it also carries an OAuth error (invalid_grant)"
    )
    assert parse_qs(m.request_history[-1].text)["token"] == [TOKEN["refresh_token"]]
    assert caught.value.revoked is (revocation == 200)
    assert caught.value.hint == (None if revocation == 200 else KEPT_HINT)


def test_a_fractional_number_in_a_field_rcauth_does_not_read_does_not_break_a_login() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={**TOKEN, "session_idle_timeout": 1800.5})
        token = RingCentralOAuth(SERVER, "cid", "s").jwt_bearer("eyJhbGciOi.jwt.cred")
    assert token["access_token"] == "AT-abcdef-1" and token["session_idle_timeout"] == 1800.5


def test_a_code_exchange_answered_by_a_proxy_page_is_an_unexpected_answer_and_revokes_nothing() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, text="<html>", headers=HTML_TYPE)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").exchange_code(
                "code-12345", redirect_uri=REDIRECT, code_verifier="v" * 43
            )
    assert str(caught.value) == "the token endpoint answered HTTP 400 (text/html)" + NOT_JSON
    assert [r.url for r in m.request_history] == [TOKEN_URL]


def test_a_token_call_to_a_plain_http_server_elsewhere_is_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """oauthlib's http switch is only for loopback: a remote http server would get the grant in clear."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with requests_mock.Mocker() as m:
        m.post("http://platform.example.com/restapi/oauth/token", json=TOKEN)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth("http://platform.example.com", "cid", "s").jwt_bearer("eyJhbGciOi.jwt.cred")
    assert m.call_count == 0
    assert str(caught.value) == "the token endpoint's answer is not usable (InsecureTransportError)"


def test_a_revoke_answered_by_a_proxy_page_names_the_revoke_endpoint() -> None:
    with requests_mock.Mocker() as m:
        m.post(SERVER + "/restapi/oauth/revoke", status_code=502, text="<html>", headers=HTML_TYPE)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "s").revoke("RT-1234567")
    assert str(caught.value) == "the revoke endpoint answered HTTP 502 (text/html)" + NOT_JSON


def test_revoke_quietly_says_whether_the_session_was_ended() -> None:
    oauth = RingCentralOAuth(SERVER, "cid", "s")
    with requests_mock.Mocker() as m:
        assert oauth.revoke_quietly(None) is False and oauth.revoke_quietly("") is False
        assert m.call_count == 0  # nothing to end: nothing sent
        m.post(SERVER + "/restapi/oauth/revoke", text="")
        assert oauth.revoke_quietly("RT-1234567") is True
        m.post(SERVER + "/restapi/oauth/revoke", status_code=400, json={"error": "invalid_request"})
        assert oauth.revoke_quietly("RT-1234567") is False


def test_only_a_trailing_slash_is_dropped_from_the_server_url() -> None:
    """A host may end in any letter (an internal `SANDBOX`): the token request goes to that host."""
    oauth = RingCentralOAuth("https://SANDBOX/", "cid", "s")
    assert oauth.token_endpoint == "https://SANDBOX/restapi/oauth/token"
    assert oauth.revoke_endpoint == "https://SANDBOX/restapi/oauth/revoke"


# -- mutation testing, session 9: which revocation answers are RingCentral's ------------------------------
REVOKE_URL = SERVER + "/restapi/oauth/revoke"
NOT_RINGCENTRALS = (
    ", which is not RingCentral's answer (a proxy, captive portal or web filter may be in the way)"
)
# Each answer to a revoke, and what it is taken for: None (the session is ended), or the error raised.
REVOCATION_ANSWERS = {
    "200 empty (RingCentral's)": ({"status_code": 200, "text": ""}, None),
    "204 empty": ({"status_code": 204, "text": ""}, None),
    "200 of blank lines, typed as a page": (
        {"status_code": 200, "text": " \r\n", "headers": HTML_TYPE},
        None,
    ),
    "200 JSON": ({"status_code": 200, "text": "{}", "headers": JSON_TYPE}, None),
    "200 JSON, its media type in capitals, spaced, with parameters": (
        {"status_code": 200, "text": "{}", "headers": {"Content-Type": "Application/JSON ; charset=UTF-8"}},
        None,
    ),
    "200 JSON of a +json type": (
        {"status_code": 200, "text": "{}", "headers": {"Content-Type": "application/problem+json"}},
        None,
    ),
    "200 captive portal page": (
        {"status_code": 200, "text": "<html>Sign in to the hotel Wi-Fi</html>", "headers": HTML_TYPE},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 200 (text/html)" + NOT_RINGCENTRALS),
    ),
    "200 text without a content type": (
        {"status_code": 200, "text": "OK"},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 200 (no content type)" + NOT_RINGCENTRALS),
    ),
    "200 page that names JSON in a parameter only": (
        {
            "status_code": 200,
            "text": "<html>",
            "headers": {"Content-Type": "text/html; profile=application/json"},
        },
        (
            UnexpectedAnswer,
            "the revoke endpoint answered HTTP 200 (text/html; profile=application/json)" + NOT_RINGCENTRALS,
        ),
    ),
    "204 page": (
        {"status_code": 204, "text": "<html>Portal</html>", "headers": HTML_TYPE},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 204 (text/html)" + NOT_RINGCENTRALS),
    ),
    "300 empty": (
        {"status_code": 300, "text": ""},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 300 (no content type)" + NOT_RINGCENTRALS),
    ),
    "300 JSON": (
        {"status_code": 300, "text": "{}", "headers": JSON_TYPE},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 300 (application/json)" + NOT_RINGCENTRALS),
    ),
    "302 on the server": (
        {"status_code": 302, "text": "", "headers": {"Location": "/restapi/oauth/revoke/v2"}},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 302 (no content type)" + NOT_RINGCENTRALS),
    ),
    "302 to a portal on another host (refused before anything could be sent there)": (
        {"status_code": 302, "text": "", "headers": {"Location": "http://10.0.0.1/portal"}},
        (
            ForeignOrigin,
            "refusing to send the session's token to 'http://10.0.0.1/portal': the server at "
            "platform.ringcentral.com redirected there; rcauth does not follow a redirect to another server",
        ),
    ),
    "307 on the server": (
        {"status_code": 307, "text": "", "headers": {"Location": SERVER + "/restapi/oauth/revoke/v2"}},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 307 (no content type)" + NOT_RINGCENTRALS),
    ),
    "400 OAuth error": (
        {"status_code": 400, "json": {"error": "invalid_request", "message": "Token is missing"}},
        (OAuthError, "invalid_request: Token is missing (HTTP 400)"),
    ),
    "403 page": (
        {"status_code": 403, "text": "<html>Blocked</html>", "headers": HTML_TYPE},
        (UnexpectedAnswer, "the revoke endpoint answered HTTP 403 (text/html)" + NOT_JSON),
    ),
}


@pytest.mark.parametrize(
    ("answer", "taken_for"), list(REVOCATION_ANSWERS.values()), ids=list(REVOCATION_ANSWERS)
)
def test_what_each_kind_of_revocation_answer_is_taken_for(answer: dict, taken_for) -> None:
    """RingCentral revokes with a 2xx whose body is empty or JSON (its OpenAPI spec: 200, no body). Any
    other answer came from someone else (a captive portal's page, a redirect, which is never followed):
    the session may still be live, and the caller is told so, with what answered and its status."""
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, **answer)
        # Were a redirect followed, what it leads to would look like a revocation.
        m.post(SERVER + "/restapi/oauth/revoke/v2", text="")
        m.get(SERVER + "/restapi/oauth/revoke/v2", text="")
        m.get("http://10.0.0.1/portal", text="")
        m.post("http://10.0.0.1/portal", text="")
        oauth = RingCentralOAuth(SERVER, "cid", "s")
        if taken_for is None:
            oauth.revoke("RT-1234567")
        else:
            kind, message = taken_for
            with pytest.raises(kind) as caught:
                oauth.revoke("RT-1234567")
            assert type(caught.value) is kind
            assert str(caught.value) == message
            if kind is not ForeignOrigin:
                assert caught.value.status == answer["status_code"]
    assert [r.url for r in m.request_history] == [REVOKE_URL]


def test_the_apps_basic_credential_echoed_without_its_scheme_in_a_refusal_is_masked() -> None:
    """A server echoing the request's Authorization value (base64 of `client_id:client_secret`, the
    secret in another spelling) in its error message: the credential rcauth sent, masked, not shown."""
    sent = base64.b64encode(b"the-app-id:the-app-secret-1").decode()
    body = {"error": "invalid_client", "error_description": f"unknown client credentials {sent}"}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=401, json=body, headers=JSON_TYPE)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "the-app-id", "the-app-secret-1").refresh("RT-1234567")
    assert m.request_history[0].headers["Authorization"] == f"Basic {sent}"
    assert str(caught.value) == "invalid_client: unknown client credentials *** (HTTP 401)"


def test_the_compliance_hook_hands_oauthlib_the_servers_answer_with_only_its_body_checked() -> None:
    """requests-oauthlib's compliance hooks return the response it reads on: the server's answer as
    it came (status, reason, headers, URL, request, redirects), its body the checked, clamped token.
    requests-oauthlib 2.0.0 reads only the body after the hook; pyproject admits any later 2.x."""
    import json

    from rcauth.oauth import _token_answer
    from rcauth.session import ACCESS_TOKEN_MAX_LIFETIME

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=307, headers={"Location": TOKEN_URL + "/v2"})
        m.post(
            TOKEN_URL + "/v2",
            json={**TOKEN, "expires_in": 10**400},
            headers={**JSON_TYPE, "X-Request-Id": "r-1"},
            reason="Fine",
        )
        received = requests.post(TOKEN_URL, data={"grant_type": "refresh_token"}, timeout=5)
    issued: list[str] = []
    handed_on = _token_answer(received, issued)
    assert handed_on.status_code == 200 and handed_on.reason == "Fine"
    assert handed_on.headers["X-Request-Id"] == "r-1" and handed_on.url == TOKEN_URL + "/v2"
    assert handed_on.request is received.request and handed_on.request.url == TOKEN_URL + "/v2"
    assert [r.status_code for r in handed_on.history] == [307]
    assert json.loads(handed_on.text) == {**TOKEN, "expires_in": ACCESS_TOKEN_MAX_LIFETIME}
    assert issued == [TOKEN["refresh_token"]]
