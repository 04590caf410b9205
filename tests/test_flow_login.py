"""`rcauth.flow`: the sign-in flows around the loopback receiver, the pasted redirect and the JWT grant.

The browser login runs against a real `CallbackReceiver` on port 0, reached by a real HTTP GET (the
browser's redirect); the token endpoint is requests-mock (the HTTP layer only).
"""

from __future__ import annotations

import http.client
import threading
from concurrent.futures import Future
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock
from helpers import token_answer

from rcauth.config import Settings
from rcauth.errors import LoginFailed, StorageUnavailable
from rcauth.flow import Browser, Jwt, Paste, login, parse_pasted_redirect
from rcauth.loopback import CallbackResult
from rcauth.session import Session

SERVER = "https://platform.ringcentral.com"
TOKEN_URL = SERVER + "/restapi/oauth/token"
REVOKE_URL = SERVER + "/restapi/oauth/revoke"
REDIRECT = "http://127.0.0.1:0/oauth2callback"
STATE = "the-state-of-this-sign-in"
WAIT = 5.0
TOKEN = token_answer("AT-flow-123", "RT-flow-123", owner_id="101")


def settings(redirect_uri: str = REDIRECT) -> Settings:
    return Settings(client_id="cid", client_secret="sec", server=SERVER, redirect_uri=redirect_uri)


# -- the pasted redirect ---------------------------------------------------------------------------
PASTE_REDIRECT = "http://localhost:5000/oauth2callback"


@pytest.mark.parametrize(
    "pasted",
    [
        f"http://localhost:5000/oauth2callback?code=C0DE-1&state={STATE}",
        f"  http://localhost:5000/oauth2callback?state={STATE}&code=C0DE-1\n",
        f"/oauth2callback?code=C0DE-1&state={STATE}",
        f"code=C0DE-1&state={STATE}",
        f"?code=C0DE-1&state={STATE}",
        f"localhost:5000/oauth2callback?code=C0DE-1&state={STATE}",  # an address bar hiding the scheme
        f"127.0.0.1:5000/oauth2callback?state={STATE}&code=C0DE-1",
    ],
)
def test_a_pasted_redirect_with_this_sign_ins_state_gives_its_code(pasted: str) -> None:
    assert parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT) == CallbackResult(code="C0DE-1")


@pytest.mark.parametrize(
    "pasted",
    [
        "http://localhost:5000/oauth2callback?code=evil-code&state=forged",
        f"http://localhost:5000/oauth2callback?code=evil-code&state={STATE}x",
        f"http://localhost:5000/oauth2callback?code=evil-code&state={STATE[:-1]}",
        "http://localhost:5000/oauth2callback?code=evil-code",
        "http://localhost:5000/oauth2callback?code=evil-code&state=",
        "code=evil-code&state=forged",
        "http://localhost:5000/oauth2callback?error=access_denied&state=forged",
    ],
)
def test_a_pasted_redirect_with_a_forged_or_missing_state_is_refused(pasted: str) -> None:
    with pytest.raises(LoginFailed, match="state mismatch"):
        parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT)


@pytest.mark.parametrize("address", ["http://localhost:5000/elsewhere", "localhost:5000/elsewhere"])
def test_a_pasted_url_on_another_path_is_not_the_redirect(address: str) -> None:
    with pytest.raises(LoginFailed, match="not the redirect URI http://localhost:5000/oauth2callback"):
        parse_pasted_redirect(f"{address}?code=C0DE-1&state={STATE}", STATE, PASTE_REDIRECT)


def test_a_redirect_uri_without_a_path_matches_the_root() -> None:
    pasted = f"http://localhost:5000/?code=C0DE-1&state={STATE}"
    assert parse_pasted_redirect(pasted, STATE, "http://localhost:5000").code == "C0DE-1"
    pasted = f"http://localhost:5000?code=C0DE-1&state={STATE}"
    assert parse_pasted_redirect(pasted, STATE, "http://localhost:5000").code == "C0DE-1"
    with pytest.raises(LoginFailed, match="not the redirect URI"):
        parse_pasted_redirect(f"http://localhost:5000/x?code=C&state={STATE}", STATE, "http://localhost:5000")


def test_a_denied_sign_in_is_reported_with_its_description() -> None:
    result = parse_pasted_redirect(
        f"http://localhost:5000/oauth2callback?error=access_denied&error_description=User+said+no&state={STATE}",
        STATE,
        PASTE_REDIRECT,
    )
    assert result == CallbackResult(error="access_denied", error_description="User said no")
    assert not result.ok


