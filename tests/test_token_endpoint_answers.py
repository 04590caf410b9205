"""What the token endpoint's answers mean (issue 10, point 3), at the HTTP layer (requests-mock).

Only an OAuth error body (RFC 6749 §5.2) with `invalid_grant`, `invalid_client` or
`unauthorized_client` ends a session; any other failure (an HTML page, plain text, a 5xx, a JSON
without `error`) is an `UnexpectedAnswer` (exit 5) that names what answered. A 200 must hold a usable
token before anything of it is stored; absurd lifetimes are clamped to RingCentral's maxima.
"""

from __future__ import annotations

import json
import math
import time
from urllib.parse import parse_qs

import pytest
import requests
import requests_mock
from helpers import make_session, token_answer
from hypothesis import given
from hypothesis import strategies as st

from rcauth.client import ApiClient
from rcauth.errors import (
    ExitCode,
    NotLoggedIn,
    OAuthError,
    RcauthError,
    SessionExpired,
    TransportError,
    UnexpectedAnswer,
)
from rcauth.oauth import KEPT_HINT, RingCentralOAuth
from rcauth.session import (
    ACCESS_TOKEN_MAX_LIFETIME,
    REFRESH_TOKEN_MAX_LIFETIME,
    Session,
)
from rcauth.store import MemoryStore
from rcauth.transport import proxy_in_use

SERVER = "https://platform.ringcentral.com"
TOKEN_URL = SERVER + "/restapi/oauth/token"
REVOKE_URL = SERVER + "/restapi/oauth/revoke"
EXT = SERVER + "/restapi/v1.0/account/~/extension/~"
GOOD = token_answer("AT-new-2", "RT-new-2", scope="ReadAccounts", owner_id="101")
HTML = "<html><body><h1>Blocked by the web filter</h1></body></html>"


def stored_session() -> Session:
    """Due: its access token expired 5 s ago, so the next call refreshes."""
    return make_session(-5, server=SERVER, access_token="AT-old-1", refresh_token="RT-old-1", owner_id="101")


# -- failures: who decides that a session is over ---------------------------------------------------
NOT_A_VERDICT = {
    "HTML 400": dict(status_code=400, text=HTML, headers={"Content-Type": "text/html; charset=utf-8"}),
    "HTML 401": dict(status_code=401, text=HTML, headers={"Content-Type": "text/html"}),
    "text 502": dict(status_code=502, text="Bad Gateway", headers={"Content-Type": "text/plain"}),
    "JSON 403 without error": dict(
        status_code=403,
        json={"errorCode": "CMN-408", "message": "In order to call this API endpoint, ..."},
    ),
    "JSON 400 without error": dict(status_code=400, json={"message": "Bad request"}),
    "JSON 503 with an OAuth error": dict(status_code=503, json={"error": "invalid_grant"}),
    "empty 401": dict(status_code=401, text=""),
}
VERDICTS = {
    "invalid_grant": (400, "OAU-211"),
    "invalid_client": (401, "OAU-146"),
    "unauthorized_client": (403, "OAU-112"),
}


@pytest.mark.parametrize("answer", list(NOT_A_VERDICT.values()), ids=list(NOT_A_VERDICT))
def test_refresh_answered_by_something_other_than_an_oauth_error_is_a_transport_failure(answer) -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, **answer)
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "sec").refresh("RT-old-1")
    error = caught.value
    assert isinstance(error, TransportError) and not isinstance(error, OAuthError)
    assert error.exit_code == ExitCode.API
    assert error.status == answer["status_code"]
    content_type = answer.get("headers", {}).get("Content-Type")
    expected = f"the token endpoint answered HTTP {answer['status_code']}"
    assert str(error).startswith(expected + (f" ({content_type})" if content_type else ""))
    assert "session is kept" in error.hint
    assert "<html" not in str(error)


