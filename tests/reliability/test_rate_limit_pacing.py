"""Rate limits (issue 4, point 3): a long listing paces itself from X-Rate-Limit-Remaining/-Window
to stay just under the limit; a 429 is waited out for its Retry-After (bounded), with a countdown on
a terminal.

The emulator counts each group per user and app in a sliding window (stricter than a fixed one) and
answers the request over the limit with 429, starting a penalty that each request during it restarts.
"""

from __future__ import annotations

import math
import os
import pty
import select
import subprocess
import sys
import time

import requests

CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
ALL_TIME = ("-F", "dateFrom=2000-01-01T00:00:00Z", "-F", "dateTo=2100-01-01T00:00:00Z")


def listing(per_page: int) -> tuple[str, ...]:
    return (
        "api",
        "GET",
        CALL_LOG,
        "-F",
        f"perPage={per_page}",
        *ALL_TIME,
        "--paginate",
        "--format",
        "ndjson",
    )


def test_thirty_page_listing_stays_under_the_heavy_limit_within_1_2_of_the_least_time(
    emu, sign_in, rcauth
) -> None:
    """30 pages against Heavy = 10 requests per 2 s. The limit admits at most 10 requests in any 2 s,
    so the last ten cannot start before two windows after the first: (ceil(30/10) - 1) * 2 s = 4 s.
    The least time the listing can take is that plus what it takes with no limit at all (start-up,
    transfer), measured here first. The paced listing must take at most 1.2 times that, and meet at
    most one 429."""
    limit, window, pages, per_page = 10, 2.0, 30, 10
    emu.set(call_records=pages * per_page)
    sign_in()

    started = time.monotonic()
    free = rcauth.run(*listing(per_page))
    unlimited = time.monotonic() - started
    assert free.code == 0, free
    assert len(free.out.splitlines()) == pages * per_page

    emu.set(rate_limits_enabled=True, rate_limits={"Heavy": limit}, rate_window=window, rate_penalty=window)
    before = emu.counters()
    started = time.monotonic()
    paced = rcauth.run(*listing(per_page), timeout=60)
    elapsed = time.monotonic() - started
    assert paced.code == 0, paced
    assert paced.out == free.out

    counters = emu.counters()
    limited = counters["rate_limited"] - before["rate_limited"]
    least = (math.ceil(pages / limit) - 1) * window + unlimited
    print(
        f"paced listing: {elapsed:.2f} s; least {least:.2f} s ({unlimited:.2f} s unlimited + "
        f"{least - unlimited:.0f} s of windows); ratio {elapsed / least:.3f}; 429s: {limited}"
    )
    assert limited <= 1
    assert all(line.startswith("pacing to stay under the rate limit") for line in paced.err.splitlines())
    assert elapsed <= 1.2 * least


def exhaust_heavy_allowance(emu, session, count: int) -> None:
    """Spend the user's Heavy allowance from outside rcauth (another program with the same app)."""
    for _ in range(count):
        answer = requests.get(
            emu.base_url + CALL_LOG,
            params={"perPage": 1},
            headers={"Authorization": f"Bearer {session.access_token}"},
            timeout=10,
        )
        assert answer.status_code == 200


def test_429_is_waited_out_for_its_retry_after_then_the_listing_goes_on(emu, sign_in, rcauth) -> None:
    session = sign_in()
    emu.set(rate_limits_enabled=True, rate_limits={"Heavy": 2}, rate_window=60, rate_penalty=2)
    exhaust_heavy_allowance(emu, session, 2)
    result = rcauth.run(*listing(1000), timeout=60)
    assert result.code == 0, result
    assert emu.counters()["rate_limited"] == 1
    assert result.err.splitlines() == ["rate limit reached (HTTP 429): waiting 2 s"]


def test_429_shows_a_countdown_on_a_terminal(emu, sign_in, rcauth, env) -> None:
    session = sign_in()
    emu.set(rate_limits_enabled=True, rate_limits={"Heavy": 2}, rate_window=60, rate_penalty=2)
    exhaust_heavy_allowance(emu, session, 2)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcauth", *listing(1000)],
        env={**env, "TERM": "xterm", "COLUMNS": "100"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed with the process
                    break
                if not chunk:
                    break
                screen += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=10) == 0, screen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    text = screen.decode(errors="replace")
    assert "rate limit reached (HTTP 429): waiting" in text
    assert "━" in text  # the countdown's bar, redrawn as the wait runs down
    assert "waiting 2 s" not in text  # not the single line written when stderr is no terminal


def test_429_asking_for_longer_than_the_bound_fails_at_once_saying_when(emu, sign_in, rcauth) -> None:
    """Asking again during the penalty would restart it, so rcauth does not wait 120 s and retry
    into a 600 s penalty: it says how long RingCentral wants, and stops."""
    session = sign_in()
    emu.set(rate_limits_enabled=True, rate_limits={"Heavy": 1}, rate_window=60, rate_penalty=600)
    exhaust_heavy_allowance(emu, session, 1)
    result = rcauth.run(*listing(1000))
    assert result.code == 5, result
    assert emu.counters()["rate_limited"] == 1
    assert result.err.splitlines() == [
        "Error: CMN-301: Request rate exceeded (HTTP 429); "
        "RingCentral asks to wait 600 s before the next request"
    ]