def test_an_error_wins_over_a_code_in_the_same_redirect() -> None:
    result = parse_pasted_redirect(f"error=server_error&code=C0DE-1&state={STATE}", STATE, PASTE_REDIRECT)
    assert result == CallbackResult(error="server_error")


NO_CODE = "the pasted address carried no code; start again and paste the whole address the browser landed on"


@pytest.mark.parametrize(
    "pasted",
    [
        "state={state}",
        "code=&state={state}",
        "http://localhost:5000/oauth2callback?state={state}",
        "http://localhost:5000/oauth2callback?state={state}&cod",  # cut short
        "<http://localhost:5000/oauth2callback?state={state}>",
    ],
)
def test_a_pasted_address_without_a_code_is_said_as_ours_not_ringcentrals_and_exchanges_nothing(
    pasted: str,
) -> None:
    """An address of this sign-in (its state) with neither a code nor RingCentral's `error` is short of
    what the browser landed on: said so, not as "RingCentral returned an error: invalid_request"."""
    with pytest.raises(LoginFailed) as caught:
        parse_pasted_redirect(pasted.format(state=STATE), STATE, PASTE_REDIRECT)
    assert str(caught.value) == NO_CODE
    announced: list[str] = []

    def read_redirect() -> str:
        return pasted.format(state=parse_qs(urlsplit(announced[0]).query)["state"][0])

    with requests_mock.Mocker() as m, pytest.raises(LoginFailed) as caught:
        login(settings(PASTE_REDIRECT), Paste(read_redirect), save=pytest.fail, announce=announced.append)
    assert str(caught.value) == NO_CODE
    assert m.call_count == 0


def test_a_pasted_address_with_ringcentrals_own_error_is_still_ringcentrals() -> None:
    pasted = f"http://localhost:5000/oauth2callback?error=invalid_request&state={STATE}"
    assert parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT) == CallbackResult(error="invalid_request")


WRAPPED = f"http://localhost:5000/oauth2callback?code=C0DE-1&state={STATE}"


@pytest.mark.parametrize(
    "pasted",
    [
        f'"{WRAPPED}"',
        f"'{WRAPPED}'",
        f"<{WRAPPED}>",
        f"`{WRAPPED}`",
        f"\u201c{WRAPPED}\u201d",
        f"\u2018{WRAPPED}\u2019",
        f'  "{WRAPPED}"\n',
        f"< {WRAPPED} >",
        f'"code=C0DE-1&state={STATE}"',
        f"<localhost:5000/oauth2callback?code=C0DE-1&state={STATE}>",
    ],
)
def test_a_pasted_address_in_quotes_or_angle_brackets_is_read_as_the_address(pasted: str) -> None:
    """Copy artefacts (a chat's or a shell's quotes, an e-mail's angle brackets, Markdown's backticks):
    one pair around the address is taken off. Before, the last one stuck to the state or the code, and
    the sign-in ended in "RingCentral returned an error: invalid_request"."""
    assert parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT) == CallbackResult(code="C0DE-1")


@pytest.mark.parametrize(
    "pasted",
    [f'"{WRAPPED}>', f"<{WRAPPED}'", f'""{WRAPPED}""'],
)
def test_only_one_matching_pair_around_a_pasted_address_is_taken_off(pasted: str) -> None:
    with pytest.raises(LoginFailed):
        parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT)


def test_login_by_paste_of_a_quoted_address_exchanges_its_code() -> None:
    announced: list[str] = []

    def read_redirect() -> str:
        state = parse_qs(urlsplit(announced[0]).query)["state"][0]
        return f'"http://localhost:5000/oauth2callback?code=C0DE-Q&state={state}"'

    saved: list[Session] = []
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        session = login(
            settings(PASTE_REDIRECT), Paste(read_redirect), save=saved.append, announce=announced.append
        )
    assert saved == [session] and session.access_token == "AT-flow-123"
    assert parse_qs(m.request_history[0].text)["code"] == ["C0DE-Q"]


def test_a_pasted_query_too_long_to_read_is_refused() -> None:
    pasted = "&".join(f"f{i}=x" for i in range(40)) + f"&code=C&state={STATE}"
    with pytest.raises(LoginFailed, match="could not be read"):
        parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT)


def test_login_by_paste_exchanges_the_pasted_code_and_saves_the_session() -> None:
    saved: list[Session] = []
    announced: list[str] = []

    def read_redirect() -> str:
        state = parse_qs(urlsplit(announced[0]).query)["state"][0]
        return f"{PASTE_REDIRECT}?code=C0DE-9&state={state}"

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        session = login(
            settings(PASTE_REDIRECT), Paste(read_redirect), save=saved.append, announce=announced.append
        )
    assert saved == [session] and session.access_token == "AT-flow-123"
    assert m.request_history[0].headers["Authorization"] == "Basic Y2lkOnNlYw=="  # cid:sec
    sent = parse_qs(m.request_history[0].text)
    assert sent["code"] == ["C0DE-9"] and sent["redirect_uri"] == [PASTE_REDIRECT]


