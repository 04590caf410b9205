"""Session health where users look (issue 14, point 2): a refresh token ending within a day is said
once on stderr by any command using the session (never on stdout: `token`, `--json`); `status` shows
both expiries; `rcauth profiles use NAME` sets the default profile (in rcauth's state: the user's
config.toml is left as it was), which --profile and RCAUTH_PROFILE still override, and `profiles`
marks it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rcauth import profiles

WARNING = "warning: the session's refresh token expires in"


def test_a_command_warns_once_on_stderr_when_the_refresh_token_ends_within_a_day(rcauth, sign_in) -> None:
    session = sign_in(refresh_expires_at=time.time() + 5 * 3600)
    for args in (("whoami", "--json"), ("call-log", "--all", "--from", "14d", "--format", "json")):
        result = rcauth.run(*args)
        assert result.code == 0, result
        json.loads(result.out)  # stdout is data only
        assert result.err.count(WARNING) == 1, result
        assert "`rcauth login` is needed" in result.err
    result = rcauth.run("token")
    assert result.out == session.access_token + "\n"
    assert result.err.count(WARNING) == 1, result


def test_the_warning_comes_only_while_the_refresh_token_ends_within_a_day(rcauth, sign_in, stored) -> None:
    sign_in(refresh_expires_at=time.time() + 3 * 86400)
    days_left = rcauth.run("whoami", "--json")
    assert days_left.code == 0 and "warning" not in days_left.err, days_left

    sign_in(refresh_expires_at=time.time() + 3600)
    ending = rcauth.run("whoami", "--json")
    assert ending.code == 0 and ending.err.count(WARNING) == 1, ending

    # A refresh during the command renews the refresh token (7 days anew): nothing to warn of then.
    sign_in(access_expires_at=0, refresh_expires_at=time.time() + 3600)
    renewed = rcauth.run("whoami", "--json")
    assert renewed.code == 0, renewed
    assert stored().refresh_expires_at > time.time() + 6 * 86400
    assert "warning" not in renewed.err


def test_status_shows_both_expiries_and_warns_of_the_ending_refresh_token(rcauth, sign_in) -> None:
    sign_in(refresh_expires_at=time.time() + 5 * 3600)
    result = rcauth.run("status", "--format", "table")
    assert result.code == 0, result
    access = next(line for line in result.out.splitlines() if line.startswith("Access token"))
    refresh = next(line for line in result.out.splitlines() if line.startswith("Refresh token"))
    assert "in 60 min (" in access or "in 59 min (" in access
    assert "in 5 h (" in refresh
    assert result.err.count(WARNING) == 1


def test_profiles_use_sets_the_default_that_flags_and_environment_still_override(
    rcauth, sign_in, env
) -> None:
    sign_in()
    sign_in("dev")
    profiles.remember("default")
    profiles.remember("dev")
    config = Path(env["RCAUTH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    user_lines = f'# mine\n[profiles.dev]\nserver = "{env["RC_SERVER_URL"]}"\n'
    config.write_text(user_lines, encoding="utf-8")

    result = rcauth.run("profiles", "use", "dev")
    assert result.code == 0, result
    record = Path(env["RCAUTH_STATE_DIR"]) / "default-profile.json"
    assert result.err == f"Default profile is now 'dev' (kept in {record}).\n"
    assert config.read_text(encoding="utf-8") == user_lines
    assert json.loads(record.read_text(encoding="utf-8")) == {"profile": "dev"}

    assert json.loads(rcauth.run("status", "--json").out)["profile"] == "dev"
    assert json.loads(rcauth.run("--profile", "default", "status", "--json").out)["profile"] == "default"
    overridden = rcauth.run("status", "--json", env={"RCAUTH_PROFILE": "default"})
    assert json.loads(overridden.out)["profile"] == "default"

    listing = json.loads(rcauth.run("profiles", "--json").out)
    assert [(p["profile"], p["default"], p["active"]) for p in listing] == [
        ("default", False, False),
        ("dev", True, True),
    ]
    table = rcauth.run("profiles", "--format", "table").out
    assert "dev (default)" in table


def test_profiles_use_refuses_a_profile_this_machine_does_not_have(rcauth, sign_in, env) -> None:
    sign_in()
    profiles.remember("default")
    result = rcauth.run("profiles", "use", "nope")
    assert result.code == 2, result
    assert "no profile named 'nope' on this machine (profiles: default)" in result.err
    assert not (Path(env["RCAUTH_CONFIG_DIR"]) / "config.toml").exists()
    assert not (Path(env["RCAUTH_STATE_DIR"]) / "default-profile.json").exists()
