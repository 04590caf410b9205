"""Transient faults (issue 4, point 2): idempotent requests retry connection drops and 502/503/504
with bounded backoff; POSTs that may have reached the server are not repeated.

The emulator's faults are seeded (EmulatorConfig.seed), so each run meets the same faults: "503"
answers before any work (half of them with Retry-After: 1), "drop" reads the request and hangs up
without a byte of answer, on a kept-alive connection, as a flaky proxy does.
"""

from __future__ import annotations

import json
import time

import pytest

CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
# The user's log holds this many calls, about 170 days of them: more than the 5000 listed below.
RECORDS = 6000


def ids(listing: str) -> list[str]:
    return [record["id"] for record in json.loads(listing)]


def test_call_log_of_5000_under_30_percent_faults_loses_and_repeats_nothing(emu, sign_in, rcauth) -> None:
    emu.set(call_records=RECORDS)
    sign_in()
    # --to pins the period, so both listings read the same records whenever they run.
    args = ("call-log", "--limit", "5000", "--from", "400d", "--to", "1m", "--json")
    clean = rcauth.run(*args)
    assert clean.code == 0, clean
    expected = ids(clean.out)
    assert len(expected) == 5000 == len(set(expected))

    emu.set(fault_rate=0.3, fault_kinds=("503", "drop"))
    before = emu.counters()
    faulty = rcauth.run(*args, timeout=120)
    assert faulty.code == 0, faulty
    assert faulty.err == ""  # retries absorbed every fault quietly
    got = ids(faulty.out)
    assert got == expected  # the same 5000 records, in the same order: none lost, none twice
    faults = emu.counters()["faults"] - before["faults"]
    assert faults > 0, "no fault was injected: the test proved nothing"


def test_thirty_pages_under_30_percent_drops_and_503s_match_the_fault_free_listing(
    emu, sign_in, rcauth
) -> None:
    """Many small pages, so many faults of both kinds: every one is absorbed by a retry."""
    records = 3000
    emu.set(call_records=records)
    sign_in()
    args = (
        "api", "GET", CALL_LOG,
        "-F", "perPage=100", "-F", "dateFrom=2000-01-01T00:00:00Z", "-F", "dateTo=2100-01-01T00:00:00Z",
        "--paginate", "--format", "ndjson",
    )  # fmt: skip
    clean = rcauth.run(*args)
    assert clean.code == 0, clean
    expected = [json.loads(line)["id"] for line in clean.out.splitlines()]
    assert len(expected) == records == len(set(expected))

    emu.set(fault_rate=0.3, fault_kinds=("503", "drop"))
    faulty = rcauth.run(*args, timeout=150)
    assert faulty.code == 0, faulty
    assert [json.loads(line)["id"] for line in faulty.out.splitlines()] == expected
    by_kind = emu.counters()["faults_by_kind"]
    print(f"faults absorbed over {records // 100} pages: {by_kind}")
    assert by_kind.get("503", 0) > 0 and by_kind.get("drop", 0) > 0


@pytest.mark.parametrize("kind", ["drop", "503"])
def test_a_post_is_not_repeated_after_it_may_have_reached_the_server(emu, sign_in, rcauth, kind) -> None:
    sign_in()
    emu.set(fault_rate=1.0, fault_kinds=(kind,))
    before = emu.counters()["requests"]
    result = rcauth.run("api", "POST", "/restapi/v1.0/account/~/extension/~/sms", "-F", "text=hi")
    assert result.code == 5, result
    assert emu.counters()["requests"] - before == 1  # sent once, never again
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_a_dropped_refresh_is_not_replayed_and_the_stored_pair_survives(emu, sign_in, rcauth, stored) -> None:
    """The refresh grant is a POST: after a drop it may have been spent, so it is not sent again
    blindly (under strict rotation a replay would end the session). The stored pair stays, and the
    next run refreshes with it."""
    before = sign_in(access_expires_at=time.time() - 5)
    emu.set(fault_rate=1.0, fault_kinds=("drop",), fault_scope="all")
    failed = rcauth.run("whoami", "--json")
    assert failed.code == 5, failed
    assert "could not reach" in failed.err and len(failed.err.strip().splitlines()) == 1
    counters = emu.counters()
    assert counters["requests"] == 2 and counters["faults"] == 1  # the JWT sign-in, one refresh POST
    assert stored() == before

    emu.set(fault_rate=0.0)
    again = rcauth.run("whoami", "--json")
    assert again.code == 0, again
    assert emu.counters()["refreshes"] == 1


def test_a_refresh_answered_503_is_retried_and_stored_once(emu, sign_in, rcauth, stored) -> None:
    """A 503 is answered before any work, so the token endpoint's policy retries it. `rcauth token`
    only refreshes (no API call), so every fault here hit the token endpoint."""
    before = sign_in(access_expires_at=time.time() - 5)
    emu.set(fault_rate=0.3, fault_kinds=("503",), fault_scope="all")
    result = rcauth.run("token", timeout=60)
    assert result.code == 0, result
    counters = emu.counters()
    assert counters["faults"] >= 1  # the seeded draw for the refresh POST's first try is a 503
    assert counters["refreshes"] == 1 and counters["refresh_reuses"] == 0
    after = stored()
    assert after.refresh_token != before.refresh_token
    assert result.out.strip() == after.access_token
