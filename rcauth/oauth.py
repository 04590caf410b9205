"""RingCentral's OAuth 2.0 protocol: PKCE, authorize URL, code exchange, refresh, JWT grant, revoke.

Nothing here opens a browser, listens on a port, stores a token or prints: that is `flow`, `loopback`,
`store` and `cli`. requests-oauthlib's `OAuth2Session` builds the requests; this module adds what
RingCentral needs on top (Basic client auth, its error JSON, its retry policy for the token endpoint).
oauthlib and requests-oauthlib are imported when a token request is made, not with this module: an API
call with a valid access token (the client imports this module) never needs them (about 15 ms).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth

from rcauth import interrupts, redact, transport
from rcauth.config import is_loopback_host
from rcauth.errors import OAuthError, RcauthError, UnexpectedAnswer, parse_error_body
from rcauth.retry import BoundedRetry
from rcauth.session import UNUSABLE_TOKEN_ANSWER, Session, looks_like_token, validated_token

if TYPE_CHECKING:
    from oauthlib.oauth2 import Client as OAuthlibClient
    from requests_oauthlib import OAuth2Session

AUTHORIZE_PATH = "/restapi/oauth/authorize"
TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 - a path, not a password
REVOKE_PATH = "/restapi/oauth/revoke"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TIMEOUT = (10.0, 30.0)  # connect, read: no request may hang forever
# Long enough to honour one Retry-After of RingCentral's 60 s Auth-group penalty, no longer.
TOKEN_RETRY_BUDGET = 90.0
# An authorization code lives 60 s at RingCentral and the user has spent some of it: retries of its
# exchange stop within this many seconds.
CODE_RETRY_BUDGET = 20.0
KEPT_HINT = "the session is kept: run the command again once RingCentral can be reached"


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair (RFC 7636): the verifier stays here, the challenge goes to the browser."""

    verifier: str
    challenge: str
    method: str = "S256"


def new_pkce() -> Pkce:
    """A fresh S256 pair; the verifier is 86 unreserved characters from `secrets` (RFC 7636 §4.1: 43-128)."""
    verifier = secrets.token_urlsafe(64)
    redact.register(verifier)
    return Pkce(verifier=verifier, challenge=pkce_challenge(verifier))


def pkce_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """An unguessable `state` (256 bits) binding the callback to this login (RFC 6749 §10.12)."""
    return secrets.token_urlsafe(32)


def error_from_response(
    response: requests.Response, endpoint: str = "the token endpoint"
) -> OAuthError | UnexpectedAnswer:
    """RingCentral's OAuth error JSON (a 4xx whose body has a string `error`) -> `OAuthError`; any
    other failed answer -> `UnexpectedAnswer`, naming what answered. Never includes request data."""
    parsed = parse_error_body(response)
    message = parsed.message or response.reason or "request failed"
    error_code = parsed.error_code
    if parsed.oauth_error is None or not 400 <= response.status_code < 500:
        said = f": {error_code}: {message}" if parsed.fields and error_code else ""
        if not parsed.fields:
            said = ", not with RingCentral's JSON (a proxy, captive portal or web filter may be in the way)"
        elif response.status_code == 429:
            said += (
                "; RingCentral allows a few sign-in and token requests a minute (its Auth rate-limit "
                f"group): try again {_after(response)}"
            )
        return UnexpectedAnswer(
            redact.redact(f"{endpoint} answered {what_answered(response)}{said}"),
            status=response.status_code,
            error_code=error_code,
        )
    return OAuthError(
        redact.redact(message),
        oauth_error=parsed.oauth_error,
        status=response.status_code,
        error_code=error_code,
        details=parsed.details,
    )


