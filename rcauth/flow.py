"""The browser sign-in: authorize URL -> browser -> loopback receiver -> code exchange -> `Session`.

The flow is driven through injected pieces (a receiver factory, a browser opener, a `save`
callback), so tests can run it without a socket or a browser, and the demo can run it as is.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from rcauth.config import Settings
from rcauth.errors import LoginFailed, RcauthError
from rcauth.loopback import CallbackReceiver, CallbackResult
from rcauth.oauth import OAuthError, RingCentralOAuth, new_pkce, new_state
from rcauth.session import Session

DEFAULT_TIMEOUT = 300.0


class Receiver(Protocol):
    redirect_uri: str

    def __enter__(self) -> Receiver: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def wait(self, timeout: float | None) -> CallbackResult | None: ...

    def finish(self, ok: bool, title: str, detail: str) -> None: ...


ReceiverFactory = Callable[..., Receiver]


def _denied_message(result: CallbackResult) -> str:
    if result.error == "access_denied":
        return "access was denied in the browser" + (
            f" ({result.error_description})" if result.error_description else ""
        )
    return f"RingCentral returned an error: {result.error}" + (
        f" ({result.error_description})" if result.error_description else ""
    )


def login(
    settings: Settings,
    *,
    save: Callable[[Session], None],
    announce: Callable[[str], None],
    open_browser: Callable[[str], bool] | None,
    timeout: float = DEFAULT_TIMEOUT,
    receiver_factory: ReceiverFactory = CallbackReceiver,
    oauth: RingCentralOAuth | None = None,
) -> Session:
    """Run the authorization-code flow with PKCE and `state`; return the stored session.

    `announce(url)` always gets the authorize URL (in case no browser opens); `open_browser(url)`,
    when given, tries to open it. `save` is called before the browser is told the sign-in worked.
    Raises `LoginFailed` (denied, timed out, code refused), `PortInUse`, or `TransportError`.
    """
    oauth = oauth or RingCentralOAuth(settings.server, settings.client_id, settings.client_secret)
    state = new_state()
    pkce = new_pkce()
    with receiver_factory(settings.redirect_uri, expected_state=state) as receiver:
        # The receiver is already listening: a browser that opens (or blocks) now cannot miss it.
        url = oauth.authorization_url(redirect_uri=receiver.redirect_uri, state=state, pkce=pkce)
        announce(url)
        if open_browser is not None:
            open_browser(url)
        result = receiver.wait(timeout)
        if result is None:
            raise LoginFailed(
                f"no sign-in arrived within {timeout:g} s; run `rcauth login` again (or raise --timeout)"
            )
        if not result.ok:
            message = _denied_message(result)
            receiver.finish(False, "Sign-in cancelled", f"rcauth did not sign in: {message}.")
            raise LoginFailed(message)
        try:
            token = oauth.exchange_code(
                result.code or "", redirect_uri=receiver.redirect_uri, code_verifier=pkce.verifier
            )
        except OAuthError as exc:
            receiver.finish(False, "Sign-in failed", f"RingCentral refused the code: {exc}")
            raise LoginFailed(f"RingCentral refused the authorization code: {exc}") from None
        except RcauthError as exc:
            receiver.finish(False, "Sign-in failed", f"rcauth could not complete the sign-in: {exc}")
            raise
        try:
            session = _store(settings, token, save, oauth)
        except BaseException as exc:
            receiver.finish(
                False,
                "Sign-in not saved",
                f"rcauth could not store the session, so you are not signed in: {exc}",
            )
            raise
        receiver.finish(
            True, "Signed in to RingCentral", "You can close this tab and return to the terminal."
        )
        return session


def _store(
    settings: Settings, token: dict, save: Callable[[Session], None], oauth: RingCentralOAuth
) -> Session:
    """Save the new session; if it cannot be made or saved, revoke the grant before the error goes
    up. RingCentral caps concurrent sessions per user and app: an orphan would hold a place until it
    expired, with nothing on this machine able to end it."""
    try:
        session = Session.from_token_response(
            token, server=settings.server, client_id=settings.client_id, client_secret=settings.client_secret
        )
        save(session)
    except BaseException:
        oauth.revoke_quietly(token.get("refresh_token") or token.get("access_token"))
        raise
    return session


def parse_pasted_redirect(text: str, expected_state: str, redirect_uri: str) -> CallbackResult:
    """Read the URL the browser landed on (or just its query) as the loopback receiver would.

    The same rules as `CallbackReceiver`: the `state` must match (constant time), else nothing of
    it is used.
    """
    text = text.strip()
    parts = urlsplit(text)
    query_text = parts.query if (parts.scheme or parts.path.startswith("/")) else text.lstrip("?")
    expected = urlsplit(redirect_uri)
    if parts.scheme and (parts.path or "/") != (expected.path or "/"):
        raise LoginFailed(
            f"that URL is not the redirect URI {redirect_uri}; paste the URL your browser landed on"
        )
    try:
        query = parse_qs(query_text, keep_blank_values=True, max_num_fields=32)
    except ValueError:
        raise LoginFailed("that is not a redirect URL (its query could not be read)") from None
    state = (query.get("state") or [""])[0]
    if not hmac.compare_digest(state.encode("utf-8", "surrogateescape"), expected_state.encode()):
        raise LoginFailed("the pasted URL does not belong to this sign-in (state mismatch); start again")
    error = (query.get("error") or [None])[0]
    if error:
        return CallbackResult(error=error, error_description=(query.get("error_description") or [None])[0])
    code = (query.get("code") or [None])[0]
    if not code:
        raise LoginFailed("the pasted URL carries no authorization code")
    return CallbackResult(code=code)


def login_by_paste(
    settings: Settings,
    *,
    save: Callable[[Session], None],
    announce: Callable[[str], None],
    read_redirect: Callable[[], str],
    oauth: RingCentralOAuth | None = None,
) -> Session:
    """For SSH and containers, where the browser's redirect cannot reach this machine's loopback:
    the user opens the URL anywhere and pastes back the address the browser landed on."""
    oauth = oauth or RingCentralOAuth(settings.server, settings.client_id, settings.client_secret)
    state = new_state()
    pkce = new_pkce()
    url = oauth.authorization_url(redirect_uri=settings.redirect_uri, state=state, pkce=pkce)
    announce(url)
    result = parse_pasted_redirect(read_redirect(), state, settings.redirect_uri)
    if not result.ok:
        raise LoginFailed(_denied_message(result))
    try:
        token = oauth.exchange_code(
            result.code or "", redirect_uri=settings.redirect_uri, code_verifier=pkce.verifier
        )
    except OAuthError as exc:
        raise LoginFailed(f"RingCentral refused the authorization code: {exc}") from None
    return _store(settings, token, save, oauth)


def login_with_jwt(
    settings: Settings,
    assertion: str,
    *,
    save: Callable[[Session], None],
    oauth: RingCentralOAuth | None = None,
) -> Session:
    """RingCentral's JWT bearer grant: the login for scripts and CI (no browser, no redirect)."""
    oauth = oauth or RingCentralOAuth(settings.server, settings.client_id, settings.client_secret)
    assertion = assertion.strip()
    if not assertion:
        raise LoginFailed("the JWT credential is empty")
    try:
        token = oauth.jwt_bearer(assertion)
    except OAuthError as exc:
        raise LoginFailed(f"RingCentral refused the JWT credential: {exc}") from None
    return _store(settings, token, save, oauth)
