"""The default profile (issue 14, point 2; issue 21): `rcauth profiles use NAME` keeps its choice in
rcauth's own state (`default-profile.json` in the state dir, written atomically), never in the user's
`config.toml`. Which profile a command uses: --profile > RCAUTH_PROFILE > a `default_profile` line the
user wrote in config.toml > the profile `profiles use` chose > 'default'. A damaged record is one line
and an exit code, never a guess (logging out another profile than the chosen one would be worse)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cli_runner import cli_runner
from click.testing import CliRunner
from helpers import save_session

from rcauth import profiles
from rcauth.cli import cli
from rcauth.config import config_file_path, default_profile, read_config_file, state_dir
from rcauth.errors import ConfigError
from rcauth.store import KeyringStore

SERVER = "https://platform.ringcentral.com"
USER_FILE = """\
# my RingCentral settings
client_id = "abc"   # the sandbox app
server = "https://platform.devtest.ringcentral.com"

[profiles.dev]
# dev uses another app
client_id = "dev-app"
"""


@pytest.fixture
def runner() -> CliRunner:
    return cli_runner()


def record_path() -> Path:
    return state_dir() / "default-profile.json"


def signed_in(*names: str) -> None:
    """A stored session (and an index entry) for each profile, as `rcauth --profile NAME login` leaves."""
    for name in names:
        save_session(name, server=SERVER, client_secret=None, access_token=f"AT-{name}")
        profiles.remember(name)


def profile_used(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(cli, [*args, "status", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["profile"])


def write_config(text: str) -> Path:
    path = config_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- profiles use: rcauth's own state, written atomically; config.toml untouched --------------------------
def test_profiles_use_keeps_the_choice_in_rcauths_state_and_leaves_config_toml_untouched(runner) -> None:
    signed_in("default", "dev")
    config = write_config(USER_FILE)
    os.chmod(config, 0o640)
    before = (config.read_bytes(), config.stat().st_mtime_ns, stat.S_IMODE(config.stat().st_mode))

    result = runner.invoke(cli, ["profiles", "use", "dev"], catch_exceptions=False)

    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"Default profile is now 'dev' (kept in {record_path()}).\n"
    assert json.loads(record_path().read_text(encoding="utf-8")) == {"profile": "dev"}
    assert stat.S_IMODE(record_path().stat().st_mode) == 0o600
    assert (config.read_bytes(), config.stat().st_mtime_ns, stat.S_IMODE(config.stat().st_mode)) == before
    assert profile_used(runner) == "dev"


def test_profiles_use_without_a_config_file_creates_none(runner) -> None:
    signed_in("dev")
    assert runner.invoke(cli, ["profiles", "use", "dev"]).exit_code == 0
    assert not config_file_path().exists()
    assert profile_used(runner) == "dev"


def test_the_choice_is_replaced_whole_and_a_failed_write_keeps_the_old_one(runner, monkeypatch) -> None:
    """Written beside itself and renamed over: a crash or a full disk part-way leaves the previous
    choice, whole, and no temporary file; the failure is one line, exit 6."""
    signed_in("dev", "ops")
    assert runner.invoke(cli, ["profiles", "use", "dev"]).exit_code == 0

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", disk_full)
        result = runner.invoke(cli, ["profiles", "use", "ops"])

    assert result.exit_code == 6
    assert result.stderr.splitlines() == [
        f"Error: cannot write the default profile record {str(record_path())!r}: No space left on device; "
        "set RCAUTH_STATE_DIR to a directory rcauth can write to"
    ]
    assert json.loads(record_path().read_text(encoding="utf-8")) == {"profile": "dev"}
    assert sorted(p.name for p in record_path().parent.iterdir()) == [
        "default-profile.json",
        "profiles.json",
        "profiles.json.lock",
    ]
    assert profile_used(runner) == "dev"


def test_the_choice_survives_logins_and_logouts_that_rewrite_the_profile_index(runner) -> None:
    signed_in("default", "dev")
    assert runner.invoke(cli, ["profiles", "use", "dev"]).exit_code == 0
    profiles.remember("ops", "Kim Poe")  # another profile's login
    profiles.forget("default")  # another profile's logout
    (state_dir() / "profiles.json").write_text("{damaged", encoding="utf-8")  # the index is not the choice
    assert profiles.chosen_default() == "dev"
    assert profile_used(runner) == "dev"


def test_profiles_use_refuses_a_profile_this_machine_does_not_have(runner) -> None:
    signed_in("default")
    result = runner.invoke(cli, ["profiles", "use", "nope"])
    assert result.exit_code == 2
    assert "no profile named 'nope' on this machine (profiles: default)" in result.stderr
    assert not record_path().exists()


# -- precedence -------------------------------------------------------------------------------------------
def test_flag_then_environment_then_config_toml_then_the_chosen_one_then_default(runner) -> None:
    signed_in("default", "chosen", "written", "env", "flag")
    assert profile_used(runner) == "default"
    assert runner.invoke(cli, ["profiles", "use", "chosen"]).exit_code == 0
    assert profile_used(runner) == "chosen"
    write_config('default_profile = "written"\n')
    assert profile_used(runner) == "written"
    assert profile_used(runner, env={"RCAUTH_PROFILE": "env"}) == "env"
    assert profile_used(runner, "--profile", "flag", env={"RCAUTH_PROFILE": "env"}) == "flag"


def test_profiles_use_refuses_when_config_toml_names_another_default_and_changes_nothing(runner) -> None:
    """What the user wrote wins, so a choice that would not apply is not made: said in one line, exit 3."""
    signed_in("dev", "ops")
    assert runner.invoke(cli, ["profiles", "use", "dev"]).exit_code == 0
    config = write_config("default_profile = 'ops'  # mine\n" + USER_FILE)
    before = config.read_bytes()

    result = runner.invoke(cli, ["profiles", "use", "dev"])

    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"Error: config file {str(config)!r} sets default_profile = 'ops', which wins over "
        "`rcauth profiles use`; nothing was changed; remove that line (rcauth never edits your config "
        "file), then run this again"
    ]
    assert json.loads(record_path().read_text(encoding="utf-8")) == {"profile": "dev"}
    assert config.read_bytes() == before
    assert profile_used(runner) == "ops"


def test_profiles_use_notes_that_rcauth_profile_wins_in_this_environment(runner) -> None:
    signed_in("dev", "ops")
    result = runner.invoke(cli, ["profiles", "use", "dev"], env={"RCAUTH_PROFILE": "ops"})
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == "Note: RCAUTH_PROFILE=ops is set and wins over the default."
    assert profile_used(runner) == "dev"


def test_profiles_marks_the_default_in_use_and_its_help_gives_the_order(runner) -> None:
    signed_in("default", "dev")
    assert runner.invoke(cli, ["profiles", "use", "dev"]).exit_code == 0
    listing = json.loads(runner.invoke(cli, ["profiles", "--json"]).stdout)
    assert [(p["profile"], p["default"], p["active"]) for p in listing] == [
        ("default", False, False),
        ("dev", True, True),
    ]
    shown = " ".join(runner.invoke(cli, ["profiles", "--help"]).stdout.split())
    assert (
        '--profile, else RCAUTH_PROFILE, else the default profile (marked "default"): '
        '`default_profile = "NAME"` if you wrote one in config.toml, else the one `rcauth profiles use '
        "NAME` chose, else 'default'."
    ) in shown


# -- a damaged record: one line and an exit code, never a guess -------------------------------------------
@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[1, 2]", b'"dev"', b"{}", b'{"profile": 3}', b'{"profile": "../x"}', b"\xff\xfe"],
    ids=["empty", "not json", "a list", "a string", "no profile", "a number", "no profile name", "binary"],
)
def test_a_damaged_record_is_one_line_exit_3_not_another_profile(runner, content: bytes) -> None:
    signed_in("default", "dev")
    record_path().write_bytes(content)
    for command in (["status"], ["logout"], ["profiles"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 3, (command, result.stderr)
        assert result.stderr.splitlines() == [
            f"Error: the default profile record {str(record_path())!r} is damaged: it names no profile; "
            "run `rcauth profiles use NAME` to choose the default again, or remove the file"
        ]
        assert "Traceback" not in result.stdout + result.stderr
    assert KeyringStore("default").load() is not None  # logout stopped rather than guess 'default'
    assert profile_used(runner, "--profile", "dev") == "dev"  # a profile named is not in question
    assert runner.invoke(cli, ["profiles", "use", "dev"]).exit_code == 0  # and the choice can be made anew
    assert profile_used(runner) == "dev"


def test_a_record_that_cannot_be_read_is_a_storage_error(runner) -> None:
    signed_in("default")
    record_path().mkdir(parents=True)  # a directory where the record should be: EISDIR
    result = runner.invoke(cli, ["status"])
    assert result.exit_code == 6
    assert result.stderr.startswith(f"Error: cannot read the default profile record {str(record_path())!r}: ")
    assert len(result.stderr.splitlines()) == 1


# -- default_profile in config.toml: the user's own line, read (never written) -----------------------------
def test_a_default_profile_that_is_not_a_profile_name_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "../x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="default_profile: '../x' is not a valid profile name"):
        default_profile(path)


# -- issue 20: a config file that cannot be parsed stops only what needs it --------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('default_profile = "dev"\nclient_id = "unterminated\n', "dev"),
        ("default_profile = 'dev'  # mine\n[profiles.dev]\nclient_id = [\n", "dev"),
        ('client_id = "unterminated\n', None),
        (b"client_id = '\xff'\n", None),
    ],
)
def test_a_broken_config_file_still_gives_the_default_it_names_and_the_problem(
    tmp_path: Path, text: str | bytes, expected: str | None
) -> None:
    from rcauth.config import read_default_profile

    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    profile, problem = read_default_profile(path)
    assert profile == expected
    assert problem is not None and "is not valid TOML" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        'default_profile = "dev\nclient_id = "x"\n',  # the default's own line is what is broken
        'default_profile = "../x"\n',  # valid TOML, but no profile name
        "default_profile = 3\n",
    ],
)
def test_a_default_that_cannot_be_read_is_an_error_not_a_guess(tmp_path: Path, text: str) -> None:
    """Acting on another profile than the user's default (logging it out) is worse than stopping."""
    from rcauth.config import read_default_profile

    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        read_default_profile(path)


def test_a_config_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 with a BOM, which TOML does not allow: accepted all the same."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + ('default_profile = "dev"\n' + USER_FILE).encode())
    assert read_config_file(path) == {
        "client_id": "abc",
        "server": "https://platform.devtest.ringcentral.com",
    }
    assert read_config_file(path, "dev")["client_id"] == "dev-app"
    assert default_profile(path) == "dev"


def test_a_state_directory_that_is_a_file_holds_no_choice_and_is_left_to_the_directory_check(runner) -> None:
    """No record can lie beneath a file: 'default' is used, and `status` says what is wrong with the
    directory in `login`'s words, not as a damaged record."""
    save_session(server=SERVER, client_secret=None, access_token="AT-default")
    state_dir().parent.mkdir(parents=True, exist_ok=True)
    state_dir().write_text("not a directory\n", encoding="utf-8")
    assert profiles.chosen_default() is None
    result = runner.invoke(cli, ["status", "--json"])
    assert json.loads(result.stdout)["profile"] == "default"
    assert "warning: cannot use the state directory" in result.stderr