def _after(response: requests.Response) -> str:
    """`in 60 s` from a Retry-After in seconds; `in a minute` without a usable one (RingCentral's
    Auth-group penalty is 60 s)."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit() and 0 < int(value) <= 3600:
        return f"in {int(value)} s"
    return "in a minute"


def what_answered(response: requests.Response) -> str:
    """`HTTP 400 (text/html) via proxy HTTPS_PROXY=http://***@proxy:3128`: enough for a person to see
    that a proxy, captive portal or web filter answered, not RingCentral."""
    content_type = _printable(response.headers.get("Content-Type", "")) or "no content type"
    text = f"HTTP {response.status_code} ({content_type})"
    request_url = response.request.url if response.request is not None else response.url
    if response.history and urlsplit(response.url).netloc != urlsplit(request_url or "").netloc:
        text += f" after a redirect to {_printable(urlsplit(response.url).netloc)}"
    proxy = transport.proxy_in_use(request_url or response.url)
    return f"{text} via proxy {_printable(proxy)}" if proxy else text


def _printable(text: str, limit: int = 100) -> str:
    """A header or setting shown in an error: printable ASCII only, bounded."""
    return re.sub(r"[^\x20-\x7e]", "?", text)[:limit]


def _token_answer(response: requests.Response, issued_out: list[str] | None = None) -> requests.Response:
    """Compliance hook on every token endpoint answer, before oauthlib reads it.

    A failure is classified (`error_from_response`). A success must be a usable token
    (`session.validated_token`); its lifetimes are handed on clamped, so oauthlib's own arithmetic on
    `expires_in` cannot overflow. A JSON `NaN`, `Infinity` or `1e400` is read as a Decimal, not a float.
    The token that names the grant is appended to `issued_out` before anything can refuse it, so
    whoever sent the request can revoke the grant if oauthlib refuses the answer after this hook.
    """
    from decimal import Decimal

    if response.status_code >= 400:
        raise error_from_response(response)
    try:
        body = json.loads(response.text, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
        raise UnexpectedAnswer(
            f"the token endpoint answered {what_answered(response)}, which is not a token",
            status=response.status_code,
        ) from None
    fields = body if isinstance(body, dict) else {}  # its tokens registered as it came (`_register_tokens`)
    # What revokes the grant if it cannot be used. Either token ends the whole session at RingCentral:
    # the first that looks like a token (a refresh token refused for its shape must not take the place
    # of a good access token in the revocation).
    tokens = [fields.get("refresh_token"), fields.get("access_token")]
    candidates = [t for t in tokens if isinstance(t, str) and t]
    issued = next((t for t in candidates if looks_like_token(t)), candidates[0] if candidates else None)
    if issued and issued_out is not None:
        issued_out.append(issued)

    def unusable(reason: str) -> UnexpectedAnswer:
        return UnexpectedAnswer(
            f"the token endpoint answered {what_answered(response)} with no usable token: {reason}",
            status=response.status_code,
            issued_token=issued,
        )

    if issued and "error" in fields:
        # A success status whose body also reports a failure (RFC 6749 §5.2's `error`): which half to
        # believe is unknowable, so neither is used, and the token, a grant all the same, is revoked.
        code = fields["error"]
        named = f" ({_printable(code, 40)})" if isinstance(code, str) and code else ""
        raise unusable(f"it also carries an OAuth error{named}")
    try:
        token = validated_token(body)
    except UnexpectedAnswer as exc:
        raise unusable(exc.message.removeprefix(UNUSABLE_TOKEN_ANSWER)) from None
    return _answer_with(response, json.dumps(token, default=float))


def _register_tokens(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A requests response hook on every token request: the tokens an answer carries are registered
    for masking as it arrives, before requests-oauthlib logs its text (at DEBUG, ahead of the
    compliance hooks such as `_token_answer`)."""
    try:
        body = json.loads(response.text)
    except (ValueError, RecursionError):
        return response
    if isinstance(body, dict):
        redact.register(*(v for k, v in body.items() if k.endswith("_token") and isinstance(v, str)))
    return response


def _answer_with(response: requests.Response, text: str) -> requests.Response:
    """`response` with `text` as its body: what the compliance hook hands on to oauthlib, which reads
    the answer's `.text`. requests-oauthlib's hooks must return a response, and requests has no
    public way to change the body of one it has read; this one is made anew from `Response`'s
    documented attributes, its body a file object (`raw`) that `.content` reads as it reads a socket."""
    answer = requests.Response()
    answer.status_code = response.status_code
    answer.reason = response.reason
    answer.headers = response.headers
    answer.url = response.url
    answer.history = response.history
    answer.request = response.request
    answer.encoding = "utf-8"
    answer.raw = io.BytesIO(text.encode("utf-8"))
    return answer