@pytest.mark.parametrize("oauth_error", list(VERDICTS))
def test_only_an_oauth_error_body_is_ringcentrals_verdict_that_the_session_is_dead(oauth_error) -> None:
    status, code = VERDICTS[oauth_error]
    body = {"error": oauth_error, "error_description": "no", "errors": [{"errorCode": code}]}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=status, json=body)
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "sec").refresh("RT-old-1")
    assert caught.value.session_is_dead
    assert (caught.value.oauth_error, caught.value.error_code) == (oauth_error, code)


def test_other_oauth_errors_do_not_end_a_session() -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, json={"error": "invalid_request"})
        with pytest.raises(OAuthError) as caught:
            RingCentralOAuth(SERVER, "cid", "sec").refresh("RT-old-1")
    assert not caught.value.session_is_dead


@pytest.mark.parametrize("answer", list(NOT_A_VERDICT.values()), ids=list(NOT_A_VERDICT))
def test_client_keeps_the_session_when_the_refresh_is_not_answered_by_ringcentral(answer) -> None:
    store = MemoryStore()
    store.save(stored_session())
    before = store.load()
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, **answer)
        with pytest.raises(UnexpectedAnswer):
            client.get_json("/restapi/v1.0/account/~/extension/~")
    assert store.load() == before


@pytest.mark.parametrize("oauth_error", list(VERDICTS))
def test_client_ends_the_session_on_ringcentrals_verdict(oauth_error) -> None:
    status, code = VERDICTS[oauth_error]
    store = MemoryStore()
    store.save(stored_session())
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, status_code=status, json={"error": oauth_error, "errors": [{"errorCode": code}]})
        with pytest.raises(SessionExpired):
            client.get_json("/restapi/v1.0/account/~/extension/~")
    assert store.load() is None


def test_the_proxy_is_named_with_its_credentials_masked(monkeypatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_in_use(TOKEN_URL) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://corp%5Cjdoe:S3cret-pw@proxy.corp.example:3128")
    assert proxy_in_use(TOKEN_URL) == "HTTPS_PROXY=http://***@proxy.corp.example:3128"
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, status_code=400, text=HTML, headers={"Content-Type": "text/html"})
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "sec").refresh("RT-old-1")
    assert "HTTP 400 (text/html) via proxy HTTPS_PROXY=http://***@proxy.corp.example:3128" in str(
        caught.value
    )
    assert "S3cret-pw" not in str(caught.value) and "jdoe" not in str(caught.value)
    monkeypatch.setenv("NO_PROXY", "platform.ringcentral.com")
    assert proxy_in_use(TOKEN_URL) is None  # requests' own rule: this host goes direct


# -- successes: a token answer must hold a usable token --------------------------------------------
UNUSABLE = {
    "HTML 200": dict(text=HTML, headers={"Content-Type": "text/html"}),
    "empty 200": dict(text=""),
    "JSON array": dict(json=[GOOD]),
    "no access_token": dict(json={k: v for k, v in GOOD.items() if k != "access_token"}),
    "empty access_token": dict(json={**GOOD, "access_token": ""}),
    "numeric access_token": dict(json={**GOOD, "access_token": 12345}),
    "access_token with a line break": dict(json={**GOOD, "access_token": "AT-1\r\nX-Evil: 1"}),
    "no expires_in": dict(json={k: v for k, v in GOOD.items() if k != "expires_in"}),
    "null expires_in": dict(json={**GOOD, "expires_in": None}),
    "text expires_in": dict(json={**GOOD, "expires_in": "an hour"}),
    "boolean expires_in": dict(json={**GOOD, "expires_in": True}),
    "negative expires_in": dict(json={**GOOD, "expires_in": -3600}),
    "zero expires_in": dict(json={**GOOD, "expires_in": 0}),
    "NaN expires_in": dict(text=json.dumps(GOOD).replace("3600", "NaN", 1)),
    "Infinity expires_in": dict(text=json.dumps(GOOD).replace("3600", "Infinity", 1)),
    "negative refresh_token_expires_in": dict(json={**GOOD, "refresh_token_expires_in": -1}),
    "numeric refresh_token": dict(json={**GOOD, "refresh_token": 42}),
    "a 200 carrying an OAuth error": dict(json={"error": "invalid_grant"}),
}


