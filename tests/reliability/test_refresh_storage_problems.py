"""A rotated pair that cannot be stored (issue 20, invariant 3). RingCentral has spent the stored
refresh token (strict rotation, as the emulator here runs), so the new pair is the session's only
live grant: rcauth revokes it, which ends the session, removes the stored pair (ended with it), and
says so in one line with exit 6. Keeping the pair in memory instead would leave a grant alive after
the process, with nothing able to end it. Real `rcauth` subprocesses against the emulator, whose
`live_grants()` proves what is alive."""

from __future__ import annotations

import time

NO_WRITES = {"PYTHON_KEYRING_BACKEND": "reliability_support.NoWritesKeyring"}


def test_a_rotated_pair_the_keyring_refuses_is_revoked_and_the_session_ends_in_one_line(
    emu, sign_in, rcauth, stored, grants_accounted
) -> None:
    sign_in(access_expires_at=time.time() - 5)  # due: whoami refreshes first
    result = rcauth.run("whoami", "--json", env=NO_WRITES)

    assert result.code == 6, result
    assert result.err.splitlines() == [
        "Error: the system keyring failed to save the session: Can't store password on keychain: "
        "(-25244, 'Unknown Error'); the session was ended at RingCentral, as its new tokens could not "
        "be kept; run `rcauth login` to sign in again; pass --insecure-storage (or set "
        "RCAUTH_INSECURE_STORAGE=1) to keep it in a 0600 file instead"
    ]
    assert result.out == ""
    counters = emu.counters()
    assert counters["refreshes"] == 1 and counters["revokes"] == 1
    assert stored() is None
    grants_accounted()
    assert emu.live_grants() == []
    status = rcauth.run("status")
    assert status.code == 4, status


def test_a_rotated_pair_the_keyring_never_stores_is_revoked_and_the_dead_session_ends_next_time(
    emu, sign_in, rcauth, stored
) -> None:
    """A keyring that does not answer (an unlock prompt nobody sees): the save gives up after
    RCAUTH_KEYRING_TIMEOUT, the new pair is revoked, and removing the stored pair times out too. That
    pair is dead at RingCentral (the revocation ended the whole session), so nothing is left alive;
    the next command is told so by RingCentral and removes it."""
    sign_in(access_expires_at=time.time() - 5)
    hanging = {"PYTHON_KEYRING_BACKEND": "reliability_support.PausingKeyring", "RCAUTH_KEYRING_TIMEOUT": "1"}
    result = rcauth.run("whoami", "--json", env=hanging)

    assert result.code == 6, result
    assert result.err.splitlines() == [
        "Error: the system keyring did not answer within 1 s while trying to save the session (is it "
        "locked?); the session was ended at RingCentral, as its new tokens could not be kept; run "
        "`rcauth login` to sign in again; pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1) "
        "to keep it in a 0600 file instead"
    ]
    assert emu.live_grants() == []
    assert stored() is not None  # could not be removed: RingCentral has ended it

    ended = rcauth.run("whoami", "--json")
    assert ended.code == 4, ended
    assert ended.err.startswith("Error: the session has ended (OAU-211"), ended
    assert stored() is None