def _jwt_bearer_client(client_id: str) -> OAuthlibClient:
    """oauthlib has no client for a ready-made JWT assertion (RFC 7523 §2.1); this is the whole of it."""
    from oauthlib.oauth2 import Client
    from oauthlib.oauth2.rfc6749.parameters import prepare_token_request

    class JwtBearerClient(Client):
        grant_type = JWT_BEARER

        def prepare_request_body(self, body: str = "", assertion: str | None = None, **kwargs: Any) -> str:
            kwargs.pop("code", None)
            kwargs.pop("redirect_uri", None)
            kwargs["assertion"] = assertion
            # A public app names itself in the body (RFC 6749 §3.2.1), as oauthlib's own clients do;
            # `include_client_id` (False when Basic auth is sent) decides whether it goes out.
            kwargs["client_id"] = self.client_id
            return prepare_token_request(self.grant_type, body=body, **kwargs)

    return JwtBearerClient(client_id)


def _token_retry(
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = interrupts.sleep,
    *,
    short_lived_grant: bool = False,
) -> BoundedRetry:
    """RingCentral's token endpoint policy: 429/503 wait for Retry-After, 408/500 retry with a pause.

    Only failures that did not consume the grant are retried: connect errors (nothing was sent) and
    the statuses above (the server refused before acting). A read error after sending is not retried:
    the grant may have been spent. 400 means "log in again" and is never retried. Bounded: at most 4
    tries, and none starts more than `TOKEN_RETRY_BUDGET` seconds after the first failure.

    A `short_lived_grant` (an authorization code: RingCentral's live 60 s) cannot outwait a 429,
    whose Retry-After is the Auth group's 60 s penalty: the code would be dead by then, and the
    user told "code expired" a minute later. So a 429 is not retried but said at once
    (`error_from_response`), and other waits stay short (`CODE_RETRY_BUDGET`).
    """
    return BoundedRetry(
        total=3,
        connect=3,
        read=0,
        status=3,
        other=0,
        allowed_methods=frozenset({"POST"}),
        status_forcelist=frozenset({408, 500, 503} if short_lived_grant else {408, 429, 500, 503}),
        backoff_factor=0.5,
        backoff_jitter=0.25,
        backoff_max=10,
        respect_retry_after_header=True,
        retry_after_max=10 if short_lived_grant else 60,
        raise_on_status=False,
        budget=CODE_RETRY_BUDGET if short_lived_grant else TOKEN_RETRY_BUDGET,
        monotonic=monotonic,
        sleep=sleep,
    )