# The unusable answers that carry no well-formed token: nothing in them names a grant to revoke.
WITHOUT_A_TOKEN = ("HTML 200", "empty 200", "JSON array", "a 200 carrying an OAuth error")
WITH_A_TOKEN = [name for name in UNUSABLE if name not in WITHOUT_A_TOKEN]


def refresh_answered(
    answer: dict, revoke: dict | None = None
) -> tuple[Session, Session | None, RcauthError, list[str]]:
    """A due session's refresh answered with `answer`, and a revocation, if one is made, with `revoke`
    (default: 200): the session stored before and after it, the error raised, the tokens revoked."""
    store = MemoryStore()
    before = stored_session()
    store.save(before)
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, **answer)
        m.post(REVOKE_URL, **(revoke or {"text": ""}))
        with pytest.raises(RcauthError) as caught:
            client.get_json("/restapi/v1.0/account/~/extension/~")
    revoked = [parse_qs(r.text)["token"][0] for r in m.request_history if r.url == REVOKE_URL]
    return before, store.load(), caught.value, revoked


def assert_one_line_naming_the_answer(message: str) -> None:
    assert "the token endpoint answered HTTP 200" in message
    assert ("with no usable token: " in message or "which is not a token" in message) and "\n" not in message
    assert "AT-new-2" not in message and "RT-new-2" not in message


@pytest.mark.parametrize("name", WITHOUT_A_TOKEN)
def test_an_unusable_refresh_answer_without_a_token_is_a_clear_error_and_the_session_is_kept(name) -> None:
    before, after, error, revoked = refresh_answered(UNUSABLE[name])
    assert isinstance(error, UnexpectedAnswer) and error.status == 200
    assert str(error).startswith("the token endpoint answered HTTP 200")
    assert_one_line_naming_the_answer(str(error))
    assert error.hint == KEPT_HINT
    assert revoked == [] and after == before


@pytest.mark.parametrize("name", WITH_A_TOKEN)
def test_an_unusable_refresh_answer_carrying_the_rotated_pair_is_revoked_and_the_session_ends(name) -> None:
    """RingCentral has rotated the pair and spent the stored refresh token (issue 20, invariant 3):
    the token in the answer names the session's only live grant, which rcauth cannot use. It is
    revoked, the stored pair (ended with it) removed, and the error says the session has ended."""
    _, after, error, revoked = refresh_answered(UNUSABLE[name])
    assert isinstance(error, SessionExpired) and error.exit_code == ExitCode.NOT_LOGGED_IN
    assert str(error).startswith("the session has ended: the token endpoint answered HTTP 200")
    assert str(error).endswith("(rcauth revoked the new tokens it could not use)")
    assert_one_line_naming_the_answer(str(error))
    assert error.hint == "run `rcauth login` to sign in again"
    assert revoked == ["AT-new-2" if name == "numeric refresh_token" else "RT-new-2"]
    assert after is None


@pytest.mark.parametrize(
    "revoke",
    [{"status_code": 503, "text": "busy"}, {"exc": requests.exceptions.ConnectTimeout}],
    ids=["answered 503", "unreachable"],
)
def test_an_unusable_refresh_answer_whose_revocation_fails_keeps_the_stored_session(revoke) -> None:
    """Nothing could end the grant: the stored pair stays (RingCentral may still replay its rotation)."""
    before, after, error, revoked = refresh_answered({"json": {**GOOD, "expires_in": "soon"}}, revoke)
    assert isinstance(error, UnexpectedAnswer) and not error.revoked
    assert error.hint == KEPT_HINT
    assert revoked == ["RT-new-2"]
    assert after == before