def test_login_by_paste_reports_a_denied_sign_in_and_exchanges_nothing() -> None:
    announced: list[str] = []

    def read_redirect() -> str:
        state = parse_qs(urlsplit(announced[0]).query)["state"][0]
        return f"error=access_denied&state={state}"

    with requests_mock.Mocker() as m, pytest.raises(LoginFailed, match="access was denied in the browser"):
        login(settings(PASTE_REDIRECT), Paste(read_redirect), save=pytest.fail, announce=announced.append)
    assert m.call_count == 0


# -- the browser login, through a real loopback receiver ---------------------------------------------
def browser_redirect(query: str, answers: list[Future]) -> callable:
    """An `open_browser` that, like RingCentral after the user approves, sends the browser to the
    redirect URI with `query` (`{state}` is filled in) and keeps the page it gets in `answers`."""

    def open_browser(url: str) -> bool:
        params = parse_qs(urlsplit(url).query)
        redirect = urlsplit(params["redirect_uri"][0])
        path = f"{redirect.path}?{query.format(state=params['state'][0])}"
        answer: Future = Future()

        def get() -> None:
            conn = http.client.HTTPConnection(redirect.hostname, redirect.port, timeout=WAIT)
            try:
                conn.request("GET", path, headers={"Host": redirect.netloc})
                response = conn.getresponse()
                answer.set_result((response.status, response.read().decode("utf-8")))
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                answer.set_exception(exc)
            finally:
                conn.close()

        threading.Thread(target=get, daemon=True).start()
        answers.append(answer)
        return True

    return open_browser


def test_the_browser_is_told_signed_in_only_after_the_session_is_stored() -> None:
    answers: list[Future] = []
    seen_at_save: list[bool] = []

    def save(session: Session) -> None:
        seen_at_save.append(answers[0].done())

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        session = login(
            settings(),
            Browser(open_browser=browser_redirect("code=C0DE-1&state={state}", answers), timeout=WAIT),
            save=save,
            announce=lambda url: None,
        )
    assert session.refresh_token == "RT-flow-123"
    assert seen_at_save == [False]  # the browser was still waiting while the session was stored
    status, page = answers[0].result(WAIT)
    assert status == 200 and "Signed in to RingCentral" in page


def _login_whose_save_fails(message: str) -> tuple[requests_mock.Mocker, int, str]:
    """A browser login whose `save` raises StorageUnavailable(message): the token endpoint's and revoke
    endpoint's mock, and the status and page the browser was shown."""
    answers: list[Future] = []

    def save(session: Session) -> None:
        raise StorageUnavailable(message)

    with requests_mock.Mocker() as m, pytest.raises(StorageUnavailable):
        m.post(TOKEN_URL, json=TOKEN)
        m.post(REVOKE_URL, text="")
        login(
            settings(),
            Browser(open_browser=browser_redirect("code=C0DE-1&state={state}", answers), timeout=WAIT),
            save=save,
            announce=lambda url: None,
        )
    status, page = answers[0].result(WAIT)
    return m, status, page


def test_when_storing_the_session_fails_the_browser_is_not_told_signed_in_and_the_grant_is_revoked() -> None:
    """RingCentral caps concurrent sessions per user and app: a grant that cannot be stored is ended."""
    m, status, page = _login_whose_save_fails("the system keyring is locked (save the session)")
    assert [r.url for r in m.request_history] == [TOKEN_URL, REVOKE_URL]
    assert parse_qs(m.request_history[1].text) == {"token": ["RT-flow-123"]}
    assert status == 400
    assert "Signed in" not in page
    assert "Sign-in not saved" in page and "the system keyring is locked" in page


def test_a_refused_code_tells_the_browser_and_the_caller() -> None:
    answers: list[Future] = []
    with requests_mock.Mocker() as m, pytest.raises(LoginFailed, match="refused the authorization code"):
        m.post(
            TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "Code expired"}
        )
        login(
            settings(),
            Browser(open_browser=browser_redirect("code=C0DE-1&state={state}", answers), timeout=WAIT),
            save=pytest.fail,
            announce=lambda url: None,
        )
    status, page = answers[0].result(WAIT)
    assert status == 400 and "Sign-in failed" in page and "Code expired" in page


