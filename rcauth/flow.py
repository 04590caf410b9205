"""Signing in: `LoginFlow`, one sign-in with three ways in (`Browser`, via the loopback receiver;
`Paste`, an address pasted back; `Jwt`, a JWT credential) and one way out (exchange, store, or revoke
what cannot be stored).

google-auth-oauthlib's `Flow` is the shape: the flow builds the authorization URL (with PKCE and
`state`), takes the callback, fetches the token; the loopback server is a helper it is handed
(`receiver_factory`), and the browser is the caller's (`open_browser`), so the flow runs without a
socket or a browser in tests. It never prints: what the user should see goes to `announce`.
`login(settings, way, ...)` is the one-call form; `rcauth.login_logout.login` (what `rcauth login` and
`rcauth.login()` call) runs it with the store's `save`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from rcauth import interrupts
from rcauth.config import Settings
from rcauth.errors import LoginFailed, OAuthError, RcauthError
from rcauth.loopback import CallbackReceiver, CallbackResult, ForeignCallback, parse_callback
from rcauth.oauth import RingCentralOAuth, new_pkce, new_state
from rcauth.session import Session

DEFAULT_TIMEOUT = 300.0


class Receiver(Protocol):
    """What the browser way in needs of a loopback receiver (`loopback.CallbackReceiver` is one)."""

    @property
    def redirect_uri(self) -> str: ...

    def __enter__(self) -> Receiver: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def wait(self, timeout: float | None) -> CallbackResult | None: ...

    def finish(self, ok: bool, title: str, detail: str) -> None: ...


ReceiverFactory = Callable[..., Receiver]
Announce = Callable[[str], object]


@dataclass(frozen=True)
class Browser:
    """The browser way in: RingCentral redirects the browser to a loopback receiver on this machine.
    `open_browser(url)` tries to open the sign-in page (None: the URL is only announced); the
    redirect is waited for up to `timeout` seconds."""

    open_browser: Callable[[str], object] | None = None
    timeout: float = DEFAULT_TIMEOUT
    receiver_factory: ReceiverFactory = CallbackReceiver


@dataclass(frozen=True)
class Paste:
    """For SSH and containers, where the browser's redirect cannot reach this machine's loopback: the
    URL is opened anywhere, and `read_redirect()` returns the address the browser landed on."""

    read_redirect: Callable[[], str]


@dataclass(frozen=True)
class Jwt:
    """RingCentral's JWT bearer grant (RFC 7523), for scripts and CI: a credential from the
    developer console, no browser. (Left out of the repr: it is a secret.)"""

    assertion: str = field(repr=False)


WayIn = Browser | Paste | Jwt


def _denied_message(result: CallbackResult) -> str:
    if result.error == "access_denied":
        return "access was denied in the browser" + (
            f" ({result.error_description})" if result.error_description else ""
        )
    return f"RingCentral returned an error: {result.error}" + (
        f" ({result.error_description})" if result.error_description else ""
    )


class LoginFlow:
    """One sign-in to RingCentral: its `state` and PKCE pair, the app's OAuth endpoints, and `save`,
    which keeps the session it makes.

    One object per attempt (a new `state` and verifier each time). Way in: `run(way)`, which is
    `run_local_server` (the browser redirects to a loopback receiver), `run_paste` (the user pastes
    the address the browser landed on) or `run_jwt` (RingCentral's JWT bearer grant); or, to drive
    it by hand, `authorization_url` then `fetch_session` with the parsed callback. Every way ends in
    the same exchange-and-store step.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        save: Callable[[Session], None],
        oauth: RingCentralOAuth | None = None,
    ) -> None:
        self.settings = settings
        self.save = save
        self.oauth = oauth or RingCentralOAuth(settings.server, settings.client_id, settings.client_secret)
        self.state = new_state()
        self.pkce = new_pkce()

    def authorization_url(self, redirect_uri: str | None = None) -> str:
        """The URL to open in a browser: RingCentral's authorize endpoint with this flow's `state`, PKCE
        challenge and `redirect_uri` (default: the settings'; it must match the app's registration)."""
        return self.oauth.authorization_url(
            redirect_uri=redirect_uri or self.settings.redirect_uri, state=self.state, pkce=self.pkce
        )

    def run(self, way: WayIn, *, announce: Announce | None = None) -> Session:
        """Sign in the way `way` says; `announce(url)` gets the authorize URL (browser and paste).

        Returns the stored `Session`; raises as the way's own method (`run_local_server`,
        `run_paste`, `run_jwt`).
        """
        announce = announce or _nobody
        if isinstance(way, Jwt):
            return self.run_jwt(way.assertion)
        if isinstance(way, Paste):
            return self.run_paste(announce=announce, read_redirect=way.read_redirect)
        return self.run_local_server(
            announce=announce,
            open_browser=way.open_browser,
            timeout=way.timeout,
            receiver_factory=way.receiver_factory,
        )

    def run_local_server(
        self,
        *,
        announce: Announce,
        open_browser: Callable[[str], object] | None,
        timeout: float = DEFAULT_TIMEOUT,
        receiver_factory: ReceiverFactory = CallbackReceiver,
    ) -> Session:
        """Listen on the loopback redirect URI, show (`announce`) and open (`open_browser`, if given) the
        authorization URL, wait up to `timeout` seconds for the redirect, then exchange and store.

        Returns the stored `Session`. The browser is shown a page that tells the truth about the
        outcome (signed in, cancelled, refused, not saved). Raises `LoginFailed` (denied, timed out,
        code refused), `PortInUse`, `TransportError`, or whatever `save` raises.
        """
        with receiver_factory(self.settings.redirect_uri, expected_state=self.state) as receiver:
            # The receiver is already listening: a browser that opens (or blocks) now cannot miss it.
            url = self.authorization_url(receiver.redirect_uri)
            announce(url)
            if open_browser is not None:
                open_browser(url)
            result = receiver.wait(timeout)
            if result is None:
                raise LoginFailed(
                    f"no sign-in arrived within {timeout:g} s; run `rcauth login` again (or raise --timeout)"
                )
            return self.fetch_session(result, redirect_uri=receiver.redirect_uri, page=receiver)

    def run_paste(self, *, announce: Announce, read_redirect: Callable[[], str]) -> Session:
        """For SSH and containers, where the browser's redirect cannot reach this machine's loopback:
        `announce` the URL (open it anywhere), then `read_redirect()` the address the browser landed on.

        Returns the stored `Session`; raises `LoginFailed` (not this sign-in's address, denied, code
        refused), `TransportError`, or whatever `save` raises.
        """
        announce(self.authorization_url())
        redirect_uri = self.settings.redirect_uri
        return self.fetch_session(
            parse_pasted_redirect(read_redirect(), self.state, redirect_uri), redirect_uri=redirect_uri
        )

    def run_jwt(self, assertion: str) -> Session:
        """RingCentral's JWT bearer grant (RFC 7523): the login for scripts and CI, no browser, no redirect.

        Returns the stored `Session`; raises `LoginFailed` (empty or refused credential),
        `TransportError`, or whatever `save` raises.
        """
        assertion = assertion.strip()
        if not assertion:
            raise LoginFailed("the JWT credential is empty")
        return self._complete(
            lambda: self.oauth.jwt_bearer(assertion), refused="RingCentral refused the JWT credential"
        )

    def fetch_session(
        self, result: CallbackResult, *, redirect_uri: str, page: Receiver | None = None
    ) -> Session:
        """Exchange the callback's code (with this flow's PKCE verifier) and store the session.

        `page`, when the callback came through a receiver, is told the outcome for the browser.
        Returns the stored `Session`; raises `LoginFailed` when the callback is a refusal or
        RingCentral refuses the code, `TransportError`, or whatever `save` raises.
        """
        if not result.ok:
            message = _denied_message(result)
            if page is not None:
                page.finish(False, "Sign-in cancelled", f"rcauth did not sign in: {message}.")
            raise LoginFailed(message)
        code = result.code or ""
        return self._complete(
            lambda: self.oauth.exchange_code(
                code, redirect_uri=redirect_uri, code_verifier=self.pkce.verifier
            ),
            refused="RingCentral refused the authorization code",
            page=page,
        )

    def _complete(
        self, grant: Callable[[], dict[str, Any]], *, refused: str, page: Receiver | None = None
    ) -> Session:
        """The one exchange-and-store path: make the grant, store the session, tell the browser's page.

        Ctrl-C, SIGTERM and SIGHUP are held from the token request until the session is stored or
        revoked (`interrupts.deferred`, bounded by the request's and the keyring's timeouts), then
        honoured: a process ended between the two would leave a grant that nothing on this machine
        can end, holding one of RingCentral's concurrent-session places until it expired. Between
        tries of the request (a 429's Retry-After) nothing was granted, and a signal is honoured at once.
        """

        def tell(ok: bool, title: str, detail: str) -> None:
            if page is not None:
                page.finish(ok, title, detail)

        with interrupts.deferred():
            try:
                token = grant()
            except OAuthError as exc:
                tell(False, "Sign-in failed", f"{refused}: {exc}")
                raise LoginFailed(f"{refused}: {exc}") from None
            except RcauthError as exc:
                tell(False, "Sign-in failed", f"rcauth could not complete the sign-in: {exc}")
                raise
            try:
                session = self._store(token)
            except BaseException as exc:
                tell(
                    False,
                    "Sign-in not saved",
                    f"rcauth could not store the session, so you are not signed in: {exc}",
                )
                raise
            tell(True, "Signed in to RingCentral", "You can close this tab and return to the terminal.")
        return session

    def _store(self, token: dict[str, Any]) -> Session:
        """Save the new session; if it cannot be made or saved, revoke the grant before the error goes
        up. RingCentral caps concurrent sessions per user and app: an orphan would hold a place until
        it expired, with nothing on this machine able to end it."""
        settings = self.settings
        try:
            session = Session.from_token_response(
                token,
                server=settings.server,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                media_server=settings.media_server,
            )
            self.save(session)
        except BaseException:
            self.oauth.revoke_quietly(token.get("refresh_token") or token.get("access_token"))
            raise
        return session


