"""RingCentral's OAuth endpoints: authorize (with the consent page), token, revoke.

Status codes and error codes follow docs/ringcentral.md ("Token endpoint", "Refresh rotation", "Errors").
Where RingCentral's answer is unconfirmed the emulator picks the stricter reading (a client that copes with it
copes with the real one):

- invalid / reused code -> 403 invalid_grant OAU-106; expired code -> 403 OAU-108; a redirect_uri that
  differs from the authorize request's -> 403 OAU-109; grant not enabled for the app -> 403
  unauthorized_client OAU-112.
- bad or missing client authentication -> 401 invalid_client, OAU-123 (header absent or malformed) or
  OAU-146 (wrong credentials).
- wrong or missing PKCE verifier -> 400 invalid_grant OAU-101 (unconfirmed code); a verifier sent for a code
  that had no challenge is refused too (OAuth 2.1 §4.1.3: PKCE downgrade protection).
- refresh: unknown token -> 400 invalid_grant OAU-213; revoked, spent or expired -> 400 invalid_grant OAU-211
  (unconfirmed codes; the notes settle only "400 invalid_grant").
- JWT assertion not issued for the app -> 400 invalid_grant OAU-140 (unconfirmed code).
- password or unknown grant -> 400 unsupported_grant_type; malformed request -> 400 invalid_request OAU-101.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from collections.abc import Callable
from urllib.parse import urlencode

from ringcentral_emulator import pages
from ringcentral_emulator.config import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_JWT_BEARER,
    GRANT_REFRESH_TOKEN,
    REQUESTED_ACCESS_TTL_RANGE,
    SUPPORTED_GRANTS,
    App,
)
from ringcentral_emulator.ratelimit import too_many
from ringcentral_emulator.state import (
    AuthorizeRequest,
    CodeProblem,
    EmulatorCore,
    Grant,
    IssuedTokens,
    RefreshProblem,
)
from ringcentral_emulator.wire import (
    FORM_CONTENT_TYPE,
    NO_STORE,
    Request,
    Response,
    html_response,
    json_response,
    oauth_error,
    redirect,
)

# RFC 7636 §4.1 / §4.2: verifier and S256 challenge are 43-128 characters of [A-Z a-z 0-9 - . _ ~].
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT32 = range(-(2**31), 2**31)  # the spec types both lifetimes as int32
_PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
LOGIN_PATH = "/login/consent"  # the emulated sign-in/consent page (RingCentral's live on its login host)
_SINGLE_VALUED = (
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "assertion",
    "client_id",
    "access_token_ttl",
    "refresh_token_ttl",
    "token",
)


# What the OAuth endpoints need of the emulator that serves them is what every endpoint needs: its
# switches (the apps, the user, lifetimes), the authorization state, the counters and a count against
# the Auth group's limit. `app.EmulatorApp` is one; this module does not import it.
OAuthContext = EmulatorCore


class OAuthEndpoints:
    def __init__(self, app: OAuthContext) -> None:
        self.app = app

    # -- authorize ---------------------------------------------------------------------------------------

    def authorize(self, req: Request) -> Response:
        params = req.form if req.method == "POST" else req.query
        if req.method not in ("GET", "HEAD", "POST"):
            return _method_not_allowed("GET, POST")

        def first(name: str) -> str | None:
            values = params.get(name)
            return values[0] if values else None

        client_id = first("client_id")
        verdict = self.app.limit(("client", client_id or req.client_ip), "Auth")
        if verdict is not None and not verdict.allowed:
            return too_many(verdict)
        extra = tuple(verdict.headers()) if verdict else ()

        cfg = self.app.config
        app = cfg.app(client_id)
        if app is None:
            # Never redirect for an unknown client: its redirect URI cannot be trusted (RFC 6749 §4.1.2.1).
            # RingCentral's spec documents a JSON 400 (OauthInvalidRequest) for the authorize endpoint.
            return oauth_error(
                400,
                "invalid_client",
                "No application is registered with this client_id",
                "OAU-120",
                parameterName="client_id",
            ).with_headers(list(extra))
        redirect_param = first("redirect_uri")
        if redirect_param is None:
            if len(app.redirect_uris) != 1:
                return oauth_error(
                    400,
                    "invalid_request",
                    "redirect_uri is required: the app registers several",
                    "OAU-109",
                    parameterName="redirect_uri",
                ).with_headers(list(extra))
            target = app.redirect_uris[0]
        elif redirect_param in app.redirect_uris:
            target = redirect_param
        else:
            # Exact string match only, and never a redirect to an unregistered URI (RFC 6749 §3.1.2.4).
            return oauth_error(
                400, "invalid_request", "Redirect URIs do not match", "OAU-109", parameterName="redirect_uri"
            ).with_headers(list(extra))
        state = first("state")

        def fail(error: str, description: str) -> Response:
            return _redirect_with(target, [("error", error), ("error_description", description)], state)

        if GRANT_AUTHORIZATION_CODE not in app.grant_types:
            return fail("unauthorized_client", "The authorization code flow is not enabled for this app")
        if first("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be code")
        challenge = first("code_challenge")
        method = first("code_challenge_method")
        if challenge is None:
            if method is not None:
                return fail("invalid_request", "code_challenge_method without code_challenge")
            if app.public:
                return fail("invalid_request", "PKCE (code_challenge) is required for this app")
        else:
            method = method or "plain"  # RFC 7636 §4.3: plain is the default
            if method not in ("plain", "S256"):
                return fail("invalid_request", "code_challenge_method must be plain or S256")
            if not _PKCE_VALUE.fullmatch(challenge):
                return fail("invalid_request", "code_challenge is malformed")
        request = AuthorizeRequest(
            client_id=app.client_id,
            redirect_uri=target,
            redirect_uri_param=redirect_param,
            state=state,
            code_challenge=challenge,
            code_challenge_method=method if challenge is not None else None,
        )
        if cfg.auto_approve:
            return self._approve(request).with_headers(list(extra))
        # RingCentral's sign-in and consent UI live on its login pages: the authorize URL answers 302.
        nonce = self.app.auth.open_consent(request)
        return redirect(f"{req.base_url}{LOGIN_PATH}?{urlencode([('nonce', nonce)])}").with_headers(
            list(extra)
        )

    def login_page(self, req: Request) -> Response:
        """The emulated sign-in/consent page the authorize endpoint redirects to; its form posts back
        here (not to the authorize URL, whose POST form is the spec's authorize request)."""
        if req.method == "POST":
            return self._decide(req)
        if req.method not in ("GET", "HEAD"):
            return _method_not_allowed("GET, POST")
        nonce = req.param("nonce") or ""
        request = self.app.auth.peek_consent(nonce)
        app = self.app.config.app(request.client_id) if request is not None else None
        if request is None or app is None:
            return html_response(
                400,
                pages.error_page(
                    "Sign-in expired",
                    "This sign-in page was already used or has expired. Start again from the application.",
                ),
            )
        return html_response(200, pages.consent_page(app, self.app.config.user, request, nonce))

    def _decide(self, req: Request) -> Response:
        # Not counted in the Auth group: RingCentral's sign-in and consent pages are its login host's, no
        # operation of the API; its spec gives `x-throttling-group: Auth` to the OAuth operations
        # (authorize, token, revoke), the page the authorize 302 leads to has none (docs/ringcentral.md,
        # "Rate limits").
        nonce = req.form_value("nonce") or ""
        request = self.app.auth.take_consent(nonce)
        if request is None:
            return html_response(
                400,
                pages.error_page(
                    "Sign-in expired",
                    "This sign-in page was already used or has expired. Start again from the application.",
                ),
            )
        action = req.form_value("action")
        if action == "approve":
            return self._approve(request)
        self.app.counters.incr("authorize_denied")
        return _redirect_with(
            request.redirect_uri,
            [("error", "access_denied"), ("error_description", "The user denied the authorization request")],
            request.state,
        )

    def _approve(self, request: AuthorizeRequest) -> Response:
        ttl = self.app.config.code_ttl
        code = self.app.auth.issue_code(request, ttl)
        self.app.counters.incr("authorize_approved")
        # The callback carries code, state and expires_in (RingCentral's order), state only if one was sent.
        params = [("code", code)]
        if request.state is not None:
            params.append(("state", request.state))
        params.append(("expires_in", str(math.ceil(ttl))))
        return redirect(_append_query(request.redirect_uri, params))

    # -- token -------------------------------------------------------------------------------------------

    def token(self, req: Request) -> Response:
        if req.method == "POST" and req.content_type and req.content_type != FORM_CONTENT_TYPE:
            # The token endpoint takes form-urlencoded bodies only; anything else (JSON) is 415.
            return oauth_error(
                415,
                "invalid_request",
                f"Unsupported Media Type: {req.content_type}",
                "OAU-101",
                parameterName="Content-Type",
            )
        return self._client_post(req, self._token)

    def _client_post(self, req: Request, handle: Callable[[Request, App], Response]) -> Response:
        """What the token and revoke endpoints share: POST only, counted in the Auth rate-limit group
        (its headers on every answer), a form body, and the app authenticated before `handle` runs."""
        if req.method != "POST":
            return _method_not_allowed("POST")
        verdict = self.app.limit(("client", _claimed_client(req) or req.client_ip), "Auth")
        if verdict is not None and not verdict.allowed:
            return too_many(verdict)
        extra = list(verdict.headers()) if verdict else []
        problem = _check_form(req)
        if problem is not None:
            return problem.with_headers(extra)
        client = self._authenticate_client(req)
        if isinstance(client, Response):
            return client.with_headers(extra)
        return handle(req, client).with_headers(extra)

    def _token(self, req: Request, client: App) -> Response:
        grant_type = req.form_value("grant_type")
        if not grant_type:
            return _invalid_request("grant_type is required", "grant_type")
        if grant_type not in SUPPORTED_GRANTS:
            # The password grant is deprecated and gone from RingCentral's spec.
            return oauth_error(
                400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}", "OAU-101"
            )
        if grant_type not in client.grant_types:
            return oauth_error(403, "unauthorized_client", "Unauthorized for this grant type", "OAU-112")
        requested = _requested_ttls(req)
        if isinstance(requested, Response):
            return requested
        cfg = self.app.config
        access_ttl, refresh_ttl = _granted_ttls(requested, cfg.access_token_ttl, cfg.refresh_token_ttl)
        if grant_type == GRANT_AUTHORIZATION_CODE:
            return self._code_grant(req, client, access_ttl, refresh_ttl)
        if grant_type == GRANT_REFRESH_TOKEN:
            return self._refresh_grant(req, client, access_ttl, refresh_ttl)
        return self._jwt_grant(req, client, access_ttl, refresh_ttl)

    def _authenticate_client(self, req: Request) -> App | Response:
        """Basic auth for confidential apps; `client_id` in the body for public (client-side) apps."""
        cfg = self.app.config
        header = req.headers.get("Authorization")
        body_client = req.form_value("client_id")
        if header is None:
            app = cfg.app(body_client)
            if app is not None and app.public:
                return app
            return _invalid_client("Authorization header is not specified", "OAU-123")
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "basic" or not credentials.strip():
            return _invalid_client("Invalid Authorization header", "OAU-123")
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _invalid_client("Invalid Authorization header", "OAU-123")
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            return _invalid_client("Invalid Authorization header", "OAU-123")
        app = cfg.app(client_id)
        if app is None or not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            return _invalid_client("Invalid client: client credentials are not valid", "OAU-146")
        if body_client is not None and body_client != client_id:
            return _invalid_client(
                "Invalid client: client_id does not match the Authorization header", "OAU-146"
            )
        return app

    def _code_grant(
        self, req: Request, client: App, access_ttl: float, refresh_ttl: float | None
    ) -> Response:
        code = req.form_value("code")
        if not code:
            return _invalid_request("code is required", "code")
        grant = self.app.auth.redeem_code(code, client.client_id)
        if grant is CodeProblem.EXPIRED:
            return oauth_error(403, "invalid_grant", "Authorization code is expired", "OAU-108")
        if not isinstance(grant, Grant):
            return oauth_error(403, "invalid_grant", "Invalid authorization code", "OAU-106")
        request = grant.request
        sent_redirect = req.form_value("redirect_uri")
        if request.redirect_uri_param is not None:
            redirect_ok = sent_redirect == request.redirect_uri_param
        else:
            redirect_ok = sent_redirect in (None, request.redirect_uri)
        if not redirect_ok:
            return oauth_error(403, "invalid_grant", "Redirect URIs do not match", "OAU-109")
        verifier = req.form_value("code_verifier")
        if verifier:
            self.app.auth.remember_secret(verifier)
        if request.code_challenge is None:
            if verifier is not None:
                return oauth_error(
                    400,
                    "invalid_grant",
                    "code_verifier sent but the authorization request had no code_challenge",
                    "OAU-101",
                    parameterName="code_verifier",
                )
        elif verifier is None:
            return oauth_error(
                400, "invalid_grant", "code_verifier is required", "OAU-101", parameterName="code_verifier"
            )
        elif not _pkce_matches(verifier, request.code_challenge, request.code_challenge_method or "plain"):
            return oauth_error(
                400, "invalid_grant", "Invalid code_verifier", "OAU-101", parameterName="code_verifier"
            )
        issued = self._new_session(client, access_ttl, refresh_ttl)
        self.app.counters.incr("grants", GRANT_AUTHORIZATION_CODE)
        return _token_response(issued)

    def _refresh_grant(
        self, req: Request, client: App, access_ttl: float, refresh_ttl: float | None
    ) -> Response:
        token = req.form_value("refresh_token")
        if not token:
            return _invalid_request("refresh_token is required", "refresh_token")
        cfg = self.app.config
        result = self.app.auth.refresh(
            token,
            client_id=client.client_id,
            access_ttl=access_ttl,
            refresh_ttl=refresh_ttl,
            strict=cfg.strict_rotation,
            grace_after_use=cfg.rotation_grace_after_use,
            grace_max=cfg.rotation_grace_max,
        )
        if result is RefreshProblem.UNKNOWN:
            return oauth_error(400, "invalid_grant", "Token not found", "OAU-213")
        if result is RefreshProblem.EXPIRED:
            return oauth_error(400, "invalid_grant", "Token is expired", "OAU-211")
        if isinstance(result, RefreshProblem):
            return oauth_error(400, "invalid_grant", "Token is revoked", "OAU-211")
        if not result.replayed:
            # A grace replay hands back the existing pair; only a real rotation counts as a refresh.
            counters = self.app.counters
            counters.incr("refreshes")
            counters.incr("grants", GRANT_REFRESH_TOKEN)
        return _token_response(result)

    def _jwt_grant(
        self, req: Request, client: App, access_ttl: float, refresh_ttl: float | None
    ) -> Response:
        assertion = req.form_value("assertion")
        if not assertion:
            return _invalid_request("assertion is required", "assertion")
        if not any(hmac.compare_digest(assertion.encode(), c.encode()) for c in client.jwt_credentials):
            return oauth_error(400, "invalid_grant", "Invalid JWT: not a credential of this app", "OAU-140")
        issued = self._new_session(client, access_ttl, refresh_ttl)
        self.app.counters.incr("grants", GRANT_JWT_BEARER)
        return _token_response(issued)

    def _new_session(self, client: App, access_ttl: float, refresh_ttl: float | None) -> IssuedTokens:
        cfg = self.app.config
        return self.app.auth.create_session(
            client_id=client.client_id,
            extension_id=cfg.user.extension_id,
            scope=" ".join(client.scopes),
            access_ttl=access_ttl,
            refresh_ttl=refresh_ttl if client.issue_refresh_tokens else None,
            max_sessions=cfg.max_sessions,
        )

    # -- revoke ------------------------------------------------------------------------------------------

    def revoke(self, req: Request) -> Response:
        """RFC 7009 revocation: revoking either token ends the whole session. Unknown tokens get 200 too
        (RFC 7009 §2.2), so revoke is idempotent and reveals nothing."""
        return self._client_post(req, self._revoke)

    def _revoke(self, req: Request, client: App) -> Response:
        # The spec: `token` may come in the query string as well as the body (the body is recommended).
        token = req.form_value("token") or req.param("token")
        if not token:
            return _invalid_request("token is required", "token")
        outcome = self.app.auth.revoke(token, client.client_id)
        if outcome is None:
            return oauth_error(
                400,
                "invalid_request",
                "The token was not issued to this client",
                "OAU-101",
                parameterName="token",
            )
        self.app.counters.incr("revokes")
        return Response(200, b"", None, list(NO_STORE))