def test_a_sign_in_denied_in_the_browser_exchanges_nothing() -> None:
    answers: list[Future] = []
    with requests_mock.Mocker() as m, pytest.raises(LoginFailed, match="access was denied in the browser"):
        login(
            settings(),
            Browser(
                open_browser=browser_redirect("error=access_denied&state={state}", answers), timeout=WAIT
            ),
            save=pytest.fail,
            announce=lambda url: None,
        )
    assert m.call_count == 0
    status, page = answers[0].result(WAIT)
    assert status == 400 and "Sign-in cancelled" in page


def test_the_authorize_url_is_announced_even_without_a_browser() -> None:
    announced: list[str] = []
    with pytest.raises(LoginFailed, match="no sign-in arrived within 0.2 s"):
        login(
            settings(), Browser(open_browser=None, timeout=0.2), save=pytest.fail, announce=announced.append
        )
    (url,) = announced
    params = parse_qs(urlsplit(url).query)
    assert url.startswith(SERVER + "/restapi/oauth/authorize?")
    assert params["code_challenge_method"] == ["S256"] and params["state"][0]
    assert urlsplit(params["redirect_uri"][0]).port not in (None, 0)  # the port really bound


# -- the JWT grant -----------------------------------------------------------------------------------
def test_login_with_jwt_trades_the_trimmed_credential_and_saves_the_session() -> None:
    saved: list[Session] = []
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        session = login(settings(), Jwt("  eyJ.jwt.credential\n"), save=saved.append)
    assert saved == [session]
    assert parse_qs(m.request_history[0].text)["assertion"] == ["eyJ.jwt.credential"]


def test_an_empty_jwt_is_refused_before_any_request() -> None:
    with requests_mock.Mocker() as m, pytest.raises(LoginFailed) as caught:
        login(settings(), Jwt(" \n"), save=pytest.fail)
    assert str(caught.value) == "the JWT credential is empty"
    assert m.call_count == 0


def test_a_refused_jwt_is_a_login_failure_and_nothing_is_saved() -> None:
    with requests_mock.Mocker() as m, pytest.raises(LoginFailed, match="refused the JWT credential"):
        m.post(TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "bad JWT"})
        login(settings(), Jwt("eyJ.jwt.credential"), save=pytest.fail)


# -- mutation testing: what the surviving mutants of flow.py showed unpinned ------------------------------
def test_the_code_is_exchanged_with_the_verifier_of_the_challenge_sent_and_the_bound_redirect() -> None:
    import base64
    import hashlib

    answers: list[Future] = []
    announced: list[str] = []
    saved: list[Session] = []
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        session = login(
            settings(),
            Browser(open_browser=browser_redirect("code=C0DE-1&state={state}", answers), timeout=WAIT),
            save=saved.append,
            announce=announced.append,
        )
    authorize = parse_qs(urlsplit(announced[0]).query)
    sent = parse_qs(m.request_history[0].text)
    verifier = sent["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert authorize["code_challenge"] == [challenge]
    assert sent["code"] == ["C0DE-1"] and sent["grant_type"] == ["authorization_code"]
    assert sent["redirect_uri"] == authorize["redirect_uri"]  # the port really bound, not port 0
    assert m.request_history[0].headers["Authorization"] == "Basic Y2lkOnNlYw=="  # cid:sec
    assert saved == [session]
    assert (session.server, session.client_id, session.client_secret) == (SERVER, "cid", "sec")
    status, page = answers[0].result(WAIT)
    assert status == 200 and "<h1>Signed in to RingCentral</h1>" in page
    assert "<p>You can close this tab and return to the terminal.</p>" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("error=access_denied&state={state}", "access was denied in the browser"),
        (
            "error=access_denied&error_description=User+said+no&state={state}",
            "access was denied in the browser (User said no)",
        ),
        ("error=server_error&state={state}", "RingCentral returned an error: server_error"),
        (
            "error=server_error&error_description=Try+later&state={state}",
            "RingCentral returned an error: server_error (Try later)",
        ),
    ],
)
def test_a_sign_in_refused_in_the_browser_says_why_in_the_terminal_and_the_browser(
    query: str, message: str
) -> None:
    answers: list[Future] = []
    with pytest.raises(LoginFailed) as caught:
        login(
            settings(),
            Browser(open_browser=browser_redirect(query, answers), timeout=WAIT),
            save=pytest.fail,
            announce=lambda url: None,
        )
    assert str(caught.value) == message
    status, page = answers[0].result(WAIT)
    assert status == 400
    assert "<h1>Sign-in cancelled</h1>" in page and f"rcauth did not sign in: {message}." in page