@pytest.mark.parametrize(
    "absurd",
    ["1e308", "1e400", "9" * 400, '"1e308"', '"' + "9" * 400 + '"'],
    ids=["1e308", "1e400", "400 digits", "1e308 as text", "400 digits as text"],
)
def test_absurd_lifetimes_are_clamped_to_ringcentrals_maxima(absurd) -> None:
    body = json.dumps({**GOOD, "expires_in": 111, "refresh_token_expires_in": 222})
    body = body.replace("111", absurd).replace("222", absurd)
    store = MemoryStore()
    store.save(stored_session())
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, text=body, headers={"Content-Type": "application/json"})
        m.get(EXT, json={"id": 101})
        before = time.time()
        client.get_json("/restapi/v1.0/account/~/extension/~")
    stored = Session.from_json(store.load().to_json())  # reads back, not damaged
    assert stored.access_token == "AT-new-2"
    assert before < stored.access_expires_at <= time.time() + ACCESS_TOKEN_MAX_LIFETIME
    assert before < stored.refresh_expires_at <= time.time() + REFRESH_TOKEN_MAX_LIFETIME


NO_REFRESH_TOKEN = {k: v for k, v in GOOD.items() if not k.startswith("refresh_token")}
ISSUED = {
    "refresh token": ({**GOOD, "expires_in": -1}, "RT-new-2"),
    "access token of a grant without a refresh token": ({**NO_REFRESH_TOKEN, "expires_in": -1}, "AT-new-2"),
    "access token when the refresh token is no text": ({**GOOD, "refresh_token": 42}, "AT-new-2"),
    # Neither looks like a token: the grant is still revoked, by the refresh token as it was sent.
    "refresh token when neither looks like a token": (
        {**GOOD, "refresh_token": "RT new 2", "access_token": "AT new 2"},
        "RT new 2",
    ),
}


@pytest.mark.parametrize("grant", ["jwt", "code"])
@pytest.mark.parametrize(("answer", "revoked"), list(ISSUED.values()), ids=list(ISSUED))
def test_a_new_grant_whose_answer_is_unusable_is_revoked(grant, answer, revoked) -> None:
    """RingCentral caps concurrent sessions per user and app: a token rcauth cannot keep is ended,
    named by its refresh token, else by its access token (either ends the whole session)."""
    oauth = RingCentralOAuth(SERVER, "cid", "sec")
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer)
        m.post(REVOKE_URL, text="")
        with pytest.raises(UnexpectedAnswer):
            if grant == "jwt":
                oauth.jwt_bearer("eyJ.jwt.credential")
            else:
                oauth.exchange_code("code-1", redirect_uri="http://127.0.0.1:5000/cb", code_verifier="v" * 43)
    revoke = [r for r in m.request_history if r.url == REVOKE_URL]
    assert len(revoke) == 1 and parse_qs(revoke[0].text) == {"token": [revoked]}


def test_the_tokens_of_an_unusable_answer_are_masked_in_anything_shown() -> None:
    """Nothing of an unusable answer is stored, yet its tokens are secrets: any `*_token` is masked."""
    from rcauth.redact import redact

    answer = {
        **GOOD,
        "access_token": "AT-unusable-31",
        "refresh_token": "RT-unusable-31",
        "id_token": "ID-unusable-31",
        "expires_in": "soon",
    }
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer)
        m.post(REVOKE_URL, text="")
        with pytest.raises(UnexpectedAnswer):
            RingCentralOAuth(SERVER, "cid", "sec").refresh("RT-old-1")
    assert redact("AT-unusable-31 RT-unusable-31 ID-unusable-31") == "*** *** ***"