def _token_response(issued: IssuedTokens) -> Response:
    payload: dict[str, object] = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }
    if issued.refresh_token is not None:
        payload["refresh_token"] = issued.refresh_token
        payload["refresh_token_expires_in"] = issued.refresh_token_expires_in
    payload.update(
        scope=issued.scope,
        owner_id=issued.owner_id,
        endpoint_id=issued.endpoint_id,
        session_id=issued.session_id,
    )
    return json_response(200, payload, NO_STORE)


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if not _PKCE_VALUE.fullmatch(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        expected = verifier
    return hmac.compare_digest(expected, challenge)


def _requested_ttls(req: Request) -> tuple[int | None, int | None] | Response:
    """The optional access_token_ttl and refresh_token_ttl parameters, as integers (None: not sent).

    Only a value that is not an integer is refused: RingCentral clamps one out of range (`_granted_ttls`)."""
    values: list[int | None] = []
    for name in ("access_token_ttl", "refresh_token_ttl"):
        raw = req.form_value(name)
        if raw is None or raw == "":
            values.append(None)
            continue
        if _INTEGER.fullmatch(raw) is None or len(raw) > 40 or int(raw) not in _INT32:
            return _invalid_request(f"{name} must be a 32-bit integer", name)
        values.append(int(raw))
    return values[0], values[1]


def _granted_ttls(
    requested: tuple[int | None, int | None], access_default: float, refresh_default: float
) -> tuple[float, float | None]:
    """The lifetimes a token request gets: (access, refresh), refresh None for "issue no refresh token".

    RingCentral's guide, on both parameters: a value above the default gives the default (the app's
    lifetime: 1 hour and 7 days unless RingCentral set it otherwise); an access_token_ttl below 600 s
    gives 600 s. Clamped, not refused: the JavaScript SDK sends its stored expires_in back on every
    refresh, -1 after a 401. A configured default below 600 s (a test's short TTL) stays the ceiling.
    refresh_token_ttl=0 asks for no refresh token (RingCentral's developer community article
    "Disabling refresh_token from being generated for /oauth/token requests"), and so does a negative
    one ("If client specifies refresh_token_ttl<=0, refresh token is not returned": the parameter's
    description in the community client zengfenfei/ringcentral-ts)."""
    access, refresh = requested
    floor = REQUESTED_ACCESS_TTL_RANGE[0]
    access_ttl = access_default if access is None else min(max(access, floor), access_default)
    if refresh is None:
        return access_ttl, refresh_default
    return access_ttl, (None if refresh <= 0 else min(refresh, refresh_default))


def _check_form(req: Request) -> Response | None:
    if req.content_type != FORM_CONTENT_TYPE and (req.body or req.content_type):
        return _invalid_request(f"Content-Type must be {FORM_CONTENT_TYPE}", "Content-Type")
    for name in _SINGLE_VALUED:
        if len(req.form.get(name, ())) > 1:
            # RFC 6749 §3.2: request parameters must not be included more than once.
            return _invalid_request(f"Parameter {name} is repeated", name)
    return None


def _claimed_client(req: Request) -> str | None:
    """Who the request says it is, for rate-limit keying only (not authentication)."""
    header = req.headers.get("Authorization") or ""
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return req.form_value("client_id")


def _invalid_client(description: str, code: str) -> Response:
    # RFC 6749 §5.2: a 401 for a client that tried the Authorization header names the scheme.
    return oauth_error(401, "invalid_client", description, code).with_headers(
        [("WWW-Authenticate", 'Basic realm="RingCentral"')]
    )


def _invalid_request(description: str, parameter: str) -> Response:
    return oauth_error(400, "invalid_request", description, "OAU-101", parameterName=parameter)


def _method_not_allowed(allow: str) -> Response:
    return json_response(
        405,
        {
            "errorCode": "CMN-102",
            "message": "Method not allowed",
            "errors": [{"errorCode": "CMN-102", "message": "Method not allowed"}],
        },
    ).with_headers([("Allow", allow)])


def _append_query(uri: str, params: list[tuple[str, str]]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _redirect_with(uri: str, params: list[tuple[str, str]], state: str | None) -> Response:
    if state is not None:
        params = [*params, ("state", state)]
    return redirect(_append_query(uri, params))
