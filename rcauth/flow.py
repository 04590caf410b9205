"""The browser sign-in: authorize URL -> browser -> loopback receiver -> code exchange -> `Session`.

The flow is driven through injected pieces (a receiver factory, a browser opener, a `save`
callback), so tests can run it without a socket or a browser, and the demo can run it as is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rcauth.config import Settings
from rcauth.errors import LoginFailed
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
        session = Session.from_token_response(
            token, server=settings.server, client_id=settings.client_id, client_secret=settings.client_secret
        )
        try:
            save(session)
        except Exception as exc:
            receiver.finish(False, "Sign-in not saved", f"rcauth could not store the session: {exc}")
            raise
        receiver.finish(
            True, "Signed in to RingCentral", "You can close this tab and return to the terminal."
        )
        return session
