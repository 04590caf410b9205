"""Issue 10, point 4: profile names are validated once, at the edge (`--profile`, `RCAUTH_PROFILE`):
ASCII letters, digits, `.`, `_`, `-`, no leading dot, at most 64 characters, else exit 2 before
anything happens. The library refuses a bad name too (same rule, one function), so no caller can put a
lock file outside the state directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcauth.config import check_profile_name
from rcauth.errors import ExitCode, InvalidProfileName
from rcauth.store import open_store, refresh_lock
from ringcentral_emulator import DEMO_JWT

BAD = {
    "slash": "a/b",
    "climbs out": "../../x",
    "dot dot": "..",
    "hidden": ".hidden",
    "65 characters": "a" * 65,
    "space": "a b",
    "backslash": "a\\b",
    "non-ASCII": "café",
    "control": "a\x1b[2J",
}
GOOD = ["default", "work.eu-1_x", "a" * 64, "-x", "_", "9"]


def files_under(path: Path) -> set[Path]:
    """Every file and directory under `path` but the test runner's logs."""
    return {p for p in path.rglob("*") if "logs" not in p.relative_to(path).parts}


@pytest.mark.parametrize("name", list(BAD.values()), ids=list(BAD))
def test_bad_profile_name_is_a_usage_error_before_any_grant_or_file(emu, rcauth, tmp_path, name) -> None:
    before = files_under(tmp_path)
    result = rcauth.run(f"--profile={name}", "login", "--jwt", env={"RC_JWT": DEMO_JWT})

    assert result.code == 2, result
    assert "is not a valid profile name: use 1 to 64 letters, digits, '.', '_' or '-'" in result.err
    assert "Traceback" not in result.err
    assert emu.counters()["grants"] == {}
    assert files_under(tmp_path) == before  # no lock file, no keyring entry, inside or outside


def test_bad_profile_name_from_the_environment_says_where_it_came_from(rcauth) -> None:
    result = rcauth.run("whoami", env={"RCAUTH_PROFILE": "../../x"})
    assert result.code == 2, result
    assert "'../../x' is not a valid profile name" in result.err and "(from RCAUTH_PROFILE)" in result.err


@pytest.mark.parametrize("in_env", ["aaa", "../../x"], ids=["another profile", "a bad name"])
def test_profile_on_the_command_line_wins_over_the_environment_before_or_after_the_command(
    emu, rcauth, stored, in_env
) -> None:
    assert rcauth.run("--profile", "bbb", "login", "--jwt", env={"RC_JWT": DEMO_JWT}).code == 0
    for args in (("--profile", "bbb", "whoami", "--json"), ("whoami", "--profile", "bbb", "--json")):
        result = rcauth.run(*args, env={"RCAUTH_PROFILE": in_env})
        assert result.code == 0, (args, result)
        assert json.loads(result.out)["id"]
    assert stored("aaa") is None
    for args in (("--profile=", "whoami"), ("whoami", "--profile=")):  # empty on the command line: bad
        empty = rcauth.run(*args, env={"RCAUTH_PROFILE": in_env})
        assert empty.code == 2 and "'' is not a valid profile name" in empty.err, empty
        assert "RCAUTH_PROFILE" not in empty.err
    assert rcauth.run("whoami", env={"RCAUTH_PROFILE": "bbb"}).code == 0
    not_signed_in = rcauth.run("whoami", env={"RCAUTH_PROFILE": "aaa"})
    assert not_signed_in.code == ExitCode.NOT_LOGGED_IN and "not signed in" in not_signed_in.err


@pytest.mark.parametrize("name", GOOD)
def test_good_profile_names_sign_in_and_are_used(emu, rcauth, stored, name) -> None:
    login = rcauth.run(f"--profile={name}", "login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 0, login
    assert stored(name) is not None
    assert rcauth.run("whoami", env={"RCAUTH_PROFILE": name}).code == 0


@pytest.mark.parametrize("name", list(BAD.values()), ids=list(BAD))
def test_the_library_refuses_a_bad_name_too(tmp_path, name) -> None:
    with pytest.raises(InvalidProfileName) as caught:
        open_store(name, insecure_storage=True)
    assert caught.value.exit_code == ExitCode.USAGE
    with pytest.raises(InvalidProfileName), refresh_lock(name):
        pass  # never reached
    assert not Path(os.environ["RCAUTH_STATE_DIR"]).exists()
    assert not list(tmp_path.rglob("*.lock"))


@given(st.text(max_size=80))
def test_an_accepted_name_always_names_a_plain_file_inside_the_directory(name) -> None:
    try:
        check_profile_name(name)
    except InvalidProfileName:
        return
    base = Path("/rcauth-state")
    lock = base / f"{name}.refresh.lock"
    assert lock.parent == base and os.path.normpath(lock) == str(lock)
    assert len(name) <= 64 and not name.startswith(".")


@given(st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}", fullmatch=True))
def test_every_name_of_the_documented_alphabet_is_accepted(name) -> None:
    assert check_profile_name(name) == name