def test_an_unusable_refresh_answer_is_revoked_with_its_well_formed_token() -> None:
    """The rotation spent the old refresh token: the pair in the answer is the session's only live
    grant, so it is revoked (by the token RingCentral would recognise), as a new grant's would be."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={**GOOD, "refresh_token": "has space", "expires_in": "soon"})
        m.post(REVOKE_URL, text="")
        with pytest.raises(UnexpectedAnswer) as caught:
            RingCentralOAuth(SERVER, "cid", "sec").refresh("RT-old-1")
    assert [r.url for r in m.request_history] == [TOKEN_URL, REVOKE_URL]
    assert parse_qs(m.request_history[-1].text)["token"] == ["AT-new-2"]
    assert caught.value.revoked and caught.value.hint is None


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["3600", " 60 ", "1e308", "-0", "0x10", "nan", "Infinity", "1_000"]),
    st.lists(st.integers(), max_size=2),
)


@given(expires_in=JSON_VALUES, refresh_expires_in=JSON_VALUES)
def test_any_lifetime_gives_a_clear_error_or_a_session_that_reads_back(
    expires_in, refresh_expires_in
) -> None:
    token = {**GOOD, "expires_in": expires_in, "refresh_token_expires_in": refresh_expires_in}
    now = 1_800_000_000.0
    try:
        session = Session.from_token_response(
            token, server=SERVER, client_id="cid", client_secret=None, now=now
        )
    except UnexpectedAnswer as exc:
        assert exc.exit_code == ExitCode.API and "not usable" in str(exc)
        return
    assert Session.from_json(session.to_json()) == session
    assert now <= session.access_expires_at <= now + ACCESS_TOKEN_MAX_LIFETIME
    refresh_at = session.refresh_expires_at
    assert refresh_at is None or (
        math.isfinite(refresh_at) and now <= refresh_at <= now + REFRESH_TOKEN_MAX_LIFETIME
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({**GOOD, "expires_in": -1}, "its expires_in is not a positive number of seconds"),
        ({**GOOD, "access_token": ""}, "it has no access_token"),
        # A success status whose body also says it failed: which to believe is unknowable, so the
        # token is not used, and (being a grant all the same) it is revoked.
        ({**GOOD, "error": "invalid_grant"}, "it also carries an OAuth error (invalid_grant)"),
        ({**GOOD, "error": {"x": 1}}, "it also carries an OAuth error"),
        # The code is the server's text: shown printable (no terminal escapes) and at most 40 characters.
        (
            {**GOOD, "error": "invalid\x1b[2J" + "x" * 60},
            "it also carries an OAuth error (invalid?[2J" + "x" * 29 + ")",
        ),
        ({**GOOD, "error": ""}, "it also carries an OAuth error"),
        ({**GOOD, "scope": 5}, "its scope is not text"),  # oauthlib crashed on it (AttributeError)
        ({**GOOD, "scope": {"a": 1}}, "its scope is not text"),
    ],
)
def test_jwt_login_with_an_unusable_answer_exits_5_in_one_line_and_revokes_the_grant(
    monkeypatch, memory_keyring, body, reason
) -> None:
    from cli_runner import cli_runner

    from rcauth.cli import cli

    for key, value in {
        "RC_APP_CLIENT_ID": "cid",
        "RC_APP_CLIENT_SECRET": "sec-123456",
        "RC_SERVER_URL": SERVER,
        "RC_JWT": "eyJ.jwt.credential",
    }.items():
        monkeypatch.setenv(key, value)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=body, headers={"Content-Type": "application/json"})
        m.post(REVOKE_URL, text="")
        result = cli_runner().invoke(cli, ["login", "--jwt"])
    assert result.exit_code == 5
    assert result.stderr == (
        f"Error: the token endpoint answered HTTP 200 (application/json) with no usable token: {reason}\n"
    )
    assert [r.url for r in m.request_history] == [TOKEN_URL, REVOKE_URL]
    assert memory_keyring.entries == {}


JSON = {"Content-Type": "application/json"}


def test_a_refused_answer_is_revoked_with_its_well_formed_token(monkeypatch, memory_keyring) -> None:
    # The refresh token is refused for its shape; the revocation must carry the good access token
    # (either ends the session), not the malformed one RingCentral would not recognise.
    from cli_runner import cli_runner

    from rcauth.cli import cli

    for key, value in {"RC_APP_CLIENT_ID": "cid", "RC_SERVER_URL": SERVER, "RC_JWT": "eyJ.jwt.x"}.items():
        monkeypatch.setenv(key, value)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={**GOOD, "refresh_token": "has space"}, headers=JSON)
        m.post(REVOKE_URL, text="")
        result = cli_runner().invoke(cli, ["login", "--jwt"])
    assert result.exit_code == 5, result.stderr
    assert m.request_history[-1].url == REVOKE_URL
    assert f"token={GOOD['access_token']}" in m.request_history[-1].text
    assert memory_keyring.entries == {}


def test_json_nested_past_pythons_recursion_limit_is_an_unexpected_answer() -> None:
    body = '{"access_token": "AT-1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, text=body, headers={"Content-Type": "application/json"})
        with pytest.raises(UnexpectedAnswer):
            RingCentralOAuth(SERVER, "cid", "s").jwt_bearer("eyJ.jwt.credential")


# -- oauthlib refusing what rcauth let through: the grant is revoked all the same (issue 20) -----------
WITHOUT_TOKEN_TYPE = {k: v for k, v in GOOD.items() if k != "token_type"}


@pytest.mark.parametrize("grant", ["jwt", "code"])
def test_a_new_grant_that_oauthlib_refuses_after_rcauths_checks_is_revoked(monkeypatch, grant) -> None:
    """Under `OAUTHLIB_STRICT_TOKEN_TYPE` oauthlib refuses an answer without `token_type`, after
    rcauth's own checks passed: its exception carries no token, so rcauth keeps the one it saw."""
    monkeypatch.setenv("OAUTHLIB_STRICT_TOKEN_TYPE", "1")
    oauth = RingCentralOAuth(SERVER, "cid", "sec")
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=WITHOUT_TOKEN_TYPE)
        m.post(REVOKE_URL, text="")
        with pytest.raises(UnexpectedAnswer) as caught:
            if grant == "jwt":
                oauth.jwt_bearer("eyJ.jwt.credential")
            else:
                oauth.exchange_code("code-1", redirect_uri="http://127.0.0.1:5000/cb", code_verifier="v" * 43)
    assert str(caught.value) == "the token endpoint's answer is not usable (MissingTokenTypeError)"
    revoke = [r for r in m.request_history if r.url == REVOKE_URL]
    assert len(revoke) == 1 and parse_qs(revoke[0].text) == {"token": ["RT-new-2"]}


