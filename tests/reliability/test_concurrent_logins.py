"""Issue 10, point 4: two logins for one profile at once. Each login revokes the session it replaces:
whatever is stored when it stores its own (read under the profile's lock), not what was stored when it
began. Otherwise the session stored in between is orphaned: alive at RingCentral, counted against the
user's concurrent sessions, and on no machine."""

from __future__ import annotations

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
