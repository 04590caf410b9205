"""Ctrl-C (issue 4, point 9): SIGINT to a real rcauth process waiting for the browser, in the middle
of a refresh, or in the middle of a listing exits 130 with one line, leaves the stored session valid
(the old pair or the new one, never half of one), and frees the callback port. SIGTERM and SIGHUP in
the middle of a refresh (issue 10, point 4) are held the same way and end it with 143 and 129.

"In the middle" is made observable with the emulator's "slow" fault: the request is counted as it
arrives, then answered only `slow_seconds` later; the signal is sent while it is held.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest
from helpers import jwt_session
from reliability_support import stdout_of, wait_for, wait_for_stderr

SLOW = 2.0


def test_ctrl_c_while_waiting_for_the_browser_exits_130_keeps_the_session_and_frees_the_port(
    emu, sign_in, rcauth, stored, redirect_uri
) -> None:
    previous = sign_in()
    proc = rcauth.start("login", "--no-browser")
    wait_for_stderr(proc, "Waiting for the redirect to ")
    result = rcauth.interrupt(proc)
    assert result.code == 130, result
    assert result.err.splitlines()[-1] == "Error: interrupted"
    assert "Traceback" not in result.err
    port = urlsplit(redirect_uri).port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))  # free at once (no SO_REUSEADDR needed: nothing lingers)
    assert stored() == previous
    assert rcauth.run("whoami").code == 0


def test_ctrl_c_mid_refresh_exits_130_after_storing_the_new_pair(emu, sign_in, rcauth, stored) -> None:
    """The rotated pair is on its way back: RingCentral has already spent the old refresh token, so
    an interrupt that dropped the answer would lose the session. The signal is held until the new
    pair is stored, then honoured."""
    previous = sign_in(access_expires_at=time.time() - 5)
    emu.set(fault_rate=1.0, fault_kinds=("slow",), fault_scope="all", slow_seconds=SLOW)
    proc = rcauth.start("whoami", "--json")
    wait_for(lambda: emu.counters()["faults"] >= 1, "the refresh request to reach the emulator", proc=proc)
    result = rcauth.interrupt(proc)
    assert result.code == 130, result
    assert result.err.splitlines() == ["Error: interrupted"]
    assert result.out == ""

    counters = emu.counters()
    assert counters["refreshes"] == 1
    current = stored()
    assert current is not None and current.refresh_token != previous.refresh_token  # the new pair, whole
    emu.set(fault_rate=0.0)
    assert rcauth.run("whoami").code == 0
    counters = emu.counters()
    assert counters["refreshes"] == 1 and counters["refresh_reuses"] == 0


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_or_sighup_mid_refresh_stores_the_rotated_pair_then_exits_128_plus_the_signal(
    emu, sign_in, rcauth, stored, hangups_not_ignored, name, code
) -> None:
    """RingCentral has rotated the pair and its answer is on the way (held by `token_delay`): the old
    refresh token is spent (strict rotation), so a process that died now would lose the session. The
    signal is held until the new pair is stored, then ends the process as it asked."""
    previous = sign_in(access_expires_at=time.time() - 5)
    emu.set(token_delay=60)
    proc = rcauth.start("whoami", "--json")
    wait_for(lambda: emu.counters()["refreshes"] >= 1, "the refresh to rotate the pair", proc=proc)
    proc.send_signal(getattr(signal, name))
    emu.set(token_delay=0)  # release the answer the signal arrived during
    result = rcauth.finish(proc)
    assert result.code == code, result
    assert result.err.splitlines() == [f"Error: terminated ({name})"]
    assert result.out == ""

    current = stored()
    assert current is not None and current.refresh_token != previous.refresh_token  # the new pair, whole
    assert rcauth.run("whoami").code == 0
    counters = emu.counters()
    assert counters["refreshes"] == 1 and counters["refresh_reuses"] == 0


def test_ctrl_c_while_a_refresh_waits_out_a_429_stops_at_once_with_the_session_intact(
    emu, sign_in, rcauth, stored
) -> None:
    """A refresh refused with 429 waits its Retry-After (RingCentral's Auth penalty: 60 s) before
    trying again. Nothing is in flight during that wait and the stored pair is still the good one,
    so Ctrl-C ends it at once, rather than being held for the whole minute."""
    previous = sign_in(access_expires_at=time.time() - 5)
    emu.set(rate_limits_enabled=True, rate_limits={"Auth": 1}, rate_window=60, rate_penalty=60)
    jwt_session(emu)  # the allowance
    proc = rcauth.start("whoami", "--json")
    wait_for(lambda: emu.counters()["rate_limited"] >= 1, "the refresh to get a 429", proc=proc)
    result = rcauth.interrupt(proc, timeout=10)  # well inside the 60 s it was asked to wait
    assert result.code == 130, result
    assert result.err.splitlines() == ["Error: interrupted"]
    assert stored() == previous
    emu.set(rate_limits_enabled=False)
    assert rcauth.run("whoami").code == 0
    assert emu.counters()["refresh_reuses"] == 0


def test_ctrl_c_mid_listing_exits_130_with_whole_records_and_the_session_intact(
    emu, sign_in, rcauth, stored
) -> None:
    previous = sign_in()
    emu.set(call_records=3000)
    emu.set(fault_rate=1.0, fault_kinds=("slow",), fault_scope="api", slow_seconds=SLOW)
    proc = rcauth.start("call-log", "--limit", "3000", "--from", "400d", "--format", "ndjson")
    # The second page is requested as soon as the first arrives (fetched ahead), while the first is
    # being written: interrupt once both are under way.
    wait_for(lambda: emu.counters()["faults"] >= 2, "the second page to be requested", proc=proc)
    wait_for(lambda: stdout_of(proc), "the first records to be written", proc=proc)
    result = rcauth.interrupt(proc)
    assert result.code == 130, result
    assert result.err.splitlines() == ["Error: interrupted"]
    lines = result.out.splitlines()
    assert 0 < len(lines) <= 1000 and result.out.endswith("\n")  # from the first page only, whole
    assert all(json.loads(line)["id"] for line in lines)

    assert stored() == previous
    emu.set(fault_rate=0.0)
    assert rcauth.run("whoami").code == 0