def test_a_refresh_answer_that_oauthlib_refuses_after_rcauths_checks_is_revoked_and_the_session_ends(
    monkeypatch,
) -> None:
    monkeypatch.setenv("OAUTHLIB_STRICT_TOKEN_TYPE", "1")
    _, after, error, revoked = refresh_answered({"json": WITHOUT_TOKEN_TYPE})
    assert isinstance(error, SessionExpired)
    assert str(error) == (
        "the session has ended: the token endpoint's answer is not usable (MissingTokenTypeError) "
        "(rcauth revoked the new tokens it could not use)"
    )
    assert revoked == ["RT-new-2"] and after is None


def test_a_refused_answer_revokes_its_own_token_not_an_earlier_answers(monkeypatch) -> None:
    """The token revoked is the one in *this* answer: an earlier grant's (kept) names nothing here."""
    oauth = RingCentralOAuth(SERVER, "cid", "sec")
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, [{"json": GOOD}, {"json": {**WITHOUT_TOKEN_TYPE, "refresh_token": "RT-new-3"}}])
        m.post(REVOKE_URL, text="")
        oauth.jwt_bearer("eyJ.jwt.credential")
        monkeypatch.setenv("OAUTHLIB_STRICT_TOKEN_TYPE", "1")
        with pytest.raises(UnexpectedAnswer):
            oauth.jwt_bearer("eyJ.jwt.credential")
    revoke = [parse_qs(r.text)["token"] for r in m.request_history if r.url == REVOKE_URL]
    assert revoke == [["RT-new-3"]]  # the refused answer's own token, once


