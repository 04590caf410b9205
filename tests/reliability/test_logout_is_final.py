"""Logout is final (issue 10, point 4): a refresh already in flight in another process must not bring
the session back once `rcauth logout` has said "Signed out".

The emulator's `token_delay` holds the token endpoint's answer (RingCentral's can be slow) after the
pair was rotated; lowering it releases the answer, so each step below is an observed state, not a
guess about timing.
"""

from __future__ import annotations

import time

from reliability_support import wait_for, wait_for_stderr

HELD = 60.0  # seconds the token answer would be held; every test releases it long before


def test_logout_during_a_refresh_in_another_process_waits_for_it_and_the_session_stays_gone(
    emu, sign_in, rcauth, stored, keyring_dir
) -> None:
    sign_in(access_expires_at=time.time() - 5)  # due: whoami refreshes first
    emu.set(token_delay=HELD)
    refreshing = rcauth.start("whoami", "--json")
    wait_for(lambda: emu.counters()["refreshes"] >= 1, "the refresh to rotate the pair", proc=refreshing)

    logout = rcauth.start("logout")
    wait_for_stderr(logout, r"Waiting for another rcauth to finish refreshing the session\.\.\.")
    emu.set(token_delay=0)  # the rotated pair reaches whoami, which stores it and lets go of the lock
    signed_out = rcauth.finish(logout)
    assert signed_out.code == 0, signed_out
    assert signed_out.out == "Signed out: tokens revoked and removed.\n"
    whoami = rcauth.finish(refreshing)
    # whoami used the rotated pair before or after logout revoked it: either way, no crash.
    assert whoami.code in (0, 4), whoami
    assert "unexpected" not in whoami.err and "Traceback" not in whoami.err

    assert stored() is None
    assert list(keyring_dir.glob("rcauth@*")) == []
    status = rcauth.run("status")
    assert status.code == 4, status
    counters = emu.counters()
    assert counters["revokes"] == 1 and counters["sessions_ended"] == 1  # the rotated session, at RingCentral
    assert counters["refreshes"] == 1 and counters["refresh_reuses"] == 0


def test_a_refresh_that_starts_while_logout_is_revoking_waits_and_finds_the_session_gone(
    emu, sign_in, rcauth, stored, grants_accounted
) -> None:
    """Issue 20: logout revokes and removes the session while it holds the refresh lock, not after
    letting it go. The revocation is held by the emulator before it takes effect (the session still
    live meanwhile); a due `whoami` started then must wait for the lock, and find no session once it
    has it (exit 4), rather than rotate the pair logout is about to revoke and report success."""
    sign_in(access_expires_at=time.time() - 5)  # due: whoami refreshes first
    emu.set(revoke_delay=HELD)
    logout = rcauth.start("logout")
    wait_for(lambda: emu.counters()["held"].get("revoke", 0) >= 1, "the revocation to be held", proc=logout)

    whoami = rcauth.start("--debug", "whoami", "--json")
    wait_for_stderr(whoami, r"another rcauth holds the session's refresh lock: waiting for it")
    emu.set(revoke_delay=0)
    signed_out = rcauth.finish(logout)
    assert signed_out.code == 0, signed_out
    assert signed_out.out == "Signed out: tokens revoked and removed.\n"
    refused = rcauth.finish(whoami)
    assert refused.code == 4, refused
    assert refused.err.splitlines()[-1] == (
        "Error: the session was removed by another rcauth; run `rcauth login` to sign in again"
    )
    assert refused.out == ""

    assert stored() is None
    grants_accounted()
    counters = emu.counters()
    assert counters["refreshes"] == 0 and counters["revokes"] == 1
