"""Issue 10, point 3: an app whose "Issue refresh tokens" setting is off (RingCentral then sends no
refresh token). `status` says so, and when the access token expires the message says to log in again,
not that a refresh token "is no longer valid" (there never was one)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest
from reliability_support import FileKeyring, write_atomically

from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig

NO_REFRESH = "this app issues no refresh token"
ENDED = (
    "Error: the session has ended: its access token expired and this app issues no refresh token; "
    "run `rcauth login` to sign in again"
)


@pytest.fixture
def emu(redirect_uri: str) -> Iterator[Emulator]:
    config = EmulatorConfig(
        apps=(App(redirect_uris=(redirect_uri,), issue_refresh_tokens=False),), rate_limits_enabled=False
    )
    with Emulator(config, host="127.0.0.1", port=0) as emulator:
        yield emulator


@pytest.fixture
def signed_in(emu, rcauth, stored):
    result = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert result.code == 0, result
    session = stored()
    assert session.refresh_token is None
    return session


def test_status_says_the_app_issues_no_refresh_token(signed_in, rcauth) -> None:
    table = rcauth.run("status", "--format", "table")
    assert table.code == 0, table
    assert [line.rstrip() for line in table.out.splitlines() if line.startswith("Refresh token")] == [
        f"Refresh token  {NO_REFRESH}"
    ]
    info = json.loads(rcauth.run("status", "--json").out)
    assert info["refresh_token_note"] == NO_REFRESH and info["refresh_token_expires_at"] is None
    profiles = rcauth.run("profiles", "--json")
    assert json.loads(profiles.out)[0]["refresh_token_expires"] == NO_REFRESH


def test_access_token_expired_by_the_clock_says_to_log_in_again(
    signed_in, rcauth, stored, keyring_dir
) -> None:
    expired = dataclasses.replace(signed_in, access_expires_at=time.time() - 1)
    write_atomically(FileKeyring.entry("rcauth", "default", keyring_dir), expired.to_json())
    result = rcauth.run("whoami")
    assert result.code == 4, result
    assert result.err.splitlines() == [ENDED]
    assert "no longer valid" not in result.err
    assert stored() is None


def test_access_token_ended_by_ringcentral_says_to_log_in_again(emu, signed_in, rcauth) -> None:
    emu.expire_access_tokens()  # the stored expiry still says it is good; RingCentral answers 401
    result = rcauth.run("whoami")
    assert result.code == 4, result
    assert result.err.splitlines() == [ENDED]


def test_access_token_is_used_to_its_last_second_without_a_refresh_margin(
    emu, signed_in, rcauth, keyring_dir
) -> None:
    """Nothing can be renewed ahead, so a token inside the usual 60 s margin is still used."""
    nearly = dataclasses.replace(signed_in, access_expires_at=time.time() + 30)
    write_atomically(FileKeyring.entry("rcauth", "default", keyring_dir), nearly.to_json())
    result = rcauth.run("whoami", "--json")
    assert result.code == 0, result
    assert emu.counters()["grants"] == {"urn:ietf:params:oauth:grant-type:jwt-bearer": 1}
