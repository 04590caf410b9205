"""`LoginFlow`: one sign-in object with three ways in and one exchange-and-store path; one callback parser."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import token_answer

from rcauth.config import Settings
from rcauth.errors import LoginFailed, OAuthError, StorageUnavailable, TransportError
from rcauth.flow import Browser, Jwt, LoginFlow, Paste, login, parse_pasted_redirect
from rcauth.loopback import CallbackResult, ForeignCallback, parse_callback
from rcauth.session import Session

REDIRECT = "http://localhost:5000/oauth2callback"
SETTINGS = Settings(
    client_id="cid", client_secret="s3cret", server="https://rc.example", redirect_uri=REDIRECT
)
TOKEN = token_answer("AT-flow-1", "RT-flow-1", scope="ReadAccounts", owner_id="101")


class FakeOAuth:
    """RingCentral's OAuth endpoints as the flow sees them; records what it is asked."""

    def __init__(
        self, refuse: bool = False, *, unreachable: bool = False, token: dict[str, Any] | None = None
    ) -> None:
        self.refuse = refuse
        self.unreachable = unreachable
        self.token = dict(TOKEN) if token is None else token
        self.exchanged: list[dict[str, str]] = []
        self.revoked: list[str | None] = []

    def authorization_url(self, *, redirect_uri: str, state: str, pkce: Any) -> str:
        return f"https://rc.example/authorize?state={state}&redirect_uri={redirect_uri}"

    def _grant(self) -> dict[str, Any]:
        if self.refuse:
            raise OAuthError(
                "Token is revoked", oauth_error="invalid_grant", status=400, error_code="OAU-109"
            )
        if self.unreachable:
            raise TransportError("could not reach RingCentral: connection refused")
        return dict(self.token)

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        self.exchanged.append({"code": code, "redirect_uri": redirect_uri, "verifier": code_verifier})
        return self._grant()

    def jwt_bearer(self, assertion: str) -> dict[str, Any]:
        return self._grant()

    def revoke_quietly(self, token: str | None) -> bool:
        self.revoked.append(token)
        return True


class Page:
    """A receiver's page, as far as `fetch_session` uses it."""

    def __init__(self) -> None:
        self.told: list[tuple[bool, str]] = []
        self.details: list[str] = []

    def finish(self, ok: bool, title: str, detail: str) -> None:
        self.told.append((ok, title))
        self.details.append(detail)


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code=C1&state={s}", CallbackResult(code="C1")),
        ("error=access_denied&error_description=No&state={s}", CallbackResult("", "access_denied", "No")),
        ("code=C1&error=server_error&state={s}", CallbackResult(error="server_error")),
    ],
)
def test_the_loopback_and_a_pasted_address_read_a_callback_the_same_way(
    query: str, expected: CallbackResult
) -> None:
    query = query.format(s="S" * 43)
    result = parse_callback(query, "S" * 43)
    assert (result.code or None, result.error, result.error_description) == (
        expected.code or None,
        expected.error,
        expected.error_description,
    )
    assert parse_pasted_redirect(f"{REDIRECT}?{query}", "S" * 43, REDIRECT) == result


def test_a_callback_without_a_code_is_an_invalid_request_but_a_paste_without_one_is_short() -> None:
    """What reached the loopback came from RingCentral's redirect; what was pasted went through a copy,
    which may have cut the code off: said as that, not as an error of RingCentral's."""
    assert parse_callback("state=" + "S" * 43, "S" * 43) == CallbackResult(
        error="invalid_request", error_description="the redirect carried no code"
    )
    with pytest.raises(LoginFailed, match="^the pasted address carried no code; "):
        parse_pasted_redirect(f"{REDIRECT}?state={'S' * 43}", "S" * 43, REDIRECT)


def test_a_callback_of_another_sign_in_is_refused_before_its_code_is_read() -> None:
    with pytest.raises(ForeignCallback):
        parse_callback("code=C1&state=other", "S" * 43)
    with pytest.raises(LoginFailed, match="state mismatch"):
        parse_pasted_redirect(f"{REDIRECT}?code=C1&state=other", "S" * 43, REDIRECT)