class RingCentralOAuth:
    """OAuth endpoints of one RingCentral server, as one app (client id, optional secret)."""

    def __init__(
        self,
        server: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        timeout: float | tuple[float, float] = TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = interrupts.sleep,
    ) -> None:
        self.server = server.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret or None
        self.timeout = timeout
        # The clock and the pause of the token endpoint's retries (`BoundedRetry`).
        self.monotonic = monotonic
        self.sleep = sleep
        redact.register_client(self.client_id, self.client_secret)
        # oauthlib refuses plain http outright. The emulator is served over http on loopback, where no
        # one can listen in; config.normalize_server already refused http anywhere else.
        parts = urlsplit(self.server)
        self._plain_loopback = parts.scheme == "http" and is_loopback_host(parts.hostname)

    @contextlib.contextmanager
    def _oauthlib_allows_http(self) -> Iterator[None]:
        """oauthlib's switch for http (`OAUTHLIB_INSECURE_TRANSPORT`), on only for the length of one
        call to a loopback server and put back as it was after: never left on for the rest of the
        process, where it would let any other oauthlib user send tokens in the clear."""
        if not self._plain_loopback:
            yield
            return
        before = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
            else:
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = before

    @property
    def authorize_endpoint(self) -> str:
        return self.server + AUTHORIZE_PATH

    @property
    def token_endpoint(self) -> str:
        return self.server + TOKEN_PATH

    @property
    def revoke_endpoint(self) -> str:
        return self.server + REVOKE_PATH

    def _basic_auth(self) -> HTTPBasicAuth | None:
        # Public (client-side) apps have no secret: they send client_id in the body and rely on PKCE.
        return HTTPBasicAuth(self.client_id, self.client_secret) if self.client_secret else None

    def _oauth_session(
        self, redirect_uri: str | None = None, client: Any = None, *, short_lived_grant: bool = False
    ) -> OAuth2Session:
        from requests_oauthlib import OAuth2Session

        redact.guard_token_loggers()
        # Redirects stay on the server: a 307/308 would re-send the grant (refresh token, code and
        # verifier) in the body to wherever it points, whatever happens to the Basic header.
        session_class = transport.staying_on_origin(OAuth2Session)
        session = session_class(client_id=self.client_id, client=client, redirect_uri=redirect_uri)
        session.hooks["response"].append(_register_tokens)
        retry = _token_retry(self.monotonic, self.sleep, short_lived_grant=short_lived_grant)
        transport.mount(session, retry, prefix=self.server + "/")
        return session

    def authorization_url(self, *, redirect_uri: str, state: str, pkce: Pkce) -> str:
        """The URL to open in the browser: the authorization request with PKCE (RFC 7636 §4.3)."""
        with self._oauthlib_allows_http():
            url, _ = self._oauth_session(redirect_uri).authorization_url(
                self.authorize_endpoint,
                state=state,
                code_challenge=pkce.challenge,
                code_challenge_method=pkce.method,
            )
        return url

    def _fetch(self, session: OAuth2Session, **kwargs: Any) -> dict[str, Any]:
        """A new grant (code exchange, JWT). An answer that carries a token rcauth cannot use is
        revoked at once: RingCentral caps concurrent sessions per user and app, and this one would
        count until it expired, with nothing on this machine to end it."""
        auth = self._basic_auth()
        try:
            token = self._token_request(
                session,
                session.fetch_token,
                self.token_endpoint,
                auth=auth,
                include_client_id=auth is None,
                timeout=self.timeout,
                **kwargs,
            )
        except UnexpectedAnswer as exc:
            self.revoke_quietly(exc.issued_token)
            raise
        return self._registered(token)

    def _token_request(self, session: OAuth2Session, call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """One token request on `session`; what went wrong on the way becomes an `RcauthError`.
        oauthlib's own complaints (a body `_token_answer` let through that it still refuses, e.g. one
        without `token_type` under `OAUTHLIB_STRICT_TOKEN_TYPE`) are an unexpected answer that keeps
        the token the answer carried (`issued_token`): RingCentral made a grant all the same."""
        from oauthlib.oauth2 import OAuth2Error

        issued: list[str] = []

        def hook(response: requests.Response) -> requests.Response:
            return _token_answer(response, issued)

        session.register_compliance_hook("access_token_response", hook)
        session.register_compliance_hook("refresh_token_response", hook)
        try:
            with self._oauthlib_allows_http():
                token: dict[str, Any] = call(*args, **kwargs)
        except requests.RequestException as exc:
            raise transport.failure(exc, self.server) from None
        except (OAuth2Error, Warning, ValueError, OverflowError) as exc:
            raise UnexpectedAnswer(
                f"the token endpoint's answer is not usable ({type(exc).__name__})",
                issued_token=issued[-1] if issued else None,
            ) from None
        return token

    @staticmethod
    def _registered(token: dict[str, Any]) -> dict[str, Any]:
        redact.register(token.get("access_token"), token.get("refresh_token"), token.get("id_token"))
        return dict(token)

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """Trade an authorization code for tokens (grant_type=authorization_code, with the PKCE verifier).

        Raises `OAuthError` when RingCentral refuses, `TransportError` when it cannot be reached.
        """
        redact.register(code, code_verifier)
        session = self._oauth_session(redirect_uri, short_lived_grant=True)
        return self._fetch(session, code=code, code_verifier=code_verifier)

    def jwt_bearer(self, assertion: str) -> dict[str, Any]:
        """Trade a JWT credential from the developer console for tokens (RingCentral's login for scripts)."""
        redact.register(assertion)
        session = self._oauth_session(client=_jwt_bearer_client(self.client_id))
        return self._fetch(session, assertion=assertion)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Rotate the pair (grant_type=refresh_token): the caller must store the new pair at once,
        because RingCentral kills the old refresh token once the new access token is used."""
        redact.register(refresh_token)
        session = self._oauth_session()
        auth = self._basic_auth()
        extra = {} if auth else {"client_id": self.client_id}
        try:
            token = self._token_request(
                session,
                session.refresh_token,
                self.token_endpoint,
                refresh_token=refresh_token,
                auth=auth,
                timeout=self.timeout,
                **extra,
            )
        except UnexpectedAnswer as exc:
            # An answer that carries a token is RingCentral's: it has rotated the pair and spent
            # `refresh_token`, so the token in the answer names the session's only live grant, which
            # rcauth cannot use. It is revoked (ending the session: the caller removes the stored
            # pair and says so), as a new grant's would be. Nothing in it, or a revocation that
            # failed: the stored pair is kept, as it may still be good.
            revoked = self.revoke_quietly(exc.issued_token)
            raise UnexpectedAnswer(
                exc.message,
                status=exc.status,
                error_code=exc.error_code,
                hint=exc.hint or (None if revoked else KEPT_HINT),
                issued_token=exc.issued_token,
                revoked=revoked,
            ) from exc
        return self._registered(token)

    def revoke(self, token: str) -> None:
        """End the session that `token` belongs to (RingCentral revokes every token of it).

        Not retried: RingCentral advises ignoring revoke errors rather than retrying.
        """
        data = {"token": token}
        auth = self._basic_auth()
        if auth is None:
            data["client_id"] = self.client_id
        try:
            with transport.new_session() as http:
                # Not followed: RingCentral's revoke answers itself; a redirect is a portal or a proxy.
                response = http.post(
                    self.revoke_endpoint, data=data, auth=auth, timeout=self.timeout, allow_redirects=False
                )
        except requests.RequestException as exc:
            raise transport.failure(exc, self.server) from None
        if response.status_code >= 400:
            raise error_from_response(response, "the revoke endpoint")
        if not _revoked(response):
            # A captive portal or a proxy answering 200 with its own page in RingCentral's place has
            # revoked nothing: said so, the caller keeps the session it could not end.
            raise UnexpectedAnswer(
                f"the revoke endpoint answered {what_answered(response)}, which is not RingCentral's answer "
                "(a proxy, captive portal or web filter may be in the way)",
                status=response.status_code,
            )

    def revoke_quietly(self, token: str | None) -> bool:
        """Best effort `revoke`, for a session nobody will use: False when it could not be done."""
        if not token:
            return False
        try:
            self.revoke(token)
        except RcauthError:
            return False
        return True


def _revoked(response: requests.Response) -> bool:
    """RingCentral's revoke succeeds with 200 and no body (its OpenAPI spec): a 2xx with an empty or
    JSON body is that answer; any other status, or a page of another type, came from someone else."""
    if not 200 <= response.status_code < 300:
        return False
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return not response.content.strip() or media_type == "application/json" or media_type.endswith("+json")


def grant_of(session: Session) -> str:
    """The token that names a session at RingCentral: the one `revoke` is given (its refresh token,
    or the access token of a session without one)."""
    return session.refresh_token or session.access_token


def revoke_session(session: Session) -> None:
    """End `session` at RingCentral, with the app that made it. RingCentral caps concurrent sessions
    per user and app, so a session this machine stops using (logged out, replaced by a new login) is
    ended rather than left to count until it expires.

    Raises `OAuthError` when RingCentral refuses, `TransportError` when it cannot be reached; a caller
    for whom it is best effort catches `RcauthError`.
    """
    RingCentralOAuth(session.server, session.client_id, session.client_secret).revoke(grant_of(session))
