"""Issue 10, point 4: two logins for one profile at once. Each login revokes the session it replaces:
whatever is stored when it stores its own (read under the profile's lock), not what was stored when it
began. Otherwise the session stored in between is orphaned: alive at RingCentral, counted against the
user's concurrent sessions, and on no machine."""

from __future__ import annotations

import json

import pytest
from reliability_support import AUTHORIZE_URL, FileKeyring, wait_for_stderr, write_atomically

from rcauth.demo import HeadlessApprover
from rcauth.errors import OAuthError
from rcauth.oauth import RingCentralOAuth
from ringcentral_emulator import DEMO_JWT


def live_sessions(emu) -> int:
    counters = emu.counters()
    return counters["sessions_created"] - counters["sessions_ended"]


def test_a_login_that_finishes_last_revokes_the_session_stored_while_it_waited(
    emu, sign_in, rcauth, stored
) -> None:
    first = sign_in()
    slow = rcauth.start("login", "--no-browser")  # waits in the browser while...
    url = wait_for_stderr(slow, AUTHORIZE_URL).group(1)
    quick = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})  # ...another login completes
    assert quick.code == 0, quick
    in_between = stored()
    assert in_between.refresh_token != first.refresh_token

    HeadlessApprover("Approve").approve(url)
    result = rcauth.finish(slow)

    assert result.code == 0, result
    last = stored()
    assert last.refresh_token not in (first.refresh_token, in_between.refresh_token)
    assert live_sessions(emu) == 1  # only the stored one: none orphaned
    app = emu.config.apps[0]
    oauth = RingCentralOAuth(emu.base_url, app.client_id, app.client_secret)
    for replaced in (first, in_between):
        with pytest.raises(OAuthError) as caught:
            oauth.refresh(replaced.refresh_token)
        assert caught.value.oauth_error == "invalid_grant"
    assert rcauth.run("whoami").code == 0


def test_a_login_over_a_damaged_entry_replaces_it_and_revokes_nothing(
    emu, rcauth, stored, keyring_dir
) -> None:
    write_atomically(FileKeyring.entry("rcauth", "default", keyring_dir), "{not json")
    result = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert result.code == 0, result
    assert stored() is not None
    assert emu.counters()["revokes"] == 0 and live_sessions(emu) == 1


def test_eight_profiles_signing_in_at_once_are_all_listed_and_can_be_made_the_default(emu, rcauth) -> None:
    """`for p in p1 ... p8; do rcauth --profile $p login --jwt & done; wait`: each login adds its
    profile to the index under the index's lock, so none replaces another's entry."""
    names = [f"p{n}" for n in range(1, 9)]
    logins = [rcauth.start("--profile", name, "login", "--jwt", env={"RC_JWT": DEMO_JWT}) for name in names]
    results = [rcauth.finish(login, timeout=60) for login in logins]
    assert [r.code for r in results] == [0] * len(names), results

    listing = rcauth.run("profiles", "--json")

    assert listing.code == 0, listing
    assert sorted(p["profile"] for p in json.loads(listing.out)) == names
    chosen = rcauth.run("profiles", "use", "p8")
    assert chosen.code == 0, chosen
