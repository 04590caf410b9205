"""The profile index: which profiles exist and who is signed in to each (a keyring cannot list its
entries). It holds names only, never a token or secret. Each change is made under its lock, so
concurrent logins lose no entry; a damaged index is said to be damaged, never read as "no profiles",
and a writer sets it aside rather than overwrite it."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import cli_runner
from helpers import make_session, save_session

from rcauth import profiles
from rcauth.cli import cli
from rcauth.config import state_dir
from rcauth.store import FileStore


def index_file() -> Path:
    return state_dir() / "profiles.json"


def test_no_index_yet_means_no_profiles() -> None:
    assert not index_file().exists()
    assert profiles.known() == {}


def test_remember_records_the_profile_with_its_user() -> None:
    profiles.remember("default", "Alex Doe")
    profiles.remember("dev", "Sam Roe")
    assert profiles.known() == {"default": {"user": "Alex Doe"}, "dev": {"user": "Sam Roe"}}


def test_remember_without_a_user_keeps_the_user_already_known() -> None:
    """A login that could not fetch the user's name (whoami failed) must not erase the name shown."""
    profiles.remember("dev", "Sam Roe")
    profiles.remember("dev")
    assert profiles.known() == {"dev": {"user": "Sam Roe"}}


def test_remember_without_a_user_lists_a_new_profile_with_no_name() -> None:
    profiles.remember("ci")
    assert profiles.known() == {"ci": {}}


def test_a_new_user_replaces_the_old_one() -> None:
    profiles.remember("dev", "Sam Roe")
    profiles.remember("dev", "Alex Doe")
    assert profiles.known() == {"dev": {"user": "Alex Doe"}}


def test_forget_removes_only_that_profile() -> None:
    profiles.remember("default", "Alex Doe")
    profiles.remember("dev", "Sam Roe")
    profiles.forget("dev")
    assert profiles.known() == {"default": {"user": "Alex Doe"}}


def test_forgetting_an_unknown_profile_writes_nothing() -> None:
    profiles.forget("never-seen")
    assert not index_file().exists()


DAMAGE = {
    "empty": (b"", "it is not JSON"),
    "not JSON": (b"{not json", "it is not JSON"),
    "a list": (b"[1, 2]", "it is not a JSON object"),
    "a string": (b'"a string"', "it is not a JSON object"),
    "not UTF-8": (b"\xff\xfe garbage", "it is not UTF-8"),
}


def damage_index(content: bytes) -> None:
    index_file().parent.mkdir(parents=True, exist_ok=True)
    index_file().write_bytes(content)


def set_aside() -> list[Path]:
    return sorted(index_file().parent.glob("profiles.json.damaged-*"))


@pytest.mark.parametrize(("content", "why"), list(DAMAGE.values()), ids=list(DAMAGE))
def test_a_damaged_index_is_read_as_damaged_never_as_no_profiles(content: bytes, why: str) -> None:
    damage_index(content)
    index = profiles.read()
    assert (index.entries, index.damage) == ({}, why)
    problem = index.problem()
    assert problem is not None and problem.exit_code == 6
    assert f"the profile index {str(index_file())!r} is damaged ({why})" in problem.message


def test_an_index_that_cannot_be_read_is_damaged_not_empty() -> None:
    index_file().mkdir(parents=True)  # a directory in its place: reading it fails as EACCES or EIO would
    assert profiles.read().damage == "it cannot be read: Is a directory"


def test_no_index_and_a_whole_index_are_not_damaged() -> None:
    assert profiles.read().damage is None and profiles.read().problem() is None
    profiles.remember("dev", "Sam Roe")
    assert profiles.read() == profiles.Index(index_file(), {"dev": {"user": "Sam Roe"}}, None)