# -- a rotated pair that cannot be stored (issue 20, invariant 3) ----------------------------------------
class RefusingStore(MemoryStore):
    """Reads, and removes, but refuses to store (a keyring that says no, out of room or time)."""

    def save(self, session: Session) -> None:
        from rcauth.errors import StorageUnavailable

        if self.load() is not None:  # the first save (the test's own) goes in
            raise StorageUnavailable("the system keyring failed to save the session: refused", hint="try X")
        super().save(session)


@pytest.mark.parametrize("revocation", [200, 503])
def test_a_rotated_pair_that_cannot_be_stored_is_revoked_and_the_session_ends(revocation) -> None:
    """RingCentral spent the stored refresh token: the new pair is the only live grant and nothing can
    keep it, so it is revoked (ending the session) and the stored pair, ended with it, removed; the
    error (exit 6) says so. If the revocation fails, the stored pair is left as it was."""
    store = RefusingStore()
    before = stored_session()
    store.save(before)
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=GOOD)
        m.post(REVOKE_URL, status_code=revocation, text="")
        with pytest.raises(RcauthError) as caught:
            client.get_json("/restapi/v1.0/account/~/extension/~")
    revoked = [parse_qs(r.text)["token"] for r in m.request_history if r.url == REVOKE_URL]
    assert revoked == [["RT-new-2"]]
    assert caught.value.exit_code == ExitCode.STORAGE
    if revocation == 200:
        assert str(caught.value) == (
            "the system keyring failed to save the session: refused; "
            "the session was ended at RingCentral, as its new tokens could not be kept"
        )
        assert caught.value.hint == "run `rcauth login` to sign in again; try X"
        assert store.load() is None
    else:
        assert str(caught.value) == "the system keyring failed to save the session: refused"
        assert store.load() == before


class RefusingEverythingStore(RefusingStore):
    """Refuses to store, and then to remove too: a keyring gone bad, or a disk gone read-only."""

    def __init__(self, delete_error: BaseException) -> None:
        super().__init__()
        self.delete_error = delete_error

    def delete(self) -> None:
        raise self.delete_error


@pytest.mark.parametrize(
    "delete_error",
    [OSError(30, "Read-only file system"), RcauthError("the system keyring failed to delete the session")],
    ids=["os", "rcauth"],
)
def test_a_store_that_cannot_remove_the_revoked_pair_either_still_reports_why_it_could_not_save(
    delete_error,
) -> None:
    store = RefusingEverythingStore(delete_error)
    store.save(stored_session())
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=GOOD)
        m.post(REVOKE_URL, text="")
        with pytest.raises(RcauthError) as caught:
            client.get_json("/restapi/v1.0/account/~/extension/~")
    assert str(caught.value) == (
        "the system keyring failed to save the session: refused; "
        "the session was ended at RingCentral, as its new tokens could not be kept"
    )


class RefusingWithoutHintStore(MemoryStore):
    def save(self, session: Session) -> None:
        from rcauth.errors import StorageUnavailable

        if self.load() is not None:
            raise StorageUnavailable("the system keyring failed to save the session: refused")
        super().save(session)


def test_an_unkept_pair_whose_store_error_has_no_hint_gets_the_login_hint_and_is_forgotten() -> None:
    """The store's error had no hint of its own: the login hint alone, not one with an empty part. The
    client forgets the ended session: its next request finds none, it does not reuse the revoked one."""
    store = RefusingWithoutHintStore()
    store.save(stored_session())
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=GOOD)
        m.post(REVOKE_URL, text="")
        with pytest.raises(RcauthError) as caught:
            client.get_json("/restapi/v1.0/account/~/extension/~")
        assert caught.value.hint == "run `rcauth login` to sign in again"
        with pytest.raises(NotLoggedIn):
            client.get_json("/restapi/v1.0/account/~/extension/~")
    revoked = [parse_qs(r.text)["token"] for r in m.request_history if r.url == REVOKE_URL]
    assert revoked == [["RT-new-2"]]
