"""A Python script using `rcauth.Client` / `rcauth.Auth` and `rcauth` commands running at the same
moment share one session safely (issue 11, part 1): RingCentral's refresh tokens are single-use and
the emulator runs strict rotation, so two refreshes of the same token would end the session. The
library takes the CLI's cross-process refresh lock and reads the stored pair again inside it."""

from __future__ import annotations

import sys
import time

import pytest

PER_KIND = 6

SCRIPTS = {
    "Client": ("import rcauth\nwith rcauth.Client() as rc:\n    print(rc.whoami()['id'])\n"),
    "Auth": (
        "import os, requests, rcauth\n"
        "url = os.environ['RC_SERVER_URL'] + '/restapi/v1.0/account/~/extension/~'\n"
        "answer = requests.get(url, auth=rcauth.Auth(), timeout=30)\n"
        "answer.raise_for_status()\n"
        "print(answer.json()['id'])\n"
    ),
    "token": (
        "import os, requests, rcauth\n"
        "url = os.environ['RC_SERVER_URL'] + '/restapi/v1.0/account/~/extension/~'\n"
        "answer = requests.get(url, headers={'Authorization': 'Bearer ' + rcauth.token()}, timeout=30)\n"
        "answer.raise_for_status()\n"
        "print(answer.json()['id'])\n"
    ),
}


# `rcauth.token()` hands the token out: a 401 afterwards is its caller's to handle, so it meets only
# the due token (refreshed ahead); Client and Auth also meet RingCentral ending the token early (401).
CASES = [
    ("Client", "stored expiry passed"),
    ("Client", "expired at RingCentral"),
    ("Auth", "stored expiry passed"),
    ("Auth", "expired at RingCentral"),
    ("token", "stored expiry passed"),
]


@pytest.mark.parametrize(("kind", "expiry"), CASES)
def test_scripts_and_cli_refreshing_at_once_spend_exactly_one_refresh(
    emu, sign_in, rcauth, stored, kind, expiry
) -> None:
    if expiry == "stored expiry passed":
        before = sign_in(access_expires_at=time.time() - 5)
    else:
        before = sign_in()
        emu.expire_access_tokens()

    procs = []
    for _ in range(PER_KIND):
        procs.append(rcauth.start(argv=[sys.executable, "-c", SCRIPTS[kind]]))
        procs.append(rcauth.start("whoami", "--json"))
    results = [rcauth.finish(proc, timeout=90) for proc in procs]

    failed = [r for r in results if r.code != 0]
    assert not failed, "\n".join(map(str, failed))
    counters = emu.counters()
    assert counters["refreshes"] == 1 and counters["refresh_reuses"] == 0
    after = stored()
    assert after.refresh_token != before.refresh_token
    again = rcauth.run("whoami", "--json")
    assert again.code == 0, again
    assert emu.counters()["refreshes"] == 1