def test_a_refused_code_names_ringcentrals_reason() -> None:
    answers: list[Future] = []
    body = {"error": "invalid_grant", "error_description": "Code expired"}
    with requests_mock.Mocker() as m, pytest.raises(LoginFailed) as caught:
        m.post(TOKEN_URL, status_code=400, json=body)
        login(
            settings(),
            Browser(open_browser=browser_redirect("code=C0DE-1&state={state}", answers), timeout=WAIT),
            save=pytest.fail,
            announce=lambda url: None,
        )
    assert (
        str(caught.value)
        == "RingCentral refused the authorization code: invalid_grant: Code expired (HTTP 400)"
    )
    status, page = answers[0].result(WAIT)
    assert status == 400 and "<h1>Sign-in failed</h1>" in page
    assert "<p>RingCentral refused the authorization code: invalid_grant: Code expired (HTTP 400)</p>" in page


def test_an_unsaved_sign_in_page_names_the_storage_error() -> None:
    _m, _status, page = _login_whose_save_fails("no system keyring is available")
    assert "<h1>Sign-in not saved</h1>" in page
    assert (
        "<p>rcauth could not store the session, so you are not signed in: no system keyring is available</p>"
        in page
    )


def test_no_sign_in_in_time_says_how_to_try_again() -> None:
    with pytest.raises(LoginFailed) as caught:
        login(
            settings(), Browser(open_browser=None, timeout=0.2), save=pytest.fail, announce=lambda url: None
        )
    assert (
        str(caught.value) == "no sign-in arrived within 0.2 s; run `rcauth login` again (or raise --timeout)"
    )


def test_login_by_paste_names_a_refused_code_and_sends_the_verifier() -> None:
    announced: list[str] = []

    def read_redirect() -> str:
        state = parse_qs(urlsplit(announced[0]).query)["state"][0]
        return f"code=C0DE-9&state={state}"

    with requests_mock.Mocker() as m, pytest.raises(LoginFailed) as caught:
        m.post(TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "Code used"})
        login(settings(PASTE_REDIRECT), Paste(read_redirect), save=pytest.fail, announce=announced.append)
    assert (
        str(caught.value) == "RingCentral refused the authorization code: invalid_grant: Code used (HTTP 400)"
    )
    assert parse_qs(m.request_history[0].text)["code_verifier"][0]


def test_login_with_jwt_names_the_refusal_and_builds_the_session_for_the_app() -> None:
    with requests_mock.Mocker() as m, pytest.raises(LoginFailed) as caught:
        m.post(TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "bad JWT"})
        login(settings(), Jwt("eyJ.jwt.credential"), save=pytest.fail)
    assert str(caught.value) == "RingCentral refused the JWT credential: invalid_grant: bad JWT (HTTP 400)"
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        session = login(settings(), Jwt("eyJ.jwt.credential"), save=lambda s: None)
    assert (session.server, session.client_id, session.client_secret) == (SERVER, "cid", "sec")
    assert m.request_history[0].headers["Authorization"] == "Basic Y2lkOnNlYw=="  # cid:sec


def test_a_pasted_query_of_32_fields_is_read_and_33_are_refused() -> None:
    fields = ["code=C0DE-1", f"state={STATE}"]
    assert parse_pasted_redirect("&".join(fields + ["f=x"] * 30), STATE, PASTE_REDIRECT).code == "C0DE-1"
    with pytest.raises(LoginFailed) as caught:
        parse_pasted_redirect("&".join(fields + ["f=x"] * 31), STATE, PASTE_REDIRECT)
    assert str(caught.value) == "that is not a redirect URL (its query could not be read)"


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        (
            "state=forged&code=C",
            "the pasted URL does not belong to this sign-in (state mismatch); start again",
        ),
        (
            f"http://localhost:5000/elsewhere?code=C&state={STATE}",
            "that URL is not the redirect URI http://localhost:5000/oauth2callback; "
            "paste the URL your browser landed on",
        ),
    ],
)
def test_a_refused_paste_says_why(pasted: str, message: str) -> None:
    with pytest.raises(LoginFailed) as caught:
        parse_pasted_redirect(pasted, STATE, PASTE_REDIRECT)
    assert str(caught.value) == message


def test_login_by_paste_announces_the_url_for_the_configured_redirect() -> None:
    announced: list[str] = []
    with pytest.raises(LoginFailed):
        login(settings(PASTE_REDIRECT), Paste(lambda: "x"), save=pytest.fail, announce=announced.append)
    params = parse_qs(urlsplit(announced[0]).query)
    assert params["redirect_uri"] == [PASTE_REDIRECT] and params["client_id"] == ["cid"]
