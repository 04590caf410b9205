"""A session that cannot go on (issue 4, point 4): one clear line on stderr, exit 4, only that
profile's session removed, never a traceback."""

from __future__ import annotations

import time

import pytest

from rcauth.oauth import RingCentralOAuth
from ringcentral_emulator import App

PAST = time.time() - 60


def revoke(emu, token: str) -> None:
    app = emu.config.apps[0]
    RingCentralOAuth(emu.base_url, app.client_id, app.client_secret).revoke(token)


def end_by_stored_expiry(emu, sign_in) -> None:
    sign_in(access_expires_at=PAST, refresh_expires_at=PAST)


def end_by_expiry_at_ringcentral(emu, sign_in) -> None:
    """The stored expiry says the refresh token is good; RingCentral says it has expired."""
    emu.set(refresh_token_ttl=1)
    sign_in(access_expires_at=PAST, refresh_expires_at=time.time() + 86400)
    emu.set(refresh_token_ttl=604_800)
    time.sleep(1.1)


def end_by_revoked_refresh_token(emu, sign_in) -> None:
    revoke(emu, sign_in(access_expires_at=PAST).refresh_token)


def end_by_revoked_access_token(emu, sign_in) -> None:
    """The stored access token looks fresh; RingCentral answers 401 and the refresh then fails."""
    revoke(emu, sign_in().access_token)


def end_by_rotated_client_secret(emu, sign_in) -> None:
    sign_in(access_expires_at=PAST)
    app = emu.config.apps[0]
    emu.set(apps=(App(redirect_uris=app.redirect_uris, client_secret="rotated-in-the-developer-console"),))


ENDINGS = {
    "refresh token expired (stored expiry)": (end_by_stored_expiry, "the session has expired"),
    "refresh token expired (at RingCentral)": (end_by_expiry_at_ringcentral, "OAU-211: Token is expired"),
    "refresh token revoked": (end_by_revoked_refresh_token, "OAU-211: Token is revoked"),
    "access token revoked": (end_by_revoked_access_token, "OAU-211: Token is revoked"),
    "client secret rotated": (end_by_rotated_client_secret, "refused the app's client credentials (OAU-146"),
}


WHOAMI, CALL_LOG, TOKEN = ("whoami",), ("call-log", "--limit", "5", "--format", "ndjson"), ("token",)
CASES = [(ending, WHOAMI) for ending in ENDINGS] + [
    ("refresh token revoked", CALL_LOG),
    ("access token revoked", CALL_LOG),
    ("refresh token revoked", TOKEN),
    # (`token` with a revoked access token that is not yet due prints it: only an API call can tell.)
]


@pytest.mark.parametrize(("ending", "command"), CASES, ids=[f"{e}: {c[0]}" for e, c in CASES])
def test_ended_session_says_so_in_one_line_exits_4_and_removes_only_that_session(
    emu, sign_in, rcauth, stored, ending, command
) -> None:
    other = sign_in("other")  # another profile of the same user and app, signed in separately
    cause, expected = ENDINGS[ending]
    cause(emu, sign_in)

    result = rcauth.run(*command)

    assert result.code == 4, result
    print(f"{ending}: {result.err.strip()}")
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("Error: the session has ")
    assert expected in lines[0]
    assert "; run `rcauth login`" in lines[0]
    assert stored("default") is None
    assert stored("other") == other  # untouched, and still the same pair
    # A second run finds nothing to use: "not signed in", still exit 4, still one line.
    again = rcauth.run(*command)
    assert again.code == 4 and again.err.splitlines() == ["Error: not signed in; run `rcauth login` first"]


def test_other_profile_still_works_after_this_one_ended(emu, sign_in, rcauth, stored) -> None:
    other = sign_in("other")
    revoke(emu, sign_in().refresh_token)
    emu.expire_access_tokens()  # both profiles must refresh now; only one of them can
    assert rcauth.run("whoami").code == 4
    result = rcauth.run("--profile", "other", "whoami", "--json")
    assert result.code == 0, result
    assert stored("other").refresh_token != other.refresh_token  # it refreshed and stored the new pair