def test_a_flow_driven_by_hand_exchanges_the_code_with_its_own_verifier_and_stores_the_session() -> None:
    saved: list[Session] = []
    oauth = FakeOAuth()
    flow = LoginFlow(SETTINGS, save=saved.append, oauth=oauth)  # type: ignore[arg-type]
    url = flow.authorization_url()
    assert state_of(url) == flow.state
    result = parse_callback(f"code=C1&state={state_of(url)}", flow.state)
    session = flow.fetch_session(result, redirect_uri=REDIRECT)
    assert saved == [session] and session.refresh_token == "RT-flow-1"
    assert oauth.exchanged == [{"code": "C1", "redirect_uri": REDIRECT, "verifier": flow.pkce.verifier}]


def test_each_flow_is_a_new_state_and_verifier() -> None:
    one, two = LoginFlow(SETTINGS, save=print), LoginFlow(SETTINGS, save=print)
    assert one.state != two.state and one.pkce.verifier != two.pkce.verifier


def fail_to_save(session: Session) -> None:
    raise StorageUnavailable("the keyring is locked")


def way_in(flow: LoginFlow, how: str, page: Page) -> Session:
    if how == "jwt":
        return flow.run_jwt("eyJ.jwt")
    if how == "paste":
        return flow.run_paste(
            announce=lambda url: None, read_redirect=lambda: f"{REDIRECT}?code=C1&state={flow.state}"
        )
    return flow.fetch_session(CallbackResult(code="C1"), redirect_uri=REDIRECT, page=page)


@pytest.mark.parametrize("how", ["jwt", "paste", "callback"])
def test_every_way_in_revokes_a_session_that_cannot_be_stored(how: str) -> None:
    oauth = FakeOAuth()
    page = Page()
    flow = LoginFlow(SETTINGS, save=fail_to_save, oauth=oauth)  # type: ignore[arg-type]
    with pytest.raises(StorageUnavailable):
        way_in(flow, how, page)
    assert oauth.revoked == ["RT-flow-1"]
    assert page.told == ([(False, "Sign-in not saved")] if how == "callback" else [])


@pytest.mark.parametrize(
    ("how", "refused"),
    [("jwt", "JWT credential"), ("paste", "authorization code"), ("callback", "authorization code")],
)
def test_every_way_in_turns_a_refusal_into_a_failed_login_naming_what_was_refused(
    how: str, refused: str
) -> None:
    page = Page()
    flow = LoginFlow(SETTINGS, save=print, oauth=FakeOAuth(refuse=True))  # type: ignore[arg-type]
    with pytest.raises(LoginFailed) as caught:
        way_in(flow, how, page)
    assert str(caught.value) == f"RingCentral refused the {refused}: OAU-109: Token is revoked (HTTP 400)"
    # The browser's page (there is one only on the loopback way in) is told the same, as a failure.
    assert page.told == ([(False, "Sign-in failed")] if how == "callback" else [])
    assert page.details == ([str(caught.value)] if how == "callback" else [])


def test_the_browser_page_is_told_the_sign_in_worked_only_after_the_session_is_stored() -> None:
    page = Page()
    order: list[str] = []

    def save(session: Session) -> None:
        order.append(f"saved, page told {page.told}")

    flow = LoginFlow(SETTINGS, save=save, oauth=FakeOAuth())  # type: ignore[arg-type]
    flow.fetch_session(CallbackResult(code="C1"), redirect_uri=REDIRECT, page=page)
    assert order == ["saved, page told []"] and page.told == [(True, "Signed in to RingCentral")]


def test_a_denied_callback_tells_the_page_and_exchanges_nothing() -> None:
    oauth = FakeOAuth()
    page = Page()
    flow = LoginFlow(SETTINGS, save=print, oauth=oauth)  # type: ignore[arg-type]
    with pytest.raises(LoginFailed, match="access was denied in the browser"):
        flow.fetch_session(CallbackResult(error="access_denied"), redirect_uri=REDIRECT, page=page)
    assert page.told == [(False, "Sign-in cancelled")] and oauth.exchanged == []