def _nobody(url: str) -> None:
    """No one to tell: a JWT sign-in has no URL, and a caller opening the browser may show none."""


# What a copy wraps an address in: quotes (a chat, a shell), angle brackets (an e-mail: RFC 3986
# Appendix C's delimiters), backticks (Markdown), typographic quotes (a word processor).
_WRAPPERS = {'"': '"', "'": "'", "<": ">", "`": "`", "\u201c": "\u201d", "\u2018": "\u2019"}


def parse_pasted_redirect(text: str, expected_state: str, redirect_uri: str) -> CallbackResult:
    """Read the URL the browser landed on (or just its query) as the loopback receiver would
    (`loopback.parse_callback`), after taking off one pair of quotes or angle brackets around it and
    checking it is the redirect URI's path.

    Raises `LoginFailed` for another URL, an unreadable query, another sign-in's `state`, or an
    address of this sign-in with neither a code nor RingCentral's `error`: what was pasted is short of
    the address, which is no error of RingCentral's.
    """
    text = text.strip()
    if len(text) >= 2 and _WRAPPERS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    expected = urlsplit(redirect_uri)
    head = text.partition("?")[0]
    if "://" not in head and not head.startswith("/") and "/" in head:
        # "localhost:5000/oauth2callback?code=...": an address bar that hides the scheme copies this.
        text = f"{expected.scheme}://{text}"
    parts = urlsplit(text)
    query_text = parts.query if (parts.scheme or parts.path.startswith("/")) else text.lstrip("?")
    if parts.scheme and (parts.path or "/") != (expected.path or "/"):
        raise LoginFailed(
            f"that URL is not the redirect URI {redirect_uri}; paste the URL your browser landed on"
        )
    try:
        result = parse_callback(query_text, expected_state)
    except ForeignCallback:
        raise LoginFailed(
            "the pasted URL does not belong to this sign-in (state mismatch); start again"
        ) from None
    except LoginFailed:
        raise LoginFailed("that is not a redirect URL (its query could not be read)") from None
    if not result.code and "error" not in parse_qs(query_text, keep_blank_values=True):
        raise LoginFailed(
            "the pasted address carried no code; start again and paste the whole address the browser "
            "landed on"
        )
    return result


def login(
    settings: Settings,
    way: WayIn,
    *,
    save: Callable[[Session], None],
    announce: Announce | None = None,
    oauth: RingCentralOAuth | None = None,
) -> Session:
    """One sign-in in one call: `LoginFlow(settings, save=save, oauth=oauth).run(way, announce=...)`.

    `announce(url)`, when given, gets the authorize URL (browser and paste: in case no browser opens).
    `save` is called before the browser is told the sign-in worked. Returns the stored session;
    raises `LoginFailed` (denied, timed out, refused, a pasted address from elsewhere), `PortInUse`,
    `TransportError`, or whatever `save` raises.
    """
    return LoginFlow(settings, save=save, oauth=oauth).run(way, announce=announce)