@pytest.mark.parametrize(("content", "why"), list(DAMAGE.values()), ids=list(DAMAGE))
def test_a_login_over_a_damaged_index_moves_it_aside_with_a_warning_and_never_overwrites_it(
    content: bytes, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The damaged bytes may be the only record of profiles signed in to the keyring: kept, not lost."""
    damage_index(content)
    profiles.remember("default", "Alex Doe")
    assert json.loads(index_file().read_text(encoding="utf-8")) == {"default": {"user": "Alex Doe"}}
    [aside] = set_aside()
    assert re.fullmatch(r"profiles\.json\.damaged-\d{8}T\d{6}Z", aside.name)
    assert aside.read_bytes() == content
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == (
        f"the profile index {index_file()} was damaged ({why}): moved it to {aside}; "
        "profiles kept from it: none"
    )


def test_entries_that_can_be_read_are_kept_when_a_damaged_index_is_rewritten(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An entry that is not an object still names a profile (listed without a name); a key that is
    not a profile name names none. The file is damaged all the same, and kept aside whole."""
    damage = json.dumps({"dev": "Sam Roe", "ops": {"user": "Kim Poe"}, "../x": {}, "qa": {"user": 7}})
    damage_index(damage.encode())
    index = profiles.read()
    assert index.entries == {"dev": {}, "ops": {"user": "Kim Poe"}, "qa": {}}
    assert index.damage == "3 of its entries are not what rcauth writes"
    assert profiles.known() == index.entries

    profiles.remember("ci", "Robo Tester")

    assert profiles.read() == profiles.Index(
        index_file(), {"ci": {"user": "Robo Tester"}, "dev": {}, "ops": {"user": "Kim Poe"}, "qa": {}}
    )
    [aside] = set_aside()
    assert aside.read_text(encoding="utf-8") == damage
    assert "profiles kept from it: dev, ops, qa" in caplog.text


def test_a_second_damage_is_set_aside_beside_the_first() -> None:
    damage_index(b"{first")
    profiles.remember("a")
    damage_index(b"{second")
    profiles.remember("b")
    assert sorted(p.read_bytes() for p in set_aside()) == [b"{first", b"{second"]
    assert profiles.known() == {"b": {}}


def test_forget_leaves_a_damaged_index_as_it_is_when_it_removes_nothing() -> None:
    damage_index(b"{not json")
    profiles.forget("dev")
    assert index_file().read_bytes() == b"{not json" and set_aside() == []


def test_a_damaged_index_that_cannot_be_set_aside_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    damage_index(b"{not json")

    def refused(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refused)
    profiles.remember("dev", "Sam Roe")
    assert index_file().read_bytes() == b"{not json"
    assert f"could not update the profile index {index_file()}: Permission denied" in caplog.text


def test_the_index_is_replaced_whole_leaving_no_temporary_file_behind() -> None:
    """Written to a temporary file and renamed over the index: a reader sees the old index or the new."""
    profiles.remember("default", "Alex Doe")
    before = os.stat(index_file()).st_ino
    profiles.remember("dev", "Sam Roe")
    assert os.stat(index_file()).st_ino != before
    # and the lock beside it, which holds nothing
    assert sorted(p.name for p in index_file().parent.iterdir()) == ["profiles.json", "profiles.json.lock"]
    assert (index_file().parent / "profiles.json.lock").read_bytes() == b""


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_the_state_dir_it_creates_is_private_to_the_user() -> None:
    profiles.remember("default", "Alex Doe")
    assert stat.S_IMODE(index_file().parent.stat().st_mode) == 0o700


def test_profile_names_are_the_index_and_the_file_stores_sessions() -> None:
    profiles.remember("work", "Alex Morgan (extension 101)")
    FileStore("ci").save(make_session(server="https://rc.example", access_token="AT-profiles-1"))
    assert profiles.names() == {"work", "ci"}
    profiles.forget("work")
    assert profiles.names() == {"ci"}


# -- concurrent writers: each read-modify-write under the index's lock ----------------------------------
WRITER = """\
import sys
from rcauth import profiles

me, rounds = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # every writer starts at once
for n in range(rounds):
    profiles.remember(f"{me}-{n}", f"User {me} {n}")
profiles.forget(f"old-{me}")
"""


def test_concurrent_writers_in_separate_processes_lose_no_entry() -> None:
    """Eight processes at once, as eight `rcauth --profile pN login` (and logouts) in a shell loop:
    every profile remembered is listed, every one forgotten is gone (a read-modify-write without the
    lock let one writer's index replace another's)."""
    writers, rounds = [f"p{i}" for i in range(1, 9)], 15
    for me in writers:
        profiles.remember(f"old-{me}", "Gone Soon")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, me, str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in writers
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        ended = [(proc.communicate(timeout=60)[1], proc.returncode) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    assert ended == [("", 0)] * len(procs)
    expected = {f"{me}-{n}": {"user": f"User {me} {n}"} for me in writers for n in range(rounds)}
    assert profiles.known() == expected


# -- `rcauth profiles` and `profiles use` with a damaged or incomplete index ------------------------------
def test_profiles_lists_what_it_can_find_then_says_the_index_is_damaged_exit_6() -> None:
    """The profile in use, the default and the file store's sessions are found without the index; a
    profile only the keyring and the lost index knew of cannot be, so the exit code says the list may
    be short (6: damaged stored data), after the listing."""
    for name in ("dev", "ops", "keyring-only"):
        save_session(name, access_token=f"AT-{name}")
        profiles.remember(name, f"User {name}")
    FileStore("ci").save(make_session(access_token="AT-ci"))
    profiles.choose_default("dev")
    damage_index(b"garbage\n")

    result = cli_runner().invoke(cli, ["--profile", "ops", "profiles", "--json"])

    assert result.exit_code == 6, result.stderr
    listed = json.loads(result.stdout)
    assert [(p["profile"], p.get("active"), p.get("default")) for p in listed] == [
        ("ci", None, None),  # kept in a file, read only with --insecure-storage: listed as such
        ("dev", False, True),
        ("ops", True, False),
    ]
    assert result.stderr.splitlines() == [
        f"Error: the profile index {str(index_file())!r} is damaged (it is not JSON): profiles signed in "
        "only to the keyring may be missing from the list; the next login moves it aside and starts a "
        "new one with the profiles it could read"
    ]
    assert index_file().read_bytes() == b"garbage\n"  # listing changes nothing


def test_profiles_with_a_damaged_index_and_nothing_found_never_says_none_are_signed_in() -> None:
    damage_index(b"\xff\xfe")
    result = cli_runner().invoke(cli, ["profiles", "--format", "table"])
    assert result.exit_code == 6
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: the profile index {str(index_file())!r} is damaged (it is not UTF-8)")


def test_profiles_use_finds_a_signed_in_profile_a_damaged_index_lost() -> None:
    save_session("dev", access_token="AT-dev")
    damage_index(b"{not json")
    result = cli_runner().invoke(cli, ["profiles", "use", "dev"])
    assert result.exit_code == 0, result.stderr
    assert profiles.chosen_default() == "dev"


def test_profiles_use_finds_a_signed_in_profile_missing_from_a_whole_index() -> None:
    """As a login whose entry an unlocked concurrent write lost left it: the store decides."""
    save_session("p8", access_token="AT-p8")
    profiles.remember("p1")
    assert cli_runner().invoke(cli, ["profiles", "use", "p8"]).exit_code == 0
    assert profiles.chosen_default() == "p8"


def test_profiles_use_with_a_damaged_index_never_says_there_are_no_profiles() -> None:
    damage_index(b"{not json")
    result = cli_runner().invoke(cli, ["profiles", "use", "nope"])
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert (
        f"no profile named 'nope' on this machine (profiles: none readable; the profile index "
        f"{str(index_file())!r} is damaged (it is not JSON)); sign in first with "
        "`rcauth --profile nope login`"
    ) in said
    assert "none yet" not in said
    assert profiles.chosen_default() is None