@pytest.mark.parametrize("how", ["jwt", "paste", "callback"])
def test_a_token_endpoint_out_of_reach_fails_the_sign_in_with_the_transport_error_and_tells_the_page(
    how: str,
) -> None:
    """Not a refusal (nothing was refused): the TransportError goes up as it is (exit code 5), and the
    browser's page says the sign-in failed and why, instead of waiting for a verdict that never comes."""
    page = Page()
    saved: list[Session] = []
    flow = LoginFlow(SETTINGS, save=saved.append, oauth=FakeOAuth(unreachable=True))  # type: ignore[arg-type]
    with pytest.raises(TransportError) as caught:
        way_in(flow, how, page)
    assert str(caught.value) == "could not reach RingCentral: connection refused" and saved == []
    assert page.told == ([(False, "Sign-in failed")] if how == "callback" else [])
    assert page.details == (
        ["rcauth could not complete the sign-in: could not reach RingCentral: connection refused"]
        if how == "callback"
        else []
    )


@pytest.mark.parametrize("how", ["jwt", "paste", "callback"])
def test_a_grant_without_a_refresh_token_that_cannot_be_stored_has_its_access_token_revoked(how: str) -> None:
    """RFC 7009 §2.1: revoking the access token ends the grant when there is no refresh token to revoke."""
    token = {key: value for key, value in TOKEN.items() if not key.startswith("refresh_token")}
    oauth = FakeOAuth(token=token)
    flow = LoginFlow(SETTINGS, save=fail_to_save, oauth=oauth)  # type: ignore[arg-type]
    with pytest.raises(StorageUnavailable):
        way_in(flow, how, Page())
    assert oauth.revoked == ["AT-flow-1"]


class FakeReceiver:
    """A loopback receiver that has already received this sign-in's callback with code C1."""

    made: list[FakeReceiver] = []

    def __init__(self, redirect_uri: str, *, expected_state: str) -> None:
        self.redirect_uri = redirect_uri
        self.told: list[tuple[bool, str]] = []
        FakeReceiver.made.append(self)

    def __enter__(self) -> FakeReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def wait(self, timeout: float | None) -> CallbackResult | None:
        return CallbackResult(code="C1")

    def finish(self, ok: bool, title: str, detail: str) -> None:
        self.told.append((ok, title))


@pytest.mark.parametrize("how", ["browser", "paste", "jwt"])
def test_the_one_call_login_uses_the_oauth_client_and_receiver_it_is_given(how: str) -> None:
    """`login` hands `oauth` (and the browser way's `receiver_factory`) to the flow, whichever the way
    in: a caller's client (its own HTTP session, its own server) is the one that signs in."""
    oauth = FakeOAuth()
    saved: list[Session] = []
    FakeReceiver.made.clear()
    announced: list[str] = []
    if how == "browser":
        session = login(
            SETTINGS,
            # a real receiver would wait this long, in vain
            Browser(open_browser=None, timeout=0.5, receiver_factory=FakeReceiver),
            save=saved.append,
            announce=announced.append,
            oauth=oauth,  # type: ignore[arg-type]
        )
        assert [r.told for r in FakeReceiver.made] == [[(True, "Signed in to RingCentral")]]
    elif how == "paste":
        session = login(
            SETTINGS,
            Paste(lambda: f"{REDIRECT}?code=C1&state={state_of(announced[0])}"),
            save=saved.append,
            announce=announced.append,
            oauth=oauth,  # type: ignore[arg-type]
        )
    else:
        session = login(SETTINGS, Jwt("eyJ.jwt"), save=saved.append, oauth=oauth)  # type: ignore[arg-type]
    assert saved == [session] and session.access_token == "AT-flow-1"
    if how != "jwt":
        assert [(e["code"], e["redirect_uri"]) for e in oauth.exchanged] == [("C1", REDIRECT)]
        assert announced[0].startswith("https://rc.example/authorize?")
