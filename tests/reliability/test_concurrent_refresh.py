"""Several rcauth processes at once spend a rotated refresh token once (issue 4, point 1).

RingCentral's refresh tokens are single-use; the emulator runs strict rotation (a spent refresh token
is refused at once, no grace), so a second refresh of the same token would end the session. The
refresh holds a file lock in the user state dir, reads the stored session again inside it, and
refreshes only if that session is still due; the others use the pair the first one stored.
"""

from __future__ import annotations

import signal
import sys
import time

import pytest
from filelock import FileLock, Timeout
from reliability_support import wait_for_stderr

from rcauth.config import state_dir
from rcauth.store import FileStore

PROCESSES = 20


@pytest.mark.parametrize("storage", ["keyring", "file"])
@pytest.mark.parametrize("expiry", ["stored expiry passed", "expired at RingCentral"])
def test_twenty_processes_at_expiry_spend_exactly_one_refresh(
    emu, sign_in, rcauth, stored, file_store_env, storage, expiry
) -> None:
    """ "stored expiry passed": each process sees the token due and refreshes ahead (the documented
    way). "expired at RingCentral": the stored expiry says fresh, the API answers 401 OAU-128, and
    each process refreshes in reaction."""
    env = file_store_env if storage == "file" else None
    load = (lambda: FileStore("default").load()) if storage == "file" else stored
    if expiry == "stored expiry passed":
        before = sign_in(store=storage, access_expires_at=time.time() - 5)
    else:
        before = sign_in(store=storage)
        emu.expire_access_tokens()

    procs = [rcauth.start("whoami", "--json", env=env) for _ in range(PROCESSES)]
    results = [rcauth.finish(proc, timeout=90) for proc in procs]

    failed = [r for r in results if r.code != 0]
    assert not failed, "\n".join(map(str, failed))
    counters = emu.counters()
    assert counters["grants"].get("refresh_token") == 1
    assert counters["refreshes"] == 1 and counters["refresh_reuses"] == 0
    assert counters["api_calls"] >= PROCESSES
    after = load()
    assert after.refresh_token != before.refresh_token  # the rotated pair was stored...
    again = rcauth.run("whoami", "--json", env=env)  # ...and works
    assert again.code == 0, again
    assert emu.counters()["refreshes"] == 1


def test_lock_left_by_a_killed_process_does_not_block_the_next_refresh(emu, sign_in, rcauth, stored) -> None:
    before = sign_in(access_expires_at=time.time() - 5)
    holder = rcauth.start(
        argv=[
            sys.executable,
            "-c",
            "import sys, time\n"
            "from rcauth.store import refresh_lock\n"
            "with refresh_lock('default'):\n"
            "    print('holding the refresh lock', file=sys.stderr, flush=True)\n"
            "    time.sleep(600)\n",
        ]
    )
    wait_for_stderr(holder, "holding the refresh lock")
    lock_file = state_dir() / "default.refresh.lock"
    with pytest.raises(Timeout):  # really held
        FileLock(str(lock_file), timeout=0).acquire()

    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=10) == -signal.SIGKILL
    assert lock_file.exists()  # left behind by the killed holder

    result = rcauth.run("whoami", "--json")
    assert result.code == 0, result
    assert emu.counters()["refreshes"] == 1
    assert stored().refresh_token != before.refresh_token
